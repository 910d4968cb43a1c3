//! The deploy calendar: `deploykit cadence check [--date YYYY-MM-DD]` exits 0 when a full
//! deploy is allowed, 3 when the calendar refuses it; `deploykit cadence show [--from
//! YYYY-MM-DD] [--weeks N]` lays out the coming deploy days.

use chrono::NaiveDate;
use deploykit_core::{DeployKind, Error, Result};

use crate::args::{CadenceCheckArgs, CadenceShowArgs};
use crate::commands::Invocation;
use crate::exit;
use crate::output::print_result;

/// The day a `--date`/`--from` flag names, or today: in the sandbox, the simulated world's
/// today (2026-11-24, the day its sandboxed deploys run), so both say the same.
fn day_or_today(inv: &Invocation<'_>, flag: &str, text: Option<&str>) -> Result<NaiveDate> {
    match text {
        None if inv.cli.sandbox => Ok(deploykit_core::sim::login_gov_start().date_naive()),
        text => day(flag, text),
    }
}

/// The day a `--date`/`--from` flag names, or today.
fn day(flag: &str, text: Option<&str>) -> Result<NaiveDate> {
    match text {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| {
            // chrono tells a day that does not exist (2026-02-30) from a wrong shape.
            let why = if e.kind() == chrono::format::ParseErrorKind::OutOfRange {
                "no such day in the calendar"
            } else {
                "expected YYYY-MM-DD, e.g. 2026-12-01"
            };
            Error::invalid_input(format!("invalid {flag} {text:?}: {why}"))
        }),
        None => Ok(chrono::Local::now().date_naive()),
    }
}

/// Lays out the deploy days of the coming weeks.
pub async fn show(inv: &Invocation<'_>, args: &CadenceShowArgs) -> Result<u8> {
    let from = day_or_today(inv, "--from", args.from.as_deref())?;
    let policy = inv.config()?.cadence.policy();
    let days = args.weeks.saturating_mul(7);
    let deploy_days = policy.deploy_days_from(from, days);
    let to = from
        .checked_add_signed(chrono::Duration::days(i64::from(days) - 1))
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "--from {from} is too close to the end of the calendar for --weeks {}",
                args.weeks
            ))
        })?;
    let doc = serde_json::json!({
        "from": from,
        "to": to,
        "deploy_days": deploy_days,
    });
    print_result(inv.format, &doc, || {
        let mut out = format!("Deploy days from {from} to {to}:");
        if deploy_days.is_empty() {
            out.push_str("\n  none (no deploy days are configured: [cadence] deploy_days)");
        }
        for d in &deploy_days {
            let verdict = if d.allowed {
                "full deploy".to_string()
            } else {
                format!("no full deploy: {}", d.concerns.join("; "))
            };
            out.push_str(&format!(
                "\n  {} {}  {verdict}",
                d.date,
                d.date.format("%a")
            ));
        }
        out
    });
    Ok(exit::OK)
}

/// How to deploy on a day the calendar refuses, with the flags of `deploykit deploy`.
const WAY_ON: &str = "to deploy anyway: `deploykit deploy ENV APP --override-cadence REASON` \
                      (the reason is recorded), or ship it off-cycle: `deploykit deploy ENV APP \
                      --kind off-cycle --reason REASON`";

/// Checks the calendar for a full deploy on a day.
pub async fn check(inv: &Invocation<'_>, args: &CadenceCheckArgs) -> Result<u8> {
    let date = day_or_today(inv, "--date", args.date.as_deref())?;
    let policy = inv.config()?.cadence.policy();
    let decision = policy.check(date, DeployKind::Full, None);
    let next = policy.next_full_deploy_day(date);
    let doc = serde_json::json!({
        "date": date,
        "kind": DeployKind::Full,
        "allowed": decision.allowed,
        "reasons": decision.reasons,
        "next_full_deploy_day": next,
    });
    print_result(inv.format, &doc, || {
        let mut out = if decision.allowed {
            format!("{date} ({}): a full deploy is allowed", date.format("%A"))
        } else {
            format!("{date} ({}): no full deploy", date.format("%A"))
        };
        for reason in &decision.reasons {
            out.push_str(&format!("\n  - {reason}"));
        }
        if let (false, Some(next)) = (decision.allowed, next) {
            out.push_str(&format!(
                "\nnext full deploy day: {next} ({})",
                next.format("%A")
            ));
        }
        if !decision.allowed {
            out.push('\n');
            out.push_str(WAY_ON);
        }
        out
    });
    Ok(if decision.allowed {
        exit::OK
    } else {
        exit::POLICY_REFUSED
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_that_does_not_exist_is_told_from_a_wrong_shape() {
        let missing = day("--date", Some("2026-02-30")).expect_err("no such day");
        assert_eq!(
            missing.message(),
            "invalid --date \"2026-02-30\": no such day in the calendar"
        );
        let shape = day("--from", Some("2026/02/01")).expect_err("wrong shape");
        assert_eq!(
            shape.message(),
            "invalid --from \"2026/02/01\": expected YYYY-MM-DD, e.g. 2026-12-01"
        );
        assert_eq!(
            day("--date", Some("2028-02-29")).expect("a leap day"),
            NaiveDate::from_ymd_opt(2028, 2, 29).expect("date")
        );
    }
}
