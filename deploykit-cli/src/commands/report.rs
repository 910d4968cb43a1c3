//! `deploykit report RUN_ID [--open]`: the report of a deploy run, rebuilt from its journal
//! (and kept next to it again if its files are missing).

use std::path::{Path, PathBuf};

use deploykit_core::deploy::{FileJournal, Journal, RunId};
use deploykit_core::report::{DeployReport, REPORT_MD, REPORT_SVG, render_markdown, render_svg};
use deploykit_core::{Error, Result};

use crate::args::ReportArgs;
use crate::commands::Invocation;
use crate::exit;
use crate::output::print_result;

/// `latest` is the run whose journal was written last (ids with a `-2` suffix do not sort by
/// time); anything else must be a run id.
fn resolve(journal: &FileJournal, run: &str, sandbox: bool) -> Result<RunId> {
    if run != "latest" {
        return RunId::parse(run);
    }
    let modified = |id: &RunId| {
        std::fs::metadata(journal.run_file(id))
            .and_then(|m| m.modified())
            .ok()
    };
    journal
        .runs()?
        .into_iter()
        .filter(|id| journal.run_file(id).exists())
        .max_by_key(|id| (modified(id), id.clone()))
        .ok_or_else(|| {
            // The other journal is where the run may be.
            let elsewhere = if sandbox {
                "sandboxed runs and `deploykit demo` are kept here: run one first, or leave out \
                 --sandbox for runs on real backends"
            } else {
                "run a deploy first; sandboxed runs and `deploykit demo` are kept apart: pass \
                 --sandbox for them"
            };
            Error::not_found(format!(
                "no deploy run in {}: {elsewhere}",
                journal.dir().join("runs").display()
            ))
        })
}

/// Keeps the report's files next to the journal when they are missing (a run killed before
/// its end, or one from before reports existed).
fn keep_missing(journal: &FileJournal, run: &RunId, report: &DeployReport) -> Result<()> {
    if journal.artifact(run, REPORT_SVG)?.is_none() {
        journal.put_artifact(run, REPORT_SVG, render_svg(report).as_bytes())?;
    }
    if journal.artifact(run, REPORT_MD)?.is_none() {
        journal.put_artifact(
            run,
            REPORT_MD,
            render_markdown(report, Some(REPORT_SVG)).as_bytes(),
        )?;
    }
    Ok(())
}

/// Opens `path` with `$BROWSER`, else `xdg-open` (`open` on macOS).
fn open(path: &Path) -> std::result::Result<(), String> {
    let opener = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".into()
            } else {
                "xdg-open".into()
            }
        });
    match std::process::Command::new(&opener)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{opener} exited with {s}")),
        Err(e) => Err(format!("could not run {opener}: {e}")),
    }
}

/// The result of `report --open`: where the report is, and whether the browser opened it.
#[derive(Debug, serde::Serialize)]
struct Opened<'a> {
    /// The run the report is of.
    run_id: &'a str,
    /// Whether the chart was opened (the command then exits 0; else 1).
    opened: bool,
    /// Why it was not, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// The Markdown report.
    markdown: &'a Path,
    /// The SVG chart, the file opened.
    svg: &'a Path,
}

/// `deploykit report RUN_ID [--open]`: `--open` exits 1 when the report could not be opened
/// (saying where it is all the same).
pub async fn run(inv: &Invocation<'_>, args: &ReportArgs) -> Result<u8> {
    let journal = inv.journal()?;
    let run = resolve(&journal, &args.run_id, inv.cli.sandbox)?;
    let mut report = DeployReport::from_records(&journal.load(&run)?)?;
    if inv.cli.sandbox {
        report = report.sandboxed();
    }
    let md_path: PathBuf = journal.artifact_file(&run, REPORT_MD);
    let svg_path: PathBuf = journal.artifact_file(&run, REPORT_SVG);
    if let Err(e) = keep_missing(&journal, &run, &report) {
        eprintln!("deploykit: warning: could not keep the report next to the journal: {e}");
    }
    if args.open {
        let failure = open(&svg_path).err();
        let opened = Opened {
            run_id: run.as_str(),
            opened: failure.is_none(),
            reason: failure.as_deref(),
            markdown: &md_path,
            svg: &svg_path,
        };
        print_result(inv.format, &opened, || match failure.as_deref() {
            None => format!(
                "opened {} (the Markdown is {})",
                svg_path.display(),
                md_path.display()
            ),
            Some(why) => format!(
                "could not open the report ({why}); it is at {} and {}",
                md_path.display(),
                svg_path.display()
            ),
        });
        return Ok(if opened.opened {
            exit::OK
        } else {
            exit::FAILED
        });
    }
    print_result(inv.format, &report, || {
        format!(
            "{}\n(chart: {})",
            render_markdown(&report, Some(REPORT_SVG)).trim_end(),
            svg_path.display()
        )
    });
    Ok(exit::OK)
}
