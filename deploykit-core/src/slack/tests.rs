//! The Slack notifier against a local fake speaking Slack's real answers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use crate::config::{ChannelsConfig, Secret};
use crate::http_fake::{FakeServer, Response};
use crate::model::{AppName, EnvName, ReleaseNumber};
use crate::notify::{BestEffortNotifier, RedactionRules, redact_config_diff};
use crate::ports::{Announcement, Clock, Notifier};
use crate::{ErrorKind, Event, RecordingSink};

/// A clock whose sleeps return at once and are recorded.
#[derive(Debug, Default)]
struct VirtualClock {
    slept: Mutex<Vec<Duration>>,
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time")
    }
    async fn sleep(&self, duration: Duration) {
        self.slept.lock().expect("slept").push(duration);
    }
}

fn idp() -> AppName {
    AppName::new("idp").expect("app")
}
fn prod() -> EnvName {
    EnvName::new("prod").expect("env")
}

fn pending_pr() -> Announcement {
    Announcement::PendingReleasePr {
        app: idp(),
        rc: ReleaseNumber::full(112),
        pr_url: "https://github.com/18F/identity-idp/pull/9000".into(),
    }
}

fn recycle() -> Announcement {
    Announcement::RecycleStart {
        app: idp(),
        env: prod(),
        rc: Some(ReleaseNumber::full(112)),
        reverted: None,
        reasons: Vec::new(),
    }
}

const HOOK_MAIN: &str = "/services/T000/B111/mainSecretXyz";
const HOOK_CROSS: &str = "/services/T000/B222/crossSecretXyz";
const HOOK_DEVOPS: &str = "/services/T000/B333/devopsSecretXyz";
const BOT_TOKEN: &str = "xoxb-1111-2222-botSecretToken";

fn webhook_notifier(server: &FakeServer, clock: Arc<VirtualClock>) -> SlackNotifier {
    SlackNotifier::new(
        SlackTransport::Webhooks(SlackWebhooks {
            main: Secret::new(server.url(HOOK_MAIN)),
            cross_post: Some(Secret::new(server.url(HOOK_CROSS))),
            devops: Some(Secret::new(server.url(HOOK_DEVOPS))),
        }),
        ChannelsConfig::default(),
        clock,
    )
    .expect("notifier")
}

fn api_notifier(server: &FakeServer, clock: Arc<VirtualClock>) -> SlackNotifier {
    SlackNotifier::new(
        SlackTransport::WebApi {
            base_url: server.url("/api"),
            token: Secret::new(BOT_TOKEN),
        },
        ChannelsConfig::default(),
        clock,
    )
    .expect("notifier")
}

fn api_ok() -> Response {
    Response::json(
        200,
        json!({"ok": true, "channel": "C123", "ts": "1503435956.000247"}),
    )
}

#[tokio::test]
async fn webhooks_post_to_one_webhook_per_channel() {
    let server = FakeServer::start(|_| Response::new(200, "ok"));
    let n = webhook_notifier(&server, Arc::default());
    n.announce(&pending_pr()).await.expect("posted");
    n.announce(&recycle()).await.expect("posted");
    let reqs = server.requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, [HOOK_MAIN, HOOK_CROSS, HOOK_MAIN, HOOK_DEVOPS]);
    let body = reqs[0].json();
    assert_eq!(body["text"], pending_pr().to_string());
    assert_eq!(body["blocks"][0]["type"], "header");
    assert!(
        reqs[0]
            .header("content-type")
            .expect("ct")
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn web_api_posts_to_both_channels_with_the_bot_token() {
    let server = FakeServer::start(|_| api_ok());
    let n = api_notifier(&server, Arc::default());
    n.announce(&pending_pr()).await.expect("posted");
    let done = Announcement::DeployDone {
        app: idp(),
        env: prod(),
        rc: Some(ReleaseNumber::full(112)),
        reverted: None,
        release_url: Some("https://github.com/18F/identity-idp/releases/tag/RC-112".into()),
    };
    n.announce(&done).await.expect("posted");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/chat.postMessage");
        assert_eq!(
            r.header("authorization"),
            Some(&*format!("Bearer {BOT_TOKEN}"))
        );
    }
    let channels: Vec<String> = reqs
        .iter()
        .map(|r| r.json()["channel"].to_string())
        .collect();
    assert_eq!(
        channels,
        [
            "\"#login-appdev\"",
            "\"#login-delivery\"",
            "\"#login-appdev\""
        ]
    );
    assert!(reqs[2].body.contains("releases/tag/RC-112"));
}

#[tokio::test]
async fn web_api_errors_map_to_kinds() {
    for (code, kind) in [
        ("channel_not_found", ErrorKind::NotFound),
        ("not_authed", ErrorKind::Unauthenticated),
        ("invalid_auth", ErrorKind::Unauthenticated),
        ("ratelimited", ErrorKind::RateLimited),
        ("invalid_blocks", ErrorKind::InvalidInput),
        ("fatal_error", ErrorKind::Backend),
    ] {
        let server =
            FakeServer::start(move |_| Response::json(200, json!({"ok": false, "error": code})));
        let err = api_notifier(&server, Arc::default())
            .announce(&recycle())
            .await
            .expect_err(code);
        assert_eq!(err.kind(), kind, "{code}");
        assert_eq!(err.context_value("slack_error"), Some(code));
        assert!(!err.to_string().contains(BOT_TOKEN));
        // Both channels were tried even though the first failed.
        assert_eq!(server.requests().len(), 2, "{code}");
    }
}

#[tokio::test]
async fn webhook_errors_map_to_kinds_without_showing_the_url() {
    for (status, body, kind) in [
        (400, "invalid_payload", ErrorKind::InvalidInput),
        (404, "no_service", ErrorKind::NotFound),
        (403, "invalid_token", ErrorKind::Unauthenticated),
        (410, "channel_is_archived", ErrorKind::NotFound),
        (500, "", ErrorKind::Backend),
    ] {
        let server = FakeServer::start(move |_| Response::new(status, body));
        let err = webhook_notifier(&server, Arc::default())
            .announce(&Announcement::DeployDone {
                app: idp(),
                env: prod(),
                rc: None,
                reverted: None,
                release_url: None,
            })
            .await
            .expect_err(body);
        assert_eq!(err.kind(), kind, "{status} {body}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("mainSecretXyz"), "{shown}");
        assert!(shown.contains("#login-appdev"));
    }
}

#[tokio::test]
async fn unreachable_slack_errors_do_not_show_the_webhook() {
    let server = FakeServer::start(|_| Response::new(200, "ok"));
    let n = webhook_notifier(&server, Arc::default());
    drop(server);
    let err = n.announce(&recycle()).await.expect_err("nobody listening");
    let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(!shown.contains("SecretXyz"), "{shown}");
    assert!(err.is_temporary());
    assert!(!format!("{n:?}").contains("SecretXyz"));
    assert!(!format!("{:?}", api_notifier_debug()).contains("botSecretToken"));
}

fn api_notifier_debug() -> SlackNotifier {
    SlackNotifier::new(
        SlackTransport::WebApi {
            base_url: "http://127.0.0.1:9/api".into(),
            token: Secret::new(BOT_TOKEN),
        },
        ChannelsConfig::default(),
        Arc::new(VirtualClock::default()),
    )
    .expect("notifier")
}

#[tokio::test]
async fn rate_limits_are_honoured_then_given_up() {
    let limited = || {
        Response::json(429, json!({"ok": false, "error": "ratelimited"}))
            .with_header("retry-after", "7")
    };
    let server = FakeServer::scripted(vec![limited(), limited(), api_ok()]);
    let clock = Arc::new(VirtualClock::default());
    api_notifier(&server, clock.clone())
        .announce(&Announcement::DeployDone {
            app: idp(),
            env: prod(),
            rc: None,
            reverted: None,
            release_url: None,
        })
        .await
        .expect("posted after waiting");
    assert_eq!(
        *clock.slept.lock().expect("slept"),
        [Duration::from_secs(7), Duration::from_secs(7)]
    );
    assert_eq!(server.requests().len(), 3);

    let server = FakeServer::scripted(vec![limited()]);
    let clock = Arc::new(VirtualClock::default());
    let err = api_notifier(&server, clock.clone())
        .with_max_retries(2)
        .announce(&Announcement::DeployDone {
            app: idp(),
            env: prod(),
            rc: None,
            reverted: None,
            release_url: None,
        })
        .await
        .expect_err("gives up");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.context_value("retry_after_secs"), Some("7"));
    assert_eq!(server.requests().len(), 3, "one try and two retries");
}

#[tokio::test]
async fn no_configured_secret_reaches_the_wire() {
    // Values that must never be sent: secret-looking keys, SecureString parameters and a
    // configured pattern, on removed, added and context lines, in several syntaxes.
    let secrets = [
        "hunter2-old",
        "hunter2-new",
        "sk_live_51abcDEF",
        "pg-pass-9876",
        "smtp-user-4242",
        "AKIAABCDEFGHIJKLMNOP",
        "jwt-signing-material",
        "envTokenValue123",
    ];
    let diff = "\
@@ -1,8 +1,8 @@
- database_password: hunter2-old
+ database_password: hunter2-new
  \"stripe_secret_key\": \"sk_live_51abcDEF\",
- /prod/idp/database_url = postgres://app:pg-pass-9876@db.internal/idp
+ smtp_username: smtp-user-4242
+ notes: rotated AKIAABCDEFGHIJKLMNOP today
+ jwt_private: |
+   jwt-signing-material
+ API_TOKEN=envTokenValue123
  pool_size: 5";
    let rules = RedactionRules::new(["/prod/idp/database_url", "smtp_username"])
        .with_pattern(r"AKIA[0-9A-Z]{16}")
        .expect("pattern");
    let redacted = redact_config_diff(diff, &rules);
    let announcement = Announcement::ConfigChange {
        app: idp(),
        env: prod(),
        diff: redacted,
    };
    for transport in ["webhook", "api"] {
        let server = FakeServer::start(|r| {
            if r.path.starts_with("/api") {
                api_ok()
            } else {
                Response::new(200, "ok")
            }
        });
        let n = if transport == "webhook" {
            webhook_notifier(&server, Arc::default())
        } else {
            api_notifier(&server, Arc::default())
        };
        n.announce(&announcement).await.expect("posted");
        let reqs = server.requests();
        assert_eq!(reqs.len(), 1);
        let wire: Vec<u8> = reqs.iter().flat_map(|r| r.raw.clone()).collect();
        let wire = String::from_utf8_lossy(&wire);
        for secret in secrets {
            assert!(
                !wire.contains(secret),
                "{secret} reached the wire via {transport}"
            );
        }
        assert!(wire.contains("[REDACTED]"));
        assert!(wire.contains("pool_size: 5"), "the harmless lines are kept");
    }
}

#[tokio::test]
async fn best_effort_turns_a_slack_failure_into_a_warning() {
    let server = FakeServer::start(|_| {
        Response::json(200, json!({"ok": false, "error": "channel_not_found"}))
    });
    let sink = Arc::new(RecordingSink::default());
    let clock = Arc::new(VirtualClock::default());
    let n = BestEffortNotifier::new(
        Arc::new(api_notifier(&server, clock.clone())),
        sink.clone(),
        clock,
    );
    let record = n.announce_recorded(&recycle()).await;
    assert!(!record.delivered);
    assert_eq!(record.error_kind, Some(ErrorKind::NotFound));
    assert!(
        matches!(&sink.events()[..], [Event::Warning { message, .. }] if message.contains("channel_not_found"))
    );
}

#[test]
fn from_config_follows_the_notifier_kind() {
    use std::collections::BTreeMap;
    let none = BTreeMap::new();
    let c = crate::config::resolve(None, &none, &none).expect("defaults");
    assert!(
        SlackNotifier::from_config(&c, Arc::new(VirtualClock::default()))
            .expect("ok")
            .is_none()
    );
    let env = BTreeMap::from([(
        "SLACK_WEBHOOK_URL".to_string(),
        "https://hooks.slack.com/services/T/B/fromEnvSecret".to_string(),
    )]);
    let c = crate::config::resolve(None, &env, &none).expect("valid");
    let n = SlackNotifier::from_config(&c, Arc::new(VirtualClock::default()))
        .expect("ok")
        .expect("webhook notifier");
    assert!(!format!("{n:?}").contains("fromEnvSecret"));
}

#[tokio::test]
async fn slack_passes_the_notifier_contract() {
    let server = FakeServer::start(|_| api_ok());
    let n = api_notifier(&server, Arc::default());
    // One delivery per announcement: what reached the main channel (cross-posts aside).
    let delivered = || {
        server
            .requests()
            .iter()
            .filter(|r| r.json()["channel"] == "#login-appdev")
            .map(|r| r.body.clone())
            .collect::<Vec<String>>()
    };
    crate::contract::notifier::delivers_every_announcement_in_order(&n, &delivered)
        .await
        .expect("the Slack notifier meets the Notifier contract");
}

#[tokio::test]
async fn a_redirect_is_a_failed_post_and_the_webhook_goes_nowhere_else() {
    let elsewhere = FakeServer::start(|_| Response::new(200, "ok"));
    let target = elsewhere.url("/landed");
    let redirecting =
        FakeServer::start(move |_| Response::new(302, "").with_header("location", &target));
    for n in [
        webhook_notifier(&redirecting, Arc::default()),
        api_notifier(&redirecting, Arc::default()),
    ] {
        let err = n.announce(&pending_pr()).await.expect_err("not posted");
        let text = format!("{err} {err:?}");
        assert!(text.contains("redirect"), "{text}");
        assert!(!text.contains("Secret"), "{text}");
    }
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect was followed to another host"
    );
    for r in redirecting.requests() {
        assert!(r.header("referer").is_none(), "{r:?}");
    }
}
