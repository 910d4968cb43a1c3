//! The `LogSource` contract: incremental reads of a growing provisioning log.

use std::time::Duration;

use async_trait::async_trait;

use crate::contract::{Outcome, call, ensure};
use crate::model::fleet::InstanceId;
use crate::ports::LogSource;

/// The log source under test and an instance whose log grows as time passes.
#[async_trait]
pub trait LogHarness: Send + Sync {
    /// The log source under test.
    fn source(&self) -> &dyn LogSource;
    /// Starts (or finds) an instance whose log grows, as time passes, to at least 3 lines
    /// within 10 minutes; returns its id.
    async fn instance_with_log(&self) -> Result<InstanceId, String>;
    /// An instance id that has no log at all.
    fn unknown_instance(&self) -> InstanceId;
    /// Lets `by` pass (virtual time, or time during which the harness appends lines).
    async fn advance(&self, by: Duration);
}

/// Reading on from each cursor while the log grows yields every line exactly once, in order:
/// the concatenation equals one read from the start, and a read at the end yields nothing.
pub async fn incremental_reads_lose_and_repeat_nothing(h: &dyn LogHarness) -> Outcome {
    let id = h.instance_with_log().await?;
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut reads_with_lines = 0;
    for _ in 0..60 {
        let chunk = call("read_log", h.source().read_log(&id, cursor.clone()).await)?;
        if !chunk.lines.is_empty() {
            reads_with_lines += 1;
        }
        seen.extend(chunk.lines);
        if chunk.cursor.is_some() {
            cursor = chunk.cursor;
        }
        h.advance(Duration::from_secs(10)).await;
    }
    let whole = call("read_log(from start)", h.source().read_log(&id, None).await)?;
    ensure!(
        seen.len() >= 3,
        "the log of {id} should have grown to at least 3 lines in 10 minutes, read {}",
        seen.len()
    );
    ensure!(
        reads_with_lines >= 2,
        "the log should have been read in several increments, got lines in {reads_with_lines} read(s)"
    );
    ensure!(
        seen == whole.lines,
        "incremental reads must equal one read from the start (no line lost or repeated):\n\
         incremental: {seen:?}\nwhole: {:?}",
        whole.lines
    );
    let tail = call(
        "read_log(at end)",
        h.source().read_log(&id, cursor.clone()).await,
    )?;
    ensure!(
        tail.lines.is_empty(),
        "reading at the end again should yield no line, got {:?}",
        tail.lines
    );
    Ok(())
}

/// An instance without a log gives no lines, not an error.
pub async fn unknown_instance_is_empty(h: &dyn LogHarness) -> Outcome {
    let id = h.unknown_instance();
    let chunk = call(
        "read_log(unknown instance)",
        h.source().read_log(&id, None).await,
    )?;
    ensure!(
        chunk.lines.is_empty(),
        "an instance without a log should give no lines, got {:?}",
        chunk.lines
    );
    Ok(())
}

/// Runs every log source contract function, stopping at the first failure.
pub async fn all(h: &dyn LogHarness) -> Outcome {
    incremental_reads_lose_and_repeat_nothing(h)
        .await
        .map_err(|e| format!("incremental_reads_lose_and_repeat_nothing: {e}"))?;
    unknown_instance_is_empty(h)
        .await
        .map_err(|e| format!("unknown_instance_is_empty: {e}"))
}
