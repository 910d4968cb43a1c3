//! The New Relic monitor (feature `http`): per-SHA request, 5xx and instance counts from
//! NerdGraph (`POST /graphql`, header `API-Key`) with one NRQL query per sample (see
//! [`per_sha_query`] for the query and why it matches
//! [`crate::ports::monitor::ShaMetrics`]). For config recycles it splits one window's figures
//! between old and new instances by host name (see [`per_instance_query`]; only when the
//! instance attribute, `host` by default, carries the EC2 instance id).
//!
//! Errors: a query timeout is [`crate::ErrorKind::Timeout`] (temporary); NRQL errors in the
//! GraphQL `errors` array are `InvalidInput` (syntax, validation) or `Backend`, with
//! NerdGraph's message; HTTP 401/403 is `Unauthenticated`. No rows is an empty `per_sha`
//! ("no data"), never zero errors.

mod monitor;
mod nrql;

pub use monitor::NewRelicMonitor;
pub use nrql::{per_instance_query, per_sha_query, read_host_split, read_results};

#[cfg(test)]
mod tests;
