//! Embeds two fleet operations the way an identity-devops tool would: recycle `prod idp`,
//! wait out the spindown, then scale in the old instances. Runs on the simulated world
//! (virtual time: the 15-minute spindown takes milliseconds); swap `World` for the AWS
//! backends to run it for real.

use std::time::Duration;

use deploykit_core::fleet_ops::{self, FleetContext, RecycleRequest, ScaleInMode, ScaleInRequest};
use deploykit_core::sim::World;
use deploykit_core::{EnvName, Event, EventSink, RoleSelector};

#[derive(Debug)]
struct Print;

impl EventSink for Print {
    fn emit(&self, event: Event) {
        if let Event::Action { at, description, .. } = event {
            println!("{} {description}", at.format("%H:%M:%S"));
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> deploykit_core::Result<()> {
    let world = World::login_gov();
    let (fleet, clock) = (world.fleet(), world.clock());
    let ctx = FleetContext { fleet: fleet.as_ref(), clock: clock.as_ref(), events: &Print };
    let prod: EnvName = "prod".parse()?;

    let recycle = fleet_ops::recycle(&ctx, &RecycleRequest::new(prod.clone(), "idp".parse()?)).await?;
    println!("recycle finishes at {}", recycle.finishes_at);

    let wait = (recycle.finishes_at - clock.now()).to_std().unwrap_or_default();
    clock.sleep(wait + Duration::from_secs(60)).await;

    let scaled = fleet_ops::scale_in(
        &ctx,
        &ScaleInRequest {
            env: prod,
            roles: RoleSelector::All,
            mode: ScaleInMode::Old,
            dry_run: false,
        },
    )
    .await?;
    for g in &scaled.groups {
        println!("{}: removed {} old instance(s), kept {}", g.group, g.removed.len(), g.kept.len());
    }
    Ok(())
}
