//! `ConfigProblem`: one thing wrong with the configuration, at a key path.

use std::fmt;

/// One problem found in the configuration: where (`apps.idp.repository`) and what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigProblem {
    /// The dotted key path (`apps.idp.repositry`), or `env NAME` for an environment
    /// variable, or `file` for the file as a whole.
    pub key_path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key_path, self.message)
    }
}

/// One error listing every problem, one per line.
pub fn problems_error(problems: &[ConfigProblem]) -> crate::Error {
    let mut message = format!(
        "the configuration has {} problem{}; fix {} and try again (`deploykit config check` \
         lists them):",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        if problems.len() == 1 { "it" } else { "them" },
    );
    for p in problems {
        message.push_str("\n  ");
        message.push_str(&p.to_string());
    }
    crate::Error::invalid_input(message)
}
