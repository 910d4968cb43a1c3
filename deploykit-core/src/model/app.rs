//! What deploykit knows about each app: repository, branches, PR title, release style, roles.
//! The defaults reproduce the Login.gov setup of the guide.

use std::collections::BTreeMap;

use crate::model::fleet::GroupName;
use crate::model::names::{AppName, EnvName, RoleName};
use crate::model::release_number::ReleaseNumber;

/// How a release is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStyle {
    /// A GitHub release whose tag GitHub creates on the merge commit (identity-idp).
    GithubRelease,
    /// A GPG-signed annotated tag pushed from the production branch, then the release
    /// (identity-pki).
    SignedTag,
}

/// A server role of an app and whether its recycle runs the migration group first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoleSettings {
    /// The role (`idp`, `worker`, `pivcac`, ...).
    pub role: RoleName,
    /// Whether recycling it first recycles the migration group.
    pub migrates: bool,
}

/// Everything the release workflows need to know about one app.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppSettings {
    /// `idp` or `pki`.
    pub name: AppName,
    /// GitHub `owner/name`.
    pub repository: String,
    /// The git remote that names the repository.
    pub remote: String,
    /// The branch production deploys from.
    pub production_branch: String,
    /// The development branch.
    pub main_branch: String,
    /// The staging deploy status document.
    pub staging_deploy_status_url: String,
    /// The deploy status documents of the other environments, by environment name (`prod`,
    /// `int`, ...). Staging's is [`AppSettings::staging_deploy_status_url`], never here.
    #[serde(default)]
    pub deploy_status_urls: BTreeMap<String, String>,
    /// Promotion PR title; `{rc}` is replaced by the RC number.
    pub pr_title_template: String,
    /// The label on promotion PRs.
    pub promotion_label: String,
    /// How releases are recorded.
    pub release_style: ReleaseStyle,
    /// Roles the app runs on; the first is the main one.
    pub roles: Vec<RoleSettings>,
    /// Where `rc create` writes the changelog.
    pub changelog_file: String,
    /// The checks a person runs by hand once a deploy is live (the guide's step 8), shown by
    /// the follow-up step.
    #[serde(default)]
    pub smoke_tests: Vec<String>,
}

fn role(name: &'static str, migrates: bool) -> RoleSettings {
    RoleSettings {
        role: RoleName::from_static(name),
        migrates,
    }
}

impl AppSettings {
    /// identity-idp.
    pub fn idp() -> Self {
        AppSettings {
            name: AppName::from_static("idp"),
            repository: "18F/identity-idp".into(),
            remote: "origin".into(),
            production_branch: "stages/prod".into(),
            main_branch: "main".into(),
            staging_deploy_status_url: "https://idp.staging.login.gov/api/deploy.json".into(),
            deploy_status_urls: BTreeMap::new(),
            pr_title_template: "Deploy RC {rc} to Production".into(),
            promotion_label: "status - promotion".into(),
            release_style: ReleaseStyle::GithubRelease,
            roles: vec![role("idp", true), role("worker", true)],
            changelog_file: "tmp/.rc-changelog.md".into(),
            // The guide's step 8.
            smoke_tests: vec![
                "Sign in to an account".into(),
                "Sign up for an account".into(),
                "Test proofing (identity verification) on the new account".into(),
            ],
        }
    }

    /// identity-pki (the PIV/CAC server, role `pivcac`).
    pub fn pki() -> Self {
        AppSettings {
            name: AppName::from_static("pki"),
            repository: "18F/identity-pki".into(),
            staging_deploy_status_url:
                "https://checking-deploy.pivcac.staging.login.gov/api/deploy.json".into(),
            pr_title_template: "Deploy RC {rc} to Prod".into(),
            release_style: ReleaseStyle::SignedTag,
            roles: vec![role("pivcac", false)],
            // The guide's checks are the IdP's; the PIV/CAC server's own is signing in with a
            // card, through the IdP.
            smoke_tests: vec![
                "Sign in to an account with its PIV/CAC card".into(),
                "Add a PIV/CAC card to an account".into(),
            ],
            ..AppSettings::idp()
        }
    }

    /// The built-in settings of an app by name, if it is one of Login.gov's.
    pub fn builtin(name: &AppName) -> Option<Self> {
        match name.as_str() {
            "idp" => Some(Self::idp()),
            "pki" => Some(Self::pki()),
            _ => None,
        }
    }

    /// The promotion PR title for an RC.
    pub fn pr_title(&self, rc: ReleaseNumber) -> String {
        self.pr_title_template.replace("{rc}", &rc.to_string())
    }

    /// The deploy status document of `env`, if configured (staging's is
    /// [`AppSettings::staging_deploy_status_url`]).
    pub fn deploy_status_url(&self, env: &str) -> Option<&str> {
        let url = if env == "staging" {
            Some(self.staging_deploy_status_url.as_str())
        } else {
            self.deploy_status_urls.get(env).map(String::as_str)
        };
        url.filter(|u| !u.is_empty())
    }

    /// Every configured deploy status document as (environment, URL), staging's included.
    pub fn all_deploy_status_urls(&self) -> Vec<(&str, &str)> {
        let staging = Some(("staging", self.staging_deploy_status_url.as_str()))
            .filter(|(_, u)| !u.is_empty());
        staging
            .into_iter()
            .chain(
                self.deploy_status_urls
                    .iter()
                    .filter(|(env, _)| env.as_str() != "staging")
                    .map(|(e, u)| (e.as_str(), u.as_str())),
            )
            .collect()
    }

    /// The main role (first listed).
    pub fn main_role(&self) -> Option<&RoleName> {
        self.roles.first().map(|r| &r.role)
    }

    /// The app's groups in `env` (`prod-idp`, `prod-worker`, ...), one per role.
    pub fn groups_in(&self, env: &EnvName) -> Vec<GroupName> {
        self.roles
            .iter()
            .map(|r| GroupName::new(env, &r.role))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_guide() {
        let idp = AppSettings::idp();
        assert_eq!(
            idp.pr_title(ReleaseNumber::full(112)),
            "Deploy RC 112 to Production"
        );
        assert_eq!(idp.release_style, ReleaseStyle::GithubRelease);
        assert_eq!(idp.main_role().map(|r| r.as_str()), Some("idp"));
        let pki = AppSettings::pki();
        assert_eq!(
            pki.pr_title("112.1".parse().expect("rc")),
            "Deploy RC 112.1 to Prod"
        );
        assert_eq!(pki.release_style, ReleaseStyle::SignedTag);
        assert_eq!(pki.main_role().map(|r| r.as_str()), Some("pivcac"));
        assert!(AppSettings::builtin(&AppName::new("pki").expect("name")).is_some());
        assert!(AppSettings::builtin(&AppName::new("other").expect("name")).is_none());
    }

    #[test]
    fn deploy_status_urls_include_staging_and_the_configured_ones() {
        let mut idp = AppSettings::idp();
        assert_eq!(idp.deploy_status_url("prod"), None);
        idp.deploy_status_urls.insert(
            "prod".into(),
            "https://secure.login.gov/api/deploy.json".into(),
        );
        assert_eq!(
            idp.deploy_status_url("prod"),
            Some("https://secure.login.gov/api/deploy.json")
        );
        assert_eq!(
            idp.all_deploy_status_urls(),
            vec![
                ("staging", "https://idp.staging.login.gov/api/deploy.json"),
                ("prod", "https://secure.login.gov/api/deploy.json"),
            ]
        );
    }
}
