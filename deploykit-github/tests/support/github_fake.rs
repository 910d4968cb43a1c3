//! A fake of GitHub's REST API for one repository, answering with GitHub's payload shapes:
//! releases, labels, pulls, reviews and merges, `Link` pagination, and GitHub's error
//! bodies. Failures can be injected per request path.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::git_world::try_git_in;
use super::http_fake::{HttpFake, Request, Response, percent_decode};

const DOCS: &str = "https://docs.github.com/rest";

/// An error to answer instead of the normal one.
#[derive(Clone)]
pub struct Injected {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path prefix (after the host) that triggers it.
    pub path_prefix: String,
    /// The answer.
    pub response: Response,
    /// How many times it still fires (`usize::MAX`: always).
    pub times: usize,
}

/// The repository's state.
#[derive(Default)]
pub struct State {
    /// Releases, newest first (GitHub's order).
    pub releases: Vec<Value>,
    /// Pulls by creation order.
    pub pulls: Vec<Value>,
    /// Reviews by PR number, oldest first.
    pub reviews: Vec<(u64, Value)>,
    /// Label names.
    pub labels: Vec<String>,
    /// Next id for releases, numbers for PRs.
    pub next_id: u64,
    /// The token every request must carry (as `Bearer`); `None`: anonymous is fine.
    pub token: Option<String>,
    /// Injected failures.
    pub injected: Vec<Injected>,
    /// Counter for made-up merge commits.
    pub merges: u64,
    /// Branch tips (name, SHA) the repository has, for PR head SHAs.
    pub branches: Vec<(String, String)>,
    /// A path prefix before `/repos` (GitHub Enterprise serves its API under `/api/v3`).
    pub api_prefix: String,
    /// The largest page size served (GitHub's is 100); lower it to force many pages.
    pub max_per_page: usize,
    /// The bare git repository that is this GitHub repository, if any: a new PR's head SHA
    /// is its head branch's tip there, and merging a PR makes a real merge commit on the
    /// base branch there (what `git fetch` then sees).
    pub origin: Option<PathBuf>,
}

/// The running fake.
pub struct FakeGitHub {
    /// The server.
    pub http: HttpFake,
    /// The repository state, shared with the server thread.
    pub state: Arc<Mutex<State>>,
    /// `owner/name`.
    pub repository: String,
}

fn error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({ "message": message, "documentation_url": DOCS }),
    )
}

fn validation_failed(resource: &str, code: &str, field: &str, message: Option<&str>) -> Response {
    let mut detail = json!({ "resource": resource, "code": code, "field": field });
    if let Some(m) = message {
        detail["message"] = json!(m);
    }
    Response::json(
        422,
        &json!({ "message": "Validation Failed", "errors": [detail], "documentation_url": DOCS }),
    )
}

/// A made-up 40-digit SHA from a number.
pub fn fake_sha(n: u64) -> String {
    format!("{n:040x}")
}

impl FakeGitHub {
    /// Serves `owner/name`, requiring `token` when given.
    pub fn start(repository: &str, token: Option<&str>) -> Self {
        let state = Arc::new(Mutex::new(State {
            next_id: 1,
            max_per_page: 100,
            token: token.map(str::to_string),
            ..Default::default()
        }));
        let shared = state.clone();
        let repo = repository.to_string();
        let base = Arc::new(Mutex::new(String::new()));
        let base_for_handler = base.clone();
        let http = HttpFake::start(move |req| {
            let base = base_for_handler.lock().expect("lock").clone();
            handle(&repo, &base, &mut shared.lock().expect("lock"), req)
        });
        *base.lock().expect("lock") = http.url.clone();
        FakeGitHub {
            http,
            state,
            repository: repository.to_string(),
        }
    }

    /// Makes `origin` (a bare repository) the repository's git side: see [`State::origin`].
    pub fn with_origin(self, origin: &Path) -> Self {
        self.state.lock().expect("lock").origin = Some(origin.to_path_buf());
        self
    }

    /// The API base URL.
    pub fn url(&self) -> String {
        self.http.url.clone()
    }

    /// Adds a release as GitHub would list it (inserted as the newest).
    pub fn add_release(
        &self,
        name: &str,
        tag: &str,
        draft: bool,
        prerelease: bool,
        published_at: Option<&str>,
    ) {
        let mut s = self.state.lock().expect("lock");
        let id = s.next_id;
        s.next_id += 1;
        let release = json!({
            "url": format!("{}/repos/{}/releases/{id}", self.http.url, self.repository),
            "html_url": format!("https://github.com/{}/releases/tag/{tag}", self.repository),
            "id": id,
            "node_id": format!("RE_{id}"),
            "tag_name": tag,
            "target_commitish": "main",
            "name": name,
            "body": format!("notes of {name}"),
            "draft": draft,
            "prerelease": prerelease,
            "created_at": published_at.unwrap_or("2024-01-01T00:00:00Z"),
            "published_at": if draft { Value::Null } else { json!(published_at) },
            "author": { "login": "release-bot", "id": 1, "type": "User" },
            "assets": [],
        });
        s.releases.insert(0, release);
    }

    /// Adds a pull request; returns its number.
    pub fn add_pull(
        &self,
        title: &str,
        head: &str,
        base: &str,
        state: &str,
        merged: bool,
        labels: &[&str],
    ) -> u64 {
        let mut s = self.state.lock().expect("lock");
        let number = s.next_id;
        s.next_id += 1;
        let pull = pull_json(
            &self.http.url,
            &self.repository,
            number,
            title,
            "",
            head,
            base,
            "octocat",
        );
        s.pulls.push(pull);
        let p = s.pulls.last_mut().expect("just pushed");
        p["state"] = json!(state);
        p["labels"] = json!(
            labels
                .iter()
                .map(|l| json!({ "id": 1, "name": l, "color": "ededed" }))
                .collect::<Vec<_>>()
        );
        if merged {
            p["merged_at"] = json!("2024-01-09T18:01:02Z");
            p["merged"] = json!(true);
            p["merge_commit_sha"] = json!(fake_sha(9000 + number));
        }
        number
    }

    /// Adds a review to a pull request.
    pub fn add_review(&self, number: u64, login: &str, state: &str, submitted_at: &str) {
        let mut s = self.state.lock().expect("lock");
        let id = s.next_id;
        s.next_id += 1;
        s.reviews.push((
            number,
            json!({
                "id": id,
                "user": { "login": login, "id": id, "type": "User" },
                "body": "",
                "state": state,
                "submitted_at": submitted_at,
                "commit_id": fake_sha(1),
            }),
        ));
    }

    /// Answers `response` to the next `times` requests matching method and path prefix.
    pub fn inject(&self, method: &str, path_prefix: &str, response: Response, times: usize) {
        self.state.lock().expect("lock").injected.push(Injected {
            method: method.into(),
            path_prefix: path_prefix.into(),
            response,
            times,
        });
    }

    /// The recorded requests.
    pub fn requests(&self) -> Vec<Request> {
        self.http.requests()
    }
}

#[allow(clippy::too_many_arguments)]
fn pull_json(
    url: &str,
    repo: &str,
    number: u64,
    title: &str,
    body: &str,
    head: &str,
    base: &str,
    login: &str,
) -> Value {
    json!({
        "url": format!("{url}/repos/{repo}/pulls/{number}"),
        "id": 1000 + number,
        "html_url": format!("https://github.com/{repo}/pull/{number}"),
        "number": number,
        "state": "open",
        "locked": false,
        "title": title,
        "user": { "login": login, "id": 1, "type": "User" },
        "body": if body.is_empty() { Value::Null } else { json!(body) },
        "labels": [],
        "created_at": "2024-01-09T12:00:00Z",
        "updated_at": "2024-01-09T12:00:00Z",
        "closed_at": null,
        "merged_at": null,
        // GitHub fills this with a test merge while the PR is open.
        "merge_commit_sha": fake_sha(5000 + number),
        "head": { "label": format!("{}:{head}", repo.split('/').next().unwrap_or("")), "ref": head, "sha": fake_sha(7000 + number) },
        "base": { "label": format!("{}:{base}", repo.split('/').next().unwrap_or("")), "ref": base, "sha": fake_sha(8000 + number) },
        "draft": false,
        "merged": false,
        "mergeable": true,
        "mergeable_state": "clean",
    })
}

/// Serves one page of `items` with GitHub's `Link` header.
fn page(base: &str, max_per_page: usize, req: &Request, items: &[Value]) -> Response {
    let per_page: usize = req
        .query("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, max_per_page);
    let page: usize = req
        .query("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let chunk: Vec<Value> = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let mut response = Response::json(200, &Value::Array(chunk));
    let link_to = |p: usize| {
        let mut query: Vec<String> = req
            .target
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter(|kv| !kv.starts_with("page="))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        query.push(format!("page={p}"));
        format!("<{base}{}?{}>", req.path(), query.join("&"))
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    if !links.is_empty() {
        response = response.with_header("Link", &links.join(", "));
    }
    response
        .with_header("X-RateLimit-Limit", "5000")
        .with_header("X-RateLimit-Remaining", "4999")
}

fn handle(repo: &str, base: &str, s: &mut State, req: &Request) -> Response {
    if let Some(token) = &s.token {
        let expected = format!("Bearer {token}");
        if req.header("authorization") != Some(expected.as_str()) {
            return error(401, "Bad credentials");
        }
    }
    if let Some(i) = s
        .injected
        .iter_mut()
        .find(|i| i.times > 0 && i.method == req.method && req.path().starts_with(&i.path_prefix))
    {
        i.times = i.times.saturating_sub(1);
        return i.response.clone();
    }
    let prefix = format!("{}/repos/{repo}/", s.api_prefix);
    let Some(route) = req.path().strip_prefix(&prefix) else {
        return error(404, "Not Found");
    };
    let parts: Vec<&str> = route.split('/').collect();
    let body = req.json();
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["releases"]) => page(base, s.max_per_page, req, &s.releases),
        ("POST", ["releases"]) => {
            let tag = body["tag_name"].as_str().unwrap_or("");
            if tag.is_empty() {
                return validation_failed("Release", "missing_field", "tag_name", None);
            }
            if s.releases.iter().any(|r| r["tag_name"] == tag) {
                return validation_failed("Release", "already_exists", "tag_name", None);
            }
            let id = s.next_id;
            s.next_id += 1;
            let release = json!({
                "url": format!("{base}/repos/{repo}/releases/{id}"),
                "html_url": format!("https://github.com/{repo}/releases/tag/{tag}"),
                "id": id,
                "tag_name": tag,
                "target_commitish": body["target_commitish"],
                "name": body["name"],
                "body": body["body"],
                "draft": body["draft"].as_bool().unwrap_or(false),
                "prerelease": body["prerelease"].as_bool().unwrap_or(false),
                "created_at": "2024-01-09T18:01:02Z",
                "published_at": (chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
                    .expect("date")
                    + chrono::Duration::seconds(id as i64))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "author": { "login": "release-bot" },
                "assets": [],
            });
            s.releases.insert(0, release.clone());
            Response::json(201, &release)
        }
        ("GET", ["labels", name]) => {
            let name = percent_decode(name);
            if s.labels.contains(&name) {
                Response::json(
                    200,
                    &json!({ "id": 1, "name": name, "color": "ededed", "default": false }),
                )
            } else {
                error(404, "Not Found")
            }
        }
        ("POST", ["labels"]) => {
            let name = body["name"].as_str().unwrap_or("").to_string();
            if s.labels.contains(&name) {
                return validation_failed("Label", "already_exists", "name", None);
            }
            s.labels.push(name.clone());
            Response::json(
                201,
                &json!({ "id": 1, "name": name, "color": body["color"] }),
            )
        }
        ("POST", ["issues", number, "labels"]) => {
            let number: u64 = number.parse().unwrap_or(0);
            let Some(pull) = s.pulls.iter_mut().find(|p| p["number"] == number) else {
                return error(404, "Not Found");
            };
            let mut names: Vec<String> = pull["labels"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|l| l["name"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for l in body["labels"].as_array().cloned().unwrap_or_default() {
                if let Some(l) = l.as_str()
                    && !names.iter().any(|n| n == l)
                {
                    names.push(l.to_string());
                }
            }
            let labels: Vec<Value> = names
                .iter()
                .map(|n| json!({ "id": 1, "name": n, "color": "ededed" }))
                .collect();
            pull["labels"] = json!(labels);
            Response::json(200, &json!(labels))
        }
        ("POST", ["pulls"]) => {
            let head = body["head"].as_str().unwrap_or("").to_string();
            let base_ref = body["base"].as_str().unwrap_or("").to_string();
            if head.is_empty() || base_ref.is_empty() || head == base_ref {
                return validation_failed(
                    "PullRequest",
                    "custom",
                    "base",
                    Some(&format!("No commits between {base_ref} and {head}")),
                );
            }
            if s.pulls.iter().any(|p| {
                p["head"]["ref"] == head.as_str()
                    && p["base"]["ref"] == base_ref.as_str()
                    && p["state"] == "open"
            }) {
                let owner = repo.split('/').next().unwrap_or("");
                return validation_failed(
                    "PullRequest",
                    "custom",
                    "head",
                    Some(&format!(
                        "A pull request already exists for {owner}:{head}."
                    )),
                );
            }
            let number = s.next_id;
            s.next_id += 1;
            let mut pull = pull_json(
                base,
                repo,
                number,
                body["title"].as_str().unwrap_or(""),
                body["body"].as_str().unwrap_or(""),
                &head,
                &base_ref,
                "release-manager",
            );
            if let Some((_, tip)) = s.branches.iter().find(|(b, _)| *b == head) {
                pull["head"]["sha"] = json!(tip);
            }
            if let Some(tip) = s.origin.as_deref().and_then(|o| branch_tip(o, &head)) {
                pull["head"]["sha"] = json!(tip);
            }
            s.pulls.push(pull.clone());
            // A freshly opened PR's mergeability is not computed yet.
            let mut created = pull;
            created["mergeable"] = Value::Null;
            Response::json(201, &created)
        }
        ("GET", ["pulls"]) => {
            let state = req.query("state").unwrap_or_else(|| "open".into());
            let base_filter = req.query("base");
            let head_filter = req.query("head");
            let owner = repo.split('/').next().unwrap_or("");
            let mut items: Vec<Value> = s
                .pulls
                .iter()
                .filter(|p| state == "all" || p["state"] == state.as_str())
                .filter(|p| {
                    base_filter
                        .as_ref()
                        .is_none_or(|b| p["base"]["ref"] == b.as_str())
                })
                .filter(|p| {
                    head_filter.as_ref().is_none_or(|h| {
                        format!("{owner}:{}", p["head"]["ref"].as_str().unwrap_or("")) == *h
                    })
                })
                .cloned()
                .map(|mut p| {
                    // List items do not carry mergeability.
                    if let Some(o) = p.as_object_mut() {
                        o.remove("mergeable");
                        o.remove("mergeable_state");
                        o.remove("merged");
                    }
                    p
                })
                .collect();
            if req.query("direction").as_deref() != Some("asc") {
                items.reverse();
            }
            page(base, s.max_per_page, req, &items)
        }
        ("GET", ["pulls", number]) => {
            let number: u64 = number.parse().unwrap_or(0);
            match s.pulls.iter().find(|p| p["number"] == number) {
                Some(p) => Response::json(200, p),
                None => error(404, "Not Found"),
            }
        }
        ("GET", ["pulls", number, "reviews"]) => {
            let number: u64 = number.parse().unwrap_or(0);
            if !s.pulls.iter().any(|p| p["number"] == number) {
                return error(404, "Not Found");
            }
            let items: Vec<Value> = s
                .reviews
                .iter()
                .filter(|(n, _)| *n == number)
                .map(|(_, r)| r.clone())
                .collect();
            page(base, s.max_per_page, req, &items)
        }
        ("PUT", ["pulls", number, "merge"]) => {
            let number: u64 = number.parse().unwrap_or(0);
            s.merges += 1;
            let sha = fake_sha(0xabc000 + s.merges);
            let method = body["merge_method"].as_str().unwrap_or("merge").to_string();
            if !["merge", "squash", "rebase"].contains(&method.as_str()) {
                return validation_failed("PullRequest", "invalid", "merge_method", None);
            }
            let Some(pull) = s.pulls.iter_mut().find(|p| p["number"] == number) else {
                return error(404, "Not Found");
            };
            if pull["state"] != "open" || pull["mergeable"] == false {
                return error(405, "Pull Request is not mergeable");
            }
            let sha = match s.origin.as_deref() {
                Some(origin) => match merge_in_origin(origin, repo, pull) {
                    Ok(sha) => sha,
                    Err(e) => return error(405, &format!("Pull Request is not mergeable: {e}")),
                },
                None => sha,
            };
            pull["state"] = json!("closed");
            pull["merged"] = json!(true);
            pull["merged_at"] = json!("2024-01-09T18:01:02Z");
            pull["closed_at"] = json!("2024-01-09T18:01:02Z");
            pull["merge_commit_sha"] = json!(sha);
            Response::json(
                200,
                &json!({ "sha": sha, "merged": true, "message": "Pull Request successfully merged" }),
            )
        }
        _ => error(404, "Not Found"),
    }
}

/// The tip of `branch` in the bare repository `origin`, if it has that branch.
pub fn branch_tip(origin: &Path, branch: &str) -> Option<String> {
    let name = format!("refs/heads/{branch}");
    try_git_in(
        origin,
        origin,
        &["rev-parse", "--verify", "-q", &name],
        None,
        &[],
        None,
    )
    .ok()
    .map(|s| s.trim().to_string())
}

/// Merges `pull`'s head branch into its base branch inside the bare `origin` as GitHub's
/// merge button does (a merge commit with both tips as parents, GitHub's message); returns
/// the merge commit's SHA, or why it could not merge.
fn merge_in_origin(origin: &Path, repo: &str, pull: &Value) -> Result<String, String> {
    let head = pull["head"]["ref"].as_str().unwrap_or("");
    let base = pull["base"]["ref"].as_str().unwrap_or("");
    let head_tip =
        branch_tip(origin, head).ok_or_else(|| format!("no branch {head} in the repository"))?;
    let base_tip =
        branch_tip(origin, base).ok_or_else(|| format!("no branch {base} in the repository"))?;
    let identity = [
        ("GIT_AUTHOR_NAME", "GitHub"),
        ("GIT_AUTHOR_EMAIL", "noreply@github.com"),
        ("GIT_COMMITTER_NAME", "GitHub"),
        ("GIT_COMMITTER_EMAIL", "noreply@github.com"),
    ];
    let git = |args: &[&str]| try_git_in(origin, origin, args, None, &identity, None);
    let tree = git(&["merge-tree", "--write-tree", &base_tip, &head_tip])?;
    let tree = tree.lines().next().unwrap_or("").trim().to_string();
    let owner = repo.split('/').next().unwrap_or("");
    let message = format!(
        "Merge pull request #{} from {owner}/{head}\n\n{}",
        pull["number"],
        pull["title"].as_str().unwrap_or("")
    );
    let commit = git(&[
        "commit-tree",
        &tree,
        "-p",
        &base_tip,
        "-p",
        &head_tip,
        "-m",
        &message,
    ])?;
    let commit = commit.trim().to_string();
    git(&[
        "update-ref",
        &format!("refs/heads/{base}"),
        &commit,
        &base_tip,
    ])?;
    Ok(commit)
}
