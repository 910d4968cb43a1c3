//! deploykit-github: the GitHub side of deploykit.
//!
//! - [`GitVcs`] implements the `Vcs` port on a local repository through libgit2 (git2),
//!   pushing and fetching over https (token) or ssh (agent);
//! - [`GitHubCodeHost`] implements the `CodeHost` port on GitHub's REST API (octocrab);
//! - [`HttpDeployStatus`] implements the `DeployStatusSource` port, reading each
//!   environment's `deploy.json` (reqwest).

pub mod deploy_status;
pub mod git_vcs;
pub mod github;
pub mod token;

pub use deploy_status::HttpDeployStatus;
pub use git_vcs::GitVcs;
pub use github::GitHubCodeHost;
pub use token::Token;
