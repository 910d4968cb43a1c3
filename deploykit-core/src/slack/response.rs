//! Slack's answers mapped to deploykit error kinds.
//!
//! Incoming webhooks answer `200 ok`, or a status with a plain-text code (`invalid_payload`,
//! `no_service`, ...). The Web API answers HTTP 200 with `{"ok": false, "error": "..."}`.

use crate::error::Error;

/// The error for a Web API `error` code (or a webhook's text code) on `channel`.
pub fn slack_error(code: &str, channel: &str) -> Error {
    let code = code.trim();
    // Slack's codes are short snake_case words; anything else (an HTML page, a proxy's echo
    // of the request) is not repeated, as it may quote the webhook URL or the token.
    let code = if is_error_code(code) { code } else { "" };
    let e = match code {
        "not_authed"
        | "invalid_auth"
        | "account_inactive"
        | "token_revoked"
        | "token_expired"
        | "invalid_token"
        | "no_permission"
        | "missing_scope"
        | "not_allowed_token_type"
        | "ekm_access_denied"
        | "action_prohibited" => Error::unauthenticated(format!(
            "Slack refused the credentials ({code}) when posting to {channel}; check \
             SLACK_BOT_TOKEN or the webhook URL, and the app's scopes (chat:write)"
        )),
        "not_in_channel" => Error::unauthenticated(format!(
            "the Slack app is not in {channel} ({code}); invite it with /invite"
        )),
        "channel_not_found" | "no_service" | "no_team" | "team_disabled" | "no_such_channel" => {
            Error::not_found(format!(
                "Slack has no channel or webhook for {channel} ({code}); check the channel name \
                 in [notifier.channels] or create a new webhook"
            ))
        }
        "is_archived" | "channel_is_archived" => Error::not_found(format!(
            "{channel} is archived ({code}); unarchive it or choose another channel"
        )),
        "ratelimited" | "rate_limited" => Error::rate_limited(format!(
            "Slack is rate limiting posts to {channel} ({code}); try again in a minute"
        )),
        "invalid_payload"
        | "invalid_blocks"
        | "invalid_blocks_format"
        | "msg_too_long"
        | "no_text"
        | "invalid_arguments"
        | "too_many_attachments" => Error::invalid_input(format!(
            "Slack rejected the message for {channel} ({code}); this is a deploykit bug, \
                 please report it"
        )),
        "" => Error::backend(format!(
            "Slack answered an error without an error code when posting to {channel}; check \
             the webhook URL or notifier.api_url"
        )),
        other => Error::backend(format!(
            "Slack answered {other:?} when posting to {channel}"
        )),
    };
    e.with("channel", channel).with("slack_error", code)
}

/// Whether `text` reads as one of Slack's error codes (`channel_not_found`).
fn is_error_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 80
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The error for an HTTP redirect, which deploykit never follows when posting: the webhook
/// URL (a secret) or the bot token would go to another host.
pub fn redirect_error(status: u16, channel: &str) -> Error {
    Error::backend(format!(
        "Slack answered HTTP {status}, a redirect, when posting to {channel}; deploykit does not \
         follow redirects with a webhook URL or token, so nothing was posted: check the webhook \
         URL (https://hooks.slack.com/services/...) or notifier.api_url"
    ))
    .with("channel", channel)
    .with("http_status", status)
}

/// The error for a webhook's HTTP status and text body.
pub fn webhook_error(status: u16, body: &str, channel: &str) -> Error {
    let code = body.trim();
    match status {
        300..=399 => redirect_error(status, channel),
        500..=599 => Error::backend(format!(
            "Slack failed with HTTP {status} when posting to {channel}; try again later"
        ))
        .temporary(true)
        .with("channel", channel),
        401 | 403 if code.is_empty() => slack_error("invalid_token", channel),
        404 | 410 if code.is_empty() => slack_error("no_service", channel),
        _ => slack_error(code, channel).with("http_status", status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            slack_error("not_authed", "#a").kind(),
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            slack_error("invalid_auth", "#a").kind(),
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            slack_error("channel_not_found", "#a").kind(),
            ErrorKind::NotFound
        );
        assert!(slack_error("ratelimited", "#a").is_temporary());
        assert_eq!(
            webhook_error(400, "invalid_payload", "#a").kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            webhook_error(404, "no_service", "#a").kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            webhook_error(403, "", "#a").kind(),
            ErrorKind::Unauthenticated
        );
        assert!(webhook_error(503, "", "#a").is_temporary());
    }

    #[test]
    fn a_redirect_is_a_failure_that_names_no_url() {
        let e = webhook_error(302, "", "#login-gov");
        assert_eq!(e.kind(), ErrorKind::Backend);
        assert!(!e.is_temporary());
        assert!(e.to_string().contains("redirect"), "{e}");
        assert!(e.to_string().contains("nothing was posted"), "{e}");
    }

    #[test]
    fn an_answer_that_is_not_a_code_is_not_repeated() {
        let echo = "echo POST /services/T000/B000/SECRETSLACK1 headers=[...]";
        for e in [webhook_error(400, echo, "#a"), slack_error(echo, "#a")] {
            let text = format!("{e} {:?}", e.context());
            assert!(!text.contains("SECRETSLACK1"), "{text}");
            assert!(text.contains("without an error code"), "{text}");
        }
        assert!(
            webhook_error(400, "invalid_payload", "#a")
                .to_string()
                .contains("invalid_payload")
        );
    }
}
