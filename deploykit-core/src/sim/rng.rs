//! A small deterministic PRNG (SplitMix64) with the draws the scripted monitor needs.

/// SplitMix64: fast, seedable, good enough for simulated traffic.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A seed mixed from several values (so one sample does not depend on call order).
    pub fn seed_from(parts: &[u64]) -> u64 {
        let mut g = SplitMix64::new(0x5eed_0f0d_e91a_7c11);
        let mut acc = 0u64;
        for p in parts {
            g.state ^= p.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            acc ^= g.next_u64();
        }
        acc
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(f64::MIN_POSITIVE);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Poisson(lambda): Knuth's method for small lambda, a normal approximation above 30.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda.is_nan() || lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let l = (-lambda).exp();
            let mut k = 0u64;
            let mut p = 1.0;
            loop {
                p *= self.next_f64();
                if p <= l {
                    return k;
                }
                k += 1;
            }
        }
        let x = lambda + lambda.sqrt() * self.normal();
        x.round().max(0.0) as u64
    }

    /// Binomial(n, p): direct trials for small n, Poisson for rare events, else normal.
    pub fn binomial(&mut self, n: u64, p: f64) -> u64 {
        if n == 0 || p.is_nan() || p <= 0.0 {
            return 0;
        }
        if p >= 1.0 {
            return n;
        }
        if n <= 200 {
            return (0..n).filter(|_| self.next_f64() < p).count() as u64;
        }
        let mean = n as f64 * p;
        let var = mean * (1.0 - p);
        if var < 30.0 {
            if p <= 0.5 {
                return self.poisson(mean).min(n);
            }
            return n - self.poisson(n as f64 * (1.0 - p)).min(n);
        }
        let x = mean + var.sqrt() * self.normal();
        (x.round().max(0.0) as u64).min(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_near_their_means() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        assert_eq!(a.next_u64(), b.next_u64());
        let mut g = SplitMix64::new(7);
        let n = 2000;
        let small: u64 = (0..n).map(|_| g.poisson(3.0)).sum();
        let mean = small as f64 / n as f64;
        assert!((mean - 3.0).abs() < 0.2, "poisson(3) mean {mean}");
        let big = g.poisson(240_000.0) as f64;
        assert!((big - 240_000.0).abs() < 3_000.0, "poisson(240000) = {big}");
        let errors = g.binomial(1_000_000, 0.001) as f64;
        assert!((errors - 1000.0).abs() < 150.0, "binomial = {errors}");
        assert_eq!(g.binomial(10, 1.0), 10);
        assert_eq!(g.binomial(10, 0.0), 0);
        assert_eq!(g.poisson(0.0), 0);
    }
}
