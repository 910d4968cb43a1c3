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
    let by_host = FakeServer::start(|_| {
        results(json!([
            {"facet": [format!("idp-{OLD_A}.prod.login.gov"), OLD], "requests": 4000,
             "errors_5xx": 4, "instances": 1, "first_seen": 1799990000000.0_f64},
            {"facet": [format!("idp-{OLD_B}.prod.login.gov"), OLD], "requests": 4100,
             "errors_5xx": 5, "instances": 1, "first_seen": 1799990000000.0_f64},
            {"facet": ["idp-i-0bbbbbbbbbbbbbbb2.prod.login.gov", OLD], "requests": 3900,
             "errors_5xx": 30, "instances": 1, "first_seen": 1800000600000.0_f64}
        ]))
    });
    contract::instance_split_is_consistent(&monitor(&by_host), &env, &role, &window(), &old_ids())
        .await
        .expect("split window");
}

const OLD_A: &str = "i-0123456789abcdef0";
const OLD_B: &str = "i-0aaaaaaaaaaaaaaa1";

fn old_ids() -> Vec<crate::model::InstanceId> {
    [OLD_A, OLD_B]
        .iter()
        .map(|id| crate::model::InstanceId::new(id).expect("id"))
        .collect()
}

async fn sample_by_instance(
    server: &FakeServer,
) -> crate::Result<Option<crate::ports::InstanceSplitSample>> {
    monitor(server)
        .sample_by_instance(
            &EnvName::new("prod").expect("env"),
            &RoleName::new("idp").expect("role"),
            &window(),
            &old_ids(),
        )
        .await
}

/// One per-host row the way NerdGraph answers a two-facet query.
fn host_row(host: &str, sha: &str, requests: u64, errors: u64, first_seen_ms: f64) -> Value {
    json!({"facet": [host, sha], "host": host, "tags.gitSha": sha,
           "requests": requests, "errors_5xx": errors, "instances": 1,
           "first_seen": first_seen_ms})
}

#[tokio::test]
async fn old_and_new_hosts_are_added_up_on_their_own_side() {
    let server = FakeServer::start(|_| {
        results(json!([
            // Old instances, named in several ways, one of them in upper case.
            host_row("idp-i-0123456789abcdef0.prod.login.gov", OLD, 4000, 4, 1799990000000.0),
            host_row("I-0AAAAAAAAAAAAAAA1", OLD, 3000, 2, 1799980000000.0),
            // New instances: a 17-digit and an 8-digit id.
            host_row("idp-i-0bbbbbbbbbbbbbbb2.prod.login.gov", OLD, 900, 9, 1800000300000.0),
            host_row("i-0ccccccc", NEW, 100, 1, 1800000200000.0),
            // No SHA: left out, even without an instance id.
            {"facet": ["ip-10-0-1-23", null], "requests": 50, "errors_5xx": 50, "instances": 1}
        ]))
    });
    let split = sample_by_instance(&server)
        .await
        .expect("sample")
        .expect("hosts carry instance ids, so the split is possible");
    assert_eq!(split.window, window());

    let old = split.old_instances.expect("old instances served");
    assert_eq!(old.requests, 7000);
    assert_eq!(old.errors_5xx, 6);
    assert_eq!(old.instances, 2);
    assert_eq!(old.sha.as_str(), OLD);
    assert_eq!(
        old.first_seen,
        DateTime::from_timestamp_millis(1_799_980_000_000)
    );

    let new = split.new_instances.expect("new instances served");
    assert_eq!(new.requests, 1000);
    assert_eq!(new.errors_5xx, 10);
    assert_eq!(new.instances, 2);
    assert_eq!(
        new.sha.as_str(),
        OLD,
        "the SHA that served most new requests"
    );
    assert_eq!(new.error_rate(), Some(0.01));
    assert!(new.flows.is_empty());
}

#[tokio::test]
async fn a_side_without_rows_is_none() {
    let server = FakeServer::start(|_| {
        results(json!([host_row(
            "i-0bbbbbbbbbbbbbbb2",
            NEW,
            500,
            0,
            1800000300000.0
        )]))
    });
    let split = sample_by_instance(&server)
        .await
        .expect("sample")
        .expect("split");
    assert_eq!(split.old_instances, None);
    assert_eq!(split.new_instances.expect("new").requests, 500);
}

#[tokio::test]
async fn a_host_without_an_instance_id_makes_the_split_impossible() {
    for stray in [
        "ip-10-0-1-23",
        // An id-like word inside another word is no instance id.
        "api-deadbeef",
        // An id with a length EC2 never gives.
        "i-0123456789",
    ] {
        let server = FakeServer::start(move |_| {
            results(json!([
                host_row(OLD_A, OLD, 4000, 4, 1799990000000.0),
                host_row("i-0bbbbbbbbbbbbbbb2", OLD, 900, 9, 1800000300000.0),
                host_row(stray, OLD, 10, 0, 1800000100000.0)
            ]))
        });
        let split = sample_by_instance(&server).await.expect("no error");
        assert_eq!(split, None, "{stray} names no instance");
    }

    // A host without an instance id that served nothing does not matter.
    let server = FakeServer::start(|_| {
        results(json!([
            host_row(OLD_A, OLD, 4000, 4, 1799990000000.0),
            host_row("ip-10-0-1-23", OLD, 0, 0, 1800000100000.0)
        ]))
    });
    let split = sample_by_instance(&server).await.expect("sample");
    assert_eq!(
        split.expect("split").old_instances.expect("old").requests,
        4000
    );
}

#[tokio::test]
async fn the_split_comes_from_one_query_faceted_by_host_and_sha() {
    let server = FakeServer::start(|_| results(json!([])));
    let split = sample_by_instance(&server).await.expect("sample");
    let split = split.expect("no rows: nothing stands in the way of a split");
    assert_eq!((split.old_instances, split.new_instances), (None, None));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "one query per sample");
    assert_eq!(reqs[0].header("api-key"), Some(API_KEY));
    let body = reqs[0].json();
    let nrql = body["variables"]["nrql"].as_str().expect("nrql");
    assert!(nrql.contains("FACET `host`, `tags.gitSha`"), "{nrql}");
    assert!(
        nrql.contains("SINCE 1800000000000 UNTIL 1800000900000"),
        "{nrql}"
    );
    assert!(nrql.contains("appName = 'prod.login.gov'"), "{nrql}");
    assert!(nrql.contains("transactionType = 'Web'"), "{nrql}");
    assert!(nrql.contains("LIMIT MAX"), "{nrql}");
}

#[tokio::test]
async fn a_bad_sha_attribute_or_window_is_refused_before_querying() {
    let server = FakeServer::start(|_| results(json!([])));
    let config = NewRelicConfig {
        account_id: Some(1376370),
        api_url: server.url("/graphql"),
        sha_attribute: "tags.gitSha` OR 1".to_string(),
        ..NewRelicConfig::default()
    };
    let m = NewRelicMonitor::new(&config, Secret::new(API_KEY)).expect("monitor");
    let env = EnvName::new("prod").expect("env");
    let role = RoleName::new("idp").expect("role");
    let err = m
        .sample_by_instance(&env, &role, &window(), &old_ids())
        .await
        .expect_err("bad attribute");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let text = err.to_string();
    assert!(text.contains("monitor.newrelic.sha_attribute"), "{text}");
    assert!(text.contains("tags.gitSha` OR 1"), "{text}");
    assert!(!format!("{text} {err:?}").contains(API_KEY));

    let backwards = MetricsWindow {
        start: window().end,
        end: window().start,
    };
    let err = monitor(&server)
        .sample_by_instance(&env, &role, &backwards, &old_ids())
        .await
        .expect_err("backwards window");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(server.requests().is_empty(), "nothing sent to New Relic");
}

#[tokio::test]
async fn the_instance_attribute_is_configurable_and_checked() {
    // Hosts named ip-…: the app reports the instance id in a custom attribute instead.
    let server = FakeServer::start(|_| {
        results(json!([
            {"facet": [OLD_A, OLD], "requests": 4000, "errors_5xx": 4, "instances": 1},
            {"facet": ["i-0bbbbbbbbbbbbbbb2", OLD], "requests": 3900, "errors_5xx": 30,
             "instances": 1}
        ]))
    });
    let config = |instance_attribute: &str| NewRelicConfig {
        account_id: Some(1376370),
        api_url: server.url("/graphql"),
        instance_attribute: instance_attribute.to_string(),
        ..NewRelicConfig::default()
    };
    let env = EnvName::new("prod").expect("env");
    let role = RoleName::new("idp").expect("role");
    let m = NewRelicMonitor::new(&config("tags.instanceId"), Secret::new(API_KEY)).expect("m");
    let split = m
        .sample_by_instance(&env, &role, &window(), &old_ids())
        .await
        .expect("sample")
        .expect("the attribute names instances");
    assert_eq!(split.old_instances.map(|o| o.requests), Some(4000));
    assert_eq!(split.new_instances.map(|n| n.errors_5xx), Some(30));
    let body = server.requests()[0].json();
    let nrql = body["variables"]["nrql"]
        .as_str()
        .expect("nrql")
        .to_string();
    assert!(
        nrql.contains("FACET `tags.instanceId`, `tags.gitSha`"),
        "{nrql}"
    );

    let m = NewRelicMonitor::new(&config("host` OR 1"), Secret::new(API_KEY)).expect("m");
    let err = m
        .sample_by_instance(&env, &role, &window(), &old_ids())
        .await
        .expect_err("bad attribute");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string()
            .contains("monitor.newrelic.instance_attribute \"host` OR 1\""),
        "{err}"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "nothing sent for the bad attribute"
    );
}

#[tokio::test]
async fn split_query_failures_keep_their_kind() {
    let server =
        FakeServer::start(|_| errors("NRDB query duration exceeded the timeout", "TIMEOUT"));
    let err = sample_by_instance(&server).await.expect_err("timeout");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_temporary());
}

#[tokio::test]
async fn a_redirect_is_not_followed_so_the_key_stays_with_the_configured_host() {
    let elsewhere = FakeServer::start(|_| results(json!([])));
    let target = elsewhere.url("/landed");
    let redirecting =
        FakeServer::start(move |_| Response::new(302, "").with_header("location", &target));
    let err = sample(&redirecting).await.expect_err("a redirect fails");
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.to_string().contains("redirect"), "{err}");
    assert!(
        err.to_string().contains("monitor.newrelic.api_url"),
        "{err}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "the other host received a request"
    );
    assert_eq!(redirecting.requests().len(), 1);
    assert!(redirecting.requests()[0].header("referer").is_none());
}

#[tokio::test]
async fn an_answer_quoting_the_key_is_reported_without_it() {
    let server = FakeServer::start(|r| {
        let key = r.header("api-key").unwrap_or_default().to_string();
        errors(
            &format!("bad request headers=[api-key: {key}]"),
            "BAD_REQUEST",
        )
    });
    let err = sample(&server).await.expect_err("fails");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(API_KEY), "{text}");
    assert!(text.contains("api-key: [REDACTED]"), "{text}");
}
