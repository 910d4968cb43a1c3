//! The chart's axes: a linear scale from data to pixels, "nice" value ticks (1, 2, 5 times a
//! power of ten) and time ticks on round minutes.

use chrono::{DateTime, Duration, Timelike, Utc};

/// A linear map from a data range onto a pixel range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Data at the start of the range.
    pub from: f64,
    /// Data at the end of the range.
    pub to: f64,
    /// Pixel of `from`.
    pub px_from: f64,
    /// Pixel of `to`.
    pub px_to: f64,
}

impl Scale {
    /// Where `v` is drawn (a degenerate range maps everything to its start).
    pub fn px(&self, v: f64) -> f64 {
        let span = self.to - self.from;
        if span.abs() < f64::EPSILON {
            return self.px_from;
        }
        self.px_from + (v - self.from) / span * (self.px_to - self.px_from)
    }
}

/// A step of 1, 2 or 5 times a power of ten giving about `target` steps up to `max`.
pub fn nice_step(max: f64, target: u32) -> f64 {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / f64::from(target.max(1));
    let magnitude = 10f64.powf(raw.log10().floor());
    let residual = raw / magnitude;
    let nice = if residual <= 1.0 {
        1.0
    } else if residual <= 2.0 {
        2.0
    } else if residual <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Value ticks from 0 to the first tick at or above `max` (about `target` of them, at least
/// one above 0), so the top tick bounds the data.
pub fn value_ticks(max: f64, target: u32) -> Vec<f64> {
    let step = nice_step(max, target);
    let mut ticks = vec![0.0];
    let mut i = 1u32;
    loop {
        let t = step * f64::from(i);
        ticks.push(t);
        if t >= max || i >= 20 {
            break;
        }
        i += 1;
    }
    ticks
}

/// A tick label with no more decimals than the step needs (`0`, `0.5`, `2.5`, `1200`).
pub fn tick_label(v: f64, step: f64) -> String {
    let decimals = (0..=6usize)
        .find(|d| {
            let scaled = step * 10f64.powi(*d as i32);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(6);
    format!("{v:.decimals$}")
}

/// Time ticks between `start` and `end` on round minutes, about `target` of them, with a step
/// of 1, 2, 5, 10, 15, 20, 30, 60, 120 or 240 minutes.
pub fn time_ticks(start: DateTime<Utc>, end: DateTime<Utc>, target: u32) -> Vec<DateTime<Utc>> {
    let span_min = ((end - start).num_seconds().max(60) as f64) / 60.0;
    let step_min = [1i64, 2, 5, 10, 15, 20, 30, 60, 120, 240]
        .into_iter()
        .find(|s| span_min / (*s as f64) <= f64::from(target.max(1)))
        .unwrap_or(480);
    // The first round tick at or after the start.
    let minute = i64::from(start.minute()) + i64::from(start.hour()) * 60;
    let floor = start
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(start)
        - Duration::minutes(minute % step_min);
    let mut t = floor;
    if t < start {
        t += Duration::minutes(step_min);
    }
    let mut ticks = Vec::new();
    while t <= end && ticks.len() < 50 {
        ticks.push(t);
        t += Duration::minutes(step_min);
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_ticks_are_round_and_bound_the_data() {
        assert_eq!(value_ticks(5.0, 5), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(
            value_ticks(0.23, 4),
            vec![0.0, 0.1, 0.2, 0.30000000000000004]
        );
        assert_eq!(value_ticks(0.0, 4), vec![0.0, 0.5]);
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_label(2.5, 0.5), "2.5");
        assert_eq!(tick_label(0.25, 0.25), "0.25");
        assert_eq!(tick_label(1200.0, 200.0), "1200");
    }

    #[test]
    fn time_ticks_fall_on_round_minutes() {
        let start: DateTime<Utc> = "2026-11-24T15:03:20Z".parse().expect("t");
        let end = start + Duration::minutes(95);
        let ticks = time_ticks(start, end, 8);
        assert_eq!(ticks[0].to_rfc3339(), "2026-11-24T15:15:00+00:00");
        assert!(ticks.iter().all(|t| t.minute() % 15 == 0));
        assert!(ticks.len() <= 8 && ticks.len() >= 5, "{ticks:?}");
        let s = Scale {
            from: 0.0,
            to: 10.0,
            px_from: 100.0,
            px_to: 0.0,
        };
        assert_eq!(s.px(5.0), 50.0);
    }
}
