//! `deploykit status --sandbox`: the table, the changelog, `--short`, `--app`, and `--json`.

use deploykit_tests::{run, stderr, stdout};

#[test]
fn the_sandbox_status_table_shows_prod_behind_main() {
    let out = run(&["--sandbox", "status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let header = text
        .lines()
        .find(|l| l.starts_with("ENV"))
        .expect("a header row");
    for column in [
        "DEPLOYED",
        "BRANCH",
        "INSTANCES",
        "LAST RC",
        "PENDING ON MAIN",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let prod_idp = text
        .lines()
        .find(|l| l.starts_with("prod     idp"))
        .unwrap_or_else(|| panic!("a prod idp row:\n{text}"));
    assert!(prod_idp.contains("stages/prod"), "{prod_idp}");
    assert!(prod_idp.contains("RC 111 (#11480 merged)"), "{prod_idp}");
    assert!(
        prod_idp.ends_with("7 commits, migrations, assets"),
        "{prod_idp}"
    );
    // Columns line up: every row's BRANCH cell starts where the header's does.
    let col = header.find("BRANCH").expect("column");
    for row in text.lines().skip_while(|l| !l.starts_with("ENV")).skip(1) {
        if row.is_empty() {
            break;
        }
        assert!(row[col..].starts_with("stages/prod") || row[col..].starts_with("main"));
    }
    assert!(
        text.contains("migrations changed since the last migration"),
        "{text}"
    );
    assert!(text.contains("## User-Facing Improvements"), "{text}");

    let short = run(&["--sandbox", "status", "prod", "--app", "idp", "--short"]);
    assert!(short.status.success(), "{}", stderr(&short));
    let short = stdout(&short);
    assert!(!short.contains("## User-Facing Improvements"), "{short}");
    assert!(!short.contains("staging"), "{short}");
    assert!(!short.contains(" pki "), "{short}");

    // Staging runs main's tip: nothing is pending, said plainly.
    let staging = run(&["--sandbox", "status", "staging", "--app", "idp"]);
    assert!(staging.status.success(), "{}", stderr(&staging));
    let staging = stdout(&staging);
    assert!(
        staging.contains("  pending: nothing, origin/main is deployed (fa232d0)"),
        "{staging}"
    );
}

#[test]
fn the_sandbox_status_as_json() {
    let out = run(&["--json", "--sandbox", "status", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let envs = doc["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["env"], "prod");
    let idp = &envs[0]["apps"][0];
    assert_eq!(idp["app"], "idp");
    assert_eq!(idp["deployed"]["state"], "known");
    assert_eq!(idp["deployed"]["value"]["branch"], "stages/prod");
    assert_eq!(idp["instances"]["value"]["mixed"], serde_json::Value::Null);
    assert_eq!(idp["last_rc"]["value"]["number"], "111");
    assert_eq!(idp["pending"]["value"]["commits"], 7);
    assert!(
        idp["pending"]["value"]["risk"]["migrations"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(
        idp["pending"]["value"]["changelog"]
            .as_str()
            .is_some_and(|c| c.contains("## Bug Fixes"))
    );
}

#[test]
fn an_unknown_app_is_a_usage_error() {
    let out = run(&["--sandbox", "status", "--app", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown app \"nope\""),
        "{}",
        stderr(&out)
    );
}
