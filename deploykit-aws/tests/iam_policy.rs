//! `iam-policy.json` lists exactly the AWS API actions the crate's source calls.
//!
//! Every SDK call in `src/` goes through `self.clients.<service>.<operation>()`; this test
//! finds them all (whitespace removed, so calls split over lines count) and compares.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

fn iam_prefix(client_field: &str) -> &'static str {
    match client_field {
        "autoscaling" => "autoscaling",
        "ec2" => "ec2",
        "ssm" => "ssm",
        "logs" => "logs",
        "elbv2" | "elb" => "elasticloadbalancing",
        other => panic!("unknown client field clients.{other}: add it to this test"),
    }
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// `service:Action` for every `clients.<service>.<operation>(` in `source`.
fn calls_in(source: &str) -> BTreeSet<String> {
    let compact: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    let mut found = BTreeSet::new();
    for (at, _) in compact.match_indices("clients.") {
        let rest = &compact[at + "clients.".len()..];
        let service = ident(rest);
        let Some(after) = rest[service.len()..].strip_prefix('.') else {
            continue;
        };
        let op = ident(after);
        if service.is_empty() || op.is_empty() || !after[op.len()..].starts_with('(') {
            continue;
        }
        found.insert(format!("{}:{}", iam_prefix(service), pascal(op)));
    }
    found
}

#[test]
fn the_policy_lists_exactly_the_actions_the_code_calls() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut called = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("src")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            called.extend(calls_in(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(
        called.contains("autoscaling:DescribeAutoScalingGroups"),
        "{called:?}"
    );

    let policy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("iam-policy.json")).unwrap())
            .unwrap();
    let listed: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();

    let missing: Vec<_> = called.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&called).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "iam-policy.json is out of date: missing {missing:?}, not called {extra:?}"
    );
}

#[test]
fn the_scanner_sees_calls_split_over_lines() {
    let src = "self\n    .clients\n    .autoscaling\n    .describe_auto_scaling_groups()\n \
               self.clients.elbv2.describe_target_health().send();";
    let found: Vec<_> = calls_in(src).into_iter().collect();
    assert_eq!(
        found,
        [
            "autoscaling:DescribeAutoScalingGroups",
            "elasticloadbalancing:DescribeTargetHealth"
        ]
    );
}
