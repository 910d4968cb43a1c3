//! The deploy report of every demo scenario: kept next to the journal, its chart well-formed
//! XML with both series (old and new SHA) of both metrics and the gate decisions marked.

use deploykit_core::NullSink;
use deploykit_core::deploy::demo::{DemoScenario, run_demo_in};
use deploykit_core::deploy::{Journal, MemoryJournal, RunId};
use deploykit_core::report::{DeployReport, REPORT_MD, REPORT_SVG, render_svg};

struct Kept {
    markdown: String,
    svg: String,
    report: DeployReport,
}

async fn demo(scenario: DemoScenario) -> Kept {
    let journal = MemoryJournal::new();
    let out = run_demo_in(scenario, &NullSink, &journal)
        .await
        .expect("demo");
    let run = RunId::parse(&out.deploy.run_id).expect("run id");
    let text = |name: &str| {
        String::from_utf8(
            journal
                .artifact(&run, name)
                .expect("read")
                .unwrap_or_else(|| panic!("{scenario}: no {name} kept")),
        )
        .expect("utf-8")
    };
    Kept {
        markdown: text(REPORT_MD),
        svg: text(REPORT_SVG),
        report: DeployReport::from_records(&journal.load(&run).expect("load")).expect("report"),
    }
}

/// Circles (points) of the series `name` (`new-5xx`, `old-requests`, ...).
fn points(doc: &roxmltree::Document<'_>, name: &str) -> usize {
    doc.descendants()
        .filter(|n| n.attribute("data-series") == Some(name))
        .flat_map(|g| g.children().filter(|c| c.has_tag_name("circle")))
        .count()
}

/// The gate markers as (gate, verdict, label text).
fn markers(doc: &roxmltree::Document<'_>) -> Vec<(String, String, String)> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("gate-marker"))
        .map(|g| {
            let label = g
                .children()
                .find(|c| c.has_tag_name("text"))
                .and_then(|t| t.text())
                .unwrap_or_default()
                .to_string();
            assert!(
                g.children().any(|c| c.has_tag_name("line")),
                "a marker is drawn as a line"
            );
            (
                g.attribute("data-gate").unwrap_or_default().to_string(),
                g.attribute("data-verdict").unwrap_or_default().to_string(),
                label,
            )
        })
        .collect()
}

#[tokio::test]
async fn every_scenario_keeps_a_markdown_report_linking_a_well_formed_chart() {
    for scenario in DemoScenario::ALL {
        let kept = demo(scenario).await;
        let doc = roxmltree::Document::parse(&kept.svg)
            .unwrap_or_else(|e| panic!("{scenario}: the chart is not well-formed XML: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg", "{scenario}");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        assert!(
            kept.markdown.contains("](report.svg)"),
            "{scenario}: the Markdown links the chart"
        );
        assert!(
            kept.markdown.contains("## Gate verdicts") && kept.markdown.contains("## Steps"),
            "{scenario}"
        );
        // Every gate decision of the run is marked, labelled with its verdict.
        let drawn = markers(&doc);
        assert_eq!(drawn.len(), kept.report.verdicts.len(), "{scenario}");
        for v in &kept.report.verdicts {
            assert!(
                drawn.iter().any(|(g, w, l)| g == &v.gate
                    && w == &v.verdict
                    && l == &format!("{}: {}", v.gate, v.verdict)),
                "{scenario}: no marker for {v:?} in {drawn:?}"
            );
        }
        assert!(!drawn.is_empty(), "{scenario}: at least one gate decided");
        // The chart is the same when rebuilt from the journal later.
        assert_eq!(render_svg(&kept.report), kept.svg, "{scenario}");
    }
}

#[tokio::test]
async fn the_error_spike_chart_has_both_shas_on_both_metrics_and_the_rollback_marked() {
    let kept = demo(DemoScenario::ErrorSpike).await;
    let doc = roxmltree::Document::parse(&kept.svg).expect("well-formed");
    for series in ["old-5xx", "new-5xx", "old-requests", "new-requests"] {
        assert!(
            points(&doc, series) >= 1,
            "no {series} points:\n{}",
            kept.svg
        );
    }
    assert!(
        markers(&doc)
            .iter()
            .any(|(g, v, _)| g == "monitor" && v == "rollback"),
        "{:?}",
        markers(&doc)
    );
    // The new SHA's spike is the highest point of the 5xx panel: its circle sits above
    // (smaller y) every old one.
    let ys = |name: &str| -> Vec<f64> {
        doc.descendants()
            .filter(|n| n.attribute("data-series") == Some(name))
            .flat_map(|g| g.children().filter(|c| c.has_tag_name("circle")))
            .filter_map(|c| c.attribute("cy").and_then(|y| y.parse().ok()))
            .collect()
    };
    let new_top = ys("new-5xx").into_iter().fold(f64::MAX, f64::min);
    let old_top = ys("old-5xx").into_iter().fold(f64::MAX, f64::min);
    assert!(new_top < old_top, "new {new_top} vs old {old_top}");
    assert!(
        kept.markdown.contains("| monitor | **rollback** |"),
        "{}",
        kept.markdown
    );
}

#[tokio::test]
async fn the_healthy_chart_marks_every_gate_go() {
    let kept = demo(DemoScenario::Healthy).await;
    let doc = roxmltree::Document::parse(&kept.svg).expect("well-formed");
    let drawn = markers(&doc);
    for gate in ["migration", "health", "monitor"] {
        assert!(
            drawn.iter().any(|(g, v, _)| g == gate && v == "go"),
            "{gate}: {drawn:?}"
        );
    }
    assert!(points(&doc, "new-5xx") >= 2 && points(&doc, "old-5xx") >= 2);
    // The follow-up compares the new SHA with a baseline (the gate's old figures added up),
    // not with an old SHA serving then: the chart plots old points only for the gate's
    // windows, and the table calls the follow-up's old side a baseline.
    let gate_windows = kept
        .report
        .windows
        .iter()
        .filter(|w| w.watch == "monitor_gate")
        .count();
    let follow_ups: Vec<_> = kept
        .report
        .windows
        .iter()
        .filter(|w| w.watch == "follow_up")
        .collect();
    assert!(!follow_ups.is_empty() && follow_ups.iter().all(|w| w.old_is_baseline));
    assert_eq!(points(&doc, "old-5xx"), gate_windows);
    assert_eq!(points(&doc, "old-requests"), gate_windows);
    assert!(
        kept.markdown
            .lines()
            // The window rows (`| follow_up | 1 16:20:00–16:25:00 | ...`).
            .filter(|l| l.starts_with("| follow_up | ") && l.contains('–'))
            .all(|l| l.contains("| baseline `")),
        "{}",
        kept.markdown
    );
    assert!(
        kept.markdown.contains("approved by demo-reviewer"),
        "{}",
        kept.markdown
    );
    assert!(
        kept.markdown.contains("**Outcome: deployed**"),
        "{}",
        kept.markdown
    );
}
