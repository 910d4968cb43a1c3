//! `deploykit cadence check [--date YYYY-MM-DD]`: exit 0 when a full deploy is allowed,
//! 3 when the calendar refuses it.

use chrono::NaiveDate;
use deploykit_core::{DeployKind, Error, Result};

use crate::args::CadenceCheckArgs;
use crate::commands::Invocation;
use crate::exit;
use crate::output::print_result;

/// Checks the calendar for a full deploy on a day.
pub async fn check(inv: &Invocation<'_>, args: &CadenceCheckArgs) -> Result<u8> {
    let date = match &args.date {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            Error::invalid_input(format!(
                "invalid --date {text:?}: expected YYYY-MM-DD, e.g. 2026-12-01"
            ))
        })?,
        None => chrono::Local::now().date_naive(),
    };
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
            out.push_str(&format!("\nnext full deploy day: {next} ({})", next.format("%A")));
        }
        out
    });
    Ok(if decision.allowed { exit::OK } else { exit::POLICY_REFUSED })
}
