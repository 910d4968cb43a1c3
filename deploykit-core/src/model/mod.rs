//! The model: names, SHAs, release numbers, RC branches, deploy kinds, the fleet, and the
//! deploy status document. Pure data with parsing that rejects bad input clearly.

pub mod app;
pub mod deploy_kind;
pub mod deploy_status;
pub mod fleet;
pub mod names;
pub mod rc_branch;
pub mod release_number;
pub mod sha;

pub use app::{AppSettings, ReleaseStyle, RoleSettings};
pub use deploy_kind::DeployKind;
pub use deploy_status::DeployStatus;
pub use fleet::{
    Capacity, CapacityChange, DELAYED_SCALE_OUT_ACTION, Group, GroupName, HealthStatus, Instance,
    InstanceId, LbState, Lifecycle, RECYCLE_ACTION, ScheduledAction, TargetHealth,
};
pub use names::{AppName, EnvName, RoleName, RoleSelector};
pub use rc_branch::RcBranch;
pub use release_number::ReleaseNumber;
pub use sha::Sha;
