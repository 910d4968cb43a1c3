//! Release and PR titles, release numbers, RC branch names, SHAs, names, deploy kinds, and
//! the PR-number and revert patterns of commit titles: any text -> every small parser.
//!
//! Invariants beyond "no panic": failures are InvalidInput; whatever parses prints as
//! something that parses back to the same value; an accepted RC branch name is exactly how
//! deploykit prints that branch (so git and deploykit agree on which branch it is); the
//! promotion PR title deploykit writes for a release number parses back to that number.
#![no_main]

use std::fmt::Display;
use std::str::FromStr;

use deploykit_core::changelog::trailer::{pr_number, reverted_sha};
use deploykit_core::{
    AppName, AppSettings, DeployKind, EnvName, ErrorKind, RcBranch, ReleaseNumber, RoleName,
    RoleSelector, Sha,
};
use libfuzzer_sys::fuzz_target;

/// `parse(display(x)) == x` for whatever `text` parses to.
fn round_trips<T>(text: &str) -> Option<T>
where
    T: FromStr<Err = deploykit_core::Error> + Display + PartialEq + std::fmt::Debug,
{
    match text.parse::<T>() {
        Ok(value) => {
            let printed = value.to_string();
            let again = printed.parse::<T>().unwrap_or_else(|e| {
                panic!("{text:?} parsed, but its display {printed:?} does not: {e}")
            });
            assert_eq!(again, value, "{text:?} -> {printed:?}");
            Some(value)
        }
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            None
        }
    }
}

fn check_release_number(n: ReleaseNumber) {
    assert_eq!(
        ReleaseNumber::from_release_title(&format!("RC {n}")).ok(),
        Some(n)
    );
    for app in [AppSettings::idp(), AppSettings::pki()] {
        let title = app.pr_title(n);
        assert_eq!(
            ReleaseNumber::from_pr_title(&title).ok(),
            Some(n),
            "the PR title {title:?} deploykit writes does not give back {n}"
        );
    }
    assert!(n.next_full() > n || n.major == u32::MAX);
    assert!(n.next_patch() > n || n.minor == Some(u32::MAX));
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(n) = round_trips::<ReleaseNumber>(text) {
        check_release_number(n);
    }
    for parsed in [
        ReleaseNumber::from_release_title(text),
        ReleaseNumber::from_pr_title(text),
    ] {
        match parsed {
            Ok(n) => check_release_number(n),
            Err(err) => assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}"),
        }
    }
    if let Some(branch) = round_trips::<RcBranch>(text) {
        assert_eq!(
            branch.to_string(),
            text,
            "{text:?} is accepted as the RC branch printed {branch}"
        );
        assert!(RcBranch::is_rc_branch(&branch.next_same_day().to_string()));
    }
    if let Some(sha) = round_trips::<Sha>(text) {
        assert!((4..=40).contains(&sha.as_str().len()));
        assert!(sha.as_str().starts_with(sha.short()));
        assert!(sha.matches(&sha));
    }
    round_trips::<EnvName>(text);
    round_trips::<AppName>(text);
    round_trips::<RoleName>(text);
    round_trips::<RoleSelector>(text);
    if let Some(kind) = round_trips::<DeployKind>(text) {
        assert_eq!(kind.as_str(), text);
    }
    if let Some(n) = pr_number(text) {
        assert!(text.contains(&n.to_string()), "PR {n} is not in {text:?}");
    }
    if let Some(sha) = reverted_sha(text) {
        assert!(sha.len() >= 4 && sha.chars().all(|c| c.is_ascii_hexdigit()));
    }
});
