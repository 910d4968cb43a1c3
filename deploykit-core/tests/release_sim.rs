//! The pre-deploy half of the guide on the simulated Login.gov world: cut an RC (dry run,
//! then for real), a second one the same day, announce it, true it up, merge it, release it;
//! a cut, a true-up and a signed release that stopped at any of their writes, run again.

use std::collections::BTreeMap;
use std::sync::Arc;

use deploykit_core::ports::{MergeMethod, PrState, PullRequestQuery};
use deploykit_core::release::{
    AnnounceRequest, CreateReleaseRequest, CutRcOutcome, CutRcRequest, ReleaseContext,
    TrueUpRequest, announce_pending, create_release, cut_rc, true_up,
};
use deploykit_core::sim::{Fault, SimVcs, World};
use deploykit_core::{AppName, AppSettings, ErrorKind, RecordingSink, Sha};

#[tokio::test]
async fn idp_release_candidate_from_cut_to_release() {
    let world = World::login_gov();
    let idp: AppName = "idp".parse().expect("app");
    let settings = AppSettings::idp();
    let vcs = world.vcs(&idp).expect("repo");
    let sim_vcs = world.sim_vcs(&idp).expect("repo");
    let host = world.code_host(&idp).expect("host");
    let sim_host = world.sim_code_host(&idp).expect("host");
    let status = world.deploy_status();
    let notifier = world.notifier();
    let clock = world.clock();
    let events = RecordingSink::default();
    let ctx = ReleaseContext {
        vcs: vcs.as_ref(),
        code_host: host.as_ref(),
        deploy_status: status.as_ref(),
        notifier: notifier.as_ref(),
        clock: clock.as_ref(),
        events: &events,
        settings: &settings,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let request = CutRcRequest {
        working_dir: dir.path().to_path_buf(),
        ..CutRcRequest::default()
    };

    // Dry run: everything read, nothing written.
    let branches_before = sim_vcs.branches();
    let labels_before = sim_host.labels();
    let dry = cut_rc(
        &ctx,
        &CutRcRequest {
            dry_run: true,
            ..request.clone()
        },
    )
    .await
    .expect("dry run");
    assert_eq!(dry.rc.to_string(), "112");
    assert_eq!(sim_vcs.branches(), branches_before);
    assert!(sim_vcs.pushes().is_empty());
    assert_eq!(sim_host.labels(), labels_before);
    assert!(!dir.path().join("tmp/.rc-changelog.md").exists());

    // For real.
    let cut = cut_rc(&ctx, &request).await.expect("cut");
    assert_eq!(cut.last_rc.to_string(), "111");
    assert_eq!(cut.rc.to_string(), "112");
    assert_eq!(cut.branch.to_string(), "stages/rc-2026-11-24");
    let staging_sha = vcs.resolve("main").await.expect("main");
    assert_eq!(cut.sha, staging_sha);
    assert_eq!(
        sim_vcs.branch_tip("stages/rc-2026-11-24"),
        Some(staging_sha)
    );
    let number = cut.pr_number.expect("PR opened");
    let pr = host.pull_request(number).await.expect("PR");
    assert_eq!(pr.title, "Deploy RC 112 to Production");
    assert_eq!(pr.base, "stages/prod");
    assert_eq!(pr.labels, vec!["status - promotion".to_string()]);
    assert_eq!(pr.body, cut.changelog.text);
    assert!(pr.body.starts_with("## "), "{}", pr.body);
    let written = std::fs::read_to_string(dir.path().join("tmp/.rc-changelog.md")).expect("file");
    assert_eq!(written, format!("{}\n", pr.body));

    // Cutting again while RC 112's PR is open (a cut that stopped part way, run again)
    // finishes that PR: no second branch, no second PR.
    let pushes = sim_vcs.pushes().len();
    let again = cut_rc(&ctx, &request).await.expect("cut again");
    assert!(again.pr_already_open);
    assert_eq!(again.pr_number, Some(number));
    assert_eq!(again.branch, cut.branch);
    assert_eq!(sim_vcs.pushes().len(), pushes);
    let open = host
        .pull_requests(&PullRequestQuery::into_base("stages/prod", PrState::Open))
        .await
        .expect("open PRs");
    assert_eq!(open.len(), 1, "{open:?}");

    // Announce it.
    let announced = announce_pending(&ctx, &AnnounceRequest::default())
        .await
        .expect("announce");
    assert_eq!(announced.pr_number, number);
    assert_eq!(
        world.recording_notifier().sent_kinds(),
        vec!["pending_release_pr"]
    );

    // True up (the RC branch already contains production: nothing to merge).
    let trued = true_up(&ctx, &TrueUpRequest::default())
        .await
        .expect("true-up");
    assert_eq!(trued.branch, cut.branch);

    // Releasing before the merge is refused; after it, the release is created once.
    let release_request = CreateReleaseRequest {
        pr: pr.html_url.parse().expect("PR link"),
        dry_run: false,
    };
    let err = create_release(&ctx, &release_request)
        .await
        .expect_err("not merged yet");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let merge = host
        .merge_pull_request(number, MergeMethod::Merge)
        .await
        .expect("merge");
    let released = create_release(&ctx, &release_request)
        .await
        .expect("release");
    assert_eq!(released.title, "RC 112");
    assert_eq!(released.target, merge);
    assert_eq!(released.tag, "2026-11-24T150000");
    let err = create_release(&ctx, &release_request)
        .await
        .expect_err("released already");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let releases = host.releases().await.expect("releases");
    assert_eq!(releases.iter().filter(|r| r.name == "RC 112").count(), 1);

    // The next RC the same day gets `.2`.
    sim_vcs.commit(
        "main",
        "Fix the remember-device checkbox (#11500)",
        "changelog: Bug Fixes, Login, Fix the remember-device checkbox",
        &[("app/remember.rb", "fixed\n")],
    );
    let second = cut_rc(
        &ctx,
        &CutRcRequest {
            source: Some("main".into()),
            dry_run: true,
            ..request.clone()
        },
    )
    .await
    .expect("second dry run");
    assert_eq!(second.rc.to_string(), "113");
    assert!(!second.pr_already_open);
    assert_eq!(second.branch.to_string(), "stages/rc-2026-11-24.2");
    assert_eq!(
        host.pull_request(number).await.expect("PR").state,
        PrState::Merged
    );
}

/// Cuts an RC of the context's app for real, its changelog written into the rehearsal's
/// working directory.
async fn cut_into(ctx: &ReleaseContext<'_>, r: &Rehearsal) -> CutRcOutcome {
    cut_rc(ctx, &r.cut_request()).await.expect("cut")
}

/// One app of a fresh simulated Login.gov world, with what the tests look at.
struct Rehearsal {
    world: World,
    app: AppName,
    settings: AppSettings,
    sim_vcs: Arc<SimVcs>,
    events: RecordingSink,
    dir: tempfile::TempDir,
}

impl Rehearsal {
    /// `idp` or `pki` of a fresh world, a temporary working directory for the changelog.
    fn of(app: &str) -> Self {
        let world = World::login_gov();
        let app: AppName = app.parse().expect("app");
        let settings = match app.as_str() {
            "pki" => AppSettings::pki(),
            _ => AppSettings::idp(),
        };
        Rehearsal {
            sim_vcs: world.sim_vcs(&app).expect("repo"),
            world,
            app,
            settings,
            events: RecordingSink::default(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A cut's request writing its changelog into the working directory.
    fn cut_request(&self) -> CutRcRequest {
        CutRcRequest {
            working_dir: self.dir.path().to_path_buf(),
            ..CutRcRequest::default()
        }
    }
}

/// The ports of a [`Rehearsal`]'s app, as a release context `ctx`, for the block.
macro_rules! with_ctx {
    ($r:expr, |$ctx:ident| $body:block) => {{
        let vcs = $r.world.vcs(&$r.app).expect("repo");
        let host = $r.world.code_host(&$r.app).expect("host");
        let status = $r.world.deploy_status();
        let notifier = $r.world.notifier();
        let clock = $r.world.clock();
        let $ctx = ReleaseContext {
            vcs: vcs.as_ref(),
            code_host: host.as_ref(),
            deploy_status: status.as_ref(),
            notifier: notifier.as_ref(),
            clock: clock.as_ref(),
            events: &$r.events,
            settings: &$r.settings,
        };
        $body
    }};
}

/// An RC of idp cut for real, then a hotfix committed straight to the production branch, as
/// the guide's true-up expects: the cut, the RC branch's files, the hotfix.
async fn cut_then_hotfix(
    ctx: &ReleaseContext<'_>,
    r: &Rehearsal,
) -> (CutRcOutcome, BTreeMap<String, String>, Sha) {
    let cut = cut_into(ctx, r).await;
    let rc_files = r
        .sim_vcs
        .files_at(&cut.branch.to_string())
        .expect("rc files");
    let hotfix = r.sim_vcs.commit(
        "stages/prod",
        "Hotfix: raise the rate limit (#11490)",
        "changelog: Bug Fixes, Rate limits, Raise the limit",
        &[("config/hotfix.yml", "limit: 10\n")],
    );
    (cut, rc_files, hotfix)
}

#[tokio::test]
async fn true_up_merges_a_production_hotfix_keeping_the_rc_tree() {
    let r = Rehearsal::of("idp");
    with_ctx!(r, |ctx| {
        let (cut, rc_files, hotfix) = cut_then_hotfix(&ctx, &r).await;
        let branch = cut.branch.to_string();
        let trued = true_up(
            &ctx,
            &TrueUpRequest {
                rc_branch: Some(branch.clone()),
                ..TrueUpRequest::default()
            },
        )
        .await
        .expect("true-up");
        assert!(trued.merged && !trued.forced);
        let new_sha = trued.new_sha.expect("merge commit");
        assert_eq!(r.sim_vcs.branch_tip(&branch), Some(new_sha.clone()));
        let merge = r.sim_vcs.commit_info(new_sha.as_str()).expect("merge");
        assert_eq!(merge.parents, vec![cut.sha.clone(), hotfix]);
        // The RC branch's tree wins: the hotfix file does not appear.
        assert_eq!(r.sim_vcs.files_at(&branch).expect("files"), rc_files);
        assert!(r.sim_vcs.pushes().iter().all(|(_, _, forced)| !forced));
    });
}

#[tokio::test]
async fn pki_release_is_a_signed_pushed_tag_then_the_release() {
    let r = Rehearsal::of("pki");
    with_ctx!(r, |ctx| {
        let cut = cut_into(&ctx, &r).await;
        assert_eq!(cut.rc.to_string(), "41");
        let number = cut.pr_number.expect("PR");
        let merge = ctx
            .code_host
            .merge_pull_request(number, MergeMethod::Merge)
            .await
            .expect("merge");
        let released = create_release(
            &ctx,
            &CreateReleaseRequest {
                pr: number.to_string().parse().expect("number"),
                dry_run: false,
            },
        )
        .await
        .expect("release");
        assert!(released.signed_tag);
        assert_eq!(released.title, "RC 41");
        assert_eq!(released.target, merge);
        let tag = r.sim_vcs.tag(&released.tag).expect("tag");
        assert!(tag.signed && tag.pushed);
        assert_eq!(tag.message, format!("{} release", released.tag));
        assert_eq!(tag.target, merge);
        let release = released.release.expect("release");
        assert_eq!(release.name, "RC 41");
    });
}

#[tokio::test]
async fn a_cut_stopped_at_any_write_run_again_leaves_one_branch_and_one_labelled_pr() {
    // Each write failing before it acts (Permanent), or after (its reply lost).
    let writes = [
        "vcs.push",
        "code_host.ensure_label",
        "code_host.create_pull_request",
        "code_host.add_labels",
    ];
    let cells = writes
        .into_iter()
        .flat_map(|op| [(op, Fault::Permanent), (op, Fault::LostReply)]);
    for (op, fault) in cells {
        let r = Rehearsal::of("idp");
        let request = r.cut_request();
        let branches_before = r.sim_vcs.branches();
        with_ctx!(r, |ctx| {
            let cell = format!("{op} {fault:?}");
            r.world.faults().inject(op, fault, 1);
            cut_rc(&ctx, &request)
                .await
                .expect_err(&format!("{cell} fails"));
            let cut = cut_rc(&ctx, &request)
                .await
                .unwrap_or_else(|e| panic!("run again after {cell}: {e}"));
            assert_eq!(cut.rc.to_string(), "112", "{cell}");
            assert_eq!(cut.branch.to_string(), "stages/rc-2026-11-24", "{cell}");
            let new_branches: Vec<String> = r
                .sim_vcs
                .branches()
                .into_iter()
                .filter(|b| !branches_before.contains(b))
                .map(|(name, _)| name)
                .collect();
            assert_eq!(
                new_branches,
                vec!["stages/rc-2026-11-24".to_string()],
                "{cell}"
            );
            assert_eq!(
                r.sim_vcs.branch_tip("stages/rc-2026-11-24"),
                Some(cut.sha.clone()),
                "{cell}"
            );
            let open = ctx
                .code_host
                .pull_requests(&PullRequestQuery::into_base("stages/prod", PrState::Open))
                .await
                .expect("open PRs");
            assert_eq!(open.len(), 1, "{cell}: {open:?}");
            assert_eq!(open[0].title, "Deploy RC 112 to Production", "{cell}");
            assert_eq!(
                open[0].labels,
                vec!["status - promotion".to_string()],
                "{cell}"
            );
            assert_eq!(cut.pr_number, Some(open[0].number), "{cell}");
            // The PR was opened by the first run when its create or its labelling went through.
            let opened_before = op == "code_host.add_labels"
                || (op, fault) == ("code_host.create_pull_request", Fault::LostReply);
            assert_eq!(cut.pr_already_open, opened_before, "{cell}");
            let written = std::fs::read_to_string(r.dir.path().join("tmp/.rc-changelog.md"))
                .expect("changelog file");
            assert_eq!(written, format!("{}\n", open[0].body), "{cell}");
        });
    }
}

#[tokio::test]
async fn a_signed_release_stopped_after_its_tag_uses_that_tag_when_run_again() {
    // Each remote write failing before it acts (Permanent), or after (its reply lost).
    let cells = ["vcs.push_tag", "code_host.create_release"]
        .into_iter()
        .flat_map(|op| [(op, Fault::Permanent), (op, Fault::LostReply)]);
    for (op, fault) in cells {
        let r = Rehearsal::of("pki");
        with_ctx!(r, |ctx| {
            let cut = cut_into(&ctx, &r).await;
            let number = cut.pr_number.expect("PR");
            let merge = ctx
                .code_host
                .merge_pull_request(number, MergeMethod::Merge)
                .await
                .expect("merge");
            let request = CreateReleaseRequest {
                pr: number.to_string().parse().expect("number"),
                dry_run: false,
            };
            let cell = format!("{op} {fault:?}");
            r.world.faults().inject(op, fault, 1);
            create_release(&ctx, &request)
                .await
                .expect_err(&format!("{cell} fails"));
            let first_tags = ctx.vcs.tags_at(&merge).await.expect("tags");
            assert_eq!(first_tags.len(), 1, "{cell}: {first_tags:?}");
            // A minute later: a new tag would have another name.
            r.world
                .virtual_clock()
                .advance(std::time::Duration::from_secs(60));
            let tag_used = match create_release(&ctx, &request).await {
                Ok(released) => released.tag,
                // The release was published, only its reply was lost: the run again says so,
                // naming the tag, and changes nothing.
                Err(e) if (op, fault) == ("code_host.create_release", Fault::LostReply) => {
                    assert_eq!(e.kind(), ErrorKind::Conflict, "{cell}: {e}");
                    assert!(e.to_string().contains("already exists"), "{cell}: {e}");
                    e.context_value("tag").expect("the tag").to_string()
                }
                Err(e) => panic!("run again after {cell}: {e}"),
            };
            assert_eq!(tag_used, first_tags[0], "{cell}");
            assert_eq!(
                ctx.vcs.tags_at(&merge).await.expect("tags"),
                first_tags,
                "{cell}"
            );
            let tag = r.sim_vcs.tag(&tag_used).expect("tag");
            assert!(tag.signed && tag.pushed, "{cell}");
            let releases = ctx.code_host.releases().await.expect("releases");
            let rc_41: Vec<_> = releases.iter().filter(|r| r.name == "RC 41").collect();
            assert_eq!(rc_41.len(), 1, "{cell}");
            assert_eq!(rc_41[0].tag_name, tag_used, "{cell}");
        });
    }
}

#[tokio::test]
async fn a_true_up_stopped_at_any_write_run_again_merges_and_pushes_once() {
    // `None`: the stop came after the push (the run was killed before it could say so).
    for op in [Some("vcs.merge_ours"), Some("vcs.push"), None] {
        let r = Rehearsal::of("idp");
        with_ctx!(r, |ctx| {
            let (cut, rc_files, hotfix) = cut_then_hotfix(&ctx, &r).await;
            let branch = cut.branch.to_string();
            let pushes_before = r.sim_vcs.pushes().len();
            let request = TrueUpRequest::default();
            match op {
                Some(op) => {
                    r.world.faults().inject(op, Fault::Permanent, 1);
                    true_up(&ctx, &request)
                        .await
                        .expect_err(&format!("{op} fails"));
                }
                None => assert!(true_up(&ctx, &request).await.expect("true-up").merged),
            }
            let again = true_up(&ctx, &request)
                .await
                .unwrap_or_else(|e| panic!("run again after {op:?}: {e}"));
            assert_eq!(again.branch.to_string(), branch, "{op:?}");
            assert_eq!(again.merged, op.is_some(), "{op:?}");
            // One push of one merge of the hotfix into the cut, with the RC's tree.
            let pushes = r.sim_vcs.pushes()[pushes_before..].to_vec();
            assert_eq!(pushes.len(), 1, "{op:?}: {pushes:?}");
            let (pushed_to, merge, forced) = &pushes[0];
            assert_eq!((pushed_to.as_str(), *forced), (branch.as_str(), false));
            assert_eq!(
                r.sim_vcs.branch_tip(&branch).as_ref(),
                Some(merge),
                "{op:?}"
            );
            let info = r.sim_vcs.commit_info(merge.as_str()).expect("merge");
            assert_eq!(info.parents, vec![cut.sha.clone(), hotfix], "{op:?}");
            assert_eq!(
                r.sim_vcs.files_at(&branch).expect("files"),
                rc_files,
                "{op:?}"
            );
            // A third run finds nothing to do.
            let third = true_up(&ctx, &request).await.expect("third run");
            assert!(!third.merged && third.new_sha.is_none(), "{op:?}");
            assert_eq!(r.sim_vcs.pushes().len(), pushes_before + 1, "{op:?}");
        });
    }
}

/// While RC 112's promotion PR is merged but not released (its deploy is still going on, or
/// was rolled back), the next cut is numbered after RC 112, not after the last release (RC
/// 111), so two promotion PRs never carry the same RC; a patch is RC 112.1. The cut says so.
#[tokio::test]
async fn a_merged_rc_without_its_release_still_counts_for_the_next_number() {
    let r = Rehearsal::of("idp");
    with_ctx!(r, |ctx| {
        let cut = cut_into(&ctx, &r).await;
        assert_eq!(cut.rc.to_string(), "112");
        ctx.code_host
            .merge_pull_request(cut.pr_number.expect("PR"), MergeMethod::Merge)
            .await
            .expect("merge");
        r.sim_vcs.commit(
            "main",
            "Fix the remember-device checkbox (#11500)",
            "changelog: Bug Fixes, Login, Fix the remember-device checkbox",
            &[("app/remember.rb", "fixed\n")],
        );
        let next = |patch: bool| CutRcRequest {
            source: Some("main".into()),
            dry_run: true,
            patch,
            ..r.cut_request()
        };
        let full = cut_rc(&ctx, &next(false)).await.expect("next full");
        assert_eq!(full.rc.to_string(), "113");
        let patch = cut_rc(&ctx, &next(true)).await.expect("next patch");
        assert_eq!(patch.rc.to_string(), "112.1");
    });
    let warned = r.events.events().iter().any(|e| {
        matches!(e, deploykit_core::Event::Warning { message, .. }
            if message.starts_with("RC 112's promotion PR") && message.contains("no release yet"))
    });
    assert!(warned, "{:?}", r.events.events());
}
