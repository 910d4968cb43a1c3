//! [`render_markdown`]: the report people read — the outcome, the steps with their times,
//! the gate verdicts with their numbers and rules, the monitor windows, the announcements,
//! who approved, the decisions and overrides with their reasons.

use std::fmt::Write;

use chrono::{DateTime, Utc};

#[cfg(test)]
use crate::deploy::journal::Record;
use crate::deploy::state::FinalStatus;
use crate::report::model::{DeployReport, duration_text};

/// A table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%H:%M:%S").to_string()
}

fn pct(rate: f64) -> String {
    format!("{:.3}%", rate * 100.0)
}

/// The report as Markdown; `chart` is the SVG's file name (relative to the Markdown file), if
/// one is kept beside it.
pub fn render_markdown(r: &DeployReport, chart: Option<&str>) -> String {
    let mut s = String::new();
    let what = if r.standalone_rollback {
        "Rollback"
    } else {
        "Deploy"
    };
    let _ = writeln!(s, "# {what} report: {} to {}\n", r.app, r.env);
    let _ = writeln!(s, "**Outcome: {}**\n", cell(&r.status_line()));
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| Run | `{}` |", r.run_id);
    if r.standalone_rollback {
        let _ = writeln!(s, "| Kind | rollback |");
    } else {
        let _ = writeln!(s, "| Kind | {} |", r.kind);
    }
    let _ = writeln!(s, "| Run by | {} |", cell(&r.operator));
    let _ = writeln!(
        s,
        "| Started | {} |",
        r.started_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let _ = writeln!(
        s,
        "| Ended | {} ({}) |",
        r.ended_at.format("%Y-%m-%d %H:%M:%S UTC"),
        duration_text(r.duration_secs())
    );
    if let Some(reason) = &r.reason {
        let _ = writeln!(s, "| Reason | {} |", cell(reason));
    }
    if let Some(rc) = &r.rc {
        let _ = writeln!(s, "| RC | {rc} |");
    }
    if let Some((n, title, url)) = &r.pr {
        let _ = writeln!(s, "| Promotion PR | [#{n}]({url}) {} |", cell(title));
    }
    if let Some(sha) = &r.old_sha {
        let _ = writeln!(s, "| Old SHA | `{}` |", sha.short());
    }
    if let Some(sha) = &r.new_sha {
        let _ = writeln!(s, "| New SHA | `{}` |", sha.short());
    }
    let approved = if r.approvals.is_empty() {
        "not recorded".to_string()
    } else {
        r.approvals.join("; ")
    };
    let _ = writeln!(s, "| Approved | {} |", cell(&approved));
    if let Some(url) = &r.release_url {
        let _ = writeln!(s, "| Release | {url} |");
    }
    if let Some((n, url)) = &r.revert_pr {
        let _ = writeln!(s, "| Revert PR | [#{n}]({url}) |");
    }
    s.push('\n');
    if let Some(chart) = chart {
        let _ = writeln!(
            s,
            "![5xx rate and request rate per SHA over the run, gate decisions marked]({chart})\n"
        );
    }

    let _ = writeln!(s, "## Steps\n");
    if r.steps.is_empty() {
        let _ = writeln!(s, "No step finished.\n");
    } else {
        let _ = writeln!(
            s,
            "| Step | Started | Ended | Duration | Outcome | Detail |\n|---|---|---|---:|---|---|"
        );
        for st in &r.steps {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                st.step,
                time(st.started_at),
                time(st.finished_at),
                duration_text(st.duration_secs),
                st.outcome,
                cell(&st.detail)
            );
        }
        s.push('\n');
    }

    let _ = writeln!(s, "## Gate verdicts\n");
    if r.verdicts.is_empty() {
        let _ = writeln!(s, "No gate decided.\n");
    } else {
        let _ = writeln!(
            s,
            "| Time | Gate | Verdict | Numbers and rule |\n|---|---|---|---|"
        );
        for v in &r.verdicts {
            let _ = writeln!(
                s,
                "| {} | {} | **{}** | {} |",
                time(v.at),
                cell(&v.gate),
                cell(&v.verdict),
                cell(&v.explanation)
            );
        }
        s.push('\n');
    }

    if !r.windows.is_empty() {
        let _ = writeln!(s, "## Monitor windows\n");
        let _ = writeln!(
            s,
            "| Watch | Window | Old 5xx / requests | New 5xx / requests | Flow success, new (old) | Judgement |\n|---|---|---|---|---|---|"
        );
        for w in &r.windows {
            let fig = |p: &Option<crate::report::model::SeriesPoint>| match p {
                Some(p) => format!(
                    "`{}` {} / {} ({})",
                    p.sha.short(),
                    p.errors_5xx,
                    p.requests,
                    pct(p.error_rate)
                ),
                None => "no data".into(),
            };
            let _ = writeln!(
                s,
                "| {} | {} {}–{} | {} | {} | {} | {}: {} |",
                w.watch,
                w.number,
                time(w.start),
                time(w.end),
                if w.old_is_baseline {
                    format!("baseline {}", fig(&w.old))
                } else {
                    fig(&w.old)
                },
                fig(&w.new),
                cell(&w.flow_rates().unwrap_or_else(|| "none reported".into())),
                w.judgement,
                cell(&w.explanation)
            );
        }
        s.push('\n');
    }

    let _ = writeln!(s, "## Announcements\n");
    if r.announcements.is_empty() {
        let _ = writeln!(s, "None sent.\n");
    } else {
        for (kind, text) in &r.announcements {
            let _ = writeln!(s, "- **{kind}**: {}", cell(text));
        }
        s.push('\n');
    }

    let _ = writeln!(s, "## Decisions and overrides\n");
    if r.decisions.is_empty() && r.overrides.is_empty() {
        let none = match &r.status {
            Some(FinalStatus::Paused { .. }) => "None yet: the run waits for a person's decision.",
            _ => "None: every gate and policy decided on its own.",
        };
        let _ = writeln!(s, "{none}\n");
    } else {
        for d in &r.decisions {
            let _ = writeln!(s, "- decision: {}", cell(d));
        }
        for o in &r.overrides {
            let _ = writeln!(
                s,
                "- {} override at {}: the policy said \"{}\"; reason given: \"{}\"",
                cell(&o.what),
                time(o.at),
                cell(&o.refusal),
                cell(&o.reason)
            );
        }
        s.push('\n');
    }

    if !r.warnings.is_empty() || !r.notes.is_empty() {
        let _ = writeln!(s, "## Notes\n");
        for w in &r.warnings {
            let _ = writeln!(s, "- warning: {}", cell(w));
        }
        for n in &r.notes {
            let _ = writeln!(s, "- {}", cell(n));
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "_Rebuilt from the run's journal; `deploykit report {}` prints it again (with \
         `--sandbox` for a sandboxed run or the demo)._",
        r.run_id
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::rolled_back_run;

    fn report() -> DeployReport {
        DeployReport::from_records(&rolled_back_run()).expect("report")
    }

    fn markdown() -> String {
        render_markdown(&report(), Some("report.svg"))
    }

    fn line_with<'a>(md: &'a str, needle: &str) -> &'a str {
        md.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{md}"))
    }

    #[test]
    fn the_header_says_the_outcome_who_ran_and_approved_and_links_the_chart() {
        let md = markdown();
        assert!(md.starts_with("# Deploy report: idp to prod\n"), "{md}");
        assert!(md.contains("**Outcome: rolled back: monitor_gate:"), "{md}");
        assert!(md.contains("| Run by | alice |"), "{md}");
        assert!(
            md.contains("| Approved | promotion PR #11502 approved by carol |"),
            "{md}"
        );
        assert!(
            md.contains("| Ended | 2026-11-24 15:46:00 UTC (46m00s) |"),
            "{md}"
        );
        assert!(md.contains("](report.svg)"), "{md}");
        assert!(
            md.contains("| Revert PR | [#11503](https://github.com/18F/identity-idp/pull/11503) |"),
            "{md}"
        );
    }

    #[test]
    fn steps_have_their_times_durations_and_outcomes() {
        let md = markdown();
        let row = line_with(&md, "| migration_gate |");
        assert!(
            row.starts_with("| migration_gate | 15:02:00 | 15:20:00 | 18m00s | ok |"),
            "{row}"
        );
        // A pipe in a detail does not break the table.
        assert!(
            row.ends_with("migration_gate detail \\| with a pipe |"),
            "{row}"
        );
        let row = line_with(&md, "| monitor_gate |");
        assert!(row.contains("| 10m00s | rollback |"), "{row}");
    }

    #[test]
    fn verdicts_quote_their_numbers_and_rules() {
        let md = markdown();
        let row = line_with(&md, "| monitor | **rollback** |");
        assert!(row.starts_with("| 15:40:00 |"), "{row}");
        assert!(
            row.contains("100 5xx of 2000 requests (5.000%) is above the 1.000% ceiling"),
            "{row}"
        );
        assert!(
            md.contains("| health | **go** | 4 of 4 new instances healthy |"),
            "{md}"
        );
        let window = line_with(&md, "| monitor_gate | 2 15:35:00–15:40:00 |");
        assert!(window.contains("`bbbbbbb` 100 / 2000 (5.000%)"), "{window}");
        assert!(window.contains("`aaaaaaa` 10 / 10000 (0.100%)"), "{window}");
        assert!(window.contains("| bad: "), "{window}");
    }

    #[test]
    fn monitor_windows_show_each_flows_success_rate_new_beside_old() {
        let md = markdown();
        assert!(
            md.contains("| Flow success, new (old) | Judgement |"),
            "{md}"
        );
        let window = line_with(&md, "| monitor_gate | 2 15:35:00–15:40:00 |");
        assert!(
            window.contains("| Sign in: success 95.0% (old SHA 99.9%) | bad: "),
            "{window}"
        );
        // A baseline from another time is named as such.
        let mut r = report();
        r.windows[0].old_is_baseline = true;
        let md = render_markdown(&r, None);
        let window = line_with(&md, "| monitor_gate | 1 15:30:00–15:35:00 |");
        assert!(
            window.contains("| Sign in: success 99.5% (baseline 99.9%) |"),
            "{window}"
        );
    }

    #[test]
    fn announcements_decisions_and_overrides_with_reasons_are_listed() {
        let md = markdown();
        assert!(md.contains("- **recycle_start**: "), "{md}");
        assert!(md.contains("- **rollback_started**: "), "{md}");
        assert!(md.contains("- decision: operator decided Rollback"), "{md}");
        let o = line_with(&md, "cadence override");
        assert!(
            o.contains("\"Friday: no full deploys\"")
                && o.contains("reason given: \"security fix for the login page\""),
            "{o}"
        );
    }

    #[test]
    fn an_interrupted_run_says_how_to_continue() {
        let mut records = rolled_back_run();
        records.truncate(6); // up to the migration gate's end
        records.push(Record::StepStarted {
            at: crate::report::test_support::t(21),
            step: crate::deploy::StepName::HealthGate,
        });
        let r = DeployReport::from_records(&records).expect("report");
        assert_eq!(r.status, None);
        let md = render_markdown(&r, None);
        assert!(
            md.contains(
                "not finished: interrupted during health_gate; continue with \
                 `deploykit resume 20261124T150000Z-idp-prod`"
            ),
            "{md}"
        );
        assert!(!md.contains("report.svg"), "{md}");
    }
}
