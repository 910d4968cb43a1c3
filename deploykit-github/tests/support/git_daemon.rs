//! `git daemon` on 127.0.0.1 serving a directory with push enabled: a remote that runs
//! hooks and receive checks, unlike a local-path remote.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The running daemon; killed on drop.
pub struct GitDaemon {
    child: Child,
    /// `git://127.0.0.1:<port>/`.
    pub url: String,
}

impl GitDaemon {
    /// Serves the repositories under `base`; `None` (with a printed reason) when git daemon
    /// cannot start here.
    pub fn start(base: &Path) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .ok()?
            .port();
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skipping: git daemon cannot start ({e})");
                return None;
            }
        };
        let daemon = GitDaemon {
            child,
            url: format!("git://127.0.0.1:{port}/"),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                eprintln!("skipping: git daemon did not listen on port {port}");
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(daemon)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
