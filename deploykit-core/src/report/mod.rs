//! The deploy report: what a run did, rebuilt from its journal alone (so any past run,
//! including a killed and resumed one, can be reported again), as Markdown and an SVG chart.
//!
//! - [`model`]: the [`DeployReport`] and its parts;
//! - [`build`](mod@build): [`DeployReport::from_records`], from a run's journal records;
//! - [`markdown`]: [`render_markdown`], the report people read;
//! - [`axis`]: tick marks and scales of the chart's axes;
//! - [`svg`]: [`render_svg`], the chart of the per-SHA 5xx rate and request rate with the
//!   gate decisions marked;
//! - [`sparkline`](mod@sparkline): the one-line trend of a rate shown in terminals;
//! - [`publish`]: [`write_report`], which keeps `report.md` and `report.svg` next to the
//!   journal when a run ends.
//!
//! ```
//! # fn show(journal: &dyn deploykit_core::deploy::Journal, run: &deploykit_core::deploy::RunId)
//! # -> deploykit_core::Result<()> {
//! use deploykit_core::report::{DeployReport, render_markdown, render_svg};
//! let report = DeployReport::from_records(&journal.load(run)?)?;
//! let markdown = render_markdown(&report, Some("report.svg"));
//! let svg = render_svg(&report);
//! # let _ = (markdown, svg); Ok(()) }
//! ```

pub mod axis;
pub mod build;
pub mod markdown;
pub mod model;
pub mod publish;
pub mod sparkline;
pub mod svg;
#[cfg(test)]
mod test_support;

pub use markdown::render_markdown;
pub use model::{DeployReport, GateMarker, ReportStep, ReportWindow, SeriesPoint, duration_text};
pub use publish::{REPORT_MD, REPORT_SVG, write_report};
pub use sparkline::{sparkline, sparklines};
pub use svg::render_svg;
