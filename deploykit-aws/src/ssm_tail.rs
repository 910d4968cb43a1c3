//! [`SsmTailLogs`]: reads an instance's provisioning log by running a bounded `tail` on it
//! through SSM Run Command, for instances whose log is not shipped to CloudWatch.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ssm::types::CommandInvocationStatus;
use deploykit_core::error::{Error, ErrorKind, Result};
use deploykit_core::model::fleet::InstanceId;
use deploykit_core::ports::clock::Clock;
use deploykit_core::ports::log_source::{LogChunk, LogSource};

use crate::clients::AwsClients;
use crate::errors::map_sdk_error;

/// The log read on the instance.
pub const DEFAULT_LOG_PATH: &str = "/var/log/cloud-init-output.log";
/// Lines per read at most (SSM returns at most 24,000 characters of output).
pub const DEFAULT_MAX_LINES: u32 = 200;
/// Printed after the output, so a last line without newline (still being written) is seen.
const END_MARKER: &str = "--deploykit-end--";
/// How often GetCommandInvocation is asked, and how many times at most.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
const MAX_POLLS: u32 = 60;

/// Reads the log with `tail -n +<line> <log> | head -n <max>` over SSM Run Command; the
/// cursor is the number of the next line to read (1-based).
#[derive(Debug, Clone)]
pub struct SsmTailLogs {
    clients: AwsClients,
    clock: Arc<dyn Clock>,
    log_path: String,
    max_lines: u32,
}

impl SsmTailLogs {
    /// Reads [`DEFAULT_LOG_PATH`], [`DEFAULT_MAX_LINES`] lines at a time, polling on `clock`.
    pub fn new(clients: AwsClients, clock: Arc<dyn Clock>) -> Self {
        SsmTailLogs {
            clients,
            clock,
            log_path: DEFAULT_LOG_PATH.to_string(),
            max_lines: DEFAULT_MAX_LINES,
        }
    }

    /// Reads another file (an absolute path of safe characters only).
    pub fn with_log_path(mut self, path: impl Into<String>) -> Result<Self> {
        let path = path.into();
        let safe = path.starts_with('/')
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
        if !safe {
            return Err(Error::invalid_input(format!(
                "log path {path:?} is not a plain absolute path (letters, digits, / . _ -)"
            )));
        }
        self.log_path = path;
        Ok(self)
    }

    /// Reads at most `max` lines per call (at least 1).
    pub fn with_max_lines(mut self, max: u32) -> Self {
        self.max_lines = max.max(1);
        self
    }

    /// The shell script run on the instance to read from line `line`.
    pub fn script(&self, line: u64) -> String {
        format!(
            "f={path}; if [ -r \"$f\" ]; then tail -n +{line} \"$f\" | head -n {max}; fi; \
             printf '%s\\n' '{END_MARKER}'",
            path = self.log_path,
            max = self.max_lines,
        )
    }
}

/// Complete lines of the script's output: a last line the writer has not finished (no
/// newline before the end marker) is left for the next read. Without the marker (output
/// cut by SSM) the last, possibly cut, line is left too.
pub fn complete_lines(output: &str) -> Vec<String> {
    let mut lines: Vec<&str> = output.split('\n').collect();
    if let Some(end) = lines.iter().rposition(|l| l.ends_with(END_MARKER)) {
        // Drops the marker line, and with it a partial line written just before it.
        lines.truncate(end);
    } else {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect()
}

#[async_trait]
impl LogSource for SsmTailLogs {
    async fn read_log(&self, instance: &InstanceId, cursor: Option<String>) -> Result<LogChunk> {
        let line: u64 = match &cursor {
            None => 1,
            Some(c) => c.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                Error::invalid_input(format!(
                    "SSM log cursor {c:?} is not a line number; start again without a cursor"
                ))
            })?,
        };
        let subject = format!("instance {instance}");
        let sent = self
            .clients
            .ssm
            .send_command()
            .document_name("AWS-RunShellScript")
            .instance_ids(instance.as_str())
            .parameters("commands", vec![self.script(line)])
            .timeout_seconds(30)
            .comment("deploykit: read the migration log")
            .send()
            .await
            .map_err(|e| map_sdk_error("SendCommand", &subject, e))?;
        let command_id = sent
            .command()
            .and_then(|c| c.command_id())
            .ok_or_else(|| {
                Error::backend(format!(
                    "SSM SendCommand on {subject} returned no command id"
                ))
            })?
            .to_string();
        for _ in 0..MAX_POLLS {
            let result = self
                .clients
                .ssm
                .get_command_invocation()
                .command_id(&command_id)
                .instance_id(instance.as_str())
                .send()
                .await;
            let out = match result {
                Ok(out) => out,
                Err(e) => {
                    let err = map_sdk_error("GetCommandInvocation", &subject, e);
                    // Right after SendCommand the invocation may not exist yet.
                    if err.kind() == ErrorKind::NotFound {
                        self.clock.sleep(POLL_INTERVAL).await;
                        continue;
                    }
                    return Err(err);
                }
            };
            match out.status() {
                Some(CommandInvocationStatus::Success) => {
                    let lines = complete_lines(out.standard_output_content().unwrap_or(""));
                    let next = line + lines.len() as u64;
                    return Ok(LogChunk {
                        lines,
                        cursor: Some(next.to_string()),
                    });
                }
                Some(
                    CommandInvocationStatus::Pending
                    | CommandInvocationStatus::InProgress
                    | CommandInvocationStatus::Delayed,
                ) => self.clock.sleep(POLL_INTERVAL).await,
                other => {
                    return Err(Error::backend(format!(
                        "reading the log on {instance} over SSM ended {}: {}; check that the \
                         SSM agent runs on the instance",
                        other.map_or("without status", |s| s.as_str()),
                        out.standard_error_content().unwrap_or("").trim()
                    ))
                    .with("instance", instance)
                    .with("command_id", &command_id));
                }
            }
        }
        Err(Error::timeout(format!(
            "SSM command {command_id} reading the log on {instance} did not finish after \
             {MAX_POLLS} polls; try again"
        ))
        .with("instance", instance))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_lines_are_taken() {
        assert_eq!(
            complete_lines("a\nb\n--deploykit-end--\n"),
            vec!["a".to_string(), "b".to_string()]
        );
        assert_eq!(
            complete_lines("a\nparti--deploykit-end--\n"),
            vec!["a".to_string()]
        );
        assert_eq!(complete_lines("--deploykit-end--\n"), Vec::<String>::new());
        assert_eq!(complete_lines(""), Vec::<String>::new());
        assert_eq!(
            complete_lines("a\nb\ncut-off"),
            vec!["a".to_string(), "b".to_string()]
        );
    }
}
