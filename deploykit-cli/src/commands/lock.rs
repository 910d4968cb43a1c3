//! `deploykit lock show|release ENV APP`: who holds the deploy lock, and releasing one whose
//! run will not be resumed.

use deploykit_core::deploy::held_lock::{lock_status, release_held_lock};
use deploykit_core::{EnvName, Result};

use crate::args::{LockReleaseArgs, LockShowArgs};
use crate::backends::deploy_lock;
use crate::commands::Invocation;
use crate::commands::deploy::app_settings;
use crate::exit;
use crate::output::print_result;
use crate::prompt::confirm;

/// `deploykit lock show ENV APP`.
pub async fn show(inv: &Invocation<'_>, args: &LockShowArgs) -> Result<u8> {
    let env: EnvName = args.env.parse()?;
    let config = inv.config()?;
    config.configured_env(&env)?;
    let app = app_settings(inv, &args.app)?.name;
    let (lock, clock, _world) = deploy_lock(inv.cli.sandbox, &config).await?;
    let status = lock_status(lock.as_ref(), &env, &app, clock.now()).await?;
    print_result(inv.format, &status, || {
        let mut text = status.render();
        if status.holder.is_none() && !inv.cli.sandbox {
            // "Free" in the wrong region or account would mislead: say where it looked.
            text.push_str(&format!(
                " (in the SSM Parameter Store of region {})",
                config.aws.region
            ));
        }
        text
    });
    Ok(exit::OK)
}

/// `deploykit lock release ENV APP HOLDER`: asks first at a terminal; elsewhere needs `--yes`.
pub async fn release(inv: &Invocation<'_>, args: &LockReleaseArgs) -> Result<u8> {
    let env: EnvName = args.env.parse()?;
    let config = inv.config()?;
    config.configured_env(&env)?;
    let app = app_settings(inv, &args.app)?.name;
    let (lock, clock, _world) = deploy_lock(inv.cli.sandbox, &config).await?;
    let status = lock_status(lock.as_ref(), &env, &app, clock.now()).await?;
    // A lock that is free, or held by someone not named, is refused below without asking.
    if let (Some(holder), true, false) =
        (&status.holder, status.is_held_by(&args.holder), inv.cli.yes)
    {
        let question = format!(
            "Release the deploy lock of {app} in {env}, held by {} since {}? A deploy still \
             running under it would go on unguarded. [y/N]",
            holder.owner,
            holder.acquired_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        confirm(
            &question,
            &format!(
                "releasing the deploy lock of {app} in {env} (held by {})",
                holder.owner
            ),
        )
        .await?;
    }
    let released = release_held_lock(lock.as_ref(), &env, &app, &args.holder).await?;
    let description = deploykit_core::deploy::held_lock::released_text(&released);
    print_result(
        inv.format,
        &serde_json::json!({ "released": released }),
        || description,
    );
    Ok(exit::OK)
}
