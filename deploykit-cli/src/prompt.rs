//! Reading standard input, and asking the person at the terminal.
//!
//! Reads run on a blocking thread, so that a Ctrl-C stops the command at that await point
//! instead of after the input ends.

use std::io::{BufRead, Read, StdinLock, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use deploykit_core::{Error, Result};

/// Runs `read` over standard input on a blocking thread.
pub async fn from_stdin<F>(read: F) -> std::io::Result<String>
where
    F: FnOnce(&mut StdinLock<'static>) -> std::io::Result<String> + Send + 'static,
{
    tokio::task::spawn_blocking(move || read(&mut std::io::stdin().lock()))
        .await
        .map_err(std::io::Error::other)
        .and_then(|read| read)
}

/// Standard input, to its end.
pub async fn all_of_stdin() -> std::io::Result<String> {
    from_stdin(|input| {
        let mut text = String::new();
        input.read_to_string(&mut text).map(|_| text)
    })
    .await
}

/// Whether a question is on the terminal's last line, waiting for its answer.
static ASKING: AtomicBool = AtomicBool::new(false);

/// Whether a question was left waiting for its answer (Ctrl-C at the prompt): what is
/// printed next starts on a line of its own.
pub fn question_left_open() -> bool {
    ASKING.load(Ordering::SeqCst)
}

/// Writes `question` on stderr and reads one line of answer, trimmed.
pub async fn ask(question: &str) -> Result<String> {
    {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{question} ");
        let _ = err.flush();
    }
    ASKING.store(true, Ordering::SeqCst);
    let answer = from_stdin(|input| {
        let mut line = String::new();
        input.read_line(&mut line).map(|_| line)
    })
    .await;
    ASKING.store(false, Ordering::SeqCst);
    answer
        .map(|line| line.trim().to_string())
        .map_err(|e| Error::interrupted(format!("could not read the answer: {e}")))
}

/// Asks `question` (ending in `[y/N]`) and goes on only on `y`/`yes`. `what` names the action
/// in the errors: without a terminal to ask at ("... needs a yes: run it at a terminal, or pass
/// --yes"), and when the answer is not yes (interrupted: nothing was done).
pub async fn confirm(question: &str, what: &str) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid_input(format!(
            "{what} needs a yes: run it at a terminal, or pass --yes"
        )));
    }
    if matches!(ask(question).await?.as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::interrupted(format!(
            "{what}: not confirmed, nothing was done"
        )))
    }
}
