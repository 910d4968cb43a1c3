//! Who asks for an operation, the `deploykit` command or a Python script, so that a refusal
//! names the way on in the asker's own terms: `deploykit resume RUN` for one,
//! `resume("RUN")` for the other.

/// The front end an operation was asked from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// The `deploykit` command.
    Cli,
    /// `import deploykit`.
    Python,
}

impl Asker {
    /// How to go on with run `run`.
    pub fn resume(self, run: &str) -> String {
        match self {
            Asker::Cli => format!("`deploykit resume {run}`"),
            Asker::Python => format!("`resume({run:?})`"),
        }
    }

    /// How to answer the question run `run` is paused at with `decision` (`go`, `rollback`).
    pub fn answer(self, run: &str, decision: &str) -> String {
        match self {
            Asker::Cli => format!("`deploykit resume {run} --decision {decision}`"),
            Asker::Python => format!("`resume({run:?}, decide=...)` answering {decision:?}"),
        }
    }

    /// How to release the deploy lock of `app` in `env` held by `holder`.
    pub fn release_lock(self, env: &str, app: &str, holder: &str) -> String {
        match self {
            Asker::Cli => format!("`deploykit lock release {env} {app} {holder:?}`"),
            Asker::Python => format!("`release_lock({env:?}, {app:?}, {holder:?})`"),
        }
    }

    /// How to see who holds the deploy lock of `app` in `env`.
    pub fn lock_show(self, env: &str, app: &str) -> String {
        match self {
            Asker::Cli => format!("`deploykit lock show {env} {app}`"),
            Asker::Python => format!("`lock_status({env:?}, {app:?})`"),
        }
    }

    /// How to tell a change by hand to go on although the deploy lock could not be read:
    /// `pass --yes` on the command line; Python has no such answer (`None`).
    pub fn go_on_anyway(self) -> Option<&'static str> {
        match self {
            Asker::Cli => Some("pass --yes"),
            Asker::Python => None,
        }
    }

    /// How to go ahead over a refusal: `--force`, or `force=True`.
    pub fn force(self) -> &'static str {
        match self {
            Asker::Cli => "--force",
            Asker::Python => "force=True",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_asker_is_told_its_own_way_on() {
        let run = "20261124T150000Z-idp-prod";
        assert_eq!(
            Asker::Cli.answer(run, "go"),
            "`deploykit resume 20261124T150000Z-idp-prod --decision go`"
        );
        assert_eq!(
            Asker::Python.answer(run, "go"),
            "`resume(\"20261124T150000Z-idp-prod\", decide=...)` answering \"go\""
        );
        assert_eq!(
            Asker::Python.release_lock("prod", "idp", run),
            "`release_lock(\"prod\", \"idp\", \"20261124T150000Z-idp-prod\")`"
        );
        assert_eq!(
            Asker::Cli.release_lock("prod", "idp", run),
            "`deploykit lock release prod idp \"20261124T150000Z-idp-prod\"`"
        );
        assert_eq!(
            (Asker::Cli.force(), Asker::Python.force()),
            ("--force", "force=True")
        );
    }
}
