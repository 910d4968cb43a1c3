//! Rendering: results and events as human text or JSON lines.

use std::io::Write;

use deploykit_core::report::duration_text;
use deploykit_core::{Error, Event, EventSink};
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

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
            Format::Json => json_line(&event)
                .unwrap_or_else(|e| format!("{{\"event\":\"unprintable\",\"error\":\"{e}\"}}")),
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

/// A JSON formatter that writes every timestamp (a string that is a whole RFC 3339 date and
/// time, as chrono serialises one) in whole seconds, in UTC, with `Z`: the clock of a real
/// run has nanoseconds (`2026-12-07T23:32:31.201642171Z`), which `jq fromdateiso8601` refuses,
/// and the sandbox's has none. Everything else is written as the inner formatter writes it.
///
/// Only the printed JSON changes: the journal keeps the times as recorded.
struct WholeSeconds<F> {
    inner: F,
    /// The text of the string being written, while it may still be a timestamp (one with an
    /// escape in it is not, and is written as it goes).
    string: Option<String>,
}

impl<F> WholeSeconds<F> {
    fn new(inner: F) -> Self {
        WholeSeconds {
            inner,
            string: None,
        }
    }
}

/// `text` in whole seconds (`2026-12-07T23:32:31Z`), UTC, when it is an RFC 3339 date and
/// time; `None` when it is not one, or already written so.
fn whole_second_timestamp(text: &str) -> Option<String> {
    // A date and time, not a sentence that happens to parse: `YYYY-MM-DDTHH:MM:SS...`.
    let shaped = text.len() >= 20
        && text.as_bytes().get(10) == Some(&b'T')
        && text.as_bytes()[..4].iter().all(u8::is_ascii_digit);
    if !shaped {
        return None;
    }
    let at = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    let whole = at
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    (whole != text).then_some(whole)
}

impl<F: Formatter> Formatter for WholeSeconds<F> {
    fn begin_string<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.string = Some(String::new());
        self.inner.begin_string(writer)
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        match &mut self.string {
            Some(text) => {
                text.push_str(fragment);
                Ok(())
            }
            None => self.inner.write_string_fragment(writer, fragment),
        }
    }

    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: serde_json::ser::CharEscape,
    ) -> std::io::Result<()> {
        if let Some(text) = self.string.take() {
            self.inner.write_string_fragment(writer, &text)?;
        }
        self.inner.write_char_escape(writer, char_escape)
    }

    fn end_string<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        if let Some(text) = self.string.take() {
            let whole = whole_second_timestamp(&text);
            self.inner
                .write_string_fragment(writer, whole.as_deref().unwrap_or(&text))?;
        }
        self.inner.end_string(writer)
    }

    // The layout is the inner formatter's (a pretty one indents).

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.begin_array(writer)
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.inner.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.inner.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.begin_object(writer)
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.inner.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.inner.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.inner.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.inner.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        self.inner.end_object_value(writer)
    }
}

/// `value` as JSON written with `formatter`, timestamps in whole seconds ([`WholeSeconds`]).
fn json_with<T: serde::Serialize + ?Sized, F: Formatter>(
    value: &T,
    formatter: F,
) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, WholeSeconds::new(formatter));
    value.serialize(&mut ser)?;
    // serde_json writes only valid UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `value` as one line of JSON (an event, an error document, a JSON-lines row), every
/// timestamp in whole seconds, UTC (`2026-12-07T23:32:31Z`).
pub fn json_line<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    json_with(value, CompactFormatter)
}

/// `value` as indented JSON (a command's result), every timestamp in whole seconds, UTC.
pub fn json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    json_with(value, PrettyFormatter::new())
}

/// Prints `value` as one line of JSON on stdout ([`json_line`]). False when stdout is closed
/// ([`print_line`]).
pub fn print_json_line<T: serde::Serialize + ?Sized>(value: &T) -> bool {
    match json_line(value) {
        Ok(line) => print_line(&line),
        Err(e) => {
            eprintln!("deploykit: could not print the result as JSON: {e}");
            true
        }
    }
}

/// The JSON document of an error, printed on stdout with `--json` when a command fails:
/// `{"error": {"kind", "message", "temporary", "context", "exit_code"}}`. `kind` is the
/// error's kind (`error.kind().as_str()`) unless a command says its failure otherwise (as
/// `changelog` does); `message` is the whole message, context included, as the text says it;
/// `context` has the error's context pairs (`run`, `step`, `resume`, `group`, `path`, ...) as
/// an object of strings, the first value of a key repeated; `exit_code` is the process's.
pub fn error_document(kind: &str, error: &Error, exit_code: u8) -> serde_json::Value {
    let mut context = serde_json::Map::new();
    for (key, value) in error.context() {
        context
            .entry(key.clone())
            .or_insert_with(|| serde_json::Value::String(value.clone()));
    }
    serde_json::json!({
        "error": {
            "kind": kind,
            "message": error.to_string(),
            "temporary": error.is_temporary(),
            "context": context,
            "exit_code": exit_code,
        }
    })
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
        Format::Json => match json_pretty(value) {
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
    fn printed_json_has_timestamps_in_whole_seconds_and_is_otherwise_serde_jsons() {
        #[derive(serde::Serialize)]
        struct Doc {
            zulu: chrono::DateTime<chrono::Utc>,
            whole: &'static str,
            offset: &'static str,
            quoted: &'static str,
            prose: &'static str,
            date: &'static str,
            nested: Vec<chrono::DateTime<chrono::Utc>>,
        }
        let at = "2026-12-07T23:32:31.201642171Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .expect("time");
        let doc = Doc {
            zulu: at,
            whole: "2026-11-24T15:00:00Z",
            offset: "2026-12-08T00:32:31.5+01:00",
            quoted: "\"2026-12-07T23:32:31.2Z\" is a time",
            prose: "at 2026-12-07T23:32:31.201642171Z the lock expired",
            date: "2026-12-07",
            nested: vec![at],
        };
        let line = json_line(&doc).expect("json");
        assert_eq!(
            line,
            "{\"zulu\":\"2026-12-07T23:32:31Z\",\"whole\":\"2026-11-24T15:00:00Z\",\
             \"offset\":\"2026-12-07T23:32:31Z\",\
             \"quoted\":\"\\\"2026-12-07T23:32:31.2Z\\\" is a time\",\
             \"prose\":\"at 2026-12-07T23:32:31.201642171Z the lock expired\",\
             \"date\":\"2026-12-07\",\"nested\":[\"2026-12-07T23:32:31Z\"]}"
        );
        // Pretty: serde_json's layout and field order, only the times changed.
        let expected = serde_json::to_string_pretty(&doc)
            .expect("json")
            .replace(
                "\"2026-12-07T23:32:31.201642171Z\"",
                "\"2026-12-07T23:32:31Z\"",
            )
            .replace("2026-12-08T00:32:31.5+01:00", "2026-12-07T23:32:31Z");
        assert_eq!(json_pretty(&doc).expect("json"), expected);
    }

    #[test]
    fn an_error_document_has_the_context_as_an_object_and_the_exit_code() {
        let error = Error::interrupted("SIGTERM stopped run R during its preflight step")
            .with("run", "R")
            .with("step", "preflight")
            .with("resume", "deploykit resume R")
            .with("run", "a second value");
        let doc = error_document(error.kind().as_str(), &error, 143);
        assert_eq!(
            doc,
            serde_json::json!({"error": {
                "kind": "interrupted",
                "message": error.to_string(),
                "temporary": false,
                "context": {"run": "R", "step": "preflight", "resume": "deploykit resume R"},
                "exit_code": 143,
            }})
        );
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
