//! The configuration file: any text (and `--set` overrides) -> `config::check` and
//! `config::resolve`, then `config show`.
//!
//! Input: the file text; after a NUL byte, optional `key.path=value` lines used as `--set`
//! flags.
//!
//! Invariants beyond "no panic": `resolve` succeeds exactly when `check` finds no problem,
//! every problem names a key path or the file, failures are InvalidInput; a configuration
//! that resolves prints (`config show`) as TOML that resolves to the same configuration.
#![no_main]

use std::collections::BTreeMap;

use deploykit_core::ErrorKind;
use deploykit_core::config::{check, render_show, resolve};
use libfuzzer_sys::fuzz_target;

/// `config show` without its informational `[secrets]` table, which is not a config key.
fn shown_without_secrets(shown: &str) -> String {
    let mut table: toml::Table = shown.parse().expect("config show prints TOML");
    table.remove("secrets");
    table.to_string()
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (file, flag_lines) = input.split_once('\0').unwrap_or((input, ""));
    // Secret `*_file` keys read the file they name: keep the fuzzer off device files that
    // never end (/dev/zero) or wait for input (/dev/stdin).
    if ["/dev", "/proc", "/sys"].iter().any(|d| input.contains(d)) {
        return;
    }
    let flags: BTreeMap<String, String> = flag_lines
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = BTreeMap::new();

    let problems = check(Some(file), &env, &flags);
    match resolve(Some(file), &env, &flags) {
        Ok(config) => {
            assert!(
                problems.is_empty(),
                "resolve passed with problems {problems:?}"
            );
            let shown = render_show(&config);
            let again_text = shown_without_secrets(&shown);
            let again = resolve(Some(&again_text), &env, &BTreeMap::new()).unwrap_or_else(|e| {
                panic!("config show printed\n{again_text}\nwhich does not resolve: {e}")
            });
            assert_eq!(again, config, "config show printed\n{again_text}");
        }
        Err(err) => {
            assert!(
                !problems.is_empty(),
                "resolve failed without a problem: {err}"
            );
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        }
    }
});
