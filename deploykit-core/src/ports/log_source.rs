//! `LogSource`: an instance's provisioning log (the migration log), read incrementally.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::fleet::InstanceId;

/// Lines read since a cursor, and the cursor to read on from.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LogChunk {
    /// New lines, oldest first, without line terminators.
    pub lines: Vec<String>,
    /// Pass this to the next read; no line is repeated or lost across reads.
    pub cursor: Option<String>,
}

/// Where provisioning logs of instances can be read.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LogSource: Send + Sync + Debug {
    /// Lines of `instance`'s log after `cursor` (`None`: from the start). An instance whose log
    /// does not exist yet gives no lines, not an error.
    async fn read_log(&self, instance: &InstanceId, cursor: Option<String>) -> Result<LogChunk>;
}
