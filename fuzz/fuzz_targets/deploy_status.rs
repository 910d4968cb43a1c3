//! The deploy status document (`/api/deploy.json`): any text -> `DeployStatus::parse`.
//!
//! Invariants beyond "no panic": every failure is InvalidInput; a parsed document, written
//! back as JSON in the form environments serve it, parses to the same status.
#![no_main]

use deploykit_core::{DeployStatus, ErrorKind};
use libfuzzer_sys::fuzz_target;

/// The status as an environment would serve it (`chef_run_timestamp` as YYYYMMDDHHMMSS).
fn served(status: &DeployStatus) -> String {
    let mut value = serde_json::to_value(status).expect("a status serializes");
    if let Some(stamp) = status.chef_run_timestamp {
        value["chef_run_timestamp"] =
            serde_json::Value::String(stamp.format("%Y%m%d%H%M%S").to_string());
    }
    value.to_string()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match DeployStatus::parse(text) {
        Ok(status) => {
            let written = served(&status);
            let again = DeployStatus::parse(&written)
                .unwrap_or_else(|e| panic!("{written} does not parse back: {e}"));
            assert_eq!(again, status, "{written}");
        }
        Err(err) => assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}"),
    }
});
