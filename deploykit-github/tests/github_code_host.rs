//! GitHubCodeHost against a local fake of GitHub's REST API.

mod support;

use deploykit_core::ports::{
    CodeHost, MergeMethod, NewPullRequest, NewRelease, PrState, PullRequestQuery, ReviewState,
};
use deploykit_core::{Error, ErrorKind, Sha};
use deploykit_github::{GitHubCodeHost, Token};
use support::github_fake::{FakeGitHub, fake_sha};
use support::http_fake::Response;

const TOKEN: &str = "ghp_fakeTokenForTests0123456789";
const REPO: &str = "18F/identity-idp";

fn host(fake: &FakeGitHub) -> GitHubCodeHost {
    GitHubCodeHost::new(REPO, &fake.url(), Token::new(TOKEN)).expect("host")
}

fn assert_secret_free(err: &Error) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(TOKEN), "the token leaked: {text}");
}

#[tokio::test]
async fn seventy_five_releases_over_several_pages_come_back_newest_first() {
    let fake = FakeGitHub::start(REPO, Some(TOKEN));
    fake.state.lock().expect("lock").max_per_page = 30;
    for n in 1..=75u32 {
        let published = format!(
            "2024-{:02}-{:02}T12:00:00Z",
            1 + (n - 1) / 28,
            1 + (n - 1) % 28
        );
        fake.add_release(
            &format!("RC {n}"),
            &format!("tag-{n}"),
            false,
            n % 10 == 0,
            Some(&published),
        );
    }
    let releases = host(&fake).releases().await.expect("releases");
    assert_eq!(releases.len(), 75);
    let names: Vec<String> = releases.iter().map(|r| r.name.clone()).collect();
    let expected: Vec<String> = (1..=75).rev().map(|n| format!("RC {n}")).collect();
    assert_eq!(names, expected);
    assert!(releases.iter().any(|r| r.prerelease));
    assert_eq!(releases[0].tag_name, "tag-75");
    assert_eq!(
        releases[0].html_url,
        "https://github.com/18F/identity-idp/releases/tag/tag-75"
    );
    let gets: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path().ends_with("/releases"))
        .collect();
    assert_eq!(gets.len(), 3, "three pages of 30");
    for r in &gets {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.query("per_page").as_deref(), Some("100"));
    }
}

#[tokio::test]
async fn drafts_count_as_newest_and_published_releases_follow_by_date() {
    let fake = FakeGitHub::start(REPO, None);
    fake.add_release("RC 2", "t2", false, false, Some("2024-02-01T00:00:00Z"));
    fake.add_release(
        "RC 1 (published late)",
        "t1",
        false,
        false,
        Some("2024-03-01T00:00:00Z"),
    );
    fake.add_release("RC 3 draft", "t3", true, false, None);
    let host = GitHubCodeHost::new(REPO, &fake.url(), None).expect("anonymous");
    let names: Vec<String> = host
        .releases()
        .await
        .expect("releases")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["RC 3 draft", "RC 1 (published late)", "RC 2"]);
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

#[tokio::test]
async fn create_release_sends_the_target_and_refuses_a_duplicate_tag() {
    let fake = FakeGitHub::start(REPO, Some(TOKEN));
    let host = host(&fake);
    let new = NewRelease {
        name: "RC 112".into(),
        tag_name: "2024-01-09T180102".into(),
        target: Sha::new(fake_sha(42)).expect("sha"),
        body: "## Bug Fixes\n- Login: Fix it".into(),
        make_latest: true,
    };
    let created = host.create_release(&new).await.expect("created");
    assert_eq!(created.name, "RC 112");
    assert_eq!(created.tag_name, "2024-01-09T180102");
    assert!(!created.draft && created.published_at.is_some());
    let sent = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("post")
        .json();
    assert_eq!(sent["target_commitish"], fake_sha(42));
    assert_eq!(sent["make_latest"], "true");
    assert_eq!(sent["body"], "## Bug Fixes\n- Login: Fix it");
    assert_eq!(host.releases().await.expect("list")[0].name, "RC 112");

    let err = host.create_release(&new).await.expect_err("duplicate tag");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("already_exists"), "{err}");
    assert_secret_free(&err);
}

#[tokio::test]
async fn status_codes_map_to_error_kinds_without_the_token() {
    let fake = FakeGitHub::start(REPO, Some(TOKEN));
    let host = host(&fake);

    let err = host.pull_request(999).await.expect_err("404");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("pull request #999"), "{err}");
    assert_secret_free(&err);

    let wrong =
        GitHubCodeHost::new(REPO, &fake.url(), Token::new("ghp_wrongToken999")).expect("host");
    let err = wrong.releases().await.expect_err("401");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.to_string().contains("Bad credentials"), "{err}");
    assert!(!format!("{err} {err:?}").contains("ghp_wrongToken999"));

    fake.inject(
        "GET",
        "/repos/18F/identity-idp/releases",
        Response::json(
            403,
            &serde_json::json!({
                "message": "API rate limit exceeded for user ID 1.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            }),
        )
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", "1704826862"),
        1,
    );
    let err = host.releases().await.expect_err("rate limited");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_temporary());
    assert_eq!(err.context_value("ratelimit_reset"), Some("1704826862"));
    assert_secret_free(&err);

    fake.inject(
        "GET",
        "/repos/18F/identity-idp/pulls/1",
        Response::json(
            403,
            &serde_json::json!({
                "message": "Resource not accessible by personal access token",
                "documentation_url": "https://docs.github.com/rest"
            }),
        ),
        1,
    );
    let err = host.pull_request(1).await.expect_err("forbidden");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(err.to_string().contains("Resource not accessible"), "{err}");

    fake.inject(
        "POST",
        "/repos/18F/identity-idp/releases",
        Response::json(
            422,
            &serde_json::json!({
                "message": "Validation Failed",
                "errors": [{ "resource": "Release", "code": "custom", "field": "tag_name",
                             "message": "tag_name is not a well-formed tag name" }],
                "documentation_url": "https://docs.github.com/rest/releases/releases#create-a-release"
            }),
        ),
        1,
    );
    let err = host
        .create_release(&NewRelease {
            name: "RC 1".into(),
            tag_name: "bad tag".into(),
            target: Sha::new(fake_sha(1)).expect("sha"),
            body: String::new(),
            make_latest: false,
        })
        .await
        .expect_err("422");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("Validation Failed"), "{err}");
    assert!(
        err.to_string().contains("not a well-formed tag name"),
        "{err}"
    );

    fake.inject(
        "GET",
        "/repos/18F/identity-idp/releases",
        Response::raw(502, "text/html", "<html>Bad Gateway</html>"),
        1,
    );
    let err = host.releases().await.expect_err("502");
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.is_temporary());

    let all_sent_the_token = fake
        .requests()
        .iter()
        .filter(|r| r.header("authorization") != Some("Bearer ghp_wrongToken999"))
        .all(|r| r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str()));
    assert!(all_sent_the_token);
}

#[tokio::test]
async fn an_unreachable_api_is_a_temporary_backend_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    // The listener is dropped: nothing answers on that port.
    let host = GitHubCodeHost::new(REPO, &format!("http://127.0.0.1:{port}"), Token::new(TOKEN))
        .expect("host");
    let err = host.releases().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.is_temporary());
    assert_secret_free(&err);
}

#[tokio::test]
async fn a_next_page_on_another_host_is_not_followed() {
    let fake = FakeGitHub::start(REPO, Some(TOKEN));
    fake.inject(
        "GET",
        "/repos/18F/identity-idp/releases",
        Response::json(200, &serde_json::json!([]))
            .with_header("Link", "<http://evil.example/steal?page=2>; rel=\"next\""),
        1,
    );
    let err = host(&fake).releases().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.to_string().contains("another host"), "{err}");
}

#[tokio::test]
async fn labels_are_ensured_once_and_added_to_pull_requests() {
    let fake = FakeGitHub::start(REPO, Some(TOKEN));
    let host = host(&fake);
    let number = fake.add_pull(
        "Deploy RC 112 to Production",
        "stages/rc-2024-01-09",
        "stages/prod",
        "open",
        false,
        &[],
    );
    host.ensure_label("status - promotion")
        .await
        .expect("created");
    host.ensure_label("status - promotion")
        .await
        .expect("exists");
    assert_eq!(
        fake.state.lock().expect("lock").labels,
        ["status - promotion"]
    );
    let posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/labels"))
        .count();
    assert_eq!(posts, 1, "created once");
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.path() == "/repos/18F/identity-idp/labels/status%20-%20promotion")
    );
    host.add_labels(number, &["status - promotion".to_string()])
        .await
        .expect("labelled");
    let pr = host.pull_request(number).await.expect("pr");
    assert_eq!(pr.labels, ["status - promotion"]);
    let err = host
        .add_labels(4242, &["x".to_string()])
        .await
        .expect_err("no such PR");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn pull_requests_are_created_read_filtered_and_paginated() {
    let fake = FakeGitHub::start(REPO, Some(TOKEN));
    fake.state.lock().expect("lock").max_per_page = 50;
    let host = host(&fake);
    for i in 0..110 {
        fake.add_pull(
            &format!("Feature {i}"),
            &format!("feature-{i}"),
            "main",
            "closed",
            i % 2 == 0,
            &[],
        );
    }
    let merged_rc = fake.add_pull(
        "Deploy RC 111 to Production",
        "stages/rc-2024-01-02",
        "stages/prod",
        "closed",
        true,
        &["status - promotion"],
    );

    let created = host
        .create_pull_request(&NewPullRequest {
            title: "Deploy RC 112 to Production".into(),
            head: "stages/rc-2024-01-09".into(),
            base: "stages/prod".into(),
            body: "## Bug Fixes\n- Login: Fix it".into(),
        })
        .await
        .expect("created");
    assert_eq!(created.state, PrState::Open);
    assert_eq!(created.head, "stages/rc-2024-01-09");
    assert_eq!(created.base, "stages/prod");
    assert_eq!(created.mergeable, None, "not computed yet");
    assert_eq!(
        created.merge_commit_sha, None,
        "the test merge is not a merge"
    );
    assert_eq!(created.author.as_deref(), Some("release-manager"));
    assert!(created.head_sha.is_some());

    let err = host
        .create_pull_request(&NewPullRequest {
            title: "again".into(),
            head: "stages/rc-2024-01-09".into(),
            base: "stages/prod".into(),
            body: String::new(),
        })
        .await
        .expect_err("duplicate");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string().contains("A pull request already exists"),
        "{err}"
    );

    let all = host
        .pull_requests(&PullRequestQuery::default())
        .await
        .expect("all");
    assert_eq!(all.len(), 112);
    assert!(
        all.windows(2).all(|w| w[0].number > w[1].number),
        "newest first"
    );

    let merged_into_prod = host
        .pull_requests(&PullRequestQuery {
            base: Some("stages/prod".into()),
            head: None,
            state: Some(PrState::Merged),
        })
        .await
        .expect("merged");
    assert_eq!(merged_into_prod.len(), 1);
    let rc = &merged_into_prod[0];
    assert_eq!(rc.number, merged_rc);
    assert_eq!(
        rc.merge_commit_sha.as_ref().map(|s| s.to_string()),
        Some(fake_sha(9000 + merged_rc))
    );
    assert_eq!(rc.labels, ["status - promotion"]);

    let by_head = host
        .pull_requests(&PullRequestQuery {
            base: None,
            head: Some("stages/rc-2024-01-09".into()),
            state: Some(PrState::Open),
        })
        .await
        .expect("by head");
    assert_eq!(
        by_head.iter().map(|p| p.number).collect::<Vec<_>>(),
        [created.number]
    );
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.query("head").as_deref() == Some("18F:stages/rc-2024-01-09"))
    );

    let closed = host
        .pull_requests(&PullRequestQuery {
            state: Some(PrState::Closed),
            ..Default::default()
        })
        .await
        .expect("closed");
    assert_eq!(closed.len(), 55);
    assert!(
        closed
            .iter()
            .all(|p| p.state == PrState::Closed && p.merge_commit_sha.is_none())
    );
}

#[tokio::test]
async fn reviews_come_oldest_first_over_pages() {
    let fake = FakeGitHub::start(REPO, Some(TOKEN));
    fake.state.lock().expect("lock").max_per_page = 2;
    let number = fake.add_pull(
        "Deploy RC 112 to Production",
        "rc",
        "stages/prod",
        "open",
        false,
        &[],
    );
    fake.add_review(number, "alice", "COMMENTED", "2024-01-09T10:00:00Z");
    fake.add_review(number, "bob", "CHANGES_REQUESTED", "2024-01-09T11:00:00Z");
    fake.add_review(number, "bob", "DISMISSED", "2024-01-09T12:00:00Z");
    fake.add_review(number, "carol", "APPROVED", "2024-01-09T13:00:00Z");
    fake.add_review(number, "dave", "PENDING", "2024-01-09T14:00:00Z");
    let reviews = host(&fake).reviews(number).await.expect("reviews");
    let seen: Vec<(String, ReviewState)> =
        reviews.iter().map(|r| (r.user.clone(), r.state)).collect();
    assert_eq!(
        seen,
        [
            ("alice".to_string(), ReviewState::Commented),
            ("bob".to_string(), ReviewState::ChangesRequested),
            ("bob".to_string(), ReviewState::Dismissed),
            ("carol".to_string(), ReviewState::Approved),
            ("dave".to_string(), ReviewState::Pending),
        ]
    );
    assert!(reviews[0].submitted_at.is_some());
    let err = host(&fake).reviews(777).await.expect_err("no PR");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn merging_sends_the_method_and_refuses_what_cannot_be_merged() {
    let fake = FakeGitHub::start(REPO, Some(TOKEN));
    let host = host(&fake);
    let number = fake.add_pull(
        "Deploy RC 112 to Production",
        "rc",
        "stages/prod",
        "open",
        false,
        &[],
    );
    let sha = host
        .merge_pull_request(number, MergeMethod::Merge)
        .await
        .expect("merged");
    let put = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("put");
    assert_eq!(
        put.path(),
        format!("/repos/18F/identity-idp/pulls/{number}/merge")
    );
    assert_eq!(put.json()["merge_method"], "merge");
    let pr = host.pull_request(number).await.expect("pr");
    assert_eq!(pr.state, PrState::Merged);
    assert_eq!(pr.merge_commit_sha, Some(sha));

    let other = fake.add_pull("Small fix", "fix", "main", "open", false, &[]);
    host.merge_pull_request(other, MergeMethod::Squash)
        .await
        .expect("squashed");
    let last_put = fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PUT")
        .expect("put");
    assert_eq!(last_put.json()["merge_method"], "squash");

    let err = host
        .merge_pull_request(number, MergeMethod::Merge)
        .await
        .expect_err("already merged");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string().contains("Pull Request is not mergeable"),
        "{err}"
    );

    let conflicted = fake.add_pull("Conflicting", "c", "main", "open", false, &[]);
    fake.inject(
        "PUT",
        &format!("/repos/18F/identity-idp/pulls/{conflicted}/merge"),
        Response::json(
            409,
            &serde_json::json!({ "message": "Head branch was modified. Review and try the merge again.",
                                 "documentation_url": "https://docs.github.com/rest" }),
        ),
        1,
    );
    let err = host
        .merge_pull_request(conflicted, MergeMethod::Rebase)
        .await
        .expect_err("409");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string().contains("Head branch was modified"),
        "{err}"
    );
    assert_secret_free(&err);
}

#[tokio::test]
async fn an_enterprise_api_under_a_path_prefix_is_paged_correctly() {
    let fake = FakeGitHub::start(REPO, Some(TOKEN));
    {
        let mut s = fake.state.lock().expect("lock");
        s.api_prefix = "/api/v3".into();
        s.max_per_page = 2;
    }
    for n in 1..=5 {
        fake.add_release(
            &format!("RC {n}"),
            &format!("t{n}"),
            false,
            false,
            Some(&format!("2024-01-0{n}T00:00:00Z")),
        );
    }
    let host = GitHubCodeHost::new(REPO, &format!("{}/api/v3/", fake.url()), Token::new(TOKEN))
        .expect("host");
    let names: Vec<String> = host
        .releases()
        .await
        .expect("releases")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["RC 5", "RC 4", "RC 3", "RC 2", "RC 1"]);
    let paths: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(paths.len(), 3);
    assert!(
        paths
            .iter()
            .all(|p| p == "/api/v3/repos/18F/identity-idp/releases"),
        "{paths:?}"
    );
}
