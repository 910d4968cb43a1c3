//! Credentials recognised inside a line under any key, by their shape: URL userinfo,
//! `Authorization` and bearer credentials, secret query parameters, Slack webhook tokens,
//! secret command-line flags, XML elements and well-known token formats. The list of shapes
//! is in the docs of `super::redact`.

use std::sync::LazyLock;

use regex_lite::{Captures, Regex};

use super::redact::{REDACTED, RedactionRules};

/// A URL with a password in its userinfo: `scheme://user:` (`pre`), then everything up to the
/// last `@` before a `/`, whitespace or quote (`pw`, refined by [`url_password_end`]).
static URL_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<pre>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:"'`]*:)(?P<pw>[^\s/"'`]+)@"#)
        .expect("a valid built-in regular expression")
});

/// `user:password@host:port` or `user:password@host.domain/` without a scheme (proxy settings,
/// DSNs); the port (or the `/` after a dotted host) is required so that `mon:tue@noon` stays.
static SCHEMELESS_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<pre>(?:^|[\s"'=,(\[{])(?P<user>[A-Za-z0-9._%+\-]+):)(?P<pw>[^\s/@"'`:\[\]]+)@(?P<host>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*)(?P<tail>:[0-9]{1,5}\b{end-half}|/)"#,
    )
    .expect("a valid built-in regular expression")
});

/// `scheme://user@host` with no password: the user is redacted only when it is a key (see
/// [`userinfo_is_key`]), as in a Sentry DSN.
static URL_USER_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<pre>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[A-Za-z0-9_%.\-]+)@(?P<host>[A-Za-z0-9.\-]+)")
        .expect("a valid built-in regular expression")
});

/// `Authorization: <scheme> <credentials>` (also quoted, `=`, `Proxy-Authorization`).
static AUTHORIZATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?P<pre>authorization["']?\s*[:=]\s*["']?[A-Za-z][A-Za-z0-9._\-]*\s+)(?P<cred>[^\s"'`,;\[\]]+)"#,
    )
    .expect("a valid built-in regular expression")
});

/// `Bearer <token>` anywhere (the token is checked by [`looks_like_token`]).
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?P<pre>\bbearer\s+)(?P<token>[A-Za-z0-9._~+/=\-]+)")
        .expect("a valid built-in regular expression")
});

/// A query (or form) parameter `?name=value` / `&name=value`.
static QUERY_PARAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<pre>[?&](?P<name>[A-Za-z0-9_.\-]+)=)(?P<value>[^&#\s"'`<>,;()\[\]{}]+)"#)
        .expect("a valid built-in regular expression")
});

/// Query parameter names that carry a credential though no secret word is in them: signed
/// URL signatures (`sig`, Azure SAS) and OAuth authorization codes (`code`).
const SECRET_QUERY_NAMES: &[&str] = &["sig", "code"];

/// A Slack webhook, workflow or trigger URL: its last path segment is the secret.
static SLACK_WEBHOOK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<pre>hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/(?:[A-Za-z0-9_\-]+/)+)(?P<secret>[A-Za-z0-9_\-]+)",
    )
    .expect("a valid built-in regular expression")
});

/// `--name value` on a command line (the `--name=value` form is a key-value pair).
static FLAG_WITH_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<pre>(?:^|[\s'"(])--(?P<name>[A-Za-z][A-Za-z0-9_.\-]*)[ \t]+)(?P<value>'[^']*'|"[^"]*"|[^\s'"\-][^\s'"]*)"#,
    )
    .expect("a valid built-in regular expression")
});

/// The password glued to `-p` in a MySQL client command (`mysql -uroot -pSECRET db`); only
/// after a MySQL command name, since `-p` means something else elsewhere (`mkdir -p`).
static MYSQL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<pre>\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mariadb|mariadb-dump)\b[^|;&\n]*?[ \t]-p)(?P<pw>'[^']*'|"[^"]*"|[^\s'"]+)"#,
    )
    .expect("a valid built-in regular expression")
});

/// `<tag attrs>value</tag>` on one line; the tag must match and look secret.
static XML_ELEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<open><(?P<tag>[A-Za-z_][A-Za-z0-9_.:\-]*)(?:\s[^<>]*)?>)(?P<value>[^<]+)(?P<close></(?P<end>[A-Za-z_][A-Za-z0-9_.:\-]*)\s*>)",
    )
    .expect("a valid built-in regular expression")
});

/// Tokens whose format says what they are: GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
/// `github_pat_`), Slack (`xoxb-`, `xoxp-`, `xoxa-`, ..., `xapp-`), New Relic (`NRAK-`,
/// `NRII-`), JWTs, Stripe live keys, GitLab personal tokens and Google API keys.
static TOKEN_FORMATS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:",
        r"gh[pousr]_[A-Za-z0-9]{16,}",
        r"|github_pat_[A-Za-z0-9_]{16,}",
        r"|xox[abeoprs]-[A-Za-z0-9\-]{8,}",
        r"|xapp-[A-Za-z0-9\-]{8,}",
        r"|NRAK-[A-Za-z0-9]{8,}",
        r"|NRII-[A-Za-z0-9_\-]{8,}",
        r"|eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*",
        r"|[sr]k_live_[A-Za-z0-9]{8,}",
        r"|glpat-[A-Za-z0-9_\-]{16,}",
        r"|AIza[A-Za-z0-9_\-]{30,}",
        r")",
    ))
    .expect("a valid built-in regular expression")
});

/// Where the password captured by [`URL_USERINFO`] ends (the last `@` of the userinfo), or
/// `None` when it is no password. The authority ends at the first `?` or `#`: when an `@`
/// comes before it, the password ends at the last such `@` (`u:p@host?mail=a@b`); otherwise
/// `?` and `#` are taken as part of an unencoded password (`u:ab#cd@host`), unless what comes
/// before them is a port (`host:8080?q=a@b`).
fn url_password_end(pw: &str) -> Option<usize> {
    match pw.find(['?', '#']) {
        Some(cut) => match pw[..cut].rfind('@') {
            Some(at) => Some(at),
            None if pw[..cut].bytes().all(|b| b.is_ascii_digit()) => None,
            None => Some(pw.len()),
        },
        None => Some(pw.len()),
    }
}

/// Whether the word after `Bearer` is a credential rather than prose (`Bearer
/// authentication`): at least 8 characters with a digit or a symbol in it.
fn looks_like_token(word: &str) -> bool {
    word.len() >= 8
        && word.bytes().any(|b| {
            b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b'-')
        })
}

/// Whether the user of a password-less URL userinfo is a key rather than a login name: any
/// user on a Sentry host (its DSN key), else a long random-looking word (32+ hex digits, or
/// 24+ characters mixing upper case, lower case and digits). `https://deploy@host` stays.
fn userinfo_is_key(user: &str, host: &str) -> bool {
    let sentry = host
        .split('.')
        .any(|label| label.eq_ignore_ascii_case("sentry"));
    let hex = user.len() >= 32 && user.bytes().all(|b| b.is_ascii_hexdigit());
    let mixed = user.len() >= 24
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && user.bytes().any(|b| b.is_ascii_uppercase())
        && user.bytes().any(|b| b.is_ascii_lowercase())
        && user.bytes().any(|b| b.is_ascii_digit());
    sentry || hex || mixed
}

/// Whether a `--flag` names a secret: a secret-looking name, unless it names where the secret
/// is rather than the secret (`--password-file /run/secrets/db`).
fn is_secret_flag(name: &str, rules: &RedactionRules) -> bool {
    let lower = name.to_ascii_lowercase();
    let names_a_place = ["file", "path", "dir"]
        .iter()
        .any(|tail| lower.ends_with(&format!("-{tail}")) || lower.ends_with(&format!("_{tail}")));
    rules.is_secret_key(name) && !names_a_place
}

/// `text` with the credentials inside values redacted (see the module docs of
/// `super::redact`). The URL passwords it hides are added to `found`.
pub(super) fn redact_credentials(
    text: &str,
    rules: &RedactionRules,
    found: &mut Vec<String>,
) -> String {
    let text = URL_USERINFO.replace_all(text, |c: &Captures<'_>| {
        let pw = &c["pw"];
        match url_password_end(pw) {
            Some(end) => {
                found.push(pw[..end].to_string());
                format!("{}{REDACTED}{}@", &c["pre"], &pw[end..])
            }
            None => c[0].to_string(),
        }
    });
    let text = SCHEMELESS_USERINFO.replace_all(&text, |c: &Captures<'_>| {
        let user = c["user"].to_ascii_lowercase();
        let host = c["host"].to_ascii_lowercase();
        let tail = &c["tail"];
        let not_userinfo = matches!(user.as_str(), "mailto" | "sip" | "sips" | "xmpp" | "tel")
            || host.starts_with("sha")
            || (tail == "/" && !host.contains('.'));
        if not_userinfo {
            return c[0].to_string();
        }
        found.push(c["pw"].to_string());
        format!("{}{REDACTED}@{}{tail}", &c["pre"], &c["host"])
    });
    let text = URL_USER_ONLY.replace_all(&text, |c: &Captures<'_>| {
        if userinfo_is_key(&c["user"], &c["host"]) {
            found.push(c["user"].to_string());
            format!("{}{REDACTED}@{}", &c["pre"], &c["host"])
        } else {
            c[0].to_string()
        }
    });
    let text =
        AUTHORIZATION.replace_all(&text, |c: &Captures<'_>| format!("{}{REDACTED}", &c["pre"]));
    let text = BEARER.replace_all(&text, |c: &Captures<'_>| {
        if looks_like_token(&c["token"]) {
            format!("{}{REDACTED}", &c["pre"])
        } else {
            c[0].to_string()
        }
    });
    let text = QUERY_PARAM.replace_all(&text, |c: &Captures<'_>| {
        let name = &c["name"];
        let secret = rules.is_secret_key(name)
            || SECRET_QUERY_NAMES
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name));
        if secret {
            format!("{}{REDACTED}", &c["pre"])
        } else {
            c[0].to_string()
        }
    });
    let text =
        SLACK_WEBHOOK.replace_all(&text, |c: &Captures<'_>| format!("{}{REDACTED}", &c["pre"]));
    let text = FLAG_WITH_VALUE.replace_all(&text, |c: &Captures<'_>| {
        if is_secret_flag(&c["name"], rules) {
            format!("{}{REDACTED}", &c["pre"])
        } else {
            c[0].to_string()
        }
    });
    let text =
        MYSQL_PASSWORD.replace_all(&text, |c: &Captures<'_>| format!("{}{REDACTED}", &c["pre"]));
    let text = XML_ELEMENT.replace_all(&text, |c: &Captures<'_>| {
        let tag = &c["tag"];
        let local = tag.rsplit(':').next().unwrap_or(tag);
        if tag == &c["end"] && rules.is_secret_key(local) {
            format!("{}{REDACTED}{}", &c["open"], &c["close"])
        } else {
            c[0].to_string()
        }
    });
    TOKEN_FORMATS.replace_all(&text, REDACTED).into_owned()
}

#[cfg(test)]
mod tests {
    use crate::notify::redact::tests::{assert_cases, redact};
    use crate::notify::{RedactionRules, redact_config_diff};

    #[test]
    fn well_known_token_formats_are_redacted_under_any_key() {
        assert_cases(&[
            (
                "+ note: ghp_AbCdEf0123456789AbCdEf0123456789abcd",
                &["ghp_AbCd"],
                &["+ note: "],
            ),
            (
                "+ ci: gho_16charsOrMore00000000 ghu_16charsOrMore00000000",
                &["gho_16", "ghu_16"],
                &["+ ci: "],
            ),
            (
                "+ ci: ghs_16charsOrMore00000000, ghr_16charsOrMore00000000",
                &["ghs_16", "ghr_16"],
                &["+ ci: "],
            ),
            (
                "+ ci: github_pat_11ABCDEFG0123456789_abcdefXYZ",
                &["github_pat_11"],
                &["+ ci: "],
            ),
            (
                "- bot: xoxb-1234-5678-AbCdEfGh",
                &["xoxb-1234"],
                &["- bot: "],
            ),
            (
                "+ u: xoxp-1-2-3-abcdefgh x: xoxa-2-abcdefgh",
                &["xoxp-", "xoxa-"],
                &["+ u: ", "x: "],
            ),
            ("+ app: xapp-1-A0123-4567-abcdef", &["xapp-1"], &["+ app: "]),
            (
                "+ monitor: {\"nr\": \"NRAK-ABCDEFGHIJ0123456789XYZ\"}",
                &["NRAK-ABC"],
                &["\"nr\": \""],
            ),
            (
                "+ session: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
                &["eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJl"],
                &["+ session: "],
            ),
            (
                "+ stripe: sk_live_51AbCdEfGhIjKlMn",
                &["sk_live_51"],
                &["+ stripe: "],
            ),
        ]);
        // AWS access key ids identify a key; they are no secret and stay.
        let diff = "+ note: AKIAABCDEFGHIJKLMNOP";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn key_like_url_users_are_redacted_and_login_names_stay() {
        assert_eq!(
            redact("+ dsn: https://0123456789abcdef0123456789abcdef@o123.ingest.sentry.io/1"),
            "+ dsn: https://[REDACTED]@o123.ingest.sentry.io/1"
        );
        assert_eq!(
            redact("+ dsn: https://publickey@sentry.example.gov/4"),
            "+ dsn: https://[REDACTED]@sentry.example.gov/4"
        );
        assert_eq!(
            redact("+ mirror: https://Xy7Qp2Lm9Rt4Vb8Nc3Kd6Wf1@git.example/r.git"),
            "+ mirror: https://[REDACTED]@git.example/r.git"
        );
        let diff = "+ a: https://user@host.example/x\n\
                    + b: ssh://deploy-bot-2024@git.example.gov/repo\n\
                    + c: https://jdoe@sentry-docs.example/x";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn schemeless_userinfo_passwords_are_redacted() {
        assert_eq!(
            redact("+ dsn: u:SECRET68@h:5432"),
            "+ dsn: u:[REDACTED]@h:5432"
        );
        assert_eq!(
            redact("+HTTP_PROXY=proxyuser:SECRET69@proxy.example.gov:3128"),
            "+HTTP_PROXY=proxyuser:[REDACTED]@proxy.example.gov:3128"
        );
        assert_eq!(
            redact("+ db: \"app:SECRET70@db.example.gov/idp\""),
            "+ db: \"app:[REDACTED]@db.example.gov/idp\""
        );
        // No port and no path, a mail link, a pinned image digest: unchanged.
        let diff = "+ h: 12:30 on mon:tue@noon\n\
                    + contact: mailto:ops@example.gov/\n\
                    + image: nginx:1.25@sha256:0123abcd\n\
                    + ref: git@github.com:18F/identity-idp.git";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn slack_webhook_tokens_are_redacted_keeping_the_url() {
        assert_eq!(
            redact("+ alerts: https://hooks.slack.com/services/T0ABC/B0DEF/AbCdEf123456"),
            "+ alerts: https://hooks.slack.com/services/T0ABC/B0DEF/[REDACTED]"
        );
        assert_eq!(
            redact("+ flow: \"https://hooks.slack.com/workflows/T1/A2/345/XyZ987\""),
            "+ flow: \"https://hooks.slack.com/workflows/T1/A2/345/[REDACTED]\""
        );
        // The configured webhook's token alone, and the literal's base64 form.
        let hook = "https://hooks.slack.com/services/T0/B1/Zq8Lm2Xc4Vb6Nn0Kk9Jj7Hh5";
        let rules = RedactionRules::default()
            .with_literal(hook)
            .with_literal("p4ssw0rd-literal");
        assert_eq!(
            redact_config_diff(
                "+ note: ok Zq8Lm2Xc4Vb6Nn0Kk9Jj7Hh5\n+ blob: cDRzc3cwcmQtbGl0ZXJhbA==",
                &rules
            ),
            "+ note: ok [REDACTED]\n+ blob: [REDACTED]"
        );
    }

    #[test]
    fn secret_query_parameters_by_name_are_redacted() {
        assert_eq!(
            redact("+ blob: https://a.blob.core.windows.net/c/f?sv=2022&sig=SECRET71&se=x"),
            "+ blob: https://a.blob.core.windows.net/c/f?sv=2022&sig=[REDACTED]&se=x"
        );
        assert_eq!(
            redact("+ cb: https://app.example/cb?code=SECRET72&state=abc"),
            "+ cb: https://app.example/cb?code=[REDACTED]&state=abc"
        );
        assert_eq!(
            redact(
                "+ s3: https://b.s3.amazonaws.com/k?X-Amz-Credential=SECRET73%2F2024&X-Amz-Signature=SECRET74&signature=SECRET75"
            ),
            "+ s3: https://b.s3.amazonaws.com/k?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&signature=[REDACTED]"
        );
    }

    #[test]
    fn command_line_flags_and_mysql_passwords_are_redacted() {
        assert_eq!(
            redact("+ cmd: run --user bob --password SECRET58 --token=SECRET59 --verbose"),
            "+ cmd: run --user bob --password [REDACTED] --token=[REDACTED] --verbose"
        );
        assert_eq!(
            redact("+ cmd: 'tool --api-key \"SECRET60 x\" --dry-run'"),
            "+ cmd: 'tool --api-key [REDACTED] --dry-run'"
        );
        assert_eq!(
            redact("+ backup: mysqldump -h db -uroot -pSECRET77 idp | gzip"),
            "+ backup: mysqldump -h db -uroot -p[REDACTED] idp | gzip"
        );
        // A file holding the secret, a prompt, `-p` elsewhere: unchanged.
        let diff = "+ cmd: run --password-file /run/secrets/db --token -\n\
                    + b: mysql -h db -p --port 3306\n\
                    + c: mkdir -p /srv/app && ssh -p 2222 host";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn xml_elements_with_secret_tags_are_redacted() {
        assert_eq!(
            redact("+   <password>SECRET57</password>"),
            "+   <password>[REDACTED]</password>"
        );
        assert_eq!(
            redact("+ <db><user>bob</user><ns:apiKey enc=\"no\">SECRET62</ns:apiKey></db>"),
            "+ <db><user>bob</user><ns:apiKey enc=\"no\">[REDACTED]</ns:apiKey></db>"
        );
    }
}
