//! The deploy status document each environment serves at `/api/deploy.json`.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

use crate::error::{Error, Result};
use crate::model::sha::Sha;

/// What an environment says it runs. Only `git_sha` is required; `sha` and `timestamp` are
/// accepted as deprecated aliases of `git_sha` and `chef_run_timestamp`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeployStatus {
    /// The deployed commit.
    pub git_sha: Sha,
    /// Environment name as the document writes it.
    pub env: Option<String>,
    /// Deployed branch.
    pub branch: Option<String>,
    /// Who deployed.
    pub user: Option<String>,
    /// Commit date.
    pub git_date: Option<DateTime<FixedOffset>>,
    /// When the configuration run finished (`%Y%m%d%H%M%S`).
    pub chef_run_timestamp: Option<NaiveDateTime>,
    /// The instance that wrote the document.
    pub instance_id: Option<String>,
    /// identity-devops commit, when present.
    pub devops_git_sha: Option<Sha>,
    /// identity-devops commit date, when present.
    pub devops_git_date: Option<DateTime<FixedOffset>>,
}

#[derive(serde::Deserialize)]
struct Raw {
    git_sha: Option<serde_json::Value>,
    sha: Option<serde_json::Value>,
    env: Option<serde_json::Value>,
    branch: Option<serde_json::Value>,
    user: Option<serde_json::Value>,
    git_date: Option<serde_json::Value>,
    chef_run_timestamp: Option<serde_json::Value>,
    timestamp: Option<serde_json::Value>,
    instance_id: Option<serde_json::Value>,
    devops_git_sha: Option<serde_json::Value>,
    devops_git_date: Option<serde_json::Value>,
}

fn text(field: &str, v: Option<serde_json::Value>) -> Result<Option<String>> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(Error::invalid_input(format!(
            "deploy status field {field:?} should be a string, found {other}"
        ))),
    }
}

fn date(field: &str, v: Option<String>) -> Result<Option<DateTime<FixedOffset>>> {
    v.map(|s| {
        DateTime::parse_from_rfc3339(&s).map_err(|_| {
            Error::invalid_input(format!(
                "deploy status field {field:?} is {s:?}, not an ISO 8601 date-time \
                 such as 2024-01-09T12:34:56-05:00"
            ))
        })
    })
    .transpose()
}

impl DeployStatus {
    /// Parses the document, with errors that say which field is wrong.
    ///
    /// ```
    /// use deploykit_core::DeployStatus;
    /// let s = DeployStatus::parse(r#"{"branch":"main","git_sha":"abc1234def"}"#).unwrap();
    /// assert_eq!(s.git_sha.as_str(), "abc1234def");
    /// ```
    pub fn parse(json: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            let start: String = json.chars().take(60).collect();
            Error::invalid_input(format!(
                "the deploy status document is not JSON ({e}); it starts with {start:?}"
            ))
        })?;
        if !value.is_object() {
            return Err(Error::invalid_input(format!(
                "the deploy status document should be a JSON object, found {value}"
            )));
        }
        let raw: Raw = serde_json::from_value(value)
            .map_err(|e| Error::invalid_input(format!("bad deploy status document: {e}")))?;
        let sha_text = match text("git_sha", raw.git_sha)? {
            Some(s) => s,
            None => text("sha", raw.sha)?.ok_or_else(|| {
                Error::invalid_input(
                    "the deploy status document has no \"git_sha\" (nor the older \"sha\"); \
                     is the URL right?",
                )
            })?,
        };
        let git_sha = Sha::new(&sha_text)
            .map_err(|e| Error::invalid_input(format!("deploy status field \"git_sha\": {e}")))?;
        let stamp = match text("chef_run_timestamp", raw.chef_run_timestamp)? {
            Some(s) => Some(s),
            None => text("timestamp", raw.timestamp)?,
        };
        let chef_run_timestamp = stamp
            .map(|s| {
                NaiveDateTime::parse_from_str(&s, "%Y%m%d%H%M%S").map_err(|_| {
                    Error::invalid_input(format!(
                        "deploy status field \"chef_run_timestamp\" is {s:?}, \
                         expected YYYYMMDDHHMMSS"
                    ))
                })
            })
            .transpose()?;
        let devops_git_sha = text("devops_git_sha", raw.devops_git_sha)?
            .map(|s| {
                Sha::new(s).map_err(|e| {
                    Error::invalid_input(format!("deploy status field \"devops_git_sha\": {e}"))
                })
            })
            .transpose()?;
        Ok(DeployStatus {
            git_sha,
            env: text("env", raw.env)?,
            branch: text("branch", raw.branch)?,
            user: text("user", raw.user)?,
            git_date: date("git_date", text("git_date", raw.git_date)?)?,
            chef_run_timestamp,
            instance_id: text("instance_id", raw.instance_id)?,
            devops_git_sha,
            devops_git_date: date(
                "devops_git_date",
                text("devops_git_date", raw.devops_git_date)?,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"{
        "env": "staging", "branch": "main", "user": "root",
        "git_sha": "0123456789abcdef0123456789abcdef01234567",
        "git_date": "2024-01-09T12:34:56-05:00",
        "chef_run_timestamp": "20240109180102",
        "instance_id": "i-0abc123def4567890",
        "sha": "0123456789abcdef0123456789abcdef01234567",
        "timestamp": "20240109180102",
        "devops_git_sha": "fedcba9876543210fedcba9876543210fedcba98",
        "devops_git_date": "2024-01-08T10:00:00Z",
        "extra": {"ignored": true}
    }"#;

    #[test]
    fn full_document_parses() {
        let s = DeployStatus::parse(FULL).expect("valid");
        assert_eq!(
            s.git_sha.as_str(),
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(s.branch.as_deref(), Some("main"));
        assert_eq!(s.env.as_deref(), Some("staging"));
        assert_eq!(
            s.chef_run_timestamp.map(|t| t.to_string()),
            Some("2024-01-09 18:01:02".into())
        );
        assert!(s.git_date.is_some() && s.devops_git_date.is_some());
        assert_eq!(
            s.devops_git_sha.map(|s| s.short().to_string()),
            Some("fedcba9".into())
        );
    }

    #[test]
    fn container_document_needs_only_the_sha() {
        let s = DeployStatus::parse(r#"{"branch":"main","git_sha":"abcdef1"}"#).expect("valid");
        assert_eq!(s.git_sha.as_str(), "abcdef1");
        assert_eq!(s.user, None);
    }

    #[test]
    fn deprecated_aliases_are_accepted() {
        let s = DeployStatus::parse(r#"{"sha":"abcdef1","timestamp":"20240109180102"}"#)
            .expect("valid");
        assert_eq!(s.git_sha.as_str(), "abcdef1");
        assert!(s.chef_run_timestamp.is_some());
    }

    #[test]
    fn bad_documents_say_what_is_wrong() {
        let cases = [
            ("<html>Bad Gateway</html>", "not JSON"),
            ("[1,2]", "JSON object"),
            (r#"{"branch":"main"}"#, "no \"git_sha\""),
            (r#"{"git_sha":"not-a-sha"}"#, "hexadecimal"),
            (
                r#"{"git_sha":"abcdef1","git_date":"yesterday"}"#,
                "ISO 8601",
            ),
            (
                r#"{"git_sha":"abcdef1","chef_run_timestamp":"2024"}"#,
                "YYYYMMDDHHMMSS",
            ),
            (r#"{"git_sha":["abcdef1"]}"#, "should be a string"),
        ];
        for (doc, expected) in cases {
            let err = DeployStatus::parse(doc).expect_err(doc);
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(expected), "{doc}: {err}");
        }
    }
}
