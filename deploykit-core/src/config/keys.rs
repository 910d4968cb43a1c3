//! Key names: the closest valid key by edit distance, and keys that look like secrets.

/// Levenshtein distance between two keys (insertions, deletions, substitutions).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The valid key closest to `key`, if one is close enough to be a likely typo.
pub fn closest<'a>(key: &str, valid: &[&'a str]) -> Option<&'a str> {
    let limit = (key.chars().count() / 3).max(2);
    valid
        .iter()
        .map(|v| (edit_distance(key, v), *v))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// Words that make a key look like it holds a secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "credential",
    "private",
    "webhook_url",
];

/// If `key` names a secret written straight into the file, the environment variable that
/// should carry it instead (or a generic hint). Keys ending in `_file` point to a file and
/// are fine.
pub fn secret_key_hint(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    if lower.ends_with("_file") {
        return None;
    }
    let hint = match lower.as_str() {
        "webhook_url" => "SLACK_WEBHOOK_URL",
        "cross_post_webhook_url" => "SLACK_CROSS_POST_WEBHOOK_URL",
        "devops_webhook_url" => "SLACK_DEVOPS_WEBHOOK_URL",
        "bot_token" | "slack_token" => "SLACK_BOT_TOKEN",
        "token" | "github_token" | "gh_token" => "GITHUB_TOKEN",
        "api_key" | "new_relic_api_key" | "license_key" => "NEW_RELIC_API_KEY",
        _ if SECRET_WORDS.iter().any(|w| lower.contains(w)) => "",
        _ => return None,
    };
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_intended_key() {
        assert_eq!(edit_distance("repositry", "repository"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            closest("repositry", &["remote", "repository", "roles"]),
            Some("repository")
        );
        assert_eq!(closest("zzzzzz", &["remote", "repository"]), None);
    }

    #[test]
    fn secret_looking_keys_are_recognised() {
        assert_eq!(secret_key_hint("webhook_url"), Some("SLACK_WEBHOOK_URL"));
        assert_eq!(secret_key_hint("webhook_url_file"), None);
        assert_eq!(secret_key_hint("db_password"), Some(""));
        assert_eq!(secret_key_hint("repository"), None);
    }
}
