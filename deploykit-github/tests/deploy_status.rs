//! HttpDeployStatus against a local HTTP fake serving deploy.json documents.

mod support;

use std::time::Duration;

use deploykit_core::ports::DeployStatusSource;
use deploykit_core::{AppName, EnvName, ErrorKind};
use deploykit_github::HttpDeployStatus;
use support::http_fake::{HttpFake, Response};

fn app(s: &str) -> AppName {
    AppName::new(s).expect("app")
}

fn env(s: &str) -> EnvName {
    EnvName::new(s).expect("env")
}

fn fake() -> HttpFake {
    HttpFake::start(|req| match req.path() {
        "/idp/deploy.json" => Response::json(
            200,
            &serde_json::json!({
                "env": "staging", "branch": "main", "user": "root",
                "git_sha": "0123456789abcdef0123456789abcdef01234567",
                "git_date": "2024-01-09T12:34:56-05:00",
                "chef_run_timestamp": "20240109180102",
                "instance_id": "i-0abc123def4567890"
            }),
        ),
        "/container/deploy.json" => Response::raw(
            200,
            "application/json",
            r#"{"branch":"main","git_sha":"abcdef1"}"#,
        ),
        "/maintenance" => Response::raw(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><body>Down for maintenance</body></html>",
        ),
        "/nosha" => Response::json(200, &serde_json::json!({ "branch": "main" })),
        "/broken" => Response::raw(502, "text/html", "<html>Bad Gateway</html>"),
        "/slow" => {
            std::thread::sleep(Duration::from_secs(3));
            Response::json(200, &serde_json::json!({ "git_sha": "abcdef1" }))
        }
        _ => Response::raw(404, "text/plain", "Not Found"),
    })
}

fn source(fake: &HttpFake) -> HttpDeployStatus {
    let u = |p: &str| format!("{}{p}", fake.url);
    HttpDeployStatus::new()
        .with_url("idp", "staging", u("/idp/deploy.json"))
        .with_url("idp", "int", u("/container/deploy.json"))
        .with_url("idp", "dev", u("/maintenance"))
        .with_url("idp", "qa", u("/nosha"))
        .with_url("idp", "pt", u("/broken"))
        .with_url("idp", "gone", u("/missing"))
        .with_url("pki", "slow", u("/slow"))
}

#[tokio::test]
async fn reads_full_and_container_documents() {
    let fake = fake();
    let source = source(&fake);
    let full = source
        .deploy_status(&app("idp"), &env("staging"))
        .await
        .expect("staging");
    assert_eq!(
        full.git_sha.as_str(),
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(full.instance_id.as_deref(), Some("i-0abc123def4567890"));
    let container = source
        .deploy_status(&app("idp"), &env("int"))
        .await
        .expect("int");
    assert_eq!(container.git_sha.as_str(), "abcdef1");
    assert_eq!(container.branch.as_deref(), Some("main"));
    let request = &fake.requests()[0];
    assert_eq!(request.header("accept"), Some("application/json"));
}

#[tokio::test]
async fn only_configured_environments_are_read() {
    let defaults = HttpDeployStatus::new();
    assert_eq!(
        defaults.url("idp", "staging"),
        Some("https://idp.staging.login.gov/api/deploy.json")
    );
    assert_eq!(
        defaults.url("pki", "staging"),
        Some("https://checking-deploy.pivcac.staging.login.gov/api/deploy.json")
    );
    let err = defaults
        .deploy_status(&app("idp"), &env("prod"))
        .await
        .expect_err("not configured");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("idp in prod"), "{err}");
    assert!(err.to_string().contains("configure"), "{err}");
}

#[tokio::test]
async fn bad_answers_say_what_was_wrong() {
    let fake = fake();
    let source = source(&fake);

    let err = source
        .deploy_status(&app("idp"), &env("dev"))
        .await
        .expect_err("html");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let text = err.to_string();
    assert!(text.contains("did not answer with JSON"), "{text}");
    assert!(text.contains("text/html"), "{text}");
    assert!(text.contains("<!DOCTYPE html>"), "{text}");

    let err = source
        .deploy_status(&app("idp"), &env("qa"))
        .await
        .expect_err("no sha");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("git_sha"), "{err}");

    let err = source
        .deploy_status(&app("idp"), &env("pt"))
        .await
        .expect_err("502");
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.is_temporary());
    assert!(err.to_string().contains("502"), "{err}");

    let err = source
        .deploy_status(&app("idp"), &env("gone"))
        .await
        .expect_err("404");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("/missing"), "{err}");
}

#[tokio::test]
async fn a_slow_environment_times_out() {
    let fake = fake();
    let source = source(&fake).with_timeout(Duration::from_millis(300));
    let err = source
        .deploy_status(&app("pki"), &env("slow"))
        .await
        .expect_err("timeout");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("did not answer within"), "{err}");
}
