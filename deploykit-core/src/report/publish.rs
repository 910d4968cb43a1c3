//! [`write_report`]: keeps `report.md` and `report.svg` next to a run's journal.

use crate::deploy::journal::{Journal, RunId};
use crate::error::Result;
use crate::report::markdown::render_markdown;
use crate::report::model::DeployReport;
use crate::report::svg::render_svg;

/// The Markdown report's file name, next to `journal.jsonl`.
pub const REPORT_MD: &str = "report.md";
/// The chart's file name, next to `journal.jsonl` (the Markdown links it).
pub const REPORT_SVG: &str = "report.svg";

/// Builds the report of `run` from its journal and keeps both files with the journal; returns
/// the report and where the Markdown is. Callers ending a run treat an error as a warning: a
/// report never fails a deploy.
pub fn write_report(journal: &dyn Journal, run: &RunId) -> Result<(DeployReport, String)> {
    let report = DeployReport::from_records(&journal.load(run)?)?;
    journal.put_artifact(run, REPORT_SVG, render_svg(&report).as_bytes())?;
    let md = journal.put_artifact(
        run,
        REPORT_MD,
        render_markdown(&report, Some(REPORT_SVG)).as_bytes(),
    )?;
    Ok((report, md))
}
