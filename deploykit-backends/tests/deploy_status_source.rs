//! The deploy status source the real backends build from the configuration reads every
//! configured environment's `deploy.json` (a local HTTP fake here), not only staging's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../deploykit-github/tests/support/http_fake.rs"]
mod http_fake;

use std::collections::BTreeMap;

use deploykit_backends::{deploy_status_source, deploy_status_source_for};
use deploykit_core::config::resolve;
use deploykit_core::ports::DeployStatusSource;
use deploykit_core::{AppName, EnvName, ErrorKind};
use http_fake::{HttpFake, Response};

const PROD_SHA: &str = "1111111111111111111111111111111111111111";
const STAGING_SHA: &str = "2222222222222222222222222222222222222222";
const PKI_INT_SHA: &str = "3333333333333333333333333333333333333333";

fn doc(env: &str, branch: &str, sha: &str) -> Response {
    Response::json(
        200,
        &serde_json::json!({
            "env": env, "branch": branch, "user": "root", "git_sha": sha,
            "git_date": "2026-11-23T10:00:00-05:00",
            "chef_run_timestamp": "20261123150000",
            "instance_id": "i-0abc123def4567890"
        }),
    )
}

fn fake() -> HttpFake {
    HttpFake::start(|req| match req.path() {
        "/idp/prod/api/deploy.json" => doc("prod", "stages/prod", PROD_SHA),
        "/idp/staging/api/deploy.json" => doc("staging", "main", STAGING_SHA),
        "/pki/int/api/deploy.json" => doc("int", "main", PKI_INT_SHA),
        _ => Response::raw(404, "text/plain", "Not Found"),
    })
}

fn config(fake: &HttpFake) -> deploykit_core::config::EffectiveConfig {
    let text = format!(
        r#"
[apps.idp]
deploy_status_urls = {{ prod = "{u}/idp/prod/api/deploy.json", staging = "{u}/idp/staging/api/deploy.json" }}

[apps.pki.deploy_status_urls]
int = "{u}/pki/int/api/deploy.json"
"#,
        u = fake.url
    );
    resolve(Some(&text), &BTreeMap::new(), &BTreeMap::new()).expect("valid configuration")
}

fn app(s: &str) -> AppName {
    AppName::new(s).expect("app")
}

fn env(s: &str) -> EnvName {
    EnvName::new(s).expect("env")
}

#[tokio::test]
async fn a_configured_prod_url_answers_with_the_deployed_sha() {
    let fake = fake();
    let config = config(&fake);
    let source = deploy_status_source(&config.apps["idp"]);
    let prod = source
        .deploy_status(&app("idp"), &env("prod"))
        .await
        .expect("prod is configured");
    assert_eq!(prod.git_sha.as_str(), PROD_SHA);
    assert_eq!(prod.branch.as_deref(), Some("stages/prod"));
    // The configured staging entry replaces the built-in staging URL.
    let staging = source
        .deploy_status(&app("idp"), &env("staging"))
        .await
        .expect("staging is configured");
    assert_eq!(staging.git_sha.as_str(), STAGING_SHA);
    let paths: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(
        paths,
        ["/idp/prod/api/deploy.json", "/idp/staging/api/deploy.json"]
    );
    // An environment with no URL still says how to configure one.
    let err = source
        .deploy_status(&app("idp"), &env("int"))
        .await
        .expect_err("int is not configured for idp");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = err.to_string();
    assert!(text.contains("idp in int"), "{text}");
    assert!(text.contains("[apps.idp.deploy_status_urls]"), "{text}");
}

#[tokio::test]
async fn the_source_for_several_apps_knows_each_apps_urls() {
    let fake = fake();
    let config = config(&fake);
    let apps: Vec<_> = config.apps.values().cloned().collect();
    let source = deploy_status_source_for(&apps);
    let pki_int = source
        .deploy_status(&app("pki"), &env("int"))
        .await
        .expect("pki int is configured");
    assert_eq!(pki_int.git_sha.as_str(), PKI_INT_SHA);
    let idp_prod = source
        .deploy_status(&app("idp"), &env("prod"))
        .await
        .expect("idp prod is configured");
    assert_eq!(idp_prod.git_sha.as_str(), PROD_SHA);
    // pki's built-in staging URL is still there; idp has no int URL.
    assert_eq!(
        source.url("pki", "staging"),
        Some("https://checking-deploy.pivcac.staging.login.gov/api/deploy.json")
    );
    assert_eq!(source.url("idp", "int"), None);
    assert_eq!(source.url("pki", "prod"), None);
}
