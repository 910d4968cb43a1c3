//! `deploykit rc create|true-up` and `deploykit release create`.

use deploykit_core::Asker;
use deploykit_core::deploy::release_guard::unfinished_deploy_of;
use deploykit_core::notify::timed_out_post_warning;
use deploykit_core::release::{
    self, AnnounceRequest, CreateReleaseRequest, CutRcRequest, PrReference, ReleaseContext,
    TrueUpRequest,
};
use deploykit_core::sim::World;
use deploykit_core::{AppSettings, Error, ErrorKind, ReleaseNumber, Result};

use crate::args::{RcCreateArgs, RcTrueUpArgs, ReleaseCreateArgs};
use crate::backends::ReleaseBackends;
use crate::commands::Invocation;
use crate::commands::deploy::app_settings;
use crate::commands::sandbox_pr::{Prepared, sandbox_promotion_pr};
use crate::exit;
use crate::output::print_result;

fn backends(
    inv: &Invocation<'_>,
    settings: &AppSettings,
    dir: &std::path::Path,
) -> Result<(ReleaseBackends, Option<World>)> {
    if inv.cli.sandbox {
        let world = World::login_gov();
        let b = ReleaseBackends::sandbox(&world, &settings.name)?;
        Ok((b, Some(world)))
    } else {
        Ok((ReleaseBackends::real(&inv.config()?, settings, dir)?, None))
    }
}

fn context<'a>(
    inv: &'a Invocation<'_>,
    b: &'a ReleaseBackends,
    settings: &'a AppSettings,
) -> ReleaseContext<'a> {
    ReleaseContext {
        vcs: b.vcs.as_ref(),
        code_host: b.code_host.as_ref(),
        deploy_status: b.deploy_status.as_ref(),
        notifier: b.notifier.as_ref(),
        clock: b.clock.as_ref(),
        events: &inv.sink,
        settings,
    }
}

/// The error of an announcement that failed after RC `rc` was cut and its PR (`pr`, an
/// address or a number) opened: what was done, and how to finish. A post that timed out may
/// have gone through (chat cannot be asked), so the message says to check the channel first.
fn not_announced(e: Error, rc: ReleaseNumber, pr: &str) -> Error {
    let again = "run `deploykit rc create` again to announce it (it takes up the same branch \
                 and PR)";
    let message = if e.kind() == ErrorKind::Timeout {
        let warning = timed_out_post_warning(&format!("RC {rc}"), &e);
        format!("RC {rc} is cut and its promotion PR {pr} is open, but {warning}, or {again}")
    } else {
        format!(
            "RC {rc} is cut and its promotion PR {pr} is open, but it could not be announced \
             ({e}); {again}"
        )
    };
    Error::new(e.kind(), message)
        .temporary(e.is_temporary())
        .with("rc", rc)
        .with("pr", pr)
}

/// `deploykit rc create`: cut an RC, open its promotion PR, announce it.
pub async fn rc_create(inv: &Invocation<'_>, args: &RcCreateArgs) -> Result<u8> {
    let settings = app_settings(inv, &args.app)?;
    let (b, _world) = backends(inv, &settings, &args.dir)?;
    let ctx = context(inv, &b, &settings);
    let offset = chrono::Local::now().offset().local_minus_utc() / 60;
    // A sandboxed cut writes its changelog file under the sandbox's state directory, never
    // into the directory it was run in (a real clone's changelog file is not overwritten).
    let working_dir = if inv.cli.sandbox {
        inv.journal()?.dir().join("rc").join(settings.name.as_str())
    } else {
        args.dir.clone()
    };
    let request = CutRcRequest {
        source: args.source.clone(),
        patch: args.patch,
        dry_run: args.dry_run,
        working_dir,
        utc_offset_minutes: offset,
    };
    let outcome = release::cut_rc(&ctx, &request).await?;
    let announced = match (args.dry_run, outcome.pr_number) {
        (false, Some(pr)) => {
            let announce = AnnounceRequest {
                pr: Some(pr),
                dry_run: false,
            };
            let url = outcome.pr_url.clone().unwrap_or_else(|| format!("#{pr}"));
            release::announce_pending(&ctx, &announce)
                .await
                .map(|_| ())
                .map_err(|e| not_announced(e, outcome.rc, &url))
        }
        _ => Ok(()),
    };
    // The RC and its PR exist either way: say so (as JSON, the error carries them instead).
    if announced.is_err() && inv.format == crate::output::Format::Json {
        return announced.map(|()| exit::OK);
    }
    print_result(inv.format, &outcome, || {
        let mut out = format!(
            "RC {} (last was RC {}) from {} on {}\nchangelog: {}",
            outcome.rc,
            outcome.last_rc,
            outcome.sha.short(),
            outcome.branch,
            outcome.changelog_path.display()
        );
        if let (true, Some(pr)) = (outcome.pr_already_open, outcome.pr_number) {
            let announce = if outcome.dry_run {
                "would finish it"
            } else {
                "finished it and announced it (a second time, if the stopped run had got that far)"
            };
            out.push_str(&format!(
                "\nPR #{pr} for RC {} was already open at {} (a cut run again): {announce}",
                outcome.rc,
                outcome.sha.short()
            ));
        }
        for action in &outcome.actions {
            let verb = if outcome.dry_run { "would" } else { "did" };
            out.push_str(&format!("\n  {verb}: {action}"));
        }
        if outcome.dry_run {
            // What a person verifies before the real cut: the PR body, and the announcement.
            out.push_str(&format!(
                "\n  would: announce the promotion PR of RC {} to the release channel\n\n\
                 The PR body (the changelog) would be:\n\n{}",
                outcome.rc, outcome.changelog.text
            ));
        }
        if let Some(url) = &outcome.pr_url {
            out.push_str(&format!(
                "\n{url}\nBe sure to verify the generated changelog."
            ));
        }
        out
    });
    announced.map(|()| exit::OK)
}

/// `deploykit rc true-up`.
pub async fn rc_true_up(inv: &Invocation<'_>, args: &RcTrueUpArgs) -> Result<u8> {
    let settings = app_settings(inv, &args.app)?;
    let (b, world) = backends(inv, &settings, &args.dir)?;
    if let (Some(world), None) = (&world, &args.branch) {
        // A fresh simulated world has no RC yet: cut one, so there is a branch to true up.
        sandbox_promotion_pr(
            world,
            b.code_host.as_ref(),
            b.clock.as_ref(),
            &settings,
            false,
            Prepared::Approved,
            |_| ", to true up its branch".into(),
            &inv.sink,
        )
        .await?;
    }
    let ctx = context(inv, &b, &settings);
    let request = TrueUpRequest {
        rc_branch: args.branch.clone(),
        force: true,
        dry_run: false,
    };
    let outcome = release::true_up(&ctx, &request).await?;
    print_result(inv.format, &outcome, || match &outcome.new_sha {
        Some(sha) => format!(
            "{} trued up with {}: now at {}",
            outcome.branch,
            settings.production_branch,
            sha.short()
        ),
        None => format!(
            "{} already contains {}",
            outcome.branch, settings.production_branch
        ),
    });
    Ok(exit::OK)
}

/// `deploykit release create <PR|URL>`.
pub async fn release_create(inv: &Invocation<'_>, args: &ReleaseCreateArgs) -> Result<u8> {
    let settings = app_settings(inv, &args.app)?;
    let pr = args.pr.parse::<PrReference>()?;
    if !inv.cli.sandbox && !args.force {
        // A sandboxed run cannot be resumed: only a real one holds the release up.
        if let Some(run) = unfinished_deploy_of(&inv.journal()?, &settings.name, pr.number)? {
            return Err(run.refusal(Asker::Cli));
        }
    }
    let (b, world) = backends(inv, &settings, &args.dir)?;
    if let Some(world) = &world {
        // A fresh simulated world has no merged promotion PR to release: cut one, approve
        // and merge it (it is always the world's next PR number, named in the message).
        sandbox_promotion_pr(
            world,
            b.code_host.as_ref(),
            b.clock.as_ref(),
            &settings,
            false,
            Prepared::Merged,
            |number| format!(": `deploykit --sandbox release create {number}` releases it"),
            &inv.sink,
        )
        .await?;
    }
    let ctx = context(inv, &b, &settings);
    let request = CreateReleaseRequest {
        pr,
        dry_run: args.dry_run,
    };
    let outcome = release::create_release(&ctx, &request).await?;
    print_result(inv.format, &outcome, || {
        let verb = if outcome.dry_run {
            "would create"
        } else {
            "created"
        };
        let mut out = format!(
            "{verb} release {} with tag {} on {}",
            outcome.title,
            outcome.tag,
            outcome.target.short()
        );
        if let Some(url) = outcome.release.as_ref().map(|r| &r.html_url) {
            out.push_str(&format!(" {url}"));
        }
        out
    });
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announcement_that_timed_out_says_to_check_the_channel_before_announcing_again() {
        let rc: ReleaseNumber = "112".parse().expect("rc");
        let url = "https://github.com/18F/identity-idp/pull/9";
        let timed_out = not_announced(Error::timeout("Slack did not answer in 30 s"), rc, url);
        let text = timed_out.to_string();
        assert_eq!(timed_out.kind(), ErrorKind::Timeout);
        assert!(
            text.contains("RC 112 is cut and its promotion PR"),
            "{text}"
        );
        assert!(text.contains(url), "{text}");
        assert!(text.contains("may have been posted all the same"), "{text}");
        assert!(text.contains("check the channel"), "{text}");
        let refused = not_announced(Error::backend("Slack answered 500"), rc, url).to_string();
        assert!(refused.contains("could not be announced"), "{refused}");
        assert!(!refused.contains("check the channel"), "{refused}");
        assert!(
            refused.contains("run `deploykit rc create` again"),
            "{refused}"
        );
    }
}
