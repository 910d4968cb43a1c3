//! Conversions between the SDK's timestamps and chrono's.

use aws_sdk_autoscaling::primitives::DateTime as SdkDateTime;
use chrono::{DateTime, Utc};

/// An SDK timestamp as a chrono UTC time (`None` if out of chrono's range).
pub(crate) fn from_sdk(t: &SdkDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// A chrono UTC time as an SDK timestamp.
pub(crate) fn to_sdk(t: DateTime<Utc>) -> SdkDateTime {
    SdkDateTime::from_secs_and_nanos(t.timestamp(), t.timestamp_subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = DateTime::from_timestamp(1_790_000_000, 123_000_000).expect("time");
        assert_eq!(from_sdk(&to_sdk(t)), Some(t));
    }
}
