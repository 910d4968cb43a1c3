//! GitVcs against real repositories made with the git CLI: a bare origin and a clone.

mod support;

use deploykit_core::ports::Vcs;
use deploykit_core::{ErrorKind, Sha};
use deploykit_github::GitVcs;
use support::git_world::GitWorld;

fn vcs(world: &GitWorld) -> GitVcs {
    GitVcs::open(&world.work).expect("open").with_token(None)
}

fn sha(s: &str) -> Sha {
    Sha::new(s).expect("sha")
}

#[tokio::test]
async fn remote_url_names_the_remote_and_unknown_remotes_are_not_found() {
    let world = GitWorld::new();
    let vcs = vcs(&world);
    let url = vcs.remote_url("origin").await.expect("url");
    assert!(url.ends_with("origin.git"), "{url}");
    let err = vcs
        .remote_url("upstream")
        .await
        .expect_err("no such remote");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("upstream"), "{err}");
    assert!(
        err.to_string().contains("origin"),
        "lists known remotes: {err}"
    );
}

#[tokio::test]
async fn open_refuses_a_directory_that_is_not_a_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = GitVcs::open(dir.path()).expect_err("not a repo");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("no git repository"), "{err}");
}

#[tokio::test]
async fn discover_finds_the_repository_from_a_subdirectory() {
    let world = GitWorld::new();
    world.commit_file("deep/dir/file.txt", "x\n", "Deep file");
    let sub = world.work.join("deep").join("dir");
    assert!(
        GitVcs::open(&sub).is_err(),
        "open takes the repository itself"
    );
    let vcs = GitVcs::discover(&sub).expect("discover").with_token(None);
    assert_eq!(
        vcs.resolve("HEAD").await.expect("head").as_str(),
        world.rev("HEAD")
    );
    let outside = tempfile::tempdir().expect("tempdir");
    let err = GitVcs::discover(outside.path()).expect_err("no repository");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn works_on_a_bare_repository() {
    let world = GitWorld::new();
    let bare = GitVcs::open(&world.origin).expect("bare").with_token(None);
    let main = bare.resolve("main").await.expect("main");
    assert_eq!(main.as_str(), world.rev("HEAD"));
}

#[tokio::test]
async fn fetch_brings_branches_and_tags_and_prunes_deleted_branches() {
    let world = GitWorld::new();
    let vcs = vcs(&world);
    // Another clone pushes a branch and a tag to origin.
    let other = world.dir.path().join("other");
    world.git_at(world.dir.path(), &["clone", "-q", "origin.git", "other"]);
    std::fs::write(other.join("f.txt"), "x\n").expect("write");
    world.git_at(&other, &["add", "f.txt"]);
    world.git_at(&other, &["commit", "-q", "-m", "Feature"]);
    world.git_at(&other, &["tag", "-a", "-m", "v1 release", "v1"]);
    world.git_at(
        &other,
        &["push", "-q", "origin", "HEAD:refs/heads/feature", "v1"],
    );
    let feature = world
        .git_at(&other, &["rev-parse", "HEAD"])
        .trim()
        .to_string();

    assert!(
        !vcs.remote_branch_exists("origin", "feature")
            .await
            .expect("ok")
    );
    assert_eq!(
        vcs.resolve("origin/feature")
            .await
            .expect_err("not fetched")
            .kind(),
        ErrorKind::NotFound
    );
    // A local tag that origin does not have must survive the pruning fetch.
    world.git(&["tag", "local-only"]);

    vcs.fetch("origin").await.expect("fetch");
    assert!(
        vcs.remote_branch_exists("origin", "feature")
            .await
            .expect("ok")
    );
    assert_eq!(
        vcs.resolve("origin/feature")
            .await
            .expect("fetched")
            .as_str(),
        feature
    );
    assert_eq!(
        vcs.resolve("v1").await.expect("tag fetched").as_str(),
        feature
    );

    world.origin_git(&["branch", "-D", "feature"]);
    vcs.fetch("origin").await.expect("fetch again");
    assert!(
        !vcs.remote_branch_exists("origin", "feature")
            .await
            .expect("ok")
    );
    assert!(
        vcs.resolve("local-only").await.is_ok(),
        "local tags are not pruned"
    );

    let err = vcs.fetch("nowhere").await.expect_err("no remote");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn fetch_from_an_unreachable_remote_is_a_backend_error() {
    let world = GitWorld::new();
    world.git(&["remote", "add", "gone", "/nonexistent/path/repo.git"]);
    let err = vcs(&world).fetch("gone").await.expect_err("unreachable");
    assert!(
        matches!(err.kind(), ErrorKind::Backend | ErrorKind::NotFound),
        "{err:?}"
    );
    assert!(err.to_string().contains("fetching gone"), "{err}");
}

#[tokio::test]
async fn resolve_accepts_shas_branches_remote_branches_and_tags() {
    let world = GitWorld::new();
    let first = world.rev("HEAD");
    world.git(&["tag", "-a", "-m", "annotated", "rel-1"]);
    world.git(&["tag", "light-1"]);
    let second = world.commit_file("a.txt", "a\n", "Second");
    world.git(&["branch", "stages/prod", &first]);
    let vcs = vcs(&world);
    for (rev, expected) in [
        (first.as_str(), &first),
        (&first[..7], &first),
        ("main", &second),
        ("HEAD", &second),
        ("origin/main", &first),
        ("stages/prod", &first),
        ("rel-1", &first),
        ("light-1", &first),
        ("main~1", &first),
    ] {
        assert_eq!(
            vcs.resolve(rev).await.expect(rev).as_str(),
            expected,
            "{rev}"
        );
    }
    for bad in [
        "nope",
        "origin/nope",
        "0123456789abcdef0123456789abcdef01234567",
        "",
    ] {
        let err = vcs.resolve(bad).await.expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::NotFound, "{bad}");
        assert!(err.to_string().contains("does not name a commit"), "{err}");
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
    }
}

/// `git log -z --format=%H%x00%s%x00%b base..source` as (sha, title, body).
fn git_log(world: &GitWorld, range: &str) -> Vec<(String, String, String)> {
    let out = world.git(&["log", "-z", "--format=%H%x00%s%x00%b", range]);
    let mut fields: Vec<&str> = out.split('\0').collect();
    if fields.len() % 3 == 1 && fields.last() == Some(&"") {
        fields.pop();
    }
    assert_eq!(fields.len() % 3, 0, "{out:?}");
    fields
        .chunks(3)
        .map(|c| (c[0].to_string(), c[1].to_string(), c[2].to_string()))
        .collect()
}

#[tokio::test]
async fn commits_between_match_git_log_titles_bodies_and_order() {
    let world = GitWorld::new();
    let base = world.rev("HEAD");
    world.git(&["branch", "stages/prod", &base]);
    let messages = [
        "Multi-line\nsubject continues here\n\nBody line 1\nBody line 2\n",
        "Trailing newlines (#12)\n\n\n\n",
        "CRLF subject\r\nsecond half\r\n\r\nBody\r\nchangelog: Bug Fixes, Login, Fix it\r\n",
        "\n\n  Leading blank lines\n\n\n\nBody after many blanks\n\n\n",
        "No newline at end",
        "Subject with trailing spaces   \n \t \nBody\n\n\nSigned-off-by: dependabot[bot] <support@github.com>\n",
        "Title only\n",
        "Tabs\tinside\tthe subject\n\n\tindented body\n",
    ];
    for (i, m) in messages.iter().enumerate() {
        if i == 3 {
            // A side branch interleaved in time, merged back: order must follow git log.
            world.git(&["checkout", "-q", "-b", "side"]);
            world.commit_file(
                "side.txt",
                "1\n",
                "Side one\n\nchangelog: Internal, Tests, Side\n",
            );
            world.git(&["checkout", "-q", "main"]);
            world.commit_file(&format!("m{i}.txt"), "m\n", m);
            world.git(&["checkout", "-q", "side"]);
            world.commit_file("side.txt", "2\n", "Side two\n");
            world.git(&["checkout", "-q", "main"]);
            world.git(&[
                "merge",
                "-q",
                "--no-ff",
                "-m",
                "Merge branch 'side'\n\nMerged.",
                "side",
            ]);
        } else {
            world.commit_file(&format!("m{i}.txt"), "m\n", m);
        }
    }
    let vcs = vcs(&world);
    let ours: Vec<(String, String, String)> = vcs
        .commits_between("stages/prod", "main")
        .await
        .expect("commits")
        .into_iter()
        .map(|c| (c.sha.to_string(), c.title, c.body))
        .collect();
    let theirs = git_log(&world, "stages/prod..main");
    assert_eq!(ours.len(), messages.len() + 3);
    assert_eq!(ours, theirs);
    // Spot-check the semantics, not just parity.
    let crlf = ours.iter().find(|c| c.1.starts_with("CRLF")).expect("crlf");
    assert_eq!(crlf.1, "CRLF subject second half");
    assert!(crlf.2.contains("changelog: Bug Fixes, Login, Fix it"));

    assert!(
        vcs.commits_between("main", "main")
            .await
            .expect("empty")
            .is_empty()
    );
    let err = vcs
        .commits_between("nope", "main")
        .await
        .expect_err("bad base");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().starts_with("the base \"nope\""), "{err}");
    let err = vcs
        .commits_between("main", "nope")
        .await
        .expect_err("bad source");
    assert!(err.to_string().starts_with("the source \"nope\""), "{err}");
}

#[tokio::test]
async fn commits_between_keep_git_log_s_order_when_dates_tie_or_go_backwards() {
    let world = GitWorld::new();
    let home = world.home();
    let at = |date: i64, args: &[&str]| {
        support::git_world::git_in(&world.work, &home, args, Some(date));
    };
    // An empty commit with this message (paragraphs), made at `date`.
    let commit = |date: i64, paragraphs: &[&str]| {
        let mut args = vec!["commit", "-q", "--allow-empty"];
        for p in paragraphs {
            args.extend(["-m", p]);
        }
        at(date, &args);
    };
    world.git(&["branch", "stages/prod"]);
    // Three side branches and main, every commit and merge in the same second.
    let same = 1_790_000_000;
    for n in 1..=3 {
        at(
            same,
            &["checkout", "-q", "-b", &format!("b{n}"), "stages/prod"],
        );
        commit(same, &[&format!("Side {n} (#50{n})")]);
    }
    at(same, &["checkout", "-q", "main"]);
    commit(same, &["Main (#510)", "changelog: Internal, Main, main"]);
    for n in 1..=3 {
        let branch = format!("b{n}");
        let title = format!("Merge pull request #52{n} from {branch}");
        at(same, &["merge", "-q", "--no-ff", "-m", &title, &branch]);
    }
    // A side commit dated a day before its parent, merged later.
    at(same + 60, &["checkout", "-q", "-b", "skew", "main"]);
    commit(same + 60, &["Parent (#530)"]);
    commit(same - 86_400, &["Child dated earlier (#531)"]);
    at(same + 120, &["checkout", "-q", "main"]);
    at(
        same + 120,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge pull request #532 from skew",
            "skew",
        ],
    );
    // A message in Latin-1, as git writes it with i18n.commitEncoding.
    std::fs::write(
        world.work.join("latin1.txt"),
        b"Caf\xe9 (#540)\n\nchangelog: Internal, Caf\xe9, r\xe9sum\xe9 fix\n",
    )
    .expect("message");
    at(
        same + 180,
        &[
            "-c",
            "i18n.commitEncoding=ISO-8859-1",
            "commit",
            "-q",
            "--allow-empty",
            "-F",
            "latin1.txt",
        ],
    );

    let ours: Vec<(String, String, String)> = vcs(&world)
        .commits_between("stages/prod", "main")
        .await
        .expect("commits")
        .into_iter()
        .map(|c| (c.sha.to_string(), c.title, c.body))
        .collect();
    let theirs = git_log(&world, "stages/prod..main");
    assert_eq!(ours.len(), 11);
    assert_eq!(
        ours.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(),
        theirs.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(),
        "titles in git log's order"
    );
    assert_eq!(ours, theirs);
    let latin1 = &ours[0];
    assert_eq!(latin1.1, "Café (#540)");
    assert!(
        latin1.2.contains("changelog: Internal, Café, résumé fix"),
        "{latin1:?}"
    );
}

#[tokio::test]
async fn files_changed_match_git_diff_name_only() {
    let world = GitWorld::new();
    let base = world.rev("HEAD");
    world.commit_file("db/migrate/001_add.rb", "up\n", "Migration");
    world.commit_file("app/assets/app.js", "js\n", "Asset");
    std::fs::create_dir_all(world.work.join("docs")).expect("docs");
    world.git(&["mv", "README.md", "docs/README.md"]);
    world.commit_verbatim("Move readme\n", false);
    let vcs = vcs(&world);
    let files = vcs.files_changed(&base, "main").await.expect("files");
    let expected: Vec<String> = world
        .git(&["diff", "--no-renames", "--name-only", &base, "main"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(files, expected);
    assert_eq!(
        files,
        vec![
            "README.md",
            "app/assets/app.js",
            "db/migrate/001_add.rb",
            "docs/README.md"
        ]
    );
    assert!(
        vcs.files_changed("main", "main")
            .await
            .expect("none")
            .is_empty()
    );
}

#[tokio::test]
async fn push_fast_forwards_refuses_rewrites_and_forces_on_request() {
    let world = GitWorld::new();
    let vcs = vcs(&world);
    let first = world.rev("HEAD");
    let second = world.commit_file("a.txt", "a\n", "Second");

    vcs.push("origin", &sha(&first), "stages/rc-2024-01-09", false)
        .await
        .expect("new branch");
    assert_eq!(
        world.origin_rev("refs/heads/stages/rc-2024-01-09"),
        Some(first.clone())
    );
    assert!(
        vcs.remote_branch_exists("origin", "stages/rc-2024-01-09")
            .await
            .expect("ok")
    );

    vcs.push("origin", &sha(&second), "stages/rc-2024-01-09", false)
        .await
        .expect("fast-forward");
    assert_eq!(
        world.origin_rev("refs/heads/stages/rc-2024-01-09"),
        Some(second.clone())
    );

    let err = vcs
        .push("origin", &sha(&first), "stages/rc-2024-01-09", false)
        .await
        .expect_err("non-fast-forward");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(
        world.origin_rev("refs/heads/stages/rc-2024-01-09"),
        Some(second.clone())
    );

    vcs.push("origin", &sha(&first), "stages/rc-2024-01-09", true)
        .await
        .expect("forced");
    assert_eq!(
        world.origin_rev("refs/heads/stages/rc-2024-01-09"),
        Some(first.clone())
    );

    let err = vcs
        .push("origin", &sha(&first), "bad..name", false)
        .await
        .expect_err("bad branch");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_remote_that_rejects_the_update_gives_a_conflict() {
    let world = GitWorld::new();
    let Some(daemon) = support::git_daemon::GitDaemon::start(world.dir.path()) else {
        return;
    };
    // The server refuses any update of stages/prod, as a protected branch would.
    let hook = world.origin.join("hooks").join("pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new ref; do\n  if [ \"$ref\" = refs/heads/stages/prod ]; then\n    echo 'protected branch' >&2; exit 1\n  fi\ndone\n",
    )
    .expect("hook");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&hook)
        .status()
        .expect("chmod");
    world.git(&[
        "remote",
        "add",
        "served",
        &format!("{}origin.git", daemon.url),
    ]);
    let vcs = vcs(&world);
    let head = sha(&world.rev("HEAD"));

    vcs.push("served", &head, "stages/rc-1", false)
        .await
        .expect("allowed branch");
    assert_eq!(
        world.origin_rev("refs/heads/stages/rc-1"),
        Some(head.to_string())
    );
    assert!(
        vcs.remote_branch_exists("served", "stages/rc-1")
            .await
            .expect("ok")
    );

    let err = vcs
        .push("served", &head, "stages/prod", false)
        .await
        .expect_err("the server refuses");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("refs/heads/stages/prod"), "{err}");
    assert_eq!(world.origin_rev("refs/heads/stages/prod"), None);

    vcs.fetch("served").await.expect("fetch over git://");
    assert!(
        vcs.remote_branch_exists("served", "stages/rc-1")
            .await
            .expect("ok")
    );
}

#[tokio::test]
async fn merge_ours_keeps_our_tree_with_both_parents_and_can_be_pushed() {
    let world = GitWorld::new();
    let base = world.rev("HEAD");
    let prod = world.commit_file("prod.txt", "hotfix\n", "Hotfix on prod");
    world.git(&["checkout", "-q", "-b", "rc", &base]);
    let rc = world.commit_file("rc.txt", "feature\n", "RC work");
    let vcs = vcs(&world);

    let merge = vcs
        .merge_ours(&sha(&rc), &sha(&prod), "Merge stages/prod into the RC")
        .await
        .expect("merge");
    let m = merge.as_str();
    assert_eq!(
        world.rev(&format!("{m}^{{tree}}")),
        world.rev(&format!("{rc}^{{tree}}"))
    );
    assert_eq!(world.rev(&format!("{m}^1")), rc);
    assert_eq!(world.rev(&format!("{m}^2")), prod);
    let subject = world.git(&["log", "-1", "--format=%s%n%an <%ae>", m]);
    assert_eq!(
        subject,
        "Merge stages/prod into the RC\nRelease Manager <rm@example.gov>\n"
    );
    assert_eq!(world.rev("HEAD"), rc, "no ref moved");

    // Pushing the merge on top of prod is a fast-forward now.
    world.git(&[
        "push",
        "-q",
        "origin",
        &format!("{prod}:refs/heads/stages/prod"),
    ]);
    vcs.push("origin", &merge, "stages/prod", false)
        .await
        .expect("fast-forward");
    assert_eq!(
        world.origin_rev("refs/heads/stages/prod"),
        Some(merge.to_string())
    );
}

#[tokio::test]
async fn revert_merge_restores_the_first_parents_tree() {
    let world = GitWorld::new();
    let before = world.rev("HEAD");
    world.git(&["checkout", "-q", "-b", "rc"]);
    world.commit_file("feature.txt", "new\n", "Feature");
    world.commit_file("README.md", "changed\n", "Change readme");
    world.git(&["checkout", "-q", "main"]);
    world.git(&["merge", "-q", "--no-ff", "-m", "Deploy RC 112", "rc"]);
    let merge = world.rev("HEAD");
    let vcs = vcs(&world);

    let revert = vcs
        .revert_merge(
            &sha(&merge),
            "Revert \"Deploy RC 112\"\n\nThis reverts commit x.",
        )
        .await
        .expect("revert");
    let r = revert.as_str();
    assert_eq!(
        world.rev(&format!("{r}^{{tree}}")),
        world.rev(&format!("{before}^{{tree}}"))
    );
    assert_eq!(world.rev(&format!("{r}^")), merge);
    assert_eq!(
        world.git(&["log", "-1", "--format=%s", r]),
        "Revert \"Deploy RC 112\"\n"
    );
    assert_eq!(world.rev("HEAD"), merge, "no ref moved");

    let err = vcs
        .revert_merge(&sha(&before), "Revert")
        .await
        .expect_err("not a merge");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn annotated_tags_are_created_refused_twice_and_pushed() {
    let world = GitWorld::new();
    let head = world.rev("HEAD");
    let vcs = vcs(&world);
    vcs.create_tag(
        "2024-01-09T180102",
        &sha(&head),
        "2024-01-09T180102 release",
        false,
    )
    .await
    .expect("tag");
    assert_eq!(world.git(&["cat-file", "-t", "2024-01-09T180102"]), "tag\n");
    assert_eq!(
        world.git(&[
            "tag",
            "-l",
            "--format=%(contents)%(taggername)",
            "2024-01-09T180102"
        ]),
        "2024-01-09T180102 release\nRelease Manager\n"
    );
    assert_eq!(world.rev("2024-01-09T180102^{commit}"), head);

    let err = vcs
        .create_tag("2024-01-09T180102", &sha(&head), "again", false)
        .await
        .expect_err("exists");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let err = vcs
        .create_tag("bad tag", &sha(&head), "x", false)
        .await
        .expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    assert_eq!(world.origin_rev("refs/tags/2024-01-09T180102"), None);
    vcs.push_tag("origin", "2024-01-09T180102")
        .await
        .expect("push tag");
    assert_eq!(
        world.origin_rev("refs/tags/2024-01-09T180102^{commit}"),
        Some(head.clone())
    );
    let err = vcs.push_tag("origin", "missing").await.expect_err("no tag");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// A throwaway GnuPG home with one key, and a `gpg.program` wrapper that uses it.
fn gpg_setup(world: &GitWorld) -> Option<std::path::PathBuf> {
    let gnupg = world.dir.path().join("gnupg");
    std::fs::create_dir_all(&gnupg).ok()?;
    let made = std::process::Command::new("gpg")
        .env("GNUPGHOME", &gnupg)
        .args([
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Release Manager <rm@example.gov>",
            "ed25519",
            "sign",
            "never",
        ])
        .output();
    match made {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!(
                "skipping the signed tag test: gpg could not make a key: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Err(e) => {
            eprintln!("skipping the signed tag test: gpg is not available ({e})");
            return None;
        }
    }
    let wrapper = world.dir.path().join("gpg-wrapper.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nGNUPGHOME='{}' exec gpg \"$@\"\n",
            gnupg.display()
        ),
    )
    .ok()?;
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(&wrapper)
        .status()
        .ok()?;
    world.git(&["config", "gpg.program", &wrapper.to_string_lossy()]);
    Some(gnupg)
}

#[tokio::test]
async fn signed_tags_verify_with_git_tag_v() {
    let world = GitWorld::new();
    let Some(gnupg) = gpg_setup(&world) else {
        return;
    };
    let head = world.rev("HEAD");
    let vcs = vcs(&world);
    vcs.create_tag(
        "2024-01-09T180102",
        &sha(&head),
        "2024-01-09T180102 release",
        true,
    )
    .await
    .expect("signed tag");
    let out = std::process::Command::new("git")
        .current_dir(&world.work)
        .env("GNUPGHOME", &gnupg)
        .env("HOME", world.home())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["tag", "-v", "2024-01-09T180102"])
        .output()
        .expect("git tag -v");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "git tag -v failed: {said}");
    assert!(said.contains("Good signature"), "{said}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2024-01-09T180102 release"));
    vcs.push_tag("origin", "2024-01-09T180102")
        .await
        .expect("push");
    assert_eq!(
        world.origin_rev("refs/tags/2024-01-09T180102^{commit}"),
        Some(head)
    );
}

#[tokio::test]
async fn a_missing_gpg_program_is_reported_without_creating_the_tag() {
    let world = GitWorld::new();
    world.git(&["config", "gpg.program", "/nonexistent/gpg"]);
    let head = world.rev("HEAD");
    let vcs = vcs(&world);
    let err = vcs
        .create_tag("signed", &sha(&head), "m", true)
        .await
        .expect_err("no gpg");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("/nonexistent/gpg"), "{err}");
    assert_eq!(
        vcs.resolve("signed").await.expect_err("no tag").kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn https_remotes_get_the_token_and_a_bad_token_is_unauthenticated() {
    let world = GitWorld::new();
    let token = "ghp_httpRemoteToken42";
    let server = support::git_http::start(world.dir.path(), &world.home(), token);
    world.git(&[
        "remote",
        "add",
        "github",
        &format!("{}/origin.git", server.url),
    ]);
    let head = sha(&world.rev("HEAD"));

    let good = vcs(&world).with_token(deploykit_github::Token::new(token));
    good.fetch("github").await.expect("fetch with the token");
    assert!(
        good.remote_branch_exists("github", "main")
            .await
            .expect("ok")
    );
    good.push("github", &head, "stages/rc-2024-01-09", false)
        .await
        .expect("push with the token");
    assert_eq!(
        world.origin_rev("refs/heads/stages/rc-2024-01-09"),
        Some(head.to_string())
    );
    assert!(server.requests().iter().any(|r| {
        r.header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
    }));

    let wrong_token = "ghp_wrongHttpToken77";
    let wrong = vcs(&world).with_token(deploykit_github::Token::new(wrong_token));
    let err = wrong.fetch("github").await.expect_err("wrong token");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(!format!("{err} {err:?}").contains(wrong_token), "{err:?}");
    let err = wrong
        .push("github", &head, "stages/other", false)
        .await
        .expect_err("wrong token");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(!format!("{err} {err:?}").contains(wrong_token), "{err:?}");

    let anonymous = vcs(&world);
    let err = anonymous.fetch("github").await.expect_err("no token");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(err.to_string().contains("GITHUB_TOKEN"), "{err}");
}

#[tokio::test]
async fn commits_between_match_git_log_on_real_idp_history() {
    let world = GitWorld::new();
    let bundle = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("idp-history.bundle");
    let clone = world.dir.path().join("idp");
    world.git_at(
        world.dir.path(),
        &["clone", "-q", "--bare", &bundle.to_string_lossy(), "idp"],
    );
    let vcs = GitVcs::open(&clone).expect("open").with_token(None);
    let mut total = 0;
    for n in 1..=3 {
        let (base, source) = (format!("range-{n}-base"), format!("range-{n}-source"));
        let ours: Vec<(String, String, String)> = vcs
            .commits_between(&base, &source)
            .await
            .expect("commits")
            .into_iter()
            .map(|c| (c.sha.to_string(), c.title, c.body))
            .collect();
        let out = world.git_at(
            &clone,
            &[
                "log",
                "-z",
                "--format=%H%x00%s%x00%b",
                &format!("{base}..{source}"),
            ],
        );
        let mut fields: Vec<&str> = out.split('\0').collect();
        if fields.len() % 3 == 1 && fields.last() == Some(&"") {
            fields.pop();
        }
        let theirs: Vec<(String, String, String)> = fields
            .chunks(3)
            .map(|c| (c[0].to_string(), c[1].to_string(), c[2].to_string()))
            .collect();
        assert!(!ours.is_empty(), "range {n} is empty");
        assert_eq!(ours, theirs, "range {n}");
        total += ours.len();
    }
    assert!(total > 20, "only {total} commits in the samples");
}
