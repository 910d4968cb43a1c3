//! A git smart-HTTP remote on 127.0.0.1: `git http-backend` run as CGI behind the HTTP
//! fake, answering 401 unless the request carries Basic auth `x-access-token:<token>`, as
//! GitHub does for a token.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::http_fake::{HttpFake, Request, Response};

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Serves the repositories under `root` over smart HTTP; only `token` gets in.
pub fn start(root: &Path, home: &Path, token: &str) -> HttpFake {
    let expected = format!(
        "Basic {}",
        base64(format!("x-access-token:{token}").as_bytes())
    );
    let root: PathBuf = root.to_path_buf();
    let home: PathBuf = home.to_path_buf();
    HttpFake::start(move |req| {
        if req.header("authorization") != Some(expected.as_str()) {
            return Response::raw(401, "text/plain", "Authentication required")
                .with_header("WWW-Authenticate", "Basic realm=\"GitHub\"");
        }
        cgi(&root, &home, req)
    })
}

fn cgi(root: &Path, home: &Path, req: &Request) -> Response {
    let query = req.target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("PATH_INFO", req.path())
        .env("QUERY_STRING", query)
        .env("REQUEST_METHOD", &req.method)
        .env("CONTENT_LENGTH", req.body_bytes.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(ct) = req.header("content-type") {
        cmd.env("CONTENT_TYPE", ct);
    }
    if let Some(enc) = req.header("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", enc);
    }
    if let Some(proto) = req.header("git-protocol") {
        cmd.env("GIT_PROTOCOL", proto);
    }
    let Ok(mut child) = cmd.spawn() else {
        return Response::raw(500, "text/plain", "git http-backend cannot run");
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&req.body_bytes);
    }
    let Ok(out) = child.wait_with_output() else {
        return Response::raw(500, "text/plain", "git http-backend failed");
    };
    let raw = out.stdout;
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Response::raw(500, "text/plain", &String::from_utf8_lossy(&out.stderr));
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw[split + 4..].to_vec();
    let mut status = 200;
    let mut headers = Vec::new();
    for line in head.split("\r\n") {
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim(), v.trim());
            if k.eq_ignore_ascii_case("status") {
                status = v
                    .split_whitespace()
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(500);
            } else {
                headers.push((k.to_string(), v.to_string()));
            }
        }
    }
    Response {
        status,
        headers,
        body,
    }
}
