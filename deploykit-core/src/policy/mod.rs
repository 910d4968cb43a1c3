//! Policies: the deploy calendar (with US federal holidays), the no-migration risk check and
//! the rollback criteria. Pure rules; callers decide what to do with a refusal.

pub mod cadence;
pub mod calendar;
pub mod holidays;
pub mod no_migration_risk;
pub mod rollback_criteria;

pub use cadence::{CadenceDecision, CadencePolicy, Freeze, TeamLeave};
pub use calendar::{DeployDay, MAX_CALENDAR_WEEKS};
pub use holidays::{FederalHoliday, Holiday};
pub use no_migration_risk::{NoMigrationRisk, assess_no_migration_risk};
pub use rollback_criteria::{ROLLBACK_QUESTIONS, RollbackAdvice, RollbackQuestion, advise};
