//! Signing a payload as git does: `<gpg.program> --status-fd=2 -bsau <key>`, reading the
//! armored detached signature from stdout.

use std::io::Write;
use std::process::{Command, Stdio};

use deploykit_core::{Error, Result};

/// An ASCII-armored detached signature of `payload` by `key`, made by `program`.
pub(crate) fn detached_signature(program: &str, key: &str, payload: &[u8]) -> Result<String> {
    let mut child = Command::new(program)
        .args(["--status-fd=2", "-bsau", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::unsupported(format!(
                "cannot run the GPG program {program:?} to sign the tag ({e}); install \
                 GnuPG or set `git config gpg.program`"
            ))
        })?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| Error::backend("could not open the GPG program's input"))?;
    let payload = payload.to_vec();
    // Written from a thread: a large payload must not block while gpg fills its output.
    let writer = std::thread::spawn(move || stdin.write_all(&payload));
    let output = child
        .wait_with_output()
        .map_err(|e| Error::backend(format!("the GPG program {program:?} did not finish: {e}")))?;
    let written = writer.join();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let signed = stderr
        .lines()
        .any(|l| l.starts_with("[GNUPG:] SIG_CREATED "));
    if !output.status.success() || !signed || !matches!(written, Ok(Ok(()))) {
        let said: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("[GNUPG:]"))
            .collect();
        return Err(Error::backend(format!(
            "{program} could not sign with key {key:?} ({}): {}; check `gpg --list-secret-keys` \
             and user.signingKey",
            output.status,
            said.join(" / ").trim()
        )));
    }
    // git strips CRs from the signature, in case gpg wrote Windows line endings.
    Ok(String::from_utf8_lossy(&output.stdout).replace('\r', ""))
}
