//! The New Relic monitor against a local fake answering NerdGraph's real payload shapes.

use chrono::DateTime;
use serde_json::{Value, json};

use super::*;
use crate::ErrorKind;
use crate::config::{NewRelicConfig, Secret};
use crate::http_fake::{FakeServer, Response};
use crate::model::{EnvName, RoleName};
use crate::ports::{MetricsWindow, Monitor};

const API_KEY: &str = "NRAK-SECRETKEYVALUE0000";
const OLD: &str = "0123456789abcdef0123456789abcdef01234567";
const NEW: &str = "fedcba9876543210fedcba9876543210fedcba98";

fn monitor(server: &FakeServer) -> NewRelicMonitor {
    let config = NewRelicConfig {
        account_id: Some(1376370),
        api_url: server.url("/graphql"),
        ..NewRelicConfig::default()
    };
    NewRelicMonitor::new(&config, Secret::new(API_KEY)).expect("monitor")
}

fn window() -> MetricsWindow {
    MetricsWindow {
        start: DateTime::from_timestamp(1_800_000_000, 0).expect("t"),
        end: DateTime::from_timestamp(1_800_000_900, 0).expect("t"),
    }
}

async fn sample(server: &FakeServer) -> crate::Result<crate::ports::MonitorSample> {
    monitor(server)
        .sample(
            &EnvName::new("prod").expect("env"),
            &RoleName::new("idp").expect("role"),
            &window(),
        )
        .await
}

fn results(rows: Value) -> Response {
    Response::json(
        200,
        json!({"data": {"actor": {"account": {"nrql": {"results": rows}}}}}),
    )
}

fn errors(message: &str, class: &str) -> Response {
    Response::json(
        200,
        json!({
            "data": {"actor": {"account": {"nrql": null}}},
            "errors": [{
                "message": message,
                "path": ["actor", "account", "nrql"],
                "locations": [{"line": 1, "column": 42}],
                "extensions": {"errorClass": class}
            }]
        }),
    )
}

#[tokio::test]
async fn figures_per_sha_come_from_one_faceted_query() {
    let server = FakeServer::start(|_| {
        results(json!([
            {"facet": NEW, "tags.gitSha": NEW, "requests": 1200, "errors_5xx": 6,
             "instances": 3, "first_seen": 1800000600000.0_f64},
            {"facet": OLD, "tags.gitSha": OLD, "requests": 8000, "errors_5xx": 8,
             "instances": 6, "first_seen": 1799990000000.0_f64}
        ]))
    });
    let s = sample(&server).await.expect("sample");
    assert_eq!(s.window, window());
    assert_eq!(s.per_sha.len(), 2);
    assert_eq!(s.per_sha[0].sha.as_str(), OLD, "old SHA first: seen first");
    assert_eq!(s.per_sha[1].requests, 1200);
    assert_eq!(s.per_sha[1].errors_5xx, 6);
    assert_eq!(s.per_sha[1].instances, 3);
    assert_eq!(s.per_sha[1].error_rate(), Some(0.005));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/graphql"));
    assert_eq!(r.header("api-key"), Some(API_KEY));
    let body = r.json();
    assert_eq!(body["variables"]["accountId"], 1376370);
    let nrql = body["variables"]["nrql"].as_str().expect("nrql");
    assert!(nrql.contains("appName = 'prod.login.gov'"), "{nrql}");
    assert!(nrql.contains("FACET `tags.gitSha`"));
    assert!(nrql.contains("SINCE 1800000000000 UNTIL 1800000900000"));
    assert!(
        body["query"]
            .as_str()
            .expect("query")
            .contains("nrql(query: $nrql")
    );
}

#[tokio::test]
async fn no_rows_is_no_data_not_zero_errors() {
    let server = FakeServer::start(|_| results(json!([])));
    let s = sample(&server).await.expect("sample");
    assert!(s.per_sha.is_empty());
}

#[tokio::test]
async fn nerdgraph_errors_map_to_kinds_with_their_message() {
    let cases = [
        (
            "NRQL Syntax Error: Error at line 1 position 8, unexpected 'FROM'",
            "INVALID_INPUT",
            ErrorKind::InvalidInput,
        ),
        (
            "NRDB query duration exceeded the timeout. Your query timed out",
            "TIMEOUT",
            ErrorKind::Timeout,
        ),
        (
            "You are not authorized to query account 1376370",
            "FORBIDDEN",
            ErrorKind::Unauthenticated,
        ),
        (
            "Something went wrong while executing your query.",
            "INTERNAL_SERVER_ERROR",
            ErrorKind::Backend,
        ),
    ];
    for (message, class, kind) in cases {
        let server = FakeServer::start(move |_| errors(message, class));
        let err = sample(&server).await.expect_err(message);
        assert_eq!(err.kind(), kind, "{message}");
        assert!(err.to_string().contains(message), "{err}");
        assert_eq!(err.is_temporary(), kind == ErrorKind::Timeout);
    }
}

#[tokio::test]
async fn http_failures_map_to_kinds_without_the_key() {
    for (status, kind) in [
        (401, ErrorKind::Unauthenticated),
        (403, ErrorKind::Unauthenticated),
        (429, ErrorKind::RateLimited),
        (503, ErrorKind::Backend),
    ] {
        let server = FakeServer::start(move |_| {
            Response::json(status, json!({"errors": [{"message": "nope"}]}))
        });
        let err = sample(&server).await.expect_err("fails");
        assert_eq!(err.kind(), kind, "{status}");
        assert!(!format!("{err} {err:?}").contains(API_KEY));
    }
    let server = FakeServer::start(|_| results(json!([])));
    let m = monitor(&server);
    drop(server);
    let err = m
        .sample(
            &EnvName::new("prod").expect("env"),
            &RoleName::new("idp").expect("role"),
            &window(),
        )
        .await
        .expect_err("nobody listening");
    assert!(err.is_temporary());
    assert!(!format!("{err} {err:?} {m:?}").contains(API_KEY));
}

#[test]
fn from_config_needs_the_key_and_account() {
    use std::collections::BTreeMap;
    let none = BTreeMap::new();
    let c = crate::config::resolve(None, &none, &none).expect("defaults");
    assert_eq!(
        NewRelicMonitor::from_config(&c).expect_err("no key").kind(),
        ErrorKind::Unauthenticated
    );
    let env = BTreeMap::from([
        ("NEW_RELIC_API_KEY".to_string(), API_KEY.to_string()),
        ("NEW_RELIC_ACCOUNT_ID".to_string(), "1376370".to_string()),
    ]);
    let c = crate::config::resolve(None, &env, &none).expect("valid");
    let m = NewRelicMonitor::from_config(&c).expect("monitor");
    assert_eq!(
        m.app_name(
            &EnvName::new("staging").expect("env"),
            &RoleName::new("idp").expect("role")
        ),
        "staging.login.gov"
    );
}

#[tokio::test]
async fn new_relic_meets_the_monitor_contract() {
    use crate::contract::monitor as contract;
    let busy = FakeServer::start(|_| {
        results(json!([
            {"facet": NEW, "tags.gitSha": NEW, "requests": 1200, "errors_5xx": 6,
             "instances": 3, "first_seen": 1800000600000.0_f64},
            {"facet": OLD, "tags.gitSha": OLD, "requests": 8000, "errors_5xx": 8,
             "instances": 6, "first_seen": 1799990000000.0_f64}
        ]))
    });
    let quiet = FakeServer::start(|_| results(json!([])));
    let env = EnvName::new("prod").expect("env");
    let role = RoleName::new("idp").expect("role");
    contract::figures_are_consistent(&monitor(&busy), &env, &role, &window())
        .await
        .expect("busy window");
    contract::quiet_window_is_no_data(&monitor(&quiet), &env, &role, &window())
        .await
        .expect("quiet window");
}
