//! [`CloudWatchMigrationLogs`]: migration logs read from CloudWatch Logs, where the
//! CloudWatch agent ships each instance's `/var/log/cloud-init-output.log`.

use async_trait::async_trait;
use deploykit_core::error::{ErrorKind, Result};
use deploykit_core::model::fleet::InstanceId;
use deploykit_core::model::names::EnvName;
use deploykit_core::ports::log_source::{LogChunk, LogSource};

use crate::clients::AwsClients;
use crate::errors::map_sdk_error;

/// Pages read per call at most (each page holds up to 10,000 events or 1 MB): the rest is
/// read on the next call, from the cursor.
pub const MAX_PAGES_PER_READ: usize = 5;
/// The placeholder in a stream pattern replaced by the instance id.
pub const INSTANCE_PLACEHOLDER: &str = "{instance_id}";

/// Reads an instance's provisioning log from a CloudWatch Logs group, one stream per
/// instance. The cursor is CloudWatch's forward token, so no line is lost or repeated.
#[derive(Debug, Clone)]
pub struct CloudWatchMigrationLogs {
    clients: AwsClients,
    log_group: String,
    stream_pattern: String,
}

impl CloudWatchMigrationLogs {
    /// Log group `<env>_/var/log/cloud-init-output.log`, stream named by the instance id.
    pub fn new(clients: AwsClients, env: &EnvName) -> Self {
        CloudWatchMigrationLogs {
            clients,
            log_group: format!("{env}_/var/log/cloud-init-output.log"),
            stream_pattern: INSTANCE_PLACEHOLDER.to_string(),
        }
    }

    /// Reads from another log group.
    pub fn with_log_group(mut self, log_group: impl Into<String>) -> Self {
        self.log_group = log_group.into();
        self
    }

    /// Names streams by `pattern`, where [`INSTANCE_PLACEHOLDER`] is the instance id
    /// (e.g. `{instance_id}/cloud-init`).
    pub fn with_stream_pattern(mut self, pattern: impl Into<String>) -> Self {
        self.stream_pattern = pattern.into();
        self
    }

    /// The log group read.
    pub fn log_group(&self) -> &str {
        &self.log_group
    }

    /// The stream of `instance`.
    pub fn stream_name(&self, instance: &InstanceId) -> String {
        self.stream_pattern
            .replace(INSTANCE_PLACEHOLDER, instance.as_str())
    }
}

#[async_trait]
impl LogSource for CloudWatchMigrationLogs {
    async fn read_log(&self, instance: &InstanceId, cursor: Option<String>) -> Result<LogChunk> {
        let stream = self.stream_name(instance);
        let subject = format!("log stream {stream} of log group {}", self.log_group);
        let mut lines = Vec::new();
        let mut token = cursor;
        for _ in 0..MAX_PAGES_PER_READ {
            let result = self
                .clients
                .logs
                .get_log_events()
                .log_group_name(&self.log_group)
                .log_stream_name(&stream)
                .start_from_head(true)
                .set_next_token(token.clone())
                .send()
                .await;
            let page = match result {
                Ok(page) => page,
                Err(e) => {
                    let err = map_sdk_error("GetLogEvents", &subject, e);
                    if err.kind() == ErrorKind::NotFound {
                        // The agent has not shipped anything yet: no lines so far.
                        return Ok(LogChunk {
                            lines,
                            cursor: token,
                        });
                    }
                    return Err(err);
                }
            };
            let events = page.events();
            for e in events {
                let message = e.message().unwrap_or("");
                let message = message.strip_suffix('\n').unwrap_or(message);
                lines.extend(
                    message
                        .split('\n')
                        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string()),
                );
            }
            let next = page.next_forward_token().map(str::to_string);
            // The end of the stream: the same token comes back (or none, or an empty page).
            let at_end = next.is_none() || next == token || events.is_empty();
            if next.is_some() {
                token = next;
            }
            if at_end {
                break;
            }
        }
        Ok(LogChunk {
            lines,
            cursor: token,
        })
    }
}
