//! `deploykit rc create|true-up` and `deploykit release create`.

use deploykit_core::release::{
    self, AnnounceRequest, CreateReleaseRequest, CutRcRequest, PrReference, ReleaseContext,
    TrueUpRequest,
};
use deploykit_core::sim::World;
use deploykit_core::{AppSettings, Error, Result};

use crate::args::{RcCreateArgs, RcTrueUpArgs, ReleaseCreateArgs};
use crate::backends::ReleaseBackends;
use crate::commands::Invocation;
use crate::exit;
use crate::output::print_result;

fn app_settings(inv: &Invocation<'_>, app: &str) -> Result<AppSettings> {
    let config = inv.config()?;
    config.apps.get(app).cloned().ok_or_else(|| {
        let known: Vec<&str> = config.apps.keys().map(String::as_str).collect();
        Error::invalid_input(format!(
            "unknown app {app:?}: the configuration knows {}",
            known.join(", ")
        ))
    })
}

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

/// `deploykit rc create`: cut an RC, open its promotion PR, announce it.
pub async fn rc_create(inv: &Invocation<'_>, args: &RcCreateArgs) -> Result<u8> {
    let settings = app_settings(inv, &args.app)?;
    let (b, _world) = backends(inv, &settings, &args.dir)?;
    let ctx = context(inv, &b, &settings);
    let offset = chrono::Local::now().offset().local_minus_utc() / 60;
    let request = CutRcRequest {
        source: args.source.clone(),
        patch: args.patch,
        dry_run: args.dry_run,
        working_dir: args.dir.clone(),
        utc_offset_minutes: offset,
    };
    let outcome = release::cut_rc(&ctx, &request).await?;
    if let (false, Some(pr)) = (args.dry_run, outcome.pr_number) {
        let announce = AnnounceRequest {
            pr: Some(pr),
            dry_run: false,
        };
        release::announce_pending(&ctx, &announce).await?;
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
        if let Some(url) = &outcome.pr_url {
            out.push_str(&format!(
                "\n{url}\nBe sure to verify the generated changelog."
            ));
        }
        out
    });
    Ok(exit::OK)
}

/// `deploykit rc true-up`.
pub async fn rc_true_up(inv: &Invocation<'_>, args: &RcTrueUpArgs) -> Result<u8> {
    let settings = app_settings(inv, &args.app)?;
    let (b, _world) = backends(inv, &settings, &args.dir)?;
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
    let (b, _world) = backends(inv, &settings, &args.dir)?;
    let ctx = context(inv, &b, &settings);
    let request = CreateReleaseRequest {
        pr: args.pr.parse::<PrReference>()?,
        dry_run: args.dry_run,
    };
    let outcome = release::create_release(&ctx, &request).await?;
    print_result(inv.format, &outcome, || {
        let verb = if outcome.dry_run {
            "would create"
        } else {
            "created"
        };
        let url = outcome
            .release
            .as_ref()
            .map(|r| r.html_url.clone())
            .unwrap_or_default();
        format!(
            "{verb} release {} with tag {} on {} {url}",
            outcome.title,
            outcome.tag,
            outcome.target.short()
        )
    });
    Ok(exit::OK)
}
