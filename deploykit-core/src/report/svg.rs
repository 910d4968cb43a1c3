//! [`render_svg`]: the chart of a run, hand-written SVG. Two panels over the run's time, the
//! 5xx rate (%) above and the request rate (requests per minute) below, each with the old SHA
//! (blue, dashed, hollow points) and the new SHA (orange, solid, filled points); the monitor
//! windows shaded (red when judged bad); the gate decisions as vertical lines labelled
//! `gate: verdict`; ticks with units, a legend, a white background, 960 px wide.
//!
//! Elements carry `class` and `data-*` attributes (`data-series="new-5xx"`,
//! `data-gate="monitor"`, `data-verdict="rollback"`) so tests and tools can find them.

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};

use crate::deploy::monitor_verdict::WindowJudgement;
use crate::report::axis::{Scale, nice_step, tick_label, time_ticks, value_ticks};
use crate::report::model::{DeployReport, GateMarker, ReportWindow, SeriesPoint};

const WIDTH: f64 = 960.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 24.0;
const PANEL_HEIGHT: f64 = 180.0;
const PANEL_GAP: f64 = 46.0;
const LABEL_ROW: f64 = 16.0;
const FONT: &str = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";
const OLD_COLOUR: &str = "#1f6feb";
const NEW_COLOUR: &str = "#e36209";
const TEXT: &str = "#24292f";
const MUTED: &str = "#57606a";
const GRID: &str = "#d8dee4";

/// Escapes text for XML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn verdict_colour(verdict: &str) -> &'static str {
    match verdict {
        "go" => "#1a7f37",
        "inconclusive" => "#9a6700",
        _ => "#cf222e",
    }
}

/// One metric panel's description.
struct Metric {
    /// `5xx` or `requests` (in `data-series`).
    key: &'static str,
    /// The y axis title, with its unit.
    title: &'static str,
    /// The value a point has in this panel.
    value: fn(&SeriesPoint, &ReportWindow) -> f64,
    /// Smallest top of the y axis (a flat 0 still gets an axis).
    min_top: f64,
}

const METRICS: [Metric; 2] = [
    Metric {
        key: "5xx",
        title: "5xx rate (%)",
        value: |p, _| p.error_rate * 100.0,
        min_top: 0.1,
    },
    Metric {
        key: "requests",
        title: "requests / min",
        value: |p, w| p.requests as f64 / w.minutes(),
        min_top: 10.0,
    },
];

/// The chart of `report` as an SVG document.
pub fn render_svg(report: &DeployReport) -> String {
    let (start, end) = time_range(report);
    let plot_right = WIDTH - RIGHT;
    let x = Scale {
        from: 0.0,
        to: secs(start, end),
        px_from: LEFT,
        px_to: plot_right,
    };
    let xpx = |t: DateTime<Utc>| x.px(secs(start, t));
    let label_rows = place_labels(&report.markers, &xpx);
    let rows = label_rows.iter().map(|(_, r)| r + 1).max().unwrap_or(0);
    let band_top = 64.0;
    let first_panel = band_top + rows as f64 * LABEL_ROW + 10.0;
    let panels: Vec<f64> = (0..METRICS.len())
        .map(|i| first_panel + i as f64 * (PANEL_HEIGHT + PANEL_GAP))
        .collect();
    let plot_bottom = panels.last().copied().unwrap_or(first_panel) + PANEL_HEIGHT;
    let legend_y = plot_bottom + 58.0;
    let height = legend_y + 22.0;

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" font-size="12" fill="{TEXT}">"#
    );
    let _ = write!(
        s,
        "<title>{}</title>",
        esc(&format!(
            "Deploy report chart: {} to {}, run {}",
            report.app, report.env, report.run_id
        ))
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>"##
    );
    header(&mut s, report, start);

    for (metric, top) in METRICS.iter().zip(&panels) {
        panel(&mut s, report, metric, *top, &x, &xpx);
    }
    time_axis(&mut s, start, end, &xpx, &panels, plot_bottom);
    markers(&mut s, &label_rows, &xpx, band_top, plot_bottom);
    legend(&mut s, report, legend_y);
    s.push_str("</svg>\n");
    s
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

/// The run's span: its start to its last record, window or gate decision (a minute at least).
fn time_range(report: &DeployReport) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = report
        .windows
        .iter()
        .map(|w| w.start)
        .chain(report.markers.iter().map(|m| m.at))
        .chain([report.started_at])
        .min()
        .unwrap_or(report.started_at);
    let end = report
        .windows
        .iter()
        .map(|w| w.end)
        .chain(report.markers.iter().map(|m| m.at))
        .chain([report.ended_at])
        .max()
        .unwrap_or(report.ended_at)
        .max(start + Duration::minutes(1));
    (start, end)
}

fn header(s: &mut String, report: &DeployReport, start: DateTime<Utc>) {
    let title = format!(
        "{} → {}: {}{}",
        report.app,
        report.env,
        report.status_word(),
        report
            .rc
            .as_ref()
            .map(|r| format!(" (RC {r})"))
            .unwrap_or_default()
    );
    let _ = write!(
        s,
        r#"<text x="{LEFT}" y="26" font-size="17" font-weight="bold">{}</text>"#,
        esc(&title)
    );
    let sub = format!(
        "run {} · started {} · monitor windows per SHA, gate decisions marked",
        report.run_id,
        start.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = write!(
        s,
        r#"<text x="{LEFT}" y="46" fill="{MUTED}">{}</text>"#,
        esc(&sub)
    );
}

fn panel(
    s: &mut String,
    report: &DeployReport,
    metric: &Metric,
    top: f64,
    x: &Scale,
    xpx: &dyn Fn(DateTime<Utc>) -> f64,
) {
    let bottom = top + PANEL_HEIGHT;
    let values = report.windows.iter().flat_map(|w| {
        [w.old_in_window(), w.new.as_ref()]
            .into_iter()
            .flatten()
            .map(move |p| (metric.value)(p, w))
    });
    let max = values.fold(metric.min_top, f64::max);
    let ticks = value_ticks(max, 4);
    let step = nice_step(max, 4);
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let y = Scale {
        from: 0.0,
        to: top_value,
        px_from: bottom,
        px_to: top,
    };
    let _ = write!(s, r#"<g class="panel" data-metric="{}">"#, metric.key);
    // Monitor windows, shaded; bad ones in red.
    for w in &report.windows {
        let fill = if w.judgement == WindowJudgement::Bad {
            "#ffebe9"
        } else {
            "#f3f6f9"
        };
        let (x0, x1) = (xpx(w.start), xpx(w.end));
        let _ = write!(
            s,
            r#"<rect class="window" x="{x0:.1}" y="{top:.1}" width="{:.1}" height="{PANEL_HEIGHT:.1}" fill="{fill}"/>"#,
            (x1 - x0).max(1.0)
        );
    }
    // Grid, y ticks and labels.
    for t in &ticks {
        let py = y.px(*t);
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="{GRID}" stroke-width="1"/>"#,
            x.px_to
        );
        let _ = write!(
            s,
            r#"<line x1="{:.1}" y1="{py:.1}" x2="{LEFT}" y2="{py:.1}" stroke="{MUTED}"/>"#,
            LEFT - 5.0
        );
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="{MUTED}">{}</text>"#,
            LEFT - 8.0,
            py + 4.0,
            tick_label(*t, step)
        );
    }
    // Axes.
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="{top:.1}" x2="{LEFT}" y2="{bottom:.1}" stroke="{TEXT}"/><line x1="{LEFT}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="{TEXT}"/>"#,
        x.px_to
    );
    let mid = (top + bottom) / 2.0;
    let _ = write!(
        s,
        r#"<text x="20" y="{mid:.1}" text-anchor="middle" transform="rotate(-90 20 {mid:.1})" font-weight="bold">{}</text>"#,
        esc(metric.title)
    );
    if report.windows.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{mid:.1}" text-anchor="middle" fill="{MUTED}">no monitor windows: the run ended before the monitor gate watched</text>"#,
            (LEFT + x.px_to) / 2.0
        );
    }
    for (which, colour, pick) in [
        (
            "old",
            OLD_COLOUR,
            ReportWindow::old_in_window as fn(&ReportWindow) -> Option<&SeriesPoint>,
        ),
        ("new", NEW_COLOUR, |w: &ReportWindow| w.new.as_ref()),
    ] {
        series(s, report, metric, which, colour, pick, &y, xpx);
    }
    s.push_str("</g>");
}

#[allow(clippy::too_many_arguments)]
fn series(
    s: &mut String,
    report: &DeployReport,
    metric: &Metric,
    which: &str,
    colour: &str,
    pick: fn(&ReportWindow) -> Option<&SeriesPoint>,
    y: &Scale,
    xpx: &dyn Fn(DateTime<Utc>) -> f64,
) {
    let _ = write!(
        s,
        r#"<g class="series" data-series="{which}-{}" stroke="{colour}" fill="{colour}">"#,
        metric.key
    );
    // Lines join consecutive windows of one watch; a missing window or another watch breaks
    // the line (the follow-up an hour later is not a continuation of the gate).
    let mut segment: Vec<(f64, f64)> = Vec::new();
    let mut last_watch: Option<&str> = None;
    let dash = if which == "old" {
        r#" stroke-dasharray="6 4""#
    } else {
        ""
    };
    let flush = |s: &mut String, seg: &mut Vec<(f64, f64)>| {
        if seg.len() > 1 {
            let pts: Vec<String> = seg.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
            let _ = write!(
                s,
                r#"<polyline points="{}" fill="none" stroke-width="2.5"{dash}/>"#,
                pts.join(" ")
            );
        }
        seg.clear();
    };
    let mut points = Vec::new();
    for w in &report.windows {
        if last_watch != Some(w.watch.as_str()) {
            flush(s, &mut segment);
            last_watch = Some(w.watch.as_str());
        }
        match pick(w) {
            Some(p) => {
                let v = (metric.value)(p, w);
                let pt = (xpx(w.middle()), y.px(v));
                segment.push(pt);
                points.push((pt, v, p.sha.short().to_string()));
            }
            None => flush(s, &mut segment),
        }
    }
    flush(s, &mut segment);
    for ((px, py), v, sha) in points {
        let fill = if which == "old" { "#ffffff" } else { colour };
        let _ = write!(
            s,
            r#"<circle cx="{px:.1}" cy="{py:.1}" r="4" fill="{fill}" stroke-width="2"><title>{which} SHA {}: {v:.3}</title></circle>"#,
            esc(&sha)
        );
    }
    s.push_str("</g>");
}

fn time_axis(
    s: &mut String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    xpx: &dyn Fn(DateTime<Utc>) -> f64,
    panels: &[f64],
    plot_bottom: f64,
) {
    let ticks = time_ticks(start, end, 9);
    for t in &ticks {
        let px = xpx(*t);
        for top in panels {
            let bottom = top + PANEL_HEIGHT;
            let _ = write!(
                s,
                r#"<line x1="{px:.1}" y1="{bottom:.1}" x2="{px:.1}" y2="{:.1}" stroke="{MUTED}"/>"#,
                bottom + 5.0
            );
            let _ = write!(
                s,
                r#"<text x="{px:.1}" y="{:.1}" text-anchor="middle" fill="{MUTED}">{}</text>"#,
                bottom + 18.0,
                t.format("%H:%M")
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-weight="bold">time (UTC)</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        plot_bottom + 36.0
    );
}

/// Each marker with the row its label goes in: the first row where it does not overlap an
/// earlier label.
fn place_labels<'a>(
    markers: &'a [GateMarker],
    xpx: &dyn Fn(DateTime<Utc>) -> f64,
) -> Vec<(&'a GateMarker, usize)> {
    let mut rows: Vec<f64> = Vec::new(); // right edge of the last label in each row
    let mut placed = Vec::new();
    for m in markers {
        let (x0, x1) = label_span(m, xpx(m.at));
        let row = match rows.iter().position(|right| *right + 6.0 <= x0) {
            Some(r) => r,
            None => {
                rows.push(f64::MIN);
                rows.len() - 1
            }
        };
        rows[row] = x1;
        placed.push((m, row));
    }
    placed
}

/// The label's horizontal extent: to the right of its line, or to the left near the edge.
fn label_span(m: &GateMarker, x: f64) -> (f64, f64) {
    let w = m.label().chars().count() as f64 * 6.8;
    if x + 4.0 + w > WIDTH - 4.0 {
        (x - 4.0 - w, x)
    } else {
        (x, x + 4.0 + w)
    }
}

fn markers(
    s: &mut String,
    placed: &[(&GateMarker, usize)],
    xpx: &dyn Fn(DateTime<Utc>) -> f64,
    band_top: f64,
    plot_bottom: f64,
) {
    for (m, row) in placed {
        let x = xpx(m.at);
        let colour = verdict_colour(&m.verdict);
        let label_y = band_top + *row as f64 * LABEL_ROW + 11.0;
        let (_, x1) = label_span(m, x);
        let (anchor, tx) = if (x1 - x).abs() < f64::EPSILON {
            ("end", x - 4.0)
        } else {
            ("start", x + 4.0)
        };
        let _ = write!(
            s,
            r#"<g class="gate-marker" data-gate="{}" data-verdict="{}" stroke="{colour}" fill="{colour}">"#,
            esc(&m.gate),
            esc(&m.verdict)
        );
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{plot_bottom:.1}" stroke-width="1.5" stroke-dasharray="4 3"/>"#,
            label_y - 10.0
        );
        let _ = write!(
            s,
            r#"<text x="{tx:.1}" y="{label_y:.1}" text-anchor="{anchor}" stroke="none" font-weight="bold">{}</text>"#,
            esc(&m.label())
        );
        s.push_str("</g>");
    }
}

fn legend(s: &mut String, report: &DeployReport, y: f64) {
    let same = matches!((&report.old_sha, &report.new_sha), (Some(o), Some(n)) if o.matches(n));
    // A config recycle judged side by side compares instances, not SHAs.
    let by_instance = report.windows.iter().any(|w| w.by_instance);
    let (old_side, new_side) = if by_instance {
        ("old instances", "new instances")
    } else {
        ("old SHA", "new SHA")
    };
    let old = match (&report.old_sha, same && !by_instance) {
        (_, true) => "before the recycle (baseline)".to_string(),
        (Some(o), false) => format!("{old_side} {}", o.short()),
        (None, false) => old_side.to_string(),
    };
    let new = report
        .new_sha
        .as_ref()
        .map(|n| format!("{new_side} {}", n.short()))
        .unwrap_or_else(|| new_side.into());
    let mut x = LEFT;
    let _ = write!(
        s,
        r##"<g class="legend"><line x1="{x}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="{OLD_COLOUR}" stroke-width="2.5" stroke-dasharray="6 4"/><circle cx="{}" cy="{:.1}" r="4" fill="#ffffff" stroke="{OLD_COLOUR}" stroke-width="2"/><text x="{}" y="{:.1}">{}</text>"##,
        y - 4.0,
        x + 28.0,
        y - 4.0,
        x + 14.0,
        y - 4.0,
        x + 34.0,
        y,
        esc(&old)
    );
    x += 40.0 + old.chars().count() as f64 * 7.0 + 20.0;
    let _ = write!(
        s,
        r#"<line x1="{x}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="{NEW_COLOUR}" stroke-width="2.5"/><circle cx="{}" cy="{:.1}" r="4" fill="{NEW_COLOUR}" stroke="{NEW_COLOUR}" stroke-width="2"/><text x="{}" y="{:.1}">{}</text>"#,
        y - 4.0,
        x + 28.0,
        y - 4.0,
        x + 14.0,
        y - 4.0,
        x + 34.0,
        y,
        esc(&new)
    );
    x += 40.0 + new.chars().count() as f64 * 7.0 + 20.0;
    for (word, colour) in [
        ("go", verdict_colour("go")),
        ("rollback / failed", verdict_colour("rollback")),
        ("inconclusive", verdict_colour("inconclusive")),
    ] {
        let _ = write!(
            s,
            r#"<line x1="{x}" y1="{:.1}" x2="{x}" y2="{:.1}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3"/><text x="{}" y="{y:.1}">gate {word}</text>"#,
            y - 12.0,
            y + 3.0,
            x + 6.0
        );
        x += 20.0 + (word.chars().count() + 5) as f64 * 7.0;
    }
    let _ = write!(
        s,
        r##"<rect x="{x}" y="{:.1}" width="14" height="12" fill="#ffebe9" stroke="{GRID}"/><text x="{}" y="{y:.1}">window judged bad</text></g>"##,
        y - 10.0,
        x + 20.0
    );
}
