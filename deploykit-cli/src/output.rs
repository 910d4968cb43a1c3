//! Rendering: results and events as human text or JSON lines.

use std::io::Write;

use deploykit_core::report::duration_text;
use deploykit_core::{Event, EventSink};

use crate::waiting_lines::WaitingLines;

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text for people.
    Human,
    /// JSON: events as JSON lines on stderr, the result as one JSON document on stdout.
    Json,
}

/// Prints workflow events as progress on stderr (as text, waits are thinned out by
/// [`WaitingLines`]; as JSON, every event).
#[derive(Debug)]
pub struct TerminalSink {
    format: Format,
    waiting: WaitingLines,
    /// The explanation of the last gate verdict printed: the gate step's end, which repeats
    /// it, is printed without it.
    last_verdict: std::sync::Mutex<Option<String>>,
}

impl TerminalSink {
    /// A sink printing in `format`.
    pub fn new(format: Format) -> Self {
        TerminalSink {
            format,
            waiting: WaitingLines::default(),
            last_verdict: std::sync::Mutex::new(None),
        }
    }
}

/// The mark of a step's end, chosen from its outcome word (`StepOutcome::word`): ✓ when the
/// step did its work (`ok`, a `go` verdict), ✗ when it failed, was refused or calls for a
/// rollback (`error`, `failed`, `refused`, `rollback`), `–` when it was skipped, `?` when a
/// person must decide (`awaiting_decision`, `inconclusive`), and `•` for a word not known here
/// (never ✓: a step is not shown as done unless it says so).
pub fn step_end_mark(outcome: &str) -> char {
    match outcome {
        "ok" | "go" => '✓',
        "error" | "failed" | "refused" | "rollback" => '✗',
        "skipped" => '–',
        "awaiting_decision" | "inconclusive" => '?',
        _ => '•',
    }
}

/// One line of progress for an event.
pub fn describe(event: &Event) -> String {
    match event {
        Event::StepStarted { at, step } => format!("{} ▶ {step}", at.format("%H:%M:%S")),
        Event::StepFinished {
            at,
            step,
            outcome,
            detail,
        } => {
            format!(
                "{} {} {step}: {outcome} {detail}",
                at.format("%H:%M:%S"),
                step_end_mark(outcome)
            )
        }
        Event::Waiting {
            at,
            what,
            elapsed_secs,
            timeout_secs,
        } => format!(
            "{} … waiting for {what} ({} of {})",
            at.format("%H:%M:%S"),
            duration_text(i64::try_from(*elapsed_secs).unwrap_or(i64::MAX)),
            duration_text(i64::try_from(*timeout_secs).unwrap_or(i64::MAX))
        ),
        Event::Action {
            at,
            description,
            dry_run,
        } => {
            let tag = if *dry_run { "would" } else { "did" };
            format!("{} → {tag}: {description}", at.format("%H:%M:%S"))
        }
        Event::Info { at, message } => format!("{}   {message}", at.format("%H:%M:%S")),
        Event::Warning { at, message } => format!("{} ! {message}", at.format("%H:%M:%S")),
        Event::GateVerdict {
            at,
            gate,
            verdict,
            explanation,
        } => {
            format!(
                "{} ◆ {gate} gate: {verdict} — {explanation}",
                at.format("%H:%M:%S")
            )
        }
        other => format!("{other:?}"),
    }
}

impl TerminalSink {
    /// The line of `event`, except that a step's end repeating the gate verdict just printed
    /// (its explanation, often several hundred characters) is printed without it.
    fn without_repeat(&self, event: &Event) -> String {
        let Ok(mut last) = self.last_verdict.lock() else {
            return describe(event);
        };
        match event {
            Event::GateVerdict { explanation, .. } => {
                *last = Some(explanation.clone());
                describe(event)
            }
            Event::StepFinished {
                at,
                step,
                outcome,
                detail,
            } if last.as_deref() == Some(detail.as_str()) => {
                *last = None;
                describe(&Event::StepFinished {
                    at: *at,
                    step: step.clone(),
                    outcome: outcome.clone(),
                    detail: "(the verdict above)".into(),
                })
            }
            _ => describe(event),
        }
    }
}

impl EventSink for TerminalSink {
    fn emit(&self, event: Event) {
        let line = match self.format {
            Format::Human => {
                match &event {
                    Event::Waiting {
                        what, elapsed_secs, ..
                    } => {
                        if !self.waiting.should_print(what, *elapsed_secs) {
                            return;
                        }
                    }
                    _ => self.waiting.reset(),
                }
                self.without_repeat(&event)
            }
            Format::Json => serde_json::to_string(&event)
                .unwrap_or_else(|e| format!("{{\"event\":\"unprintable\",\"error\":\"{e}\"}}")),
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

/// Writes `text` and a newline to stdout. False when stdout is closed (the reader of a pipe
/// went away: `deploykit config show | head`), so a caller that only prints can stop; any
/// other write error is said on stderr. Never panics, unlike `println!` on a closed pipe.
pub fn print_line(text: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            eprintln!("deploykit: could not write to stdout: {e}");
            false
        }
    }
}

/// Prints a result: JSON on stdout in JSON mode, else the human text. False when stdout is
/// closed ([`print_line`]).
pub fn print_result<T: serde::Serialize>(
    format: Format,
    value: &T,
    human: impl FnOnce() -> String,
) -> bool {
    match format {
        Format::Json => match serde_json::to_string_pretty(value) {
            Ok(s) => print_line(&s),
            Err(e) => {
                eprintln!("deploykit: could not print the result as JSON: {e}");
                true
            }
        },
        Format::Human => {
            // Renderers end their lines or not; the result ends with exactly one newline.
            let text = human();
            let text = text.trim_end_matches('\n');
            text.is_empty() || print_line(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use deploykit_core::deploy::state::StepOutcome;

    use super::*;

    fn outcome(json: serde_json::Value) -> StepOutcome {
        serde_json::from_value(json).expect("a step outcome")
    }

    fn finished(outcome: &StepOutcome) -> String {
        describe(&Event::StepFinished {
            at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 24, 15, 0, 0)
                .single()
                .expect("time"),
            step: "preflight".into(),
            outcome: outcome.word().into(),
            detail: "the detail".into(),
        })
    }

    #[test]
    fn a_step_end_is_marked_by_how_the_step_ended() {
        use serde_json::json;
        for (o, mark) in [
            (json!({"outcome": "done"}), '✓'),
            (
                json!({"outcome": "verdict", "verdict": "go", "explanation": "x"}),
                '✓',
            ),
            (
                json!({"outcome": "failed", "kind": "not_found", "message": "x"}),
                '✗',
            ),
            (json!({"outcome": "refused", "reason": "x"}), '✗'),
            (json!({"outcome": "gate_failed", "reason": "x"}), '✗'),
            (
                json!({"outcome": "verdict", "verdict": "rollback", "explanation": "x"}),
                '✗',
            ),
            (json!({"outcome": "skipped"}), '–'),
            (json!({"outcome": "await_decision", "question": "x"}), '?'),
            (
                json!({"outcome": "verdict", "verdict": "inconclusive", "explanation": "x"}),
                '?',
            ),
        ] {
            let o = outcome(o);
            let line = finished(&o);
            assert_eq!(
                line,
                format!("15:00:00 {mark} preflight: {} the detail", o.word()),
                "{o:?}"
            );
        }
        // A word this front end does not know is never shown as done.
        assert_eq!(step_end_mark("something_new"), '•');
    }

    #[test]
    fn a_step_end_does_not_repeat_the_verdict_just_printed() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 24, 15, 20, 0)
            .single()
            .expect("time");
        let sink = TerminalSink::new(Format::Human);
        let explanation = "2 good windows in a row (needed 2); last: ...".to_string();
        let verdict = sink.without_repeat(&Event::GateVerdict {
            at,
            gate: "monitor".into(),
            verdict: "go".into(),
            explanation: explanation.clone(),
        });
        assert!(verdict.ends_with(&explanation), "{verdict}");
        let end = |detail: &str| Event::StepFinished {
            at,
            step: "monitor_gate".into(),
            outcome: "go".into(),
            detail: detail.into(),
        };
        assert_eq!(
            sink.without_repeat(&end(&explanation)),
            "15:20:00 ✓ monitor_gate: go (the verdict above)"
        );
        // Any other detail is shown, and the verdict is not dropped twice.
        assert!(
            sink.without_repeat(&end("prod-idp: 4 kept"))
                .ends_with("prod-idp: 4 kept")
        );
        assert!(
            sink.without_repeat(&end(&explanation))
                .ends_with(&explanation)
        );
    }
}
