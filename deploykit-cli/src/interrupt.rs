//! Ctrl-C and SIGTERM: the command stops at its next await point and the person is told what
//! stopped and how to go on.
//!
//! A journaled run (deploy, rollback, resume) is then left exactly as a killed process would
//! leave it: the step under way is started and not finished, nothing is rolled back, and the
//! deploy lock stays with the run, so `deploykit resume RUN` runs that step again. What a
//! signal adds over a kill is the message naming the run, the step and the resume command,
//! and the certainty that no journal record was cut in half: records are written between
//! await points, so the command can only stop between them.

use std::future::Future;

use deploykit_core::{Error, Result};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::exit;
use crate::run_tracker::RunTracker;

/// A signal that stops the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C at the terminal.
    Interrupt,
    /// SIGTERM: a supervisor (a CI job cancelled, a service stopped).
    Terminate,
}

impl Signal {
    /// For people.
    pub fn describe(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C (SIGINT)",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// The exit code after stopping on this signal (128 + its number, as shells report it).
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => exit::INTERRUPTED,
            Signal::Terminate => exit::TERMINATED,
        }
    }
}

/// How a stopped command is described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopping {
    /// It only reads (or simulates): stopping it is all there is to say.
    ReadOnly,
    /// It changes things outside deploykit: a stop part way may leave a change half made;
    /// `hint` says how to finish it, where there is a known way.
    Changes {
        /// How to finish what the command had started.
        hint: Option<&'static str>,
    },
}

/// Runs `command` until it ends, or until SIGINT or SIGTERM stops it. Returns its result (an
/// Interrupted error when a signal stopped it) and the signal, if one did.
pub async fn run_until_signalled<F>(
    command: F,
    stopping: Stopping,
    tracker: &RunTracker,
) -> (Result<u8>, Option<Signal>)
where
    F: Future<Output = Result<u8>>,
{
    // Listening starts before the command does, so that no signal finds the default action.
    let mut signals = match listen() {
        Ok(signals) => signals,
        Err(e) => return (Err(e), None),
    };
    until_stopped(command, stopping, &mut signals, tracker).await
}

/// SIGINT and SIGTERM, as they arrive.
#[cfg(unix)]
fn listen() -> Result<UnboundedReceiver<Signal>> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen_to = |kind: SignalKind, name: &str| {
        signal(kind).map_err(|e| {
            Error::backend(format!(
                "could not listen for {name}: {e}; without it a Ctrl-C would stop the command \
                 without saying how to go on"
            ))
        })
    };
    let mut interrupt = listen_to(SignalKind::interrupt(), "SIGINT")?;
    let mut terminate = listen_to(SignalKind::terminate(), "SIGTERM")?;
    let (sender, receiver) = unbounded_channel();
    tokio::spawn(async move {
        loop {
            let signal = tokio::select! {
                Some(()) = interrupt.recv() => Signal::Interrupt,
                Some(()) = terminate.recv() => Signal::Terminate,
                else => return,
            };
            if sender.send(signal).is_err() {
                return;
            }
        }
    });
    Ok(receiver)
}

/// Ctrl-C, as it arrives (there is no SIGTERM to listen for here).
#[cfg(not(unix))]
fn listen() -> Result<UnboundedReceiver<Signal>> {
    let (sender, receiver) = unbounded_channel();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if sender.send(Signal::Interrupt).is_err() {
                return;
            }
        }
    });
    Ok(receiver)
}

/// Drives `command` until it ends or the first of `signals` arrives; then the command is
/// dropped where it waits (its next await point) and the error says what stopped. A command
/// that is ready when the signal comes keeps its own result.
pub async fn until_stopped<F>(
    command: F,
    stopping: Stopping,
    signals: &mut UnboundedReceiver<Signal>,
    tracker: &RunTracker,
) -> (Result<u8>, Option<Signal>)
where
    F: Future<Output = Result<u8>>,
{
    tokio::select! {
        biased;
        result = command => (result, None),
        Some(signal) = signals.recv() => (Err(stopped_by(signal, stopping, tracker)), Some(signal)),
    }
}

/// What a person needs after `signal` stopped the command.
fn stopped_by(signal: Signal, stopping: Stopping, tracker: &RunTracker) -> Error {
    match tracker.progress() {
        // A sandboxed run (nothing outside deploykit changes): its world is gone with it.
        Some(progress) if matches!(stopping, Stopping::ReadOnly) => Error::interrupted(format!(
            "{} stopped sandboxed run {}: its simulated world is gone with the command, so it \
             cannot be resumed; run it again",
            signal.describe(),
            progress.run
        )),
        Some(progress) => {
            let at = match progress.step {
                Some(step) => format!("during its {step} step"),
                None => "between steps".to_string(),
            };
            let release = match &progress.lock {
                Some((env, app)) => format!("deploykit lock release {env} {app} {}", progress.run),
                None => format!("deploykit lock release ENV APP {}", progress.run),
            };
            let done = if progress.rolling_back {
                "the rollback is part way done (resume finishes it)"
            } else {
                "nothing was rolled back"
            };
            progress.run.resumable(
                Error::interrupted(format!(
                    "{} stopped run {} {at}: {done}, and the deploy lock stays with the run \
                     until it is resumed, released (`{release}`) or expires",
                    signal.describe(),
                    progress.run
                )),
                progress.step,
            )
        }
        None => Error::interrupted(match stopping {
            Stopping::ReadOnly => format!("{} stopped the command", signal.describe()),
            Stopping::Changes { hint } => format!(
                "{} stopped the command before it finished; what it had already done is not \
                 undone{}",
                signal.describe(),
                hint.map(|h| format!(": {h}")).unwrap_or_default()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use deploykit_core::config::EffectiveConfig;
    use deploykit_core::deploy::{
        self, DeployRequest, FinalStatus, Journal, MemoryJournal, Record, StepName,
    };
    use deploykit_core::events::NullSink;
    use deploykit_core::ports::{MetricsWindow, Monitor, MonitorSample};
    use deploykit_core::{DeployKind, EnvName, ErrorKind, RoleName};
    use tokio::sync::oneshot;

    use super::*;

    /// A command that changes things, with no hint.
    const CHANGES: Stopping = Stopping::Changes { hint: None };

    /// A monitor that says when the gate first asks it, then never answers: the run waits
    /// there until it is stopped.
    #[derive(Debug)]
    struct NeverAnswers(Mutex<Option<oneshot::Sender<()>>>);

    #[async_trait]
    impl Monitor for NeverAnswers {
        async fn sample(
            &self,
            _env: &EnvName,
            _role: &RoleName,
            _window: &MetricsWindow,
        ) -> Result<MonitorSample> {
            let asked = self.0.lock().expect("lock").take();
            if let Some(asked) = asked {
                let _ = asked.send(());
            }
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn ctrl_c_at_the_monitor_gate_names_the_run_and_resume_finishes_it() {
        let config = EffectiveConfig::default();
        let env: EnvName = "prod".parse().expect("env");
        let app = config.apps.get("idp").expect("idp").clone();
        let settings = config.env_settings(&env);
        let (ports, _world) = deploykit_backends::deploy_ports(true, &config, &app, &env)
            .await
            .expect("sandbox ports");
        let (asked, gate_reached) = oneshot::channel();
        let mut stalled = ports.clone();
        stalled.monitor = Arc::new(NeverAnswers(Mutex::new(Some(asked))));

        let tracker = RunTracker::default();
        let journal = Arc::new(tracker.journal(MemoryJournal::default()));
        let request = DeployRequest::new(env, app, DeployKind::ConfigRecycle, "tester");
        let command = async {
            deploy::deploy(&stalled, &settings, journal.as_ref(), &NullSink, &request)
                .await
                .map(|_| exit::OK)
        };
        let (press, mut signals) = unbounded_channel();
        tokio::spawn(async move {
            if gate_reached.await.is_ok() {
                let _ = press.send(Signal::Interrupt);
            }
        });

        let (result, signal) = until_stopped(command, CHANGES, &mut signals, &tracker).await;
        assert_eq!(signal, Some(Signal::Interrupt));
        assert_eq!(signal.map(Signal::exit_code), Some(130));
        let error = result.expect_err("the signal stops the deploy");
        assert_eq!(error.kind(), ErrorKind::Interrupted);
        let progress = tracker.progress().expect("the run was journaled");
        let text = error.to_string();
        for expected in [
            "Ctrl-C (SIGINT) stopped run".to_string(),
            "during its monitor_gate step".to_string(),
            "nothing was rolled back".to_string(),
            format!("deploykit resume {}", progress.run),
            // The lock release named whole, ready to copy.
            format!("`deploykit lock release prod idp {}`", progress.run),
        ] {
            assert!(
                text.contains(&expected),
                "{expected:?} missing from: {text}"
            );
        }

        // The journal tells the truth: the gate was started and never finished.
        let records = journal.load(&progress.run).expect("records");
        assert!(matches!(
            records.last(),
            Some(Record::StepStarted {
                step: StepName::MonitorGate,
                ..
            })
        ));

        // Resume runs the gate again, with a monitor that answers, and the deploy finishes.
        let outcome = deploy::resume(
            &ports,
            &settings,
            journal.as_ref(),
            &NullSink,
            &progress.run,
        )
        .await
        .expect("resume");
        assert_eq!(outcome.status, FinalStatus::Deployed);
    }

    /// A tracker that saw run `20261124T150000Z-idp-prod` start `step` (and no more).
    fn tracker_in(step: StepName) -> (RunTracker, deploy::RunId) {
        let tracker = RunTracker::default();
        let journal = tracker.journal(MemoryJournal::default());
        let run = deploy::RunId::parse("20261124T150000Z-idp-prod").expect("run id");
        let at = "2026-11-24T15:00:00Z".parse().expect("time");
        journal
            .append(&run, &Record::StepStarted { at, step })
            .expect("append");
        (tracker, run)
    }

    #[test]
    fn a_run_stopped_while_rolling_back_says_the_rollback_is_part_way_done() {
        let (tracker, run) = tracker_in(StepName::RollbackScaleInNew);
        let text = stopped_by(Signal::Terminate, CHANGES, &tracker).to_string();
        assert!(
            text.contains("the rollback is part way done (resume finishes it)"),
            "{text}"
        );
        assert!(!text.contains("nothing was rolled back"), "{text}");
        assert!(text.contains(&format!("deploykit resume {run}")), "{text}");
    }

    #[test]
    fn a_sandboxed_run_stopped_says_to_run_it_again_not_to_resume_it() {
        let (tracker, _run) = tracker_in(StepName::SmokeTests);
        let err = stopped_by(Signal::Interrupt, Stopping::ReadOnly, &tracker);
        let text = err.to_string();
        assert!(text.contains("stopped sandboxed run"), "{text}");
        assert!(text.contains("run it again"), "{text}");
        assert!(
            !text.contains("deploykit resume") && !text.contains("lock release"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_command_that_finished_first_keeps_its_own_result() {
        let (press, mut signals) = unbounded_channel();
        press.send(Signal::Terminate).expect("send");
        let command = async { Ok(exit::ROLLED_BACK) };
        let tracker = RunTracker::default();
        let (result, signal) = until_stopped(command, CHANGES, &mut signals, &tracker).await;
        assert_eq!(result.expect("result"), exit::ROLLED_BACK);
        assert_eq!(signal, None);
    }

    #[tokio::test]
    async fn sigterm_outside_a_run_says_whether_anything_may_be_half_done() {
        for (stopping, said) in [
            (
                CHANGES,
                "SIGTERM stopped the command before it finished; what it had already done is \
                 not undone",
            ),
            (
                Stopping::Changes {
                    hint: Some("run it again"),
                },
                "SIGTERM stopped the command before it finished; what it had already done is \
                 not undone: run it again",
            ),
            (Stopping::ReadOnly, "SIGTERM stopped the command"),
        ] {
            let (press, mut signals) = unbounded_channel();
            press.send(Signal::Terminate).expect("send");
            let command = std::future::pending::<Result<u8>>();
            let tracker = RunTracker::default();
            let (result, signal) = until_stopped(command, stopping, &mut signals, &tracker).await;
            assert_eq!(signal.map(Signal::exit_code), Some(143));
            assert_eq!(result.expect_err("stopped").to_string(), said);
        }
    }
}
