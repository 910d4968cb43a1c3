//! What to say about a chat post that timed out: it may have gone through with only its reply
//! lost, and chat cannot be asked, so it is neither retried nor reported as not posted.

use crate::error::Error;

/// The warning for the `what` announcement (its kind, e.g. `recycle_start`, or a name such as
/// `RC 112`) whose post failed with the timeout `e`: it may have been posted; check the
/// channel, and post it by hand if not.
pub fn timed_out_post_warning(what: &str, e: &Error) -> String {
    format!(
        "the {what} announcement timed out and may have been posted all the same ({e}); check \
         the channel, and post it by hand if it is not there"
    )
}
