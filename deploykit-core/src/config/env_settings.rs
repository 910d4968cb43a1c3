//! `[environments.<name>]` and `[monitor]` as the deploy engine's settings.

use crate::config::EffectiveConfig;
use crate::config::keys::closest;
use crate::deploy::settings::EnvSettings;
use crate::error::{Error, Result};
use crate::model::names::EnvName;

impl EffectiveConfig {
    /// `Ok` when the configuration has `[environments.<env>]` (the built-in `prod`,
    /// `staging` and `int` unless the file lists its own); otherwise an invalid-input error
    /// naming the environments it knows and the likely typo. A deploy or rollback to an
    /// environment the configuration does not know would run with guessed settings (not
    /// production, so no scale-in of the old instances by hand).
    pub fn configured_env(&self, env: &EnvName) -> Result<()> {
        if self.environments.contains_key(env.as_str()) {
            return Ok(());
        }
        let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
        let typo = self
            .env_meant(env)
            .map(|k| format!("did you mean {k}? "))
            .unwrap_or_default();
        Err(Error::invalid_input(format!(
            "unknown environment {env}: {typo}the configuration knows {}; if {env} is real, add \
             [environments.{env}] to the configuration (with production = true or false)",
            known.join(", ")
        ))
        .with("environment", env))
    }

    /// The configured environment an unconfigured `env` is likely a typo of (`prodd` for
    /// `prod`); `None` for a configured one or one close to none. Commands that also work on
    /// environments outside the configuration (a personal sandbox) add it to a not-found error.
    pub fn env_meant(&self, env: &EnvName) -> Option<&str> {
        if self.environments.contains_key(env.as_str()) {
            return None;
        }
        let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
        closest(env.as_str(), &known)
    }

    /// The deploy engine's settings for `env`: the engine's defaults, then what the
    /// configuration says about the environment, the monitor gate and the calendar.
    pub fn env_settings(&self, env: &EnvName) -> EnvSettings {
        let mut s = EnvSettings::for_env(env);
        if let Some(e) = self.environments.get(env.as_str()) {
            s.production = e.production;
            s.spindown_secs = e.spindown_secs;
            s.migration_timeout_secs = e.migration_timeout_secs;
            s.health_timeout_secs = e.health_timeout_secs;
            s.follow_up_after_secs = e.follow_up_after_secs;
        }
        let m = &self.monitor;
        s.monitor.min_requests = m.min_requests;
        s.monitor.max_error_rate = m.max_error_rate;
        s.monitor.max_error_rate_increase = m.max_error_rate_increase;
        s.monitor.max_flow_success_drop = m.max_flow_success_drop;
        // The gate watches `observe_secs` in all: in windows of `window_secs` when it is given,
        // else as `max_windows` windows.
        match m.window_secs {
            Some(window) => {
                let window = window.max(1);
                s.monitor.window_secs = window;
                s.monitor.max_windows =
                    u32::try_from((m.observe_secs / window).max(1)).unwrap_or(u32::MAX);
            }
            None => {
                s.monitor.window_secs =
                    (m.observe_secs / u64::from(s.monitor.max_windows.max(1))).max(1);
            }
        }
        s.poll_secs = m.poll_interval_secs.max(1);
        s.cadence = self.cadence.policy();
        s
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::EnvName;

    #[test]
    fn an_environment_the_configuration_does_not_know_is_refused_naming_the_known_ones() {
        let config = crate::config::EffectiveConfig::default();
        let prod: EnvName = "prod".parse().expect("env");
        assert!(config.configured_env(&prod).is_ok());
        let typo: EnvName = "prdo".parse().expect("env");
        let err = config.configured_env(&typo).expect_err("unknown");
        let text = err.to_string();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(
            text.contains("unknown environment prdo: did you mean prod?"),
            "{text}"
        );
        assert!(text.contains("int, prod, staging"), "{text}");
        assert!(text.contains("[environments.prdo]"), "{text}");
    }

    #[test]
    fn configured_values_reach_the_engine() {
        let text = "[environments.prod]\nproduction = true\nhealth_timeout_secs = 600\n\
                    [environments.int]\nproduction = false\n\
                    [monitor]\nmin_requests = 250\nmax_error_rate = 0.02\n";
        let config = crate::config::resolve(Some(text), &BTreeMap::new(), &BTreeMap::new())
            .expect("valid config");
        let prod = config.env_settings(&EnvName::new("prod").expect("env"));
        assert!(prod.production && prod.scales_in_old());
        assert_eq!(prod.health_timeout_secs, 600);
        assert_eq!(prod.monitor.min_requests, 250);
        assert!((prod.monitor.max_error_rate - 0.02).abs() < f64::EPSILON);
        let int = config.env_settings(&EnvName::new("int").expect("env"));
        assert!(!int.production);
    }

    #[test]
    fn defaults_match_the_engine_defaults_for_prod() {
        let config = crate::config::EffectiveConfig::default();
        let env = EnvName::new("prod").expect("env");
        let from_config = config.env_settings(&env);
        let engine = crate::deploy::settings::EnvSettings::for_env(&env);
        assert_eq!(from_config.production, engine.production);
        assert_eq!(
            from_config.migration_timeout_secs,
            engine.migration_timeout_secs
        );
        assert_eq!(
            from_config.monitor.min_requests,
            engine.monitor.min_requests
        );
        assert_eq!(from_config.monitor, engine.monitor);
        assert_eq!(from_config.poll_secs, engine.poll_secs);
    }

    #[test]
    fn observe_and_poll_seconds_reach_the_gate() {
        let text = "[monitor]\nobserve_secs = 60\npoll_interval_secs = 2\n";
        let config = crate::config::resolve(Some(text), &BTreeMap::new(), &BTreeMap::new())
            .expect("valid config");
        let s = config.env_settings(&EnvName::new("prod").expect("env"));
        assert_eq!(s.monitor.window_secs * u64::from(s.monitor.max_windows), 60);
        assert_eq!(s.poll_secs, 2);
    }

    #[test]
    fn window_seconds_set_the_length_and_number_of_the_gates_windows() {
        let settings = |text: &str| {
            crate::config::resolve(Some(text), &BTreeMap::new(), &BTreeMap::new())
                .map(|c| c.env_settings(&EnvName::new("prod").expect("env")))
        };
        let s = settings("[monitor]\nwindow_secs = 180\n").expect("valid");
        assert_eq!((s.monitor.window_secs, s.monitor.max_windows), (180, 5));
        let s = settings("[monitor]\n").expect("valid");
        assert_eq!((s.monitor.window_secs, s.monitor.max_windows), (300, 3));
        // One window could never give two good windows in a row: refused, saying the limit.
        let err = settings("[monitor]\nwindow_secs = 600\n").expect_err("refused");
        assert!(
            err.to_string().contains("monitor.window_secs")
                && err.to_string().contains("make it at most 450 s"),
            "{err}"
        );
    }
}
