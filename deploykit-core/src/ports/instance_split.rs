//! Figures split by instance: the instances that ran before a recycle against the ones it
//! launched ([`InstanceSplitSample`]), and the rule that tells them apart by name for
//! monitors whose rows carry a host or log-stream name ([`split_by_name`]).

use crate::model::fleet::InstanceId;
use crate::ports::monitor::{MetricsWindow, ShaMetrics};

/// One window's figures split by instance rather than by SHA: the instances that were running
/// before a recycle against the ones it launched. A config recycle needs it: old and new
/// instances run the same SHA, so per-SHA figures cannot tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstanceSplitSample {
    /// The window the figures cover.
    pub window: MetricsWindow,
    /// The figures of the instances listed as old, added up (`None` when none of them served
    /// a request). `sha` is the SHA that served most of their requests.
    pub old_instances: Option<ShaMetrics>,
    /// The figures of every other instance of the role, added up (`None` when none served).
    pub new_instances: Option<ShaMetrics>,
}

impl InstanceSplitSample {
    /// The split, when the old instances served requests in the window; `None` when they did
    /// not (gone after the spindown, or not yet counted), so nothing stands beside the new
    /// instances and the caller compares with a baseline instead.
    pub fn with_old_side(self) -> Option<Self> {
        self.old_instances
            .as_ref()
            .is_some_and(|o| o.requests > 0)
            .then_some(self)
    }
}

/// A row that served requests under a name without an instance id: no side can be picked for
/// it, so the window cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameWithoutInstanceId {
    /// The name as the monitor reported it (`None` when the row had none).
    pub name: Option<String>,
}

/// The EC2 instance ids in `name` (lowercase): `i-` and hexadecimal digits valid as an
/// [`InstanceId`], not inside a longer word (so `api-deadbeef` names no instance).
pub fn instance_ids_in(name: &str) -> Vec<InstanceId> {
    let name = name.to_ascii_lowercase();
    let bytes = name.as_bytes();
    let mut ids = Vec::new();
    for (start, _) in name.match_indices("i-") {
        if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let hex_start = start + 2;
        let hex_len = bytes[hex_start..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let end = hex_start + hex_len;
        if bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        if let Ok(id) = InstanceId::new(&name[start..end]) {
            ids.push(id);
        }
    }
    ids
}

/// Whether `id` has the shape EC2 gives instance ids (8 or 17 hexadecimal digits).
fn is_ec2_shaped(id: &InstanceId) -> bool {
    matches!(id.as_str().len() - 2, 8 | 17)
}

/// Rows named by host or log stream, added up on two sides over `window`. A row is **old**
/// when its name contains an id in `old` (any case: `idp-i-0123456789abcdef0.prod.login.gov`
/// and `i-0123456789abcdef0` both name `i-0123456789abcdef0`); otherwise **new** when its name
/// contains another EC2 instance id (`i-` and 8 or 17 hexadecimal digits, not inside a longer
/// word). A row that served requests with neither (such as EC2's default `ip-10-0-1-23`) makes
/// the split impossible. Each side is its rows added up with [`ShaMetrics::added_up`].
pub fn split_by_name<'a>(
    window: MetricsWindow,
    rows: impl IntoIterator<Item = (Option<&'a str>, ShaMetrics)>,
    old: &[InstanceId],
) -> Result<InstanceSplitSample, NameWithoutInstanceId> {
    let mut old_rows = Vec::new();
    let mut new_rows = Vec::new();
    for (name, metrics) in rows {
        let ids = name.map(instance_ids_in).unwrap_or_default();
        if ids.iter().any(|id| old.contains(id)) {
            old_rows.push(metrics);
        } else if ids.iter().any(is_ec2_shaped) {
            new_rows.push(metrics);
        } else if metrics.requests > 0 {
            return Err(NameWithoutInstanceId {
                name: name.map(str::to_string),
            });
        }
    }
    Ok(InstanceSplitSample {
        window,
        old_instances: ShaMetrics::added_up(old_rows),
        new_instances: ShaMetrics::added_up(new_rows),
    })
}
