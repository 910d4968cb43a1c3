//! What the `deploykit` binary guards against: each refusal exits with the code the README
//! gives its kind, says why and changes nothing; lowering production capacity is asked first;
//! the sandbox leaves the working directory alone.

use deploykit_tests::{run, stderr, stdout};

#[test]
fn a_deploy_the_calendar_refuses_exits_3_and_names_the_override() {
    // The sandbox's day is a Tuesday; with Monday the only deploy day, the calendar refuses.
    let out = run(&[
        "--sandbox",
        "--yes",
        "--set",
        "cadence.deploy_days=[\"mon\"]",
        "deploy",
        "prod",
        "idp",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("stopped: cadence policy:") && text.contains("--override-cadence REASON"),
        "{text}"
    );
    assert!(!text.contains("merge_pr             done"), "{text}");
    // An override with a blank reason is no override: a usage error, before anything runs.
    let out = run(&[
        "--sandbox",
        "--yes",
        "--set",
        "cadence.deploy_days=[\"mon\"]",
        "deploy",
        "prod",
        "idp",
        "--override-cadence",
        "  ",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--override-cadence (Python: cadence_override=) was given none"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("merge_pr"), "{}", stdout(&out));
}

#[test]
fn code_is_not_deployed_to_staging_by_promotion_pr() {
    let out = run(&["--sandbox", "--yes", "deploy", "staging", "idp"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("staging is not a production environment")
            && err.contains("deploykit recycle staging idp"),
        "{err}"
    );
    assert!(!stdout(&out).contains("merged"), "{}", stdout(&out));
}

#[test]
fn a_mistyped_environment_is_named_as_unknown_before_anything_runs() {
    for args in [
        &["--sandbox", "--yes", "deploy", "prdo", "idp"][..],
        &["--sandbox", "rollback", "prdo", "idp", "--reason", "errors"][..],
    ] {
        let out = run(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("unknown environment prdo: did you mean prod?")
                && err.contains("int, prod, staging"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("not a production environment"), "{err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    }
}

/// Fleet commands and `status` also work on environments outside the configuration (a
/// personal sandbox), so an unknown name is looked up first; when nothing is found and the
/// name is close to a configured environment, the error names it.
#[test]
fn fleet_commands_and_status_name_the_environment_a_typo_meant() {
    for args in [
        &["--sandbox", "servers", "ls", "-e", "prodd"][..],
        &["--sandbox", "--yes", "recycle", "prodd", "idp"][..],
        &["--sandbox", "asg", "size", "stagin", "idp"][..],
        &["--sandbox", "migration", "logs", "prodd"][..],
    ] {
        let out = run(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("did you mean prod?") || err.contains("did you mean staging?"),
            "{args:?}: {err}"
        );
    }
    // `status` of a typo is refused as bad input; of a name close to none, it is shown.
    let out = run(&["--sandbox", "status", "prodd"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown environment prodd: did you mean prod?"),
        "{}",
        stderr(&out)
    );
    let out = run(&["--sandbox", "servers", "ls", "-e", "pauld"]);
    assert!(!stderr(&out).contains("did you mean"), "{}", stderr(&out));
}

#[test]
fn a_rollback_without_a_reason_or_with_a_wrong_pr_says_what_to_fix() {
    let out = run(&["--sandbox", "rollback", "prod", "idp", "--reason", ""]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a rollback needs a reason"),
        "{}",
        stderr(&out)
    );

    let out = run(&[
        "--sandbox",
        "rollback",
        "prod",
        "idp",
        "--reason",
        "errors",
        "--pr",
        "99999",
    ]);
    // A number that names no PR is bad input: exit 2, as the README's table says.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("stopped: ") && text.contains("#99999") && text.contains("check the number"),
        "{text}"
    );
}

#[test]
fn lowering_production_capacity_needs_a_yes() {
    // Without a terminal to ask at, and without --yes: refused, nothing changed.
    let out = run(&[
        "--sandbox",
        "asg",
        "size",
        "prod",
        "idp",
        "--min",
        "1",
        "--desired",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("lowering prod-idp's desired capacity from 4 to 2 in production needs a yes"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("did: resize"), "{}", stderr(&out));
    // With --yes it is done; raising capacity, or another environment, is not asked.
    let out = run(&[
        "--sandbox",
        "--yes",
        "asg",
        "size",
        "prod",
        "idp",
        "--min",
        "1",
        "--desired",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("desired 2"), "{}", stdout(&out));
    for args in [
        &["--sandbox", "asg", "size", "prod", "idp", "--desired", "6"][..],
        &[
            "--sandbox",
            "asg",
            "size",
            "staging",
            "idp",
            "--desired",
            "1",
        ],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_sandboxed_patch_deploy_ships_a_patch_rc() {
    let out = run(&[
        "--sandbox",
        "--yes",
        "deploy",
        "prod",
        "idp",
        "--kind",
        "patch",
        "--reason",
        "login fix",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sandbox: cut RC 111.1"),
        "{}",
        stderr(&out)
    );
    let out = run(&[
        "--sandbox",
        "--yes",
        "deploy",
        "prod",
        "idp",
        "--kind",
        "patch",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a patch deploy needs a reason: give it with --reason"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_sandboxed_rc_cut_leaves_the_working_directory_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let out = deploykit_tests::run_in(
        dir.path(),
        &["--sandbox", "rc", "create"],
        &[("XDG_STATE_HOME", state.to_str().expect("utf-8"))],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Not ./tmp/.rc-changelog.md of the directory it ran in (a real clone's file)...
    assert!(!dir.path().join("tmp").exists(), "{}", stdout(&out));
    // ... but under the sandbox's state, where the path it names still exists afterwards.
    let kept = state.join("deploykit/sandbox/rc/idp/tmp/.rc-changelog.md");
    assert!(
        stdout(&out).contains(kept.to_str().expect("utf-8")) && kept.exists(),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_rc_dry_run_shows_the_pr_body_and_the_announcement_it_would_make() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let out = deploykit_tests::run_in(
        dir.path(),
        &["--sandbox", "rc", "create", "--dry-run"],
        &[("XDG_STATE_HOME", state.to_str().expect("utf-8"))],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("would: announce the promotion PR of RC"),
        "{text}"
    );
    let body = text
        .split("The PR body (the changelog) would be:\n\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no PR body shown:\n{text}"));
    assert!(body.starts_with("## "), "{body}");
    assert!(body.contains("([#"), "PR links: {body}");
}
