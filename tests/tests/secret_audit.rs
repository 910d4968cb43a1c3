//! The secret audit (issue 8): runs with known fake secrets in every credential the
//! configuration knows (through environment variables and `*_file` keys) and in the
//! configuration diff, then searches every byte the run produced for them: stdout, stderr,
//! every file under the state directory and the working directory, and every byte each
//! local fake received. Zero hits.
//!
//! What is searched for each secret: the value, its percent-encoding, its base64 encoding
//! and (for webhook URLs) the secret last path segment alone. The one place a credential
//! may legitimately appear is where it is sent: the `Authorization` / `API-Key` header of a
//! request carrying a token, and the request target of a post to a webhook URL (the URL
//! *is* the credential). Those are checked to carry the credential, and excluded from the
//! search for that credential only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../deploykit-aws/tests/support/mod.rs"]
mod aws_support;
#[path = "../../deploykit-github/tests/support/mod.rs"]
mod github_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use deploykit_aws::AwsClients;
use deploykit_aws::moto::MotoServer;
use deploykit_core::DELAYED_SCALE_OUT_ACTION;
use deploykit_core::model::RECYCLE_ACTION;
use deploykit_tests::release_repo::{PRODUCTION_BRANCH, ReleaseRepo};
use deploykit_tests::secret_audit::{Hit, KnownSecret, search, search_files};
use deploykit_tests::{deploykit_bin, stderr, stdout};
use github_support::github_fake::{FakeGitHub, branch_tip};
use github_support::http_fake::{HttpFake, Request, Response};

const GITHUB_TOKEN: &str = "ghp_AUDITgithubTOKEN00000000000000000001";
const SLACK_BOT_TOKEN: &str = "xoxb-AUDIT-slack-bot-token-0002";
const NEW_RELIC_API_KEY: &str = "NRAK-AUDITnewrelicAPIkey0006";
const AWS_SECRET_ACCESS_KEY: &str = "AUDITawsSECRETaccessKEY0007/x+y";
const AWS_SESSION_TOKEN: &str = "AUDITawsSESSIONtoken0008";
const SECURE_STRING: &str = "postgres://idp:AUDITsecureSTRINGvalue0009@db.internal/idp";
const DIFF_PASSWORD: &str = "AUDITdiffPASSWORD0010";
const DIFF_PEM_LINE: &str = "MIIEvAUDITpemBODY0011";
const DIFF_REDIS_PASSWORD: &str = "AUDITredisURLpassword0012";
const DIFF_DB_URL_PASSWORD: &str = "AUDITdbURLpassword0013";
const DIFF_BEARER_TOKEN: &str = "eyJAUDITbearerTOKEN0014";
const DIFF_QUERY_TOKEN: &str = "AUDITqueryTOKEN0015";

/// The webhook URLs, on `base` (the Slack fake, or Slack's host when nothing is posted).
fn webhooks(base: &str) -> [String; 3] {
    [
        format!("{base}/services/TAUDIT/BAUDIT/AUDITwebhookMAIN0003"),
        format!("{base}/services/TAUDIT/BAUDIT/AUDITwebhookCROSS0004"),
        format!("{base}/services/TAUDIT/BAUDIT/AUDITwebhookDEVOPS0005"),
    ]
}

fn secrets(hooks: &[String; 3]) -> Vec<KnownSecret> {
    vec![
        KnownSecret::new("github token", GITHUB_TOKEN),
        KnownSecret::new("slack bot token", SLACK_BOT_TOKEN),
        KnownSecret::new("slack webhook (main)", hooks[0].clone()),
        KnownSecret::new("slack webhook (cross-post)", hooks[1].clone()),
        KnownSecret::new("slack webhook (devops)", hooks[2].clone()),
        KnownSecret::new("new relic api key", NEW_RELIC_API_KEY),
        KnownSecret::new("aws secret access key", AWS_SECRET_ACCESS_KEY),
        KnownSecret::new("aws session token", AWS_SESSION_TOKEN),
        KnownSecret::new("SecureString value", SECURE_STRING),
        KnownSecret::new("password in the diff", DIFF_PASSWORD),
        KnownSecret::new("PEM body in the diff", DIFF_PEM_LINE),
        KnownSecret::new("redis URL password in the diff", DIFF_REDIS_PASSWORD),
        KnownSecret::new("database URL password in the diff", DIFF_DB_URL_PASSWORD),
        KnownSecret::new("bearer token in the diff", DIFF_BEARER_TOKEN),
        KnownSecret::new("query token in the diff", DIFF_QUERY_TOKEN),
    ]
}

/// A configuration diff carrying secrets in every shape the redaction knows: a secret-looking
/// key, a SecureString parameter, known credentials under harmless keys, a PEM block, URL
/// passwords, an `Authorization` bearer token and a secret query parameter.
fn secret_diff(hooks: &[String; 3]) -> String {
    format!(
        "--- a/prod/idp.yml\n+++ b/prod/idp.yml\n@@ -1,9 +1,9 @@\n\
         - pool_size: 5\n+ pool_size: 10\n\
         - db_password: old-one\n+ db_password: {DIFF_PASSWORD}\n\
         + /prod/idp/database_url: {SECURE_STRING}\n\
         + alerts_endpoint: {}\n\
         + ci_auth: {GITHUB_TOKEN}\n\
         + AWS_SECRET_ACCESS_KEY={AWS_SECRET_ACCESS_KEY}\n\
         + saml_cert: -----BEGIN PRIVATE KEY-----\n+ {DIFF_PEM_LINE}\n+ -----END PRIVATE KEY-----\n\
         - redis_url: redis://:old-one@redis:6379\n+ redis_url: redis://:{DIFF_REDIS_PASSWORD}@redis:6379\n\
         + reporting_database_url: https://idp:{DIFF_DB_URL_PASSWORD}@db.example.com/x\n\
         + Authorization: Bearer {DIFF_BEARER_TOKEN}\n\
         + status_feed: https://status.example.gov/feed?format=json&access_token={DIFF_QUERY_TOKEN}\n\
         + feature_flag: on\n",
        hooks[0]
    )
}

/// A directory laid out for one audited run: inputs (config, secret files, the diff) kept
/// apart from what the run writes (state directory, working directory).
struct Run {
    root: tempfile::TempDir,
}

impl Run {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        for d in ["inputs", "state", "work"] {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        Run { root }
    }

    fn inputs(&self) -> PathBuf {
        self.root.path().join("inputs")
    }

    fn state(&self) -> PathBuf {
        self.root.path().join("state")
    }

    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// Writes the secret files and the configuration (`extra` appended), returns its path.
    fn config(&self, hooks: &[String; 3], extra: &str) -> PathBuf {
        std::fs::write(
            self.inputs().join("github-token"),
            format!("{GITHUB_TOKEN}\n"),
        )
        .unwrap();
        std::fs::write(self.inputs().join("devops-webhook"), &hooks[2]).unwrap();
        std::fs::write(self.inputs().join("diff.txt"), secret_diff(hooks)).unwrap();
        let path = self.inputs().join("deploykit.toml");
        std::fs::write(
            &path,
            format!(
                "[github]\ntoken_file = \"github-token\"\n\n\
                 [notifier]\ndevops_webhook_url_file = \"devops-webhook\"\n\n\
                 [redaction]\nsecure_parameters = [\"/prod/idp/database_url\"]\n\n{extra}"
            ),
        )
        .unwrap();
        path
    }

    /// The environment of every audited process: the state directory, and the secrets that
    /// come from environment variables.
    fn env(&self, hooks: &[String; 3]) -> Vec<(&'static str, String)> {
        vec![
            ("XDG_STATE_HOME", self.state().display().to_string()),
            ("HOME", self.root.path().display().to_string()),
            ("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN.into()),
            ("SLACK_WEBHOOK_URL", hooks[0].clone()),
            ("SLACK_CROSS_POST_WEBHOOK_URL", hooks[1].clone()),
            ("NEW_RELIC_API_KEY", NEW_RELIC_API_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY.into()),
            ("AWS_SESSION_TOKEN", AWS_SESSION_TOKEN.into()),
            ("AWS_ACCESS_KEY_ID", "AKIAAUDITEXAMPLE0000".into()),
            ("AWS_REGION", "us-west-2".into()),
        ]
    }

    /// [`Run::env`] for a deploy on `moto`: moto's endpoint and region, the audit's AWS
    /// secret key and session token over moto's defaults, and announcements through the Slack
    /// webhooks.
    fn moto_env(&self, hooks: &[String; 3], moto: &MotoServer) -> Vec<(&'static str, String)> {
        let mut env = self.env(hooks);
        env.retain(|(k, _)| !k.starts_with("AWS_"));
        env.extend(moto.env_vars());
        env.push(("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY.into()));
        env.push(("AWS_SESSION_TOKEN", AWS_SESSION_TOKEN.into()));
        env.push(("DEPLOYKIT_NOTIFIER_KIND", "slack-webhook".into()));
        env
    }

    /// Runs `deploykit args` in the working directory, `stdin` on its standard input.
    fn deploykit(&self, args: &[&str], env: &[(&str, String)], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(deploykit_bin());
        cmd.args(args)
            .current_dir(self.work())
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run deploykit");
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().expect("deploykit output")
    }

    /// `deploykit args` from a multi-threaded tokio test, whose runtime goes on (the fakes
    /// and the moto world answer) while the process runs.
    fn deploykit_in_place(&self, args: &[&str], env: &[(&str, String)]) -> Output {
        tokio::task::block_in_place(|| self.deploykit(args, env, None))
    }
}

/// Everything a process printed, searched; the hits.
fn search_output(label: &str, out: &Output, secrets: &[KnownSecret]) -> Vec<Hit> {
    let mut hits = search(&format!("stdout of {label}"), &out.stdout, secrets);
    hits.extend(search(&format!("stderr of {label}"), &out.stderr, secrets));
    hits
}

fn assert_no_hits(hits: &[Hit]) {
    assert!(
        hits.is_empty(),
        "secrets leaked:\n{}",
        hits.iter()
            .map(|h| format!("- {} in {}: …{}…", h.secret, h.source, h.context))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The full demo, every scenario, human and JSON, with secrets set everywhere. The demo runs
/// on the simulated world: it reads no configuration and sends nothing, so this proves no
/// path prints what the environment holds. The sandboxed config recycle below is the run
/// that reads the configuration (and its secrets) and announces the diff.
#[test]
fn the_demo_with_secrets_everywhere_leaks_nothing() {
    let run = Run::new();
    let hooks = webhooks("https://hooks.slack.com");
    let secrets = secrets(&hooks);
    let config = run.config(&hooks, "");
    let config = config.display().to_string();
    let env = run.env(&hooks);
    let mut hits = Vec::new();
    for scenario in [
        "healthy",
        "migration-fails",
        "provisioning-failure",
        "migration-hang",
        "error-spike",
        "unhealthy-hosts",
    ] {
        for json in [false, true] {
            let mut args = vec!["--config", config.as_str()];
            if json {
                args.push("--json");
            }
            args.extend(["demo", "--scenario", scenario]);
            let out = run.deploykit(&args, &env, None);
            assert!(out.status.success(), "{scenario}: {}", stderr(&out));
            assert!(!out.stdout.is_empty() && !out.stderr.is_empty());
            hits.extend(search_output(&format!("demo {scenario}"), &out, &secrets));
        }
    }
    let show = run.deploykit(&["--config", config.as_str(), "config", "show"], &env, None);
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(
        stdout(&show).contains("[REDACTED]"),
        "the secrets were found and shown redacted:\n{}",
        stdout(&show)
    );
    hits.extend(search_output("config show", &show, &secrets));
    // Secrets written into the file by mistake are refused without being echoed.
    let bad = run.inputs().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "[notifier]\nwebhook_url = \"{}\"\n[github]\ntoken = \"{GITHUB_TOKEN}\"\n\
             [monitor.newrelic]\napi_key = \"{NEW_RELIC_API_KEY}\"\n",
            hooks[0]
        ),
    )
    .unwrap();
    let bad = bad.display().to_string();
    for command in ["check", "show"] {
        let out = run.deploykit(&["--config", bad.as_str(), "config", command], &env, None);
        assert!(!out.status.success(), "config {command} refuses the file");
        assert!(
            format!("{}{}", stdout(&out), stderr(&out)).contains("notifier.webhook_url"),
            "config {command} names the key: {}",
            stderr(&out)
        );
        hits.extend(search_output(
            &format!("config {command} of a bad file"),
            &out,
            &secrets,
        ));
    }
    for dir in [run.state(), run.work()] {
        hits.extend(search_files(&dir, &secrets).0);
    }
    assert_no_hits(&hits);
}

/// `deploy --kind config-recycle --config-diff` in the sandbox, from a file and from
/// standard input: the configuration (with every secret) is read, the diff is redacted
/// before it is announced or journalled, and nothing the run writes holds a secret.
#[test]
fn a_sandboxed_config_recycle_announces_the_diff_redacted() {
    let run = Run::new();
    let hooks = webhooks("https://hooks.slack.com");
    let secrets = secrets(&hooks);
    let config = run.config(&hooks, "");
    let config = config.display().to_string();
    let diff_file = run.inputs().join("diff.txt").display().to_string();
    let env = run.env(&hooks);
    let deploy = |diff: &str, json: bool, stdin: Option<&str>| {
        let mut args = vec!["--config", config.as_str(), "--sandbox", "--yes"];
        if json {
            args.push("--json");
        }
        args.extend([
            "deploy",
            "prod",
            "idp",
            "--kind",
            "config-recycle",
            "--override-cadence",
            "secret audit",
            "--config-diff",
            diff,
        ]);
        run.deploykit(&args, &env, stdin)
    };
    let from_file = deploy(&diff_file, false, None);
    let from_stdin = deploy("-", true, Some(&secret_diff(&hooks)));
    let mut hits = Vec::new();
    for (label, out) in [("file", &from_file), ("stdin", &from_stdin)] {
        assert_eq!(out.status.code(), Some(0), "{label}: {}", stderr(out));
        hits.extend(search_output(
            &format!("config recycle ({label})"),
            out,
            &secrets,
        ));
    }
    let doc: serde_json::Value = serde_json::from_str(&stdout(&from_stdin)).expect("json");
    assert_eq!(doc["status"]["status"], "deployed", "{doc}");

    let (file_hits, files) = search_files(&run.state(), &secrets);
    assert!(files >= 2, "a journal per run, at least");
    hits.extend(file_hits);
    hits.extend(search_files(&run.work(), &secrets).0);
    assert_no_hits(&hits);

    // The diff did reach the announcement, redacted, with its harmless lines intact.
    let journals: Vec<PathBuf> = deploykit_tests::secret_audit::files_under(&run.state())
        .into_iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "journal.jsonl"))
        .collect();
    assert_eq!(journals.len(), 2, "one journal per run");
    for journal in journals {
        let text = std::fs::read_to_string(&journal).unwrap();
        let announced: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("\"announcement\"") && l.contains("pool_size: 10"))
            .collect();
        assert_eq!(announced.len(), 1, "{}", journal.display());
        for kept in [
            "feature_flag: on",
            "db_password: [REDACTED]",
            "ci_auth: [REDACTED]",
            "redis_url: redis://:[REDACTED]@redis:6379",
            "reporting_database_url: https://idp:[REDACTED]@db.example.com/x",
            "Authorization: Bearer [REDACTED]",
            "status_feed: https://status.example.gov/feed?format=json&access_token=[REDACTED]",
        ] {
            assert!(announced[0].contains(kept), "{kept}: {}", announced[0]);
        }
    }
}

#[test]
fn a_config_diff_is_refused_for_deploys_that_do_not_announce_one() {
    let run = Run::new();
    let hooks = webhooks("https://hooks.slack.com");
    let config = run.config(&hooks, "");
    let config = config.display().to_string();
    let diff_file = run.inputs().join("diff.txt").display().to_string();
    let out = run.deploykit(
        &[
            "--config",
            config.as_str(),
            "--sandbox",
            "--yes",
            "deploy",
            "prod",
            "idp",
            "--config-diff",
            &diff_file,
        ],
        &run.env(&hooks),
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--kind config-recycle"),
        "{}",
        stderr(&out)
    );
    let missing = run.deploykit(
        &[
            "--config",
            config.as_str(),
            "--sandbox",
            "deploy",
            "prod",
            "idp",
            "--kind",
            "config-recycle",
            "--config-diff",
            "no-such-diff.txt",
        ],
        &run.env(&hooks),
        None,
    );
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("no-such-diff.txt"));
}

/// What a fake received, as searchable bytes: the request line, every header, the body.
/// `legit` says which header / target may carry which secret (where it is sent); those are
/// checked to carry it and left out of the search for that secret only.
fn search_requests(
    fake: &str,
    requests: &[Request],
    secrets: &[KnownSecret],
    legit: &dyn Fn(&Request) -> Vec<(&'static str, &'static str)>,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (n, r) in requests.iter().enumerate() {
        let allowed = legit(r);
        let others = |part: &str| -> Vec<KnownSecret> {
            secrets
                .iter()
                .filter(|s| {
                    !allowed
                        .iter()
                        .any(|(p, name)| *p == part && *name == s.name)
                })
                .cloned()
                .collect()
        };
        let label = format!("{fake} request {n} ({} {})", r.method, r.path());
        hits.extend(search(
            &format!("{label} target"),
            r.target.as_bytes(),
            &others("target"),
        ));
        for (k, v) in &r.headers {
            hits.extend(search(
                &format!("{label} header {k}"),
                format!("{k}: {v}").as_bytes(),
                &others(k),
            ));
        }
        hits.extend(search(&format!("{label} body"), &r.body_bytes, secrets));
    }
    hits
}

async fn scheduled_actions(c: &AwsClients, group: &str) -> Vec<(String, Option<i32>)> {
    let out = c
        .autoscaling
        .describe_scheduled_actions()
        .auto_scaling_group_name(group)
        .send()
        .await
        .unwrap();
    out.scheduled_update_group_actions()
        .iter()
        .filter(|a| a.auto_scaling_group_name() == Some(group))
        .map(|a| {
            (
                a.scheduled_action_name().unwrap_or_default().to_string(),
                a.desired_capacity(),
            )
        })
        .collect()
}

async fn instance_ids(c: &AwsClients, group: &str) -> Vec<String> {
    let g = c
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(group)
        .send()
        .await
        .unwrap();
    g.auto_scaling_groups()
        .first()
        .map(|g| {
            g.instances()
                .iter()
                .filter_map(|i| i.instance_id().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// What the world does besides what moto does by itself.
#[derive(Default)]
struct Rules {
    /// Fire each recycled group's spindown ([`RECYCLE_ACTION`]) once this is set (the real
    /// spindown is 10 minutes or more after the recycle: it lands while the monitor gate
    /// watches, after the migration and health gates).
    spindowns_due: Option<Arc<AtomicBool>>,
    /// New prod-idp instances boot the production branch of this origin (the SHA goes in
    /// their `gitsha:idp` tag, as a real boot does), and what serves is recorded for the
    /// New Relic fake.
    boot: Option<Boot>,
}

/// The code prod-idp instances boot, and the SHAs serving traffic (what New Relic sees).
struct Boot {
    origin: PathBuf,
    serving: Serving,
}

/// The SHAs running on prod-idp instances: SHA -> (first seen, epoch ms; instances now).
type Serving = Arc<Mutex<BTreeMap<String, (i64, usize)>>>;

/// The groups a deploy of idp recycles.
const GROUPS: [&str; 2] = ["prod-idp", "prod-migration"];

/// [`play_the_world`] running in the background while a deploy runs, until `stop`.
struct PlayingWorld {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl PlayingWorld {
    /// Starts playing moto's missing parts under `rules`, once anything launched before is
    /// older than what the deploy will launch (launch times have 1 s resolution).
    async fn start(c: &AwsClients, rules: Rules) -> Self {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(play_the_world(c.clone(), stop.clone(), rules));
        PlayingWorld { stop, task }
    }

    /// Stops playing and waits for the last round to end.
    async fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap();
    }
}

/// What moto does not do by itself, done by hand while the deploy runs: the delayed
/// scale-out fires as soon as it is scheduled (moto never fires scheduled actions; the
/// spindown fires once `spindowns_due` is set), the unprotected instances above the desired
/// capacity are terminated (a nudge: moto only does it when the capacity is set), each new
/// migration instance gets a successful migration log (there is no instance to run it) and,
/// with `boot`, new prod-idp instances launch tagged with the production branch's tip.
async fn play_the_world(c: AwsClients, stop: Arc<AtomicBool>, rules: Rules) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let log_group = "prod_/var/log/cloud-init-output.log";
    let _ = c
        .logs
        .create_log_group()
        .log_group_name(log_group)
        .send()
        .await;
    let mut logged = BTreeSet::new();
    let mut booted: Option<String> = None;
    while !stop.load(Ordering::SeqCst) {
        // A real instance boots the production branch's tip: instances launched from now on
        // carry it (the group's tag propagates at launch).
        if let Some(boot) = &rules.boot {
            let tip = branch_tip(&boot.origin, PRODUCTION_BRANCH);
            if tip.is_some() && tip != booted {
                let sha = tip.clone().unwrap_or_default();
                c.autoscaling
                    .create_or_update_tags()
                    .tags(
                        aws_sdk_autoscaling::types::Tag::builder()
                            .resource_id("prod-idp")
                            .resource_type("auto-scaling-group")
                            .key("gitsha:idp")
                            .value(sha)
                            .propagate_at_launch(true)
                            .build(),
                    )
                    .send()
                    .await
                    .unwrap();
                booted = tip;
            }
        }
        for group in GROUPS {
            let actions = scheduled_actions(&c, group).await;
            // The spindown is due after the delayed scale-out, never before it.
            let scaling_out = actions.iter().any(|(n, _)| n == DELAYED_SCALE_OUT_ACTION);
            for (name, desired) in actions {
                let fire = name == DELAYED_SCALE_OUT_ACTION
                    || (name == RECYCLE_ACTION
                        && !scaling_out
                        && rules
                            .spindowns_due
                            .as_ref()
                            .is_some_and(|due| due.load(Ordering::SeqCst)));
                let Some(desired) = desired.filter(|_| fire) else {
                    continue;
                };
                // SetDesiredCapacity, not UpdateAutoScalingGroup: moto ignores a desired
                // capacity of 0 in the latter (the migration group's spindown).
                c.autoscaling
                    .set_desired_capacity()
                    .auto_scaling_group_name(group)
                    .desired_capacity(desired)
                    .send()
                    .await
                    .unwrap();
                c.autoscaling
                    .delete_scheduled_action()
                    .auto_scaling_group_name(group)
                    .scheduled_action_name(&name)
                    .send()
                    .await
                    .unwrap();
                // moto keys scheduled actions by name alone, so prod-idp's spindown replaced
                // the migration group's (back to 0, as every recycle schedules it): fire
                // that one with it.
                if name == RECYCLE_ACTION {
                    c.autoscaling
                        .set_desired_capacity()
                        .auto_scaling_group_name("prod-migration")
                        .desired_capacity(0)
                        .send()
                        .await
                        .unwrap();
                }
            }
            // Real Auto Scaling terminates unprotected instances above the desired capacity
            // (a scale-in of old or new instances); moto needs a nudge.
            let g = c
                .autoscaling
                .describe_auto_scaling_groups()
                .auto_scaling_group_names(group)
                .send()
                .await
                .unwrap();
            if let Some(g) = g.auto_scaling_groups().first() {
                let desired = g.desired_capacity().unwrap_or(0);
                let over = g.instances().len() > usize::try_from(desired).unwrap_or(0);
                if over
                    && g.instances()
                        .iter()
                        .any(|i| i.protected_from_scale_in() == Some(false))
                {
                    c.autoscaling
                        .set_desired_capacity()
                        .auto_scaling_group_name(group)
                        .desired_capacity(desired)
                        .send()
                        .await
                        .unwrap();
                }
            }
        }
        for id in instance_ids(&c, "prod-migration").await {
            if !logged.insert(id.clone()) {
                continue;
            }
            c.logs
                .create_log_stream()
                .log_group_name(log_group)
                .log_stream_name(&id)
                .send()
                .await
                .unwrap();
            let base = chrono::Utc::now().timestamp_millis();
            let mut req = c
                .logs
                .put_log_events()
                .log_group_name(log_group)
                .log_stream_name(&id);
            for (n, line) in [
                "bundle exec rake db:create db:migrate",
                "== 20261127120000 AddAuditColumn: migrated (0.0101s) ==",
                "All done! provision.sh finished for identity-devops",
            ]
            .iter()
            .enumerate()
            {
                req = req.log_events(
                    InputLogEvent::builder()
                        .timestamp(base + n as i64)
                        .message(*line)
                        .build()
                        .unwrap(),
                );
            }
            req.send().await.unwrap();
        }
        if let Some(boot) = &rules.boot {
            let now = chrono::Utc::now().timestamp_millis();
            let running = running_shas(&c, "prod-idp").await;
            let mut serving = boot.serving.lock().unwrap();
            for entry in serving.values_mut() {
                entry.1 = 0;
            }
            for sha in running {
                serving.entry(sha).or_insert((now, 0)).1 += 1;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// The `gitsha:*` tag of every running instance of `group` (one entry per instance).
async fn running_shas(c: &AwsClients, group: &str) -> Vec<String> {
    let ids = instance_ids(c, group).await;
    if ids.is_empty() {
        return Vec::new();
    }
    let out = c
        .ec2
        .describe_instances()
        .set_instance_ids(Some(ids))
        .send()
        .await
        .unwrap();
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| {
            i.state().and_then(|s| s.name())
                == Some(&aws_sdk_ec2::types::InstanceStateName::Running)
        })
        .filter_map(|i| {
            i.tags()
                .iter()
                .find(|t| t.key().is_some_and(|k| k.starts_with("gitsha:")))
                .and_then(|t| t.value().map(String::from))
        })
        .collect()
}

/// A moto server seeded with the test groups, prod-idp's new instances past their grace
/// period at once (time the tests cannot wait for); `None` when moto is not installed.
async fn seeded_moto() -> Option<(MotoServer, AwsClients)> {
    let moto = MotoServer::start_or_skip()?;
    let c = moto.clients().await;
    aws_support::seed(&c).await;
    aws_support::end_grace_period(&c, "prod-idp").await;
    Some((moto, c))
}

/// A config recycle of prod-idp through the CLI on the real backends: AWS on moto (seeded
/// groups), Slack through incoming webhooks to a local fake, New Relic's NerdGraph on a
/// local fake (it has no figures, so the monitor gate cannot decide and `--yes` rolls back
/// in production: the rollback and retrospective announcements go out too), GitHub's REST
/// fake and git in the working directory (a config recycle calls neither; both are set up
/// so any call would be recorded). Every secret is set; stdout, stderr, every file under the
/// state and working directories, and every byte the Slack, New Relic and GitHub fakes
/// received are searched.
#[tokio::test(flavor = "multi_thread")]
async fn a_config_recycle_on_moto_and_local_fakes_leaks_nothing() {
    let Some((moto, c)) = seeded_moto().await else {
        return;
    };

    let slack = HttpFake::start(|_| Response::raw(200, "text/plain", "ok"));
    let newrelic = HttpFake::start(|_| {
        Response::json(
            200,
            &serde_json::json!({"data": {"actor": {"account": {"nrql": {"results": []}}}}}),
        )
    });
    let github = FakeGitHub::start("18F/identity-idp", Some(GITHUB_TOKEN));
    let hooks = webhooks(&slack.url);
    let secrets = secrets(&hooks);

    let run = Run::new();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(run.work())
            .env("HOME", run.root.path())
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    };
    git(&["init", "-q", "-b", "main"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/18F/identity-idp.git",
    ]);
    let config = run.config(
        &hooks,
        &format!(
            "[apps.idp]\nroles = [{{ role = \"idp\", migrates = true }}]\n\n\
             [environments.prod]\nproduction = true\nmigration_timeout_secs = 120\n\
             health_timeout_secs = 120\nfollow_up_after_secs = 1\n\n\
             [monitor]\nkind = \"newrelic\"\nobserve_secs = 3\npoll_interval_secs = 1\n\n\
             [monitor.newrelic]\napi_url = \"{}/graphql\"\naccount_id = 1234567\n",
            newrelic.url
        ),
    );
    point_github_at(&config, &github.url());
    let env = run.moto_env(&hooks, &moto);

    let world = PlayingWorld::start(&c, Rules::default()).await;
    let config_arg = config.display().to_string();
    let diff_arg = run.inputs().join("diff.txt").display().to_string();
    let out = run.deploykit_in_place(
        &[
            "--config",
            config_arg.as_str(),
            "--yes",
            "deploy",
            "prod",
            "idp",
            "--kind",
            "config-recycle",
            "--override-cadence",
            "secret audit",
            "--config-diff",
            diff_arg.as_str(),
        ],
        &env,
    );
    world.stop().await;
    let text = format!("{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        out.status.code(),
        Some(5),
        "rolled back for want of figures:\n{text}"
    );
    assert!(text.contains("rolled back"), "{text}");

    // What each fake received is what the deploy should have sent.
    let posts = slack.requests();
    let kinds: Vec<String> = posts
        .iter()
        .map(|r| r.json()["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        posts.len(),
        3,
        "config change, rollback, retrospective: {kinds:#?}"
    );
    assert!(
        posts
            .iter()
            .all(|r| r.method == "POST"
                && r.path() == "/services/TAUDIT/BAUDIT/AUDITwebhookMAIN0003"),
        "every announcement goes to the main channel's webhook"
    );
    assert!(
        posts[0].body.contains("pool_size: 10") && posts[0].body.contains("[REDACTED]"),
        "the config change carries the redacted diff: {}",
        posts[0].body
    );
    let queries = newrelic.requests();
    assert!(
        !queries.is_empty(),
        "the monitor gate asked New Relic:\n{text}"
    );
    assert!(
        queries
            .iter()
            .all(|r| r.header("api-key") == Some(NEW_RELIC_API_KEY)),
        "NerdGraph gets the key in its API-Key header"
    );

    let mut hits = search_output("deploy", &out, &secrets);
    hits.extend(search_requests("slack", &posts, &secrets, &|r| {
        if r.path().ends_with("AUDITwebhookMAIN0003") {
            vec![("target", "slack webhook (main)")]
        } else {
            vec![]
        }
    }));
    hits.extend(search_requests("new relic", &queries, &secrets, &|_| {
        vec![("api-key", "new relic api key")]
    }));
    hits.extend(search_requests(
        "github",
        &github.http.requests(),
        &secrets,
        &|_| vec![("authorization", "github token")],
    ));
    let (state_hits, files) = search_files(&run.state(), &secrets);
    assert!(files >= 1, "the run journalled");
    hits.extend(state_hits);
    hits.extend(search_files(&run.work(), &secrets).0);
    assert_no_hits(&hits);
}

/// `rc create` through the CLI on git (a bare origin named like the GitHub repository,
/// reached over file://), the GitHub REST fake (which requires the token) and Slack
/// webhooks on a local fake: the token goes to GitHub in the `Authorization` header only,
/// the pending-release announcement goes to the main and cross-post webhooks, and nothing
/// else anywhere holds a secret.
#[test]
fn an_rc_cut_on_git_github_and_slack_fakes_leaks_nothing() {
    let slack = HttpFake::start(|_| Response::raw(200, "text/plain", "ok"));
    let github = FakeGitHub::start("18F/identity-idp", Some(GITHUB_TOKEN));
    let hooks = webhooks(&slack.url);
    let secrets = secrets(&hooks);
    let run = Run::new();
    let repo = ReleaseRepo::seed(run.root.path(), &run.work(), "18F/identity-idp");
    let origin = repo.origin.clone();
    let sha = repo.work_rev("HEAD");

    let config = run.config(&hooks, "");
    point_github_at(&config, &github.url());
    let mut env = run.env(&hooks);
    env.push(("DEPLOYKIT_NOTIFIER_KIND", "slack-webhook".into()));
    let config = config.display().to_string();
    let out = run.deploykit(
        &[
            "--config",
            config.as_str(),
            "--yes",
            "rc",
            "create",
            "--source",
            sha.as_str(),
        ],
        &env,
        None,
    );
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));

    let calls = github.http.requests();
    assert!(
        calls
            .iter()
            .any(|r| r.method == "POST" && r.path().ends_with("/pulls")),
        "the promotion PR was opened on the fake"
    );
    assert!(
        calls.iter().all(|r| r
            .header("authorization")
            .is_some_and(|a| a.ends_with(GITHUB_TOKEN))),
        "every GitHub call carries the token in its Authorization header"
    );
    let posts = slack.requests();
    let targets: BTreeSet<&str> = posts.iter().map(|r| r.path()).collect();
    assert_eq!(
        targets,
        BTreeSet::from([
            "/services/TAUDIT/BAUDIT/AUDITwebhookCROSS0004",
            "/services/TAUDIT/BAUDIT/AUDITwebhookMAIN0003",
        ]),
        "the pending release goes to the main and cross-post channels"
    );

    let mut hits = search_output("rc create", &out, &secrets);
    hits.extend(search_requests("slack", &posts, &secrets, &|r| {
        if r.path().ends_with("AUDITwebhookMAIN0003") {
            vec![("target", "slack webhook (main)")]
        } else {
            vec![("target", "slack webhook (cross-post)")]
        }
    }));
    hits.extend(search_requests("github", &calls, &secrets, &|_| {
        vec![("authorization", "github token")]
    }));
    hits.extend(search_files(&run.state(), &secrets).0);
    hits.extend(search_files(&run.work(), &secrets).0);
    hits.extend(search_files(&origin, &secrets).0);
    assert_no_hits(&hits);
}

/// Healthy New Relic figures for every SHA serving prod-idp now (as the world records it):
/// plenty of requests, a 0.05 % 5xx rate, one row per SHA in NerdGraph's NRQL result shape.
fn healthy_figures(serving: &Serving) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = serving
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, (_, instances))| *instances > 0)
        .map(|(sha, (first_seen, instances))| {
            serde_json::json!({
                "facet": sha,
                "tags.gitSha": sha,
                "requests": 6000,
                "errors_5xx": 3,
                "instances": instances,
                "first_seen": *first_seen as f64,
            })
        })
        .collect();
    serde_json::json!({"data": {"actor": {"account": {"nrql": {"results": rows}}}}})
}

/// A full code deploy of prod-idp through the CLI on the real backends, ending deployed:
/// `rc create` cuts the RC and opens the promotion PR (GitHub's REST fake over a bare git
/// origin, so the merge is a real merge commit on `stages/prod`), a reviewer approves it,
/// then `deploy prod idp` merges it, announces, recycles on moto (the migration instance
/// first, its log followed), waits for health, passes the monitor gate on New Relic's
/// NerdGraph fake (healthy figures for the old and the new SHA: new instances boot the
/// merged `stages/prod`), waits for the spindown, scales in the old instances, runs the
/// follow-up check, pauses for the smoke tests (no terminal, no `--yes`), and `resume
/// --decision go` creates the release and reports. Every secret is set (a code deploy
/// refuses `--config-diff`, so the diff's secrets only sit in the inputs; the New Relic key
/// comes from a file the configuration names); stdout, stderr, every file under the state
/// and working directories and the origin, and every byte the Slack, New Relic and GitHub
/// fakes received are searched.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_code_deploy_on_moto_and_local_fakes_leaks_nothing() {
    let Some((moto, c)) = seeded_moto().await else {
        return;
    };

    // The migration instance is not protected from scale-in: the spindown removes it.
    c.autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name("prod-migration")
        .new_instances_protected_from_scale_in(false)
        .send()
        .await
        .unwrap();

    let run = Run::new();
    let repo = ReleaseRepo::seed(run.root.path(), &run.work(), "18F/identity-idp");
    let old_sha = repo.origin_rev(PRODUCTION_BRANCH);
    // The fleet serves what the production branch holds.
    let old_instances = instance_ids(&c, "prod-idp").await;
    assert_eq!(old_instances.len(), 2);
    c.ec2
        .create_tags()
        .set_resources(Some(old_instances.clone()))
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("gitsha:idp")
                .value(&old_sha)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let serving: Serving = Arc::new(Mutex::new(BTreeMap::new()));
    let slack = HttpFake::start(|_| Response::raw(200, "text/plain", "ok"));
    // The spindowns are due once the monitor gate watches (New Relic is asked).
    let spindowns_due = Arc::new(AtomicBool::new(false));
    let newrelic = {
        let serving = serving.clone();
        let due = spindowns_due.clone();
        HttpFake::start(move |_| {
            due.store(true, Ordering::SeqCst);
            Response::json(200, &healthy_figures(&serving))
        })
    };
    let github =
        FakeGitHub::start("18F/identity-idp", Some(GITHUB_TOKEN)).with_origin(&repo.origin);
    let hooks = webhooks(&slack.url);
    let secrets = secrets(&hooks);

    std::fs::write(
        run.inputs().join("newrelic-key"),
        format!("{NEW_RELIC_API_KEY}\n"),
    )
    .unwrap();
    let config = run.config(
        &hooks,
        &format!(
            "[apps.idp]\nroles = [{{ role = \"idp\", migrates = true }}]\n\n\
             [environments.prod]\nproduction = true\nmigration_timeout_secs = 120\n\
             health_timeout_secs = 120\nfollow_up_after_secs = 1\n\n\
             [monitor]\nkind = \"newrelic\"\nobserve_secs = 3\npoll_interval_secs = 1\n\n\
             [monitor.newrelic]\napi_url = \"{}/graphql\"\naccount_id = 1234567\n\
             api_key_file = \"newrelic-key\"\n",
            newrelic.url
        ),
    );
    point_github_at(&config, &github.url());
    let mut env = run.moto_env(&hooks, &moto);
    // The New Relic key comes from its file here.
    env.retain(|(k, _)| *k != "NEW_RELIC_API_KEY");
    let config_arg = config.display().to_string();

    // The RC and its promotion PR, as the release manager cuts them; a reviewer approves.
    let source = repo.work_rev("main");
    let cut = run.deploykit(
        &[
            "--config",
            config_arg.as_str(),
            "--yes",
            "rc",
            "create",
            "--source",
            source.as_str(),
        ],
        &env,
        None,
    );
    assert!(cut.status.success(), "{}\n{}", stdout(&cut), stderr(&cut));
    let (pr, rc_branch, title) = {
        let s = github.state.lock().unwrap();
        let p = s.pulls.last().expect("rc create opened the promotion PR");
        (
            p["number"].as_u64().unwrap(),
            p["head"]["ref"].as_str().unwrap().to_string(),
            p["title"].as_str().unwrap().to_string(),
        )
    };
    github.add_review(pr, "code-reviewer", "APPROVED", "2026-11-27T12:00:00Z");
    let rc_head = repo.origin_rev(&rc_branch);
    let posts_before = slack.requests().len();

    let rules = Rules {
        spindowns_due: Some(spindowns_due),
        boot: Some(Boot {
            origin: repo.origin.clone(),
            serving: serving.clone(),
        }),
    };
    let world = PlayingWorld::start(&c, rules).await;
    // Without --yes and without a terminal to ask at, the deploy pauses once the follow-up
    // check is done: nobody has said the smoke tests passed (guide steps 8 and 9).
    let paused = run.deploykit_in_place(
        &[
            "--config",
            config_arg.as_str(),
            "deploy",
            "prod",
            "idp",
            "--override-cadence",
            "secret audit",
        ],
        &env,
    );
    let paused_text = format!("{}\n{}", stdout(&paused), stderr(&paused));
    assert_eq!(paused.status.code(), Some(6), "paused:\n{paused_text}");
    assert!(
        paused_text.contains("did the smoke tests pass in prod?")
            && paused_text.contains("continue with: deploykit resume")
            && paused_text.contains("the run holds the deploy lock until"),
        "{paused_text}"
    );
    assert!(
        github.state.lock().unwrap().releases.is_empty(),
        "no release before the smoke tests passed"
    );
    let run_id = stdout(&paused)
        .lines()
        .find_map(|l| l.strip_prefix("run ")?.split(':').next().map(String::from))
        .expect("the paused run's id");
    // The release manager ran the checks by hand; they passed.
    let out = run.deploykit_in_place(
        &[
            "--config",
            config_arg.as_str(),
            "resume",
            run_id.as_str(),
            "--decision",
            "go",
        ],
        &env,
    );
    // Auto Scaling terminates the unprotected old instances after the deploy let them go.
    for _ in 0..60 {
        if instance_ids(&c, "prod-idp").await.len() <= 2
            && instance_ids(&c, "prod-migration").await.is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    world.stop().await;
    let text = format!("{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "deployed:\n{text}");
    assert!(text.contains("deployed"), "{text}");

    // The promotion PR was merged with a merge commit on stages/prod, and that is what the
    // new instances run; the old instances are gone.
    let merged = repo.origin_rev(PRODUCTION_BRANCH);
    assert_eq!(
        repo.git(
            &repo.origin,
            &["rev-parse", &format!("{merged}^1"), &format!("{merged}^2")]
        ),
        format!("{old_sha}\n{rc_head}"),
        "stages/prod is the merge of the RC into the old production tip"
    );
    {
        let s = github.state.lock().unwrap();
        let p = s.pulls.iter().find(|p| p["number"] == pr).unwrap();
        assert_eq!(p["merged"], true, "{title} merged");
        assert_eq!(p["merge_commit_sha"], merged.as_str());
        let release = s.releases.first().expect("the deploy created the release");
        let rc_name = title
            .strip_prefix("Deploy ")
            .and_then(|t| t.strip_suffix(" to Production"))
            .unwrap();
        assert_eq!(release["name"], rc_name, "{release}");
        assert_eq!(release["target_commitish"], merged.as_str(), "{release}");
    }
    let now_running = instance_ids(&c, "prod-idp").await;
    assert_eq!(
        now_running.len(),
        2,
        "back to the old capacity: {now_running:?}"
    );
    assert!(
        now_running.iter().all(|i| !old_instances.contains(i)),
        "the old instances were scaled in: {now_running:?} (old: {old_instances:?})"
    );
    assert_eq!(
        running_shas(&c, "prod-idp").await,
        vec![merged.clone(), merged.clone()],
        "the new instances run the merged stages/prod"
    );
    assert!(
        instance_ids(&c, "prod-migration").await.is_empty(),
        "the migration instance is gone"
    );

    // What each fake received is what the deploy should have sent.
    let posts = slack.requests();
    let deploy_posts = &posts[posts_before..];
    let announced: Vec<(&str, String)> = deploy_posts
        .iter()
        .map(|r| {
            assert_eq!(r.method, "POST");
            let channel = r.path().rsplit('/').next().unwrap_or_default();
            let text = r.json()["text"].as_str().unwrap_or_default().to_string();
            (channel, text)
        })
        .collect();
    let release_url = |(_, text): &(&str, String)| text.contains("/releases/tag/");
    assert_eq!(
        announced.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        [
            "AUDITwebhookMAIN0003",
            "AUDITwebhookDEVOPS0005",
            "AUDITwebhookMAIN0003"
        ],
        "the recycle start goes to the main and devops channels, the deploy's end to the \
         main channel: {announced:#?}"
    );
    assert!(
        announced[..2]
            .iter()
            .all(|(_, t)| t.starts_with("Starting a recycle of idp in prod to deploy RC")),
        "{announced:#?}"
    );
    assert!(
        announced[2].1.contains("is complete") && release_url(&announced[2]),
        "the deploy's end names the release: {announced:#?}"
    );
    let queries = newrelic.requests();
    assert!(
        queries.len() >= 4,
        "the monitor gate and the follow-up asked New Relic:\n{text}"
    );
    assert!(
        queries
            .iter()
            .all(|r| r.header("api-key") == Some(NEW_RELIC_API_KEY)),
        "NerdGraph gets the key in its API-Key header"
    );
    let calls = github.http.requests();
    assert!(
        calls.iter().all(|r| r
            .header("authorization")
            .is_some_and(|a| a.ends_with(GITHUB_TOKEN))),
        "every GitHub call carries the token in its Authorization header"
    );

    let mut hits = search_output("rc create", &cut, &secrets);
    hits.extend(search_output("deploy", &paused, &secrets));
    hits.extend(search_output("resume", &out, &secrets));
    hits.extend(search_requests("slack", &posts, &secrets, &|r| {
        let path = r.path();
        if path.ends_with("AUDITwebhookMAIN0003") {
            vec![("target", "slack webhook (main)")]
        } else if path.ends_with("AUDITwebhookDEVOPS0005") {
            vec![("target", "slack webhook (devops)")]
        } else {
            vec![("target", "slack webhook (cross-post)")]
        }
    }));
    hits.extend(search_requests("new relic", &queries, &secrets, &|_| {
        vec![("api-key", "new relic api key")]
    }));
    hits.extend(search_requests("github", &calls, &secrets, &|_| {
        vec![("authorization", "github token")]
    }));
    let state_files = deploykit_tests::secret_audit::files_under(&run.state());
    for wanted in ["journal.jsonl", "report.md", "report.svg"] {
        assert!(
            state_files
                .iter()
                .any(|f| f.file_name().is_some_and(|n| n == wanted)),
            "the deploy kept its {wanted}: {state_files:?}"
        );
    }
    hits.extend(search_files(&run.state(), &secrets).0);
    hits.extend(search_files(&run.work(), &secrets).0);
    hits.extend(search_files(&repo.origin, &secrets).0);
    assert_no_hits(&hits);
}

/// Points the configuration file `config` at the GitHub API on `url` (the fake).
fn point_github_at(config: &Path, url: &str) {
    std::fs::write(
        config,
        std::fs::read_to_string(config)
            .unwrap()
            .replace("[github]\n", &format!("[github]\napi_url = \"{url}\"\n")),
    )
    .unwrap();
}
