//! The monitor gate's rules: old vs new SHA figures per window, judged by
//! [`MonitorThresholds`], leading to Go, Rollback or Inconclusive with the numbers quoted.

use crate::deploy::settings::MonitorThresholds;
use crate::model::sha::Sha;
use crate::ports::monitor::{MetricsWindow, MonitorSample, ShaMetrics};

/// The gate's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The new code looks good: go on.
    Go,
    /// The new code is worse: roll back.
    Rollback,
    /// Not enough evidence either way: a person decides.
    Inconclusive,
}

impl Verdict {
    /// `go`, `rollback`, `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Go => "go",
            Verdict::Rollback => "rollback",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// How one window was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowJudgement {
    /// Below the good line on every rule.
    Good,
    /// Over a bad line: roll back.
    Bad,
    /// Judged, but between the good and bad lines.
    Unclear,
    /// Too few requests (or no data) to judge.
    NotJudged,
}

/// One SHA's figures in a window, as shown to people.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShaFigures {
    /// The SHA.
    pub sha: Sha,
    /// Requests.
    pub requests: u64,
    /// 5xx responses.
    pub errors_5xx: u64,
    /// 5xx rate (0 with no requests).
    pub error_rate: f64,
    /// Instances serving.
    pub instances: u32,
    /// Flow name, attempts, successes.
    pub flows: Vec<(String, u64, u64)>,
}

impl ShaFigures {
    /// The figures of several windows added up (flows matched by name).
    pub fn total<'a>(windows: impl IntoIterator<Item = &'a ShaFigures>) -> Option<ShaFigures> {
        let mut total: Option<ShaFigures> = None;
        for w in windows {
            let t = total.get_or_insert_with(|| ShaFigures {
                sha: w.sha.clone(),
                requests: 0,
                errors_5xx: 0,
                error_rate: 0.0,
                instances: 0,
                flows: Vec::new(),
            });
            t.requests += w.requests;
            t.errors_5xx += w.errors_5xx;
            t.instances = t.instances.max(w.instances);
            for (name, attempts, successes) in &w.flows {
                match t.flows.iter_mut().find(|(n, _, _)| n == name) {
                    Some(f) => {
                        f.1 += attempts;
                        f.2 += successes;
                    }
                    None => t.flows.push((name.clone(), *attempts, *successes)),
                }
            }
        }
        if let Some(t) = total.as_mut()
            && t.requests > 0
        {
            t.error_rate = t.errors_5xx as f64 / t.requests as f64;
        }
        total
    }

    fn from_metrics(m: &ShaMetrics) -> Self {
        ShaFigures {
            sha: m.sha.clone(),
            requests: m.requests,
            errors_5xx: m.errors_5xx,
            error_rate: m.error_rate().unwrap_or(0.0),
            instances: m.instances,
            flows: m
                .flows
                .iter()
                .map(|f| (f.name.clone(), f.attempts, f.successes))
                .collect(),
        }
    }
}

/// One judged window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WindowFigures {
    /// The window.
    pub window: MetricsWindow,
    /// The old SHA's figures (none for a config recycle, where old and new are the same).
    pub old: Option<ShaFigures>,
    /// The new SHA's figures (none when it served nothing).
    pub new: Option<ShaFigures>,
    /// The judgement.
    pub judgement: WindowJudgement,
    /// The numbers and the rule that decided.
    pub explanation: String,
}

/// The gate's verdict with its evidence.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MonitorVerdict {
    /// Go, Rollback or Inconclusive.
    pub verdict: Verdict,
    /// The numbers and the rule that decided.
    pub explanation: String,
    /// Every window watched.
    pub windows: Vec<WindowFigures>,
}

fn pct(rate: f64) -> String {
    format!("{:.3}%", rate * 100.0)
}

fn find<'a>(sample: &'a MonitorSample, sha: &Sha) -> Option<&'a ShaMetrics> {
    sample.per_sha.iter().find(|m| m.sha.matches(sha))
}

/// The figures of `sha` in a sample, if it served anything.
pub fn figures_of(sample: &MonitorSample, sha: &Sha) -> Option<ShaFigures> {
    find(sample, sha).map(ShaFigures::from_metrics)
}

/// Judges one window of figures. When `old_sha == new_sha` (a config recycle), or the old SHA
/// no longer serves (the follow-up check), `baseline` stands in for the old figures; without
/// a baseline only the absolute lines apply.
pub fn judge_window(
    t: &MonitorThresholds,
    old_sha: &Sha,
    new_sha: &Sha,
    sample: &MonitorSample,
    baseline: Option<&ShaFigures>,
) -> WindowFigures {
    let new = find(sample, new_sha).map(ShaFigures::from_metrics);
    let old = if old_sha.matches(new_sha) {
        baseline.cloned()
    } else {
        find(sample, old_sha)
            .map(ShaFigures::from_metrics)
            .or_else(|| baseline.cloned())
    };
    let (judgement, explanation) = judge(t, old.as_ref(), new.as_ref());
    WindowFigures {
        window: sample.window,
        old,
        new,
        judgement,
        explanation,
    }
}

fn judge(
    t: &MonitorThresholds,
    old: Option<&ShaFigures>,
    new: Option<&ShaFigures>,
) -> (WindowJudgement, String) {
    let Some(new) = new.filter(|n| n.requests >= t.min_requests) else {
        let seen = new.map(|n| n.requests).unwrap_or(0);
        return (
            WindowJudgement::NotJudged,
            format!(
                "new SHA served {seen} requests, fewer than the {} needed to judge a window",
                t.min_requests
            ),
        );
    };
    let new_text = format!(
        "new SHA {}: {} 5xx of {} requests ({})",
        new.sha.short(),
        new.errors_5xx,
        new.requests,
        pct(new.error_rate)
    );
    if new.error_rate > t.max_error_rate {
        return (
            WindowJudgement::Bad,
            format!("{new_text} is above the {} ceiling", pct(t.max_error_rate)),
        );
    }
    let old = old.filter(|o| o.requests >= t.min_requests);
    if let Some(old) = old {
        if new.error_rate > old.error_rate + t.max_error_rate_increase {
            return (
                WindowJudgement::Bad,
                format!(
                    "{new_text} exceeds old SHA {} ({} of {} requests, {}) by more than {}",
                    old.sha.short(),
                    old.errors_5xx,
                    old.requests,
                    pct(old.error_rate),
                    pct(t.max_error_rate_increase)
                ),
            );
        }
        for (name, attempts, successes) in &new.flows {
            let Some((_, old_attempts, old_successes)) =
                old.flows.iter().find(|(n, _, _)| n == name)
            else {
                continue;
            };
            if *attempts < t.min_flow_attempts || *old_attempts < t.min_flow_attempts {
                continue;
            }
            let new_rate = *successes as f64 / *attempts as f64;
            let old_rate = *old_successes as f64 / *old_attempts as f64;
            if old_rate - new_rate >= t.max_flow_success_drop {
                return (
                    WindowJudgement::Bad,
                    format!(
                        "flow {name}: new SHA succeeded {successes} of {attempts} ({}), old SHA \
                         {old_successes} of {old_attempts} ({}): a drop of {} or more",
                        pct(new_rate),
                        pct(old_rate),
                        pct(t.max_flow_success_drop)
                    ),
                );
            }
        }
    }
    let compared = match old {
        Some(o) => format!(
            "; old SHA {}: {} 5xx of {} requests ({})",
            o.sha.short(),
            o.errors_5xx,
            o.requests,
            pct(o.error_rate)
        ),
        None => String::new(),
    };
    if new.error_rate <= t.good_error_rate {
        (
            WindowJudgement::Good,
            format!(
                "{new_text}{compared}: at or below the {} good line",
                pct(t.good_error_rate)
            ),
        )
    } else if let Some(o) = old.filter(|o| new.error_rate <= o.error_rate + t.good_margin_over_old)
    {
        (
            WindowJudgement::Good,
            format!(
                "{new_text}{compared}: within {} of the old rate {}",
                pct(t.good_margin_over_old),
                pct(o.error_rate)
            ),
        )
    } else {
        (
            WindowJudgement::Unclear,
            format!(
                "{new_text}{compared}: between the {} good line and the {} ceiling",
                pct(t.good_error_rate),
                pct(t.max_error_rate)
            ),
        )
    }
}

/// The verdict after the windows watched so far, or `None` to keep watching.
pub fn verdict(t: &MonitorThresholds, windows: &[WindowFigures]) -> Option<MonitorVerdict> {
    let done = |verdict: Verdict, explanation: String| MonitorVerdict {
        verdict,
        explanation,
        windows: windows.to_vec(),
    };
    if let Some((i, bad)) = windows
        .iter()
        .enumerate()
        .find(|(_, w)| w.judgement == WindowJudgement::Bad)
    {
        return Some(done(
            Verdict::Rollback,
            format!("window {} of {}: {}", i + 1, windows.len(), bad.explanation),
        ));
    }
    let needed = usize::try_from(t.good_windows_needed.max(1)).unwrap_or(usize::MAX);
    let good_run = windows
        .iter()
        .rev()
        .take_while(|w| w.judgement == WindowJudgement::Good)
        .count();
    if good_run >= needed {
        let last = windows
            .last()
            .map(|w| w.explanation.clone())
            .unwrap_or_default();
        return Some(done(
            Verdict::Go,
            format!("{good_run} good windows in a row (needed {needed}); last: {last}"),
        ));
    }
    let max = usize::try_from(t.max_windows.max(1)).unwrap_or(usize::MAX);
    if windows.len() >= max {
        let last = windows
            .last()
            .map(|w| w.explanation.clone())
            .unwrap_or_default();
        return Some(done(
            Verdict::Inconclusive,
            format!(
                "no verdict after {} windows of {} s ({} good in a row needed); last: {last}",
                windows.len(),
                t.window_secs,
                needed
            ),
        ));
    }
    None
}

/// The guide's rollback criteria (from [`crate::policy::rollback_criteria`]), shown when a
/// person must decide.
pub fn rollback_criteria() -> Vec<String> {
    crate::policy::ROLLBACK_QUESTIONS
        .iter()
        .map(|q| q.question.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::monitor::FlowRate;

    fn sha(s: &str) -> Sha {
        Sha::new(s).expect("sha")
    }

    fn metrics(s: &str, requests: u64, errors: u64, flow: Option<(u64, u64)>) -> ShaMetrics {
        ShaMetrics {
            sha: sha(s),
            first_seen: None,
            requests,
            errors_5xx: errors,
            instances: 2,
            flows: flow
                .map(|(a, ok)| {
                    vec![FlowRate {
                        name: "idv_success".into(),
                        attempts: a,
                        successes: ok,
                    }]
                })
                .unwrap_or_default(),
        }
    }

    fn sample(per_sha: Vec<ShaMetrics>) -> MonitorSample {
        let start = "2026-11-24T15:00:00Z".parse().expect("time");
        MonitorSample {
            window: MetricsWindow {
                start,
                end: start + chrono::Duration::minutes(5),
            },
            per_sha,
        }
    }

    fn judge_of(per_sha: Vec<ShaMetrics>) -> WindowFigures {
        judge_window(
            &MonitorThresholds::default(),
            &sha("aaaa111"),
            &sha("bbbb222"),
            &sample(per_sha),
            None,
        )
    }

    #[test]
    fn a_spike_above_the_ceiling_is_bad_and_quoted() {
        let w = judge_of(vec![
            metrics("aaaa111", 5000, 2, None),
            metrics("bbbb222", 2000, 60, None),
        ]);
        assert_eq!(w.judgement, WindowJudgement::Bad);
        assert!(
            w.explanation.contains("60 5xx of 2000"),
            "{}",
            w.explanation
        );
        assert!(
            w.explanation.contains("1.000% ceiling"),
            "{}",
            w.explanation
        );
    }

    #[test]
    fn worse_than_old_by_the_margin_is_bad() {
        let t = MonitorThresholds {
            max_error_rate: 0.5,
            ..Default::default()
        };
        let w = judge_window(
            &t,
            &sha("aaaa111"),
            &sha("bbbb222"),
            &sample(vec![
                metrics("aaaa111", 5000, 0, None),
                metrics("bbbb222", 2000, 40, None),
            ]),
            None,
        );
        assert_eq!(w.judgement, WindowJudgement::Bad);
        assert!(
            w.explanation.contains("exceeds old SHA"),
            "{}",
            w.explanation
        );
    }

    #[test]
    fn a_flow_drop_is_bad() {
        let w = judge_of(vec![
            metrics("aaaa111", 5000, 0, Some((100, 95))),
            metrics("bbbb222", 2000, 0, Some((100, 80))),
        ]);
        assert_eq!(w.judgement, WindowJudgement::Bad);
        assert!(w.explanation.contains("idv_success"), "{}", w.explanation);
    }

    #[test]
    fn too_few_requests_are_not_judged_and_end_inconclusive() {
        let t = MonitorThresholds::default();
        let w = judge_of(vec![metrics("bbbb222", 10, 5, None)]);
        assert_eq!(w.judgement, WindowJudgement::NotJudged);
        let windows = vec![w.clone(), w.clone()];
        assert!(verdict(&t, &windows).is_none());
        let windows = vec![w.clone(), w.clone(), w];
        let v = verdict(&t, &windows).expect("verdict");
        assert_eq!(v.verdict, Verdict::Inconclusive);
        assert!(
            v.explanation.contains("fewer than the 1000"),
            "{}",
            v.explanation
        );
    }

    #[test]
    fn two_good_windows_go_and_no_data_is_not_good() {
        let t = MonitorThresholds::default();
        let good = judge_of(vec![
            metrics("aaaa111", 5000, 1, None),
            metrics("bbbb222", 2000, 1, None),
        ]);
        assert_eq!(good.judgement, WindowJudgement::Good);
        assert!(verdict(&t, std::slice::from_ref(&good)).is_none());
        let v = verdict(&t, &[good.clone(), good.clone()]).expect("verdict");
        assert_eq!(v.verdict, Verdict::Go);
        let empty = judge_of(vec![]);
        assert_eq!(empty.judgement, WindowJudgement::NotJudged);
        assert!(verdict(&t, &[good, empty]).is_none());
    }

    #[test]
    fn same_sha_is_judged_on_absolute_lines() {
        let w = judge_window(
            &MonitorThresholds::default(),
            &sha("bbbb222"),
            &sha("bbbb222"),
            &sample(vec![metrics("bbbb222", 3000, 1, None)]),
            None,
        );
        assert!(w.old.is_none());
        assert_eq!(w.judgement, WindowJudgement::Good);
        // A config recycle compares with the SHA's own figures from before the recycle.
        let before = ShaFigures::from_metrics(&metrics("bbbb222", 9000, 18, None));
        let w = judge_window(
            &MonitorThresholds::default(),
            &sha("bbbb222"),
            &sha("bbbb222"),
            &sample(vec![metrics("bbbb222", 3000, 6, None)]),
            Some(&before),
        );
        assert_eq!(w.judgement, WindowJudgement::Good, "{}", w.explanation);
        assert!(w.explanation.contains("within"), "{}", w.explanation);
    }
}
