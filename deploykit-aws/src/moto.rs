//! A moto server for tests (feature `moto-harness`): installs moto pinned into `.venv` at the
//! repository root when missing, starts `moto_server` on a free 127.0.0.1 port, waits until it
//! answers, and stops it (by its process id) when the [`MotoServer`] is dropped.
//!
//! Each test starts its own server, so tests are isolated from each other (moto keeps all
//! state in memory). Start-up takes 1-2 s, the first Auto Scaling call 1-2 s more.
//!
//! When moto cannot be installed or started, [`MotoServer::start_or_skip`] panics if `CI` is
//! set (CI must prove the AWS ports) and otherwise prints a loud message and returns `None`,
//! so a test can skip on a laptop without Python.
//!
//! [`CallCounter`] is an SDK interceptor that records the API action of every request, to
//! assert how many calls an operation costs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_autoscaling::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_autoscaling::config::{ConfigBag, Intercept, RuntimeComponents, SharedInterceptor};

use crate::clients::AwsClients;

/// The pinned moto version.
pub const MOTO_VERSION: &str = "5.2.1";
/// The region tests use.
pub const REGION: &str = "us-west-2";
/// How long to wait for a started server to answer.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server, stopped on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
}

static INSTALL: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The repository root (the parent of this crate).
fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The `moto_server` executable: `DEPLOYKIT_MOTO_SERVER` if set, else `.venv/bin/moto_server`
/// at the repository root, installed there (pinned) when missing.
pub fn moto_server_path() -> Result<PathBuf, String> {
    INSTALL
        .get_or_init(|| {
            if let Ok(p) = std::env::var("DEPLOYKIT_MOTO_SERVER") {
                return Ok(PathBuf::from(p));
            }
            let venv = repo_root().join(".venv");
            let server = venv.join("bin").join("moto_server");
            if server.exists() {
                return Ok(server);
            }
            eprintln!(
                "moto harness: installing moto[server]=={MOTO_VERSION} into {}",
                venv.display()
            );
            let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
            let ok = Command::new(&python)
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .map_err(|e| format!("could not run {python} -m venv: {e}"))?;
            if !ok.success() {
                return Err(format!("{python} -m venv {} failed", venv.display()));
            }
            let pip = venv.join("bin").join("pip");
            let ok = Command::new(&pip)
                .args([
                    "install",
                    "--quiet",
                    &format!("moto[server]=={MOTO_VERSION}"),
                ])
                .status()
                .map_err(|e| format!("could not run {}: {e}", pip.display()))?;
            if !ok.success() || !server.exists() {
                return Err(format!("pip install moto[server]=={MOTO_VERSION} failed"));
            }
            Ok(server)
        })
        .clone()
}

/// The command that runs moto's server: `deploykit-aws/moto/moto_server.py` (moto with
/// Auto Scaling scheduled actions kept per group, as AWS keeps them; stock moto keys them by
/// name alone, so every recycled group's `RecycleOnce.asg-recycle` but the last one's would be
/// lost) with the Python beside `server`; `server` itself when there is no such Python.
fn server_command(server: &Path) -> Command {
    let launcher = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("moto")
        .join("moto_server.py");
    match server.parent().map(|bin| bin.join("python")) {
        Some(python) if python.exists() && launcher.exists() => {
            let mut command = Command::new(python);
            command.arg(launcher);
            command
        }
        _ => Command::new(server),
    }
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free local port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no local address: {e}"))
}

impl MotoServer {
    /// Starts a fresh server; an error says why moto is unavailable.
    pub fn start() -> Result<MotoServer, String> {
        let server = moto_server_path()?;
        let port = free_port()?;
        let child = server_command(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", server.display()))?;
        let mut moto = MotoServer { child, port };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if moto.request("GET", "/moto-api/data.json").is_ok() {
                return Ok(moto);
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                return Err(format!("moto_server exited at start-up with {status}"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "moto_server did not answer on port {port} within {STARTUP_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts a server, or: panics when `CI` is set, prints a loud message and returns
    /// `None` otherwise (the caller skips its test).
    pub fn start_or_skip() -> Option<MotoServer> {
        match MotoServer::start() {
            Ok(m) => Some(m),
            Err(why) => {
                let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
                assert!(!ci, "moto is required in CI and unavailable: {why}");
                eprintln!(
                    "\n!!!!!!!!!! SKIPPED: moto unavailable ({why}); install Python 3 with venv \
                     to run the AWS port tests !!!!!!!!!!\n"
                );
                None
            }
        }
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:5123`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Clients talking to this server (region [`REGION`], test credentials, no retries).
    pub async fn clients(&self) -> AwsClients {
        self.clients_with(&[]).await
    }

    /// Clients with extra interceptors (e.g. a [`CallCounter`]).
    pub async fn clients_with(&self, interceptors: &[SharedInterceptor]) -> AwsClients {
        AwsClients::for_endpoint(&self.endpoint(), REGION, "testing", "testing", interceptors).await
    }

    /// Environment variables for a deploykit process pointed at this server.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_MAX_ATTEMPTS", "1".to_string()),
        ]
    }

    /// Forgets all state (`POST /moto-api/reset`).
    pub fn reset(&self) -> Result<(), String> {
        self.request("POST", "/moto-api/reset").map(|_| ())
    }

    /// A raw HTTP/1.1 request to the server; the response text.
    pub fn request(&self, method: &str, path: &str) -> Result<String, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        )
        .map_err(|e| format!("write: {e}"))?;
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .map_err(|e| format!("read: {e}"))?;
        if response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200") {
            Ok(response)
        } else {
            Err(format!(
                "unexpected answer: {}",
                response.lines().next().unwrap_or("")
            ))
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SDK interceptor recording the API action of every request sent.
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    calls: Arc<Mutex<Vec<String>>>,
}

impl CallCounter {
    /// A new, empty counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counter as an interceptor for [`AwsClients::for_endpoint`].
    pub fn interceptor(&self) -> SharedInterceptor {
        SharedInterceptor::new(self.clone())
    }

    /// The actions called so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// How many times `action` was called.
    pub fn count_of(&self, action: &str) -> usize {
        self.calls().iter().filter(|c| *c == action).count()
    }

    /// Forgets the calls recorded so far.
    pub fn clear(&self) {
        if let Ok(mut c) = self.calls.lock() {
            c.clear();
        }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "deploykit-call-counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let request = context.request();
        // JSON protocols (SSM, Logs) name the action in X-Amz-Target; query protocols
        // (Auto Scaling, EC2, ELB) in the form body.
        let action = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next().map(str::to_string))
            .or_else(|| {
                let body = std::str::from_utf8(request.body().bytes()?).ok()?;
                body.split('&')
                    .find_map(|kv| kv.strip_prefix("Action="))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "Unknown".to_string());
        if let Ok(mut c) = self.calls.lock() {
            c.push(action);
        }
        Ok(())
    }
}
