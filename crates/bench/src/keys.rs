//! Which key each request touches: a small seeded random generator and the key
//! distributions (uniform, and YCSB's scrambled zipfian).
//!
//! INVARIANT: every index a [`KeyChooser`] returns is below the keyspace size it was built for.

use std::fmt;

/// SplitMix64: fast, seedable, good enough to pick keys (not for anything secret).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with this seed (the same seed gives the same sequence).
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // 53 random bits: exactly representable, so the result is below 1.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)`; 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift: no modulo bias worth speaking of for n << 2^64.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// The key distributions the tool offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Every key equally likely.
    Uniform,
    /// YCSB's scrambled zipfian (theta 0.99): a few keys are hot, spread over the keyspace.
    Zipfian,
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Distribution::Uniform => "uniform",
            Distribution::Zipfian => "zipfian",
        })
    }
}

/// YCSB's skew constant.
pub const ZIPFIAN_THETA: f64 = 0.99;

/// Zipfian ranks over `[0, n)`: rank 0 is the most popular, rank `i` has probability
/// proportional to `1 / (i + 1)^theta`. The algorithm of Gray et al., "Quickly generating
/// billion-record synthetic databases" (SIGMOD 1994), as YCSB's `ZipfianGenerator` uses it.
#[derive(Debug, Clone)]
pub struct Zipfian {
    n: u64,
    theta: f64,
    alpha: f64,
    zetan: f64,
    eta: f64,
}

/// `sum_{i=1..n} 1 / i^theta`.
pub fn zeta(n: u64, theta: f64) -> f64 {
    (1..=n).map(|i| 1.0 / (i as f64).powf(theta)).sum()
}

impl Zipfian {
    /// Ranks over `[0, n)` with skew `theta` (in `(0, 1)`). `n` of 0 behaves as 1.
    /// Costs O(n) once (the zeta sum): about 10 ms per million keys.
    pub fn new(n: u64, theta: f64) -> Self {
        let n = n.max(1);
        let zetan = zeta(n, theta);
        let zeta2 = zeta(2, theta);
        let eta = (1.0 - (2.0 / n as f64).powf(1.0 - theta)) / (1.0 - zeta2 / zetan);
        Self {
            n,
            theta,
            alpha: 1.0 / (1.0 - theta),
            zetan,
            eta,
        }
    }

    /// The probability of rank 0.
    pub fn p_first(&self) -> f64 {
        1.0 / self.zetan
    }

    /// The next rank, in `[0, n)`.
    pub fn next(&self, rng: &mut Rng) -> u64 {
        let u = rng.next_f64();
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1.min(self.n - 1);
        }
        let rank = (self.n as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64;
        rank.min(self.n - 1)
    }
}

/// FNV-1a over the eight bytes of `x`: scatters zipfian ranks over the keyspace so that the
/// hot keys are not neighbours (YCSB's `ScrambledZipfianGenerator`).
fn fnv1a(x: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in x.to_le_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Picks key indexes in `[0, n)` with a distribution.
#[derive(Debug, Clone)]
pub enum KeyChooser {
    /// Uniform over `[0, n)`.
    Uniform(u64),
    /// Scrambled zipfian over `[0, n)`.
    Zipfian(Zipfian),
}

impl KeyChooser {
    /// A chooser over `[0, n)`.
    pub fn new(distribution: Distribution, n: u64) -> Self {
        match distribution {
            Distribution::Uniform => KeyChooser::Uniform(n.max(1)),
            Distribution::Zipfian => KeyChooser::Zipfian(Zipfian::new(n, ZIPFIAN_THETA)),
        }
    }

    /// The next key index.
    pub fn next(&self, rng: &mut Rng) -> u64 {
        match self {
            KeyChooser::Uniform(n) => rng.below(*n),
            KeyChooser::Zipfian(z) => fnv1a(z.next(rng)) % z.n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_per_seed_and_f64_stays_below_one() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let f = a.next_f64();
            b.next_f64();
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn zeta_matches_hand_computed_values() {
        assert!((zeta(1, 0.99) - 1.0).abs() < 1e-12);
        assert!((zeta(2, 0.99) - (1.0 + 0.5f64.powf(0.99))).abs() < 1e-12);
        // With theta = 1 the sum is the harmonic number: H(4) = 25/12.
        assert!((zeta(4, 1.0) - 25.0 / 12.0).abs() < 1e-12);
    }

    #[test]
    fn zipfian_ranks_stay_in_range_and_rank_zero_has_its_probability() {
        let n = 1000;
        let z = Zipfian::new(n, ZIPFIAN_THETA);
        let mut rng = Rng::new(42);
        let samples = 200_000;
        let mut counts = vec![0u64; n as usize];
        for _ in 0..samples {
            let r = z.next(&mut rng);
            assert!(r < n);
            counts[r as usize] += 1;
        }
        let observed = counts[0] as f64 / samples as f64;
        let expected = z.p_first();
        assert!(
            (observed - expected).abs() < expected * 0.05,
            "p(rank 0) observed {observed}, expected {expected}"
        );
        // Popularity falls with rank.
        assert!(counts[0] > counts[1]);
        assert!(counts[1] > counts[10]);
        assert!(counts[10] > counts[100]);
        // Ranks near 1 follow 1/(i+1)^theta: rank 1 is about 2^-0.99 of rank 0.
        let ratio = counts[1] as f64 / counts[0] as f64;
        assert!(
            (ratio - 0.5f64.powf(ZIPFIAN_THETA)).abs() < 0.05,
            "ratio {ratio}"
        );
    }

    #[test]
    fn zipfian_over_one_key_always_returns_it() {
        let z = Zipfian::new(1, ZIPFIAN_THETA);
        let mut rng = Rng::new(1);
        assert!((0..100).all(|_| z.next(&mut rng) == 0));
        let empty = Zipfian::new(0, ZIPFIAN_THETA);
        assert!((0..100).all(|_| empty.next(&mut rng) == 0));
    }

    #[test]
    fn scrambled_zipfian_spreads_hot_keys_and_stays_in_range() {
        let n = 10_000;
        let chooser = KeyChooser::new(Distribution::Zipfian, n);
        let mut rng = Rng::new(3);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..100_000 {
            let k = chooser.next(&mut rng);
            assert!(k < n);
            *counts.entry(k).or_insert(0u64) += 1;
        }
        let mut by_count: Vec<(u64, u64)> = counts.into_iter().map(|(k, c)| (c, k)).collect();
        by_count.sort_unstable_by(|a, b| b.cmp(a));
        let hottest: Vec<u64> = by_count.iter().take(2).map(|(_, k)| *k).collect();
        // The two hottest keys are far apart (scrambled), and far hotter than the mean.
        assert!(hottest[0].abs_diff(hottest[1]) > 1);
        assert!(by_count[0].0 > 100 * (100_000 / n));
    }

    #[test]
    fn uniform_chooser_covers_the_keyspace_evenly() {
        let n = 10;
        let chooser = KeyChooser::new(Distribution::Uniform, n);
        let mut rng = Rng::new(9);
        let mut counts = [0u64; 10];
        for _ in 0..100_000 {
            counts[chooser.next(&mut rng) as usize] += 1;
        }
        assert!(
            counts.iter().all(|c| (9_000..11_000).contains(c)),
            "{counts:?}"
        );
    }
}
