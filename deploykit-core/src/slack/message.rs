//! Block Kit messages for each announcement, with the plain-text fallback `text` (the
//! announcement's Display form).

use serde_json::{Value, json};

use crate::ports::Announcement;
use crate::ports::notifier::{rollback_follow_up, rolled_back_words, shipped_words};

/// Longest section text Slack accepts is 3000 characters; keep under it.
const SECTION_LIMIT: usize = 2900;
/// Header blocks take at most 150 characters.
const HEADER_LIMIT: usize = 150;

/// Escapes the three characters Slack's mrkdwn and `text` treat as control characters.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn truncate(s: &str, limit: usize, note: &str) -> String {
    if s.chars().count() <= limit {
        return s.to_string();
    }
    let keep: String = s
        .chars()
        .take(limit.saturating_sub(note.len() + 1))
        .collect();
    format!("{keep}\n{note}")
}

fn header(text: &str) -> Value {
    json!({
        "type": "header",
        "text": { "type": "plain_text", "text": truncate(text, HEADER_LIMIT, "..."), "emoji": true }
    })
}

fn section(mrkdwn: &str) -> Value {
    json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": truncate(mrkdwn, SECTION_LIMIT, "_(truncated)_") }
    })
}

fn context(mrkdwn: &str) -> Value {
    json!({ "type": "context", "elements": [ { "type": "mrkdwn", "text": mrkdwn } ] })
}

fn link(url: &str, label: &str) -> String {
    format!("<{}|{}>", escape(url).replace('|', "%7C"), escape(label))
}

/// A diff as a code block, cut to fit one section (the full diff stays in the journal).
fn diff_block(diff: &str) -> String {
    let body = escape(diff).replace("```", "'''");
    let limit = SECTION_LIMIT - 8;
    let body = if body.chars().count() > limit {
        let keep: String = body.chars().take(limit - 40).collect();
        let cut = keep.rfind('\n').map(|i| &keep[..i]).unwrap_or(&keep);
        let more = body[cut.len()..].lines().count().max(1);
        format!("{cut}\n... ({more} more lines)")
    } else {
        body
    };
    format!("```\n{body}\n```")
}

/// The JSON message (`text` and `blocks`) for an announcement; the caller adds `channel`
/// for the Web API.
pub fn slack_message(a: &Announcement) -> Value {
    let text = truncate(&escape(&a.to_string()), SECTION_LIMIT, "(truncated)");
    let blocks = match a {
        Announcement::PendingReleasePr { app, rc, pr_url } => vec![
            header(&format!(":rocket: Pending {app} release: RC {rc}")),
            section(&format!(
                "*RC {rc}* of *{}* is ready for review: {}",
                escape(app.as_str()),
                link(pr_url, "promotion pull request")
            )),
            context("Review and approve the promotion pull request before the deploy."),
        ],
        Announcement::RecycleStart {
            app,
            env,
            rc,
            reverted,
            reasons,
        } => {
            let mut blocks = vec![
                header(&format!(":recycle: Recycle of {app} in {env}")),
                section(&format!(
                    "Starting a recycle of *{app}* in *{env}* to deploy *{}*.",
                    shipped_words(*rc, *reverted)
                )),
            ];
            if !reasons.is_empty() {
                let lines: Vec<String> =
                    reasons.iter().map(|r| format!("• {}", escape(r))).collect();
                blocks.push(section(&lines.join("\n")));
            }
            blocks
        }
        Announcement::ConfigChange { app, env, diff } => vec![
            header(&format!(":gear: Configuration change for {app} in {env}")),
            section(&diff_block(diff)),
            context("Secret values are redacted."),
        ],
        Announcement::DeployDone {
            app,
            env,
            rc,
            reverted,
            release_url,
        } => {
            let mut line = format!(
                "The deploy of *{}* to *{app}* in *{env}* is complete.",
                shipped_words(*rc, *reverted)
            );
            if let Some(url) = release_url {
                line.push_str(&format!(" {}", link(url, "Release")));
            }
            vec![
                header(&format!(
                    ":white_check_mark: Deploy of {app} to {env} complete"
                )),
                section(&line),
            ]
        }
        Announcement::RollbackStarted {
            app,
            env,
            rc,
            deploy_kind,
            reason,
            still_serving,
            revert_pr_url,
        } => {
            let mut blocks = vec![
                header(&format!(":rewind: Rolling back {app} in {env}")),
                section(&format!(
                    "Rolling back *{}* of *{app}* in *{env}*.\n*Why:* {}",
                    rolled_back_words(*rc, *deploy_kind),
                    escape(reason)
                )),
            ];
            if let Some(line) = rollback_follow_up(still_serving, revert_pr_url.as_deref()) {
                blocks.push(section(&escape(&line)));
            }
            blocks
        }
        Announcement::RetrospectiveToSchedule {
            app,
            env,
            rc,
            deploy_kind,
            reason,
        } => vec![
            header(&format!(":memo: Schedule a retrospective: {app} in {env}")),
            section(&format!(
                "Schedule a blameless retrospective for the rollback of *{}* of *{app}* in \
                 *{env}*.\n*Why it was rolled back:* {}",
                rolled_back_words(*rc, *deploy_kind),
                escape(reason)
            )),
        ],
    };
    json!({ "text": text, "blocks": blocks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppName, EnvName};

    #[test]
    fn pending_pr_links_the_pr_and_falls_back_to_display() {
        let a = Announcement::PendingReleasePr {
            app: AppName::new("idp").expect("app"),
            rc: crate::ReleaseNumber::full(112),
            pr_url: "https://github.com/18F/identity-idp/pull/9000".into(),
        };
        let m = slack_message(&a);
        assert_eq!(m["text"], a.to_string());
        assert_eq!(
            m["blocks"][0]["text"]["text"],
            ":rocket: Pending idp release: RC 112"
        );
        let body = m["blocks"][1]["text"]["text"].as_str().expect("text");
        assert!(
            body.contains("<https://github.com/18F/identity-idp/pull/9000|promotion pull request>")
        );
    }

    #[test]
    fn a_rollback_names_what_it_rolls_back_in_text_and_blocks_alike() {
        use crate::model::deploy_kind::DeployKind;
        let rollback = |rc, deploy_kind| {
            [
                Announcement::RollbackStarted {
                    app: AppName::new("idp").expect("app"),
                    env: EnvName::new("prod").expect("env"),
                    rc,
                    deploy_kind,
                    reason: "5xx".into(),
                    still_serving: Vec::new(),
                    revert_pr_url: None,
                },
                Announcement::RetrospectiveToSchedule {
                    app: AppName::new("idp").expect("app"),
                    env: EnvName::new("prod").expect("env"),
                    rc,
                    deploy_kind,
                    reason: "5xx".into(),
                },
            ]
        };
        for (rc, deploy_kind, words) in [
            (None, Some(DeployKind::ConfigRecycle), "the config recycle"),
            (
                None,
                Some(DeployKind::NoMigrationRecycle),
                "the no-migration recycle",
            ),
            (
                Some(crate::ReleaseNumber::full(112)),
                Some(DeployKind::Full),
                "RC 112",
            ),
            (None, None, "the current code"),
        ] {
            for a in rollback(rc, deploy_kind) {
                let text = a.to_string();
                assert!(text.contains(&format!("{words} of idp in prod")), "{text}");
                let m = slack_message(&a);
                let body = m["blocks"][1]["text"]["text"].as_str().expect("text");
                assert!(body.contains(&format!("*{words}* of *idp*")), "{body}");
            }
        }
    }

    #[test]
    fn a_rollback_announcement_without_a_kind_loads_and_stays_without_one() {
        // As journals written before the kind was recorded hold it.
        let old = serde_json::json!({
            "type": "rollback_started", "app": "idp", "env": "prod", "rc": null,
            "reason": "5xx"
        });
        let a: Announcement = serde_json::from_value(old.clone()).expect("loads");
        assert_eq!(serde_json::to_value(&a).expect("json"), old);
        assert!(
            a.to_string()
                .starts_with("Rolling back the current code of idp")
        );
    }

    #[test]
    fn config_diff_is_an_escaped_code_block_cut_to_fit() {
        let diff = format!("+ a: <b> & c\n{}", "+ line\n".repeat(1000));
        let a = Announcement::ConfigChange {
            app: AppName::new("idp").expect("app"),
            env: EnvName::new("prod").expect("env"),
            diff,
        };
        let m = slack_message(&a);
        let code = m["blocks"][1]["text"]["text"].as_str().expect("text");
        assert!(code.starts_with("```\n+ a: &lt;b&gt; &amp; c\n"));
        assert!(
            code.ends_with("more lines)\n```"),
            "{}",
            &code[code.len() - 60..]
        );
        assert!(code.chars().count() <= 3000);
        assert!(m["text"].as_str().expect("text").chars().count() <= 3000);
    }
}
