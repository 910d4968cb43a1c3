//! A commit message split as `git log` prints it: `%s` and `%b`.
//!
//! git (pretty.c) skips leading blank lines, takes the first paragraph as the subject (each
//! line stripped of trailing whitespace, lines joined by one space), then skips the blank
//! lines after it; the body is the rest, verbatim. A blank line is one holding only spaces,
//! tabs, CR or LF.

/// git's `isspace`: space, tab, LF, CR (not vertical tab or form feed).
fn is_git_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The first line of `s` including its LF, and the rest.
fn one_line(s: &str) -> (&str, &str) {
    match s.find('\n') {
        Some(i) => s.split_at(i + 1),
        None => (s, ""),
    }
}

fn skip_blank_lines(mut s: &str) -> &str {
    loop {
        let (line, rest) = one_line(s);
        if line.is_empty() || !line.trim_end_matches(is_git_space).is_empty() {
            return s;
        }
        s = rest;
    }
}

/// `(%s, %b)` of a raw commit message.
pub(crate) fn title_and_body(message: &str) -> (String, String) {
    let mut rest = skip_blank_lines(message);
    let mut subject: Vec<&str> = Vec::new();
    loop {
        let (line, after) = one_line(rest);
        rest = after;
        let trimmed = line.trim_end_matches(is_git_space);
        if trimmed.is_empty() {
            break;
        }
        subject.push(trimmed);
    }
    (subject.join(" "), skip_blank_lines(rest).to_string())
}

#[cfg(test)]
mod tests {
    use super::title_and_body;

    fn split(m: &str) -> (String, String) {
        title_and_body(m)
    }

    #[test]
    fn subject_is_the_first_paragraph_joined_by_spaces() {
        assert_eq!(split("Title\n"), ("Title".into(), "".into()));
        assert_eq!(
            split("Line one\nline two  \n\nBody\n"),
            ("Line one line two".into(), "Body\n".into())
        );
        assert_eq!(
            split("\n\n  Indented\n\n\n\nBody a\n\nBody b\n\n"),
            ("  Indented".into(), "Body a\n\nBody b\n\n".into())
        );
    }

    #[test]
    fn crlf_and_whitespace_only_lines_are_blank() {
        assert_eq!(
            split("Title\r\nmore\r\n \t\r\nBody\r\n"),
            ("Title more".into(), "Body\r\n".into())
        );
        assert_eq!(split("No newline"), ("No newline".into(), "".into()));
        assert_eq!(split(""), ("".into(), "".into()));
    }
}

/// A message cleaned as `git commit`/`git tag` store it (`--cleanup=whitespace`): trailing
/// whitespace removed from each line, runs of blank lines collapsed, leading and trailing
/// blank lines dropped, and one final newline (none for an empty message).
pub(crate) fn cleaned_message(message: &str) -> String {
    let mut out = String::new();
    let mut pending_blank = false;
    for line in message.split('\n') {
        let line = line.trim_end_matches(is_git_space);
        if line.is_empty() {
            pending_blank = !out.is_empty();
            continue;
        }
        if pending_blank {
            out.push('\n');
            pending_blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod cleanup_tests {
    use super::cleaned_message;

    #[test]
    fn messages_are_cleaned_like_git_does() {
        assert_eq!(cleaned_message("tag release"), "tag release\n");
        assert_eq!(
            cleaned_message("\n\nTitle  \n\n\n\nBody\r\n\n"),
            "Title\n\nBody\n"
        );
        assert_eq!(cleaned_message("  \n"), "");
    }
}
