//! `deploykit demo`: a full rehearsal in the simulated world on virtual time.

use deploykit_core::Result;
use deploykit_core::deploy::FinalStatus;
use deploykit_core::deploy::demo::{DemoScenario, run_demo_with};

use crate::args::{DemoArgs, Scenario};
use crate::commands::Invocation;
use crate::exit;
use crate::output::print_result;

fn scenario(s: Scenario) -> DemoScenario {
    match s {
        Scenario::Healthy => DemoScenario::Healthy,
        Scenario::MigrationFails => DemoScenario::MigrationError,
        Scenario::ProvisioningFailure => DemoScenario::ProvisioningFailure,
        Scenario::MigrationHang => DemoScenario::MigrationHang,
        Scenario::ErrorSpike => DemoScenario::ErrorSpike,
        Scenario::UnhealthyHosts => DemoScenario::UnhealthyHosts,
    }
}

/// Runs the rehearsal; exit 0 when the outcome is the one the scenario should end in
/// (deployed when healthy, rolled back otherwise).
pub async fn run(inv: &Invocation<'_>, args: &DemoArgs) -> Result<u8> {
    let scenario = scenario(args.scenario);
    let outcome = run_demo_with(scenario, &inv.sink).await?;
    let status = &outcome.deploy.status;
    let expected = match scenario {
        DemoScenario::Healthy => matches!(status, FinalStatus::Deployed),
        _ => matches!(status, FinalStatus::RolledBack { .. }),
    };
    print_result(inv.format, &outcome, || {
        let mut out = format!(
            "demo {scenario}: RC {} via PR #{} — {}\n",
            outcome.rc,
            outcome.pr_number,
            crate::commands::deploy::status_line(status)
        );
        for step in &outcome.deploy.steps {
            out.push_str(&format!("  {}\n", crate::commands::deploy::step_line(step)));
        }
        for v in &outcome.deploy.verdicts {
            out.push_str(&format!("  gate {}: {}\n", v.gate, v.explanation));
        }
        out.push_str(&format!(
            "healthy idp capacity: {} before, never below {} during the deploy\n",
            outcome.idp_capacity_before, outcome.idp_capacity_min
        ));
        out.push_str(&format!(
            "{} announcements; {} of virtual time\n",
            outcome.announcements.len(),
            crate::commands::deploy::duration_text(outcome.virtual_secs)
        ));
        out.push_str(if expected {
            "outcome as expected for this scenario"
        } else {
            "UNEXPECTED outcome for this scenario"
        });
        out
    });
    Ok(if expected { exit::OK } else { exit::FAILED })
}
