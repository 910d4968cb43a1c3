//! `deploykit runs [--last N]`: the deploy runs of the journal, a line each.

use deploykit_core::Result;
use deploykit_core::deploy::run_list::list_runs;

use crate::args::RunsArgs;
use crate::commands::Invocation;
use crate::exit;
use crate::output::print_result;

/// Lists the newest `--last` runs (all with 0), oldest first.
pub async fn run(inv: &Invocation<'_>, args: &RunsArgs) -> Result<u8> {
    let journal = inv.journal()?;
    let list = list_runs(&journal, (args.last > 0).then_some(args.last))?;
    print_result(inv.format, &list, || {
        if inv.cli.sandbox {
            list.render_sandboxed()
        } else {
            list.render()
        }
    });
    Ok(exit::OK)
}
