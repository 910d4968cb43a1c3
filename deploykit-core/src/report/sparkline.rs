//! A one-line trend of a rate for terminals: `▁▁▂▇█`, one block per window, a space for a
//! window without figures.

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The sparkline of `values` on a scale from 0 to their largest value (0 draws the lowest
/// block; `None` or a value that is not a number draws a space). Rates start at 0, so the
/// scale does too: a flat 0.1 % does not look like a spike.
///
/// ```
/// use deploykit_core::report::sparkline;
/// assert_eq!(sparkline(&[Some(0.0), Some(0.5), Some(1.0), None]), "▁▅█ ");
/// ```
pub fn sparkline(values: &[Option<f64>]) -> String {
    let mut lines = sparklines(&[values]);
    lines.pop().unwrap_or_default()
}

/// Sparklines of several series on one shared scale (0 to the largest value of any), so the
/// old and the new SHA's lines can be compared block for block.
pub fn sparklines(series: &[&[Option<f64>]]) -> Vec<String> {
    let max = series
        .iter()
        .flat_map(|s| s.iter())
        .filter_map(|v| v.filter(|x| x.is_finite() && *x > 0.0))
        .fold(0.0_f64, f64::max);
    series
        .iter()
        .map(|s| s.iter().map(|v| block(*v, max)).collect())
        .collect()
}

fn block(v: Option<f64>, max: f64) -> char {
    let Some(v) = v.filter(|x| x.is_finite()) else {
        return ' ';
    };
    if max <= 0.0 || v <= 0.0 {
        return BLOCKS[0];
    }
    let top = (BLOCKS.len() - 1) as f64;
    // Rounded to the nearest block; anything above zero shows at least one step up, so a
    // small error rate is not drawn as none.
    let i = ((v / max).min(1.0) * top).round().max(1.0);
    BLOCKS[i as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_value_is_the_full_block_and_zero_the_lowest() {
        assert_eq!(sparkline(&[Some(0.0), Some(2.0), Some(4.0)]), "▁▅█");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn missing_windows_are_gaps_and_all_zero_is_flat() {
        assert_eq!(sparkline(&[Some(0.0), None, Some(0.0)]), "▁ ▁");
        assert_eq!(sparkline(&[None, Some(f64::NAN)]), "  ");
    }

    #[test]
    fn any_error_rate_above_zero_shows_above_the_floor() {
        assert_eq!(sparkline(&[Some(0.0001), Some(1.0)]), "▂█");
    }

    #[test]
    fn shared_scale_keeps_a_low_old_rate_low_beside_a_spike() {
        let old = [Some(0.001), Some(0.001), Some(0.001)];
        let new = [Some(0.001), Some(0.05), Some(0.05)];
        let lines = sparklines(&[&old, &new]);
        assert_eq!(lines[0], "▂▂▂");
        assert_eq!(lines[1], "▂██");
        // On its own scale the flat old line would be drawn at the top.
        assert_eq!(sparkline(&old), "███");
    }
}
