//! `GitHubCodeHost`: the [`CodeHost`] port on GitHub's REST API through octocrab.
//!
//! Requests go through octocrab's raw calls (`_get`, `_post`, `_put`) with deploykit's own
//! payload structs, so that every status is mapped by one function (`errors::github_error`)
//! and every list follows `Link: rel="next"` to the last page (100 items a page).

mod errors;
mod pages;
mod payloads;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use deploykit_core::ports::{
    CodeHost, MergeMethod, NewPullRequest, NewRelease, PrState, PullRequest, PullRequestQuery,
    Release, Review,
};
use deploykit_core::{Error, ErrorKind, Result, Sha};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::token::Token;
use errors::{FailedResponse, github_error, transport_error};
use payloads::{GhMergeResult, GhPull, GhRelease, GhReview};

/// GitHub's public API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// A guard against a server that links pages forever (10 000 items at 100 a page).
const MAX_PAGES: usize = 100;

/// One repository on GitHub (or GitHub Enterprise) as deploykit's [`CodeHost`].
///
/// ```no_run
/// # async fn demo() -> deploykit_core::Result<()> {
/// use deploykit_core::ports::CodeHost;
/// let github = deploykit_github::GitHubCodeHost::from_env("18F/identity-idp")?;
/// let newest = github.releases().await?.into_iter().next();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct GitHubCodeHost {
    /// Built on first use: octocrab's client must be created inside a tokio runtime, and
    /// constructing a code host should not need one.
    octocrab: std::sync::Arc<tokio::sync::OnceCell<Octocrab>>,
    owner: String,
    name: String,
    api_url: String,
    token: Option<Token>,
}

impl fmt::Debug for GitHubCodeHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubCodeHost")
            .field("repository", &format!("{}/{}", self.owner, self.name))
            .field("api_url", &self.api_url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
}

/// A successful answer.
struct Answer {
    link: Option<String>,
    body: String,
}

/// Percent-encodes one path segment or query value (everything but unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://authority` of a URL.
fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            let end = rest.find('/').map_or(url.len(), |j| i + 3 + j);
            &url[..end]
        }
        None => url,
    }
}

impl GitHubCodeHost {
    /// The repository `owner/name` on the API at `api_url`, with `token` (or anonymous).
    pub fn new(repository: &str, api_url: &str, token: Option<Token>) -> Result<Self> {
        let (owner, name) = match repository.trim().split_once('/') {
            Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => {
                (o.to_string(), n.trim_end_matches(".git").to_string())
            }
            _ => {
                return Err(Error::invalid_input(format!(
                    "{repository:?} is not a GitHub repository name; expected owner/name, \
                     e.g. 18F/identity-idp"
                )));
            }
        };
        let api_url = api_url.trim().trim_end_matches('/').to_string();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(Error::invalid_input(format!(
                "the GitHub API URL {api_url:?} should start with https:// \
                 (e.g. {DEFAULT_API_URL})"
            )));
        }
        Ok(GitHubCodeHost {
            octocrab: Default::default(),
            owner,
            name,
            api_url,
            token,
        })
    }

    /// The repository on `GITHUB_API_URL` (default [`DEFAULT_API_URL`]) with the token from
    /// `GITHUB_TOKEN` or `GH_TOKEN`.
    pub fn from_env(repository: &str) -> Result<Self> {
        let api_url = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_string());
        Self::new(repository, &api_url, Token::from_env())
    }

    /// `owner/name`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    async fn client(&self) -> Result<&Octocrab> {
        self.octocrab
            .get_or_try_init(|| async {
                let builder = Octocrab::builder()
                    .add_retry_config(RetryConfig::None)
                    .set_connect_timeout(Some(Duration::from_secs(10)))
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .base_uri(self.api_url.as_str())
                    .map_err(|e| {
                        Error::invalid_input(format!(
                            "the GitHub API URL {:?} is not valid: {e}",
                            self.api_url
                        ))
                    })?;
                let builder = match &self.token {
                    Some(t) => builder.personal_token(t.expose().to_string()),
                    None => builder,
                };
                builder.build().map_err(|e| {
                    Error::backend(format!(
                        "could not set up the GitHub client: {}",
                        self.redact(&e.to_string())
                    ))
                })
            })
            .await
    }

    fn repo_path(&self, rest: &str) -> String {
        format!(
            "/repos/{}/{}/{rest}",
            encode(&self.owner),
            encode(&self.name)
        )
    }

    fn redact(&self, text: &str) -> String {
        crate::token::redact(self.token.as_ref(), text)
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<Answer> {
        let octocrab = self.client().await?;
        let sent = match method {
            Method::Get => octocrab._get(uri).await,
            Method::Post => octocrab._post(uri, body).await,
            Method::Put => octocrab._put(uri, body).await,
        };
        let response = sent.map_err(|e| transport_error(what, self.redact(&e.to_string())))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let link = header("link");
        let ratelimit_remaining = header("x-ratelimit-remaining");
        let ratelimit_reset = header("x-ratelimit-reset");
        let retry_after = header("retry-after");
        let body = octocrab
            .body_to_string(response)
            .await
            .map_err(|e| transport_error(what, self.redact(&e.to_string())))?;
        if !(200..300).contains(&status) {
            let failed = FailedResponse {
                status,
                ratelimit_remaining,
                ratelimit_reset,
                retry_after,
                body: self.redact(&body),
            };
            return Err(github_error(what, &failed).with("repository", self.repository()));
        }
        Ok(Answer { link, body })
    }

    fn parse<T: DeserializeOwned>(&self, what: &str, body: &str) -> Result<T> {
        serde_json::from_str(body).map_err(|e| {
            Error::backend(format!(
                "GitHub's answer to {what} is not what its API documents ({e}); is \
                 GITHUB_API_URL ({}) a GitHub API?",
                self.api_url
            ))
        })
    }

    /// Every item of a list endpoint, page after page.
    async fn all_pages<T: DeserializeOwned>(&self, first: String, what: &str) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut uri = first;
        for _ in 0..MAX_PAGES {
            let answer = self.send(Method::Get, &uri, None, what).await?;
            let page: Vec<T> = self.parse(what, &answer.body)?;
            items.extend(page);
            let Some(next) = answer.link.as_deref().and_then(pages::next_link) else {
                return Ok(items);
            };
            if origin_of(&next) != origin_of(&self.api_url) {
                return Err(Error::backend(format!(
                    "GitHub linked the next page of {what} to another host ({}); refusing to \
                     follow it with the token",
                    origin_of(&next)
                )));
            }
            uri = next;
        }
        Err(Error::backend(format!(
            "{what} has more than {MAX_PAGES} pages of 100; refusing to read further"
        )))
    }

    fn pr_what(&self, number: u64) -> String {
        format!("pull request #{number} of {}", self.repository())
    }
}

#[async_trait]
impl CodeHost for GitHubCodeHost {
    async fn releases(&self) -> Result<Vec<Release>> {
        let what = format!("the releases of {}", self.repository());
        let raw: Vec<GhRelease> = self
            .all_pages(self.repo_path("releases?per_page=100"), &what)
            .await?;
        let mut releases: Vec<Release> = raw.into_iter().map(Release::from).collect();
        // Newest published first; drafts (never published) count as newest. Stable, so
        // GitHub's own order (newest created first) breaks ties.
        releases.sort_by_key(|r| {
            std::cmp::Reverse(
                r.published_at
                    .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
            )
        });
        Ok(releases)
    }

    async fn create_release(&self, release: &NewRelease) -> Result<Release> {
        let what = format!("release {:?} ({})", release.name, release.tag_name);
        let body = json!({
            "tag_name": release.tag_name,
            "target_commitish": release.target.as_str(),
            "name": release.name,
            "body": release.body,
            "draft": false,
            "prerelease": false,
            "make_latest": if release.make_latest { "true" } else { "false" },
        });
        let answer = self
            .send(
                Method::Post,
                &self.repo_path("releases"),
                Some(&body),
                &what,
            )
            .await?;
        Ok(self.parse::<GhRelease>(&what, &answer.body)?.into())
    }

    async fn ensure_label(&self, name: &str) -> Result<()> {
        let what = format!("label {name:?} of {}", self.repository());
        let path = self.repo_path(&format!("labels/{}", encode(name)));
        match self.send(Method::Get, &path, None, &what).await {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let body = json!({ "name": name, "color": "ededed" });
        match self
            .send(Method::Post, &self.repo_path("labels"), Some(&body), &what)
            .await
        {
            // Someone else created it meanwhile: it exists, which is all we want.
            Err(e) if e.kind() == ErrorKind::Conflict => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn add_labels(&self, number: u64, labels: &[String]) -> Result<()> {
        if labels.is_empty() {
            return Ok(());
        }
        let what = format!("labels {labels:?} on {}", self.pr_what(number));
        let body = json!({ "labels": labels });
        self.send(
            Method::Post,
            &self.repo_path(&format!("issues/{number}/labels")),
            Some(&body),
            &what,
        )
        .await
        .map(|_| ())
    }

    async fn create_pull_request(&self, pr: &NewPullRequest) -> Result<PullRequest> {
        let what = format!(
            "pull request {:?} from {} into {} of {}",
            pr.title,
            pr.head,
            pr.base,
            self.repository()
        );
        let body = json!({
            "title": pr.title,
            "head": pr.head,
            "base": pr.base,
            "body": pr.body,
        });
        let answer = self
            .send(Method::Post, &self.repo_path("pulls"), Some(&body), &what)
            .await?;
        self.parse::<GhPull>(&what, &answer.body)?.try_into()
    }

    async fn pull_request(&self, number: u64) -> Result<PullRequest> {
        let what = self.pr_what(number);
        let answer = self
            .send(
                Method::Get,
                &self.repo_path(&format!("pulls/{number}")),
                None,
                &what,
            )
            .await?;
        self.parse::<GhPull>(&what, &answer.body)?.try_into()
    }

    async fn pull_requests(&self, query: &PullRequestQuery) -> Result<Vec<PullRequest>> {
        let what = format!("the pull requests of {}", self.repository());
        let state = match query.state {
            Some(PrState::Open) => "open",
            Some(PrState::Closed | PrState::Merged) => "closed",
            None => "all",
        };
        let mut path = format!("pulls?state={state}&sort=created&direction=desc&per_page=100");
        if let Some(base) = &query.base {
            path.push_str(&format!("&base={}", encode(base)));
        }
        if let Some(head) = &query.head {
            // GitHub filters heads as `owner:branch`.
            let head = if head.contains(':') {
                head.clone()
            } else {
                format!("{}:{head}", self.owner)
            };
            path.push_str(&format!("&head={}", encode(&head)));
        }
        let raw: Vec<GhPull> = self.all_pages(self.repo_path(&path), &what).await?;
        let mut pulls = raw
            .into_iter()
            .map(PullRequest::try_from)
            .collect::<Result<Vec<_>>>()?;
        if let Some(wanted) = query.state {
            pulls.retain(|p| p.state == wanted);
        }
        pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
        Ok(pulls)
    }

    async fn reviews(&self, number: u64) -> Result<Vec<Review>> {
        let what = format!("the reviews of {}", self.pr_what(number));
        let raw: Vec<GhReview> = self
            .all_pages(
                self.repo_path(&format!("pulls/{number}/reviews?per_page=100")),
                &what,
            )
            .await?;
        raw.into_iter().map(Review::try_from).collect()
    }

    async fn merge_pull_request(&self, number: u64, method: MergeMethod) -> Result<Sha> {
        let what = format!("the {method} of {}", self.pr_what(number));
        let body = json!({ "merge_method": method.to_string() });
        let answer = self
            .send(
                Method::Put,
                &self.repo_path(&format!("pulls/{number}/merge")),
                Some(&body),
                &what,
            )
            .await?;
        let result: GhMergeResult = self.parse(&what, &answer.body)?;
        match (result.merged, result.sha) {
            (true, Some(sha)) => Sha::new(&sha).map_err(|e| {
                Error::backend(format!("GitHub sent a bad merge commit for {what}: {e}"))
            }),
            _ => Err(Error::conflict(format!(
                "GitHub did not merge {}: {}",
                self.pr_what(number),
                result.message
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_are_checked_and_debug_hides_the_token() {
        let host = GitHubCodeHost::new(
            "18F/identity-idp",
            "https://api.github.com/",
            Token::new("ghp_secret"),
        )
        .expect("valid");
        let shown = format!("{host:?}");
        assert!(!shown.contains("ghp_secret"), "{shown}");
        assert!(shown.contains("18F/identity-idp"), "{shown}");
        for bad in ["identity-idp", "/x", "a/b/c", ""] {
            let err = GitHubCodeHost::new(bad, DEFAULT_API_URL, None).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode("status - promotion"), "status%20-%20promotion");
        assert_eq!(encode("18F:stages/rc"), "18F%3Astages%2Frc");
        assert_eq!(
            origin_of("http://127.0.0.1:8080/repos/x?page=2"),
            "http://127.0.0.1:8080"
        );
    }
}
