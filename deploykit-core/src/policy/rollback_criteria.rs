//! The guide's rollback criteria ("Rolling Back"), as data: four questions; if any answer is
//! yes, roll back. A decision aid for the person on deploy, never decided automatically.

/// One of the guide's rollback questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RollbackQuestion {
    /// A stable key (for JSON answers and Python).
    pub key: &'static str,
    /// The question as the guide asks it.
    pub question: &'static str,
}

/// The four questions, in the guide's order.
pub const ROLLBACK_QUESTIONS: [RollbackQuestion; 4] = [
    RollbackQuestion {
        key: "visible_to_users",
        question: "Is the error visible for users?",
    },
    RollbackQuestion {
        key: "creates_bad_data",
        question: "Is the error going to create bad data that could cause future errors?",
    },
    RollbackQuestion {
        key: "confusing_or_wrong_result",
        question: "Is there a user-facing bug that could confuse users or produce a wrong result?",
    },
    RollbackQuestion {
        key: "needs_over_15_minutes",
        question: "Do you need more than 15 minutes to confirm how bad the error is?",
    },
];

/// The guide's rule and its reason, shown with the questions.
pub const ROLLBACK_RULE: &str = "If any of these are \"yes\", roll back. It's safer to roll back \
    the IDP to a known good state than leave it up in a possibly bad one; fix and verify the \
    bug in staging, where it won't affect end users. More criteria: https://outage.party/";

/// What the answers advise.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RollbackAdvice {
    /// Whether to roll back.
    pub roll_back: bool,
    /// The questions answered yes.
    pub because: Vec<&'static str>,
}

/// Advice from answers in [`ROLLBACK_QUESTIONS`] order: roll back when any is yes.
pub fn advise(answers: [bool; 4]) -> RollbackAdvice {
    let because: Vec<&'static str> = ROLLBACK_QUESTIONS
        .iter()
        .zip(answers)
        .filter(|(_, yes)| *yes)
        .map(|(q, _)| q.question)
        .collect();
    RollbackAdvice {
        roll_back: !because.is_empty(),
        because,
    }
}

/// The questions and the rule as plain text, numbered.
pub fn render_rollback_criteria() -> String {
    let mut out = String::from("Roll back?\n");
    for (i, q) in ROLLBACK_QUESTIONS.iter().enumerate() {
        out.push_str(&format!("  {}. {}\n", i + 1, q.question));
    }
    out.push_str(ROLLBACK_RULE);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_yes_means_roll_back() {
        assert!(!advise([false; 4]).roll_back);
        let a = advise([false, false, false, true]);
        assert!(a.roll_back);
        assert_eq!(
            a.because,
            ["Do you need more than 15 minutes to confirm how bad the error is?"]
        );
        assert_eq!(advise([true; 4]).because.len(), 4);
    }

    #[test]
    fn the_text_lists_the_four_questions_and_the_rule() {
        let text = render_rollback_criteria();
        assert!(text.contains("  1. Is the error visible for users?"));
        assert!(text.contains("  4. Do you need more than 15 minutes"));
        assert!(text.contains("roll back"));
    }
}
