//! `deploykit demo`: a full rehearsal in the simulated world on virtual time.

use deploykit_core::Result;
use deploykit_core::deploy::FinalStatus;
use deploykit_core::deploy::demo::{DemoScenario, run_demo_in};
use deploykit_core::deploy::{FileJournal, Journal, MemoryJournal};
use deploykit_core::report::REPORT_MD;

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
    // The rehearsal is journalled with the sandboxed runs, so its report stays next to its
    // journal (`deploykit report latest --sandbox`); without a state directory it stays in
    // memory.
    let file_journal = FileJournal::default_dir().map(|d| FileJournal::new(d.join("sandbox")));
    let memory = MemoryJournal::new();
    let journal: &dyn Journal = match &file_journal {
        Ok(j) => j,
        Err(e) => {
            eprintln!("deploykit: warning: {e}; the demo's journal and report are not kept");
            &memory
        }
    };
    let outcome = run_demo_in(scenario, &inv.sink, journal).await?;
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
            deploykit_core::report::duration_text(outcome.virtual_secs)
        ));
        if let Ok(j) = &file_journal
            && let Ok(run) = deploykit_core::deploy::RunId::parse(&outcome.deploy.run_id)
        {
            out.push_str(&format!(
                "report: {} (deploykit report {} --sandbox)\n",
                j.artifact_file(&run, REPORT_MD).display(),
                run
            ));
        }
        out.push_str(if expected {
            "outcome as expected for this scenario"
        } else {
            "UNEXPECTED outcome for this scenario"
        });
        out
    });
    Ok(if expected { exit::OK } else { exit::FAILED })
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn each_scenario_is_reported_by_the_name_typed() {
        for s in Scenario::value_variants() {
            let typed = s.to_possible_value().expect("a value");
            assert_eq!(scenario(*s).as_str(), typed.get_name(), "{s:?}");
            assert_eq!(scenario(*s).to_string(), typed.get_name(), "{s:?}");
        }
    }
}
