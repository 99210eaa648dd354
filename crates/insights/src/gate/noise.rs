//! Calibrated noise, the alternative to suppression: integer-valued discrete Laplace noise sampled
//! exactly (no floating point: Canonne, Kamath and Steinke, "The Discrete Gaussian for Differential
//! Privacy", 2020, algorithms 1 and 2) from the operating system's random source, with a privacy
//! budget that refuses to be overspent.

use super::{Dimension, GateError, Table};
use rand::{CryptoRng, Rng};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A privacy loss ε as an exact fraction `num/den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Epsilon {
    /// Numerator.
    pub num: u64,
    /// Denominator (never zero).
    pub den: u64,
}

impl Epsilon {
    /// ε = num/den; refuses zero parts.
    pub fn new(num: u64, den: u64) -> Option<Epsilon> {
        (num > 0 && den > 0).then(|| Epsilon { num, den }.reduced())
    }

    fn reduced(self) -> Epsilon {
        let g = gcd(self.num, self.den).max(1);
        Epsilon {
            num: self.num / g,
            den: self.den / g,
        }
    }
}

impl fmt::Display for Epsilon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A privacy budget: the total ε a hotline allows per period and what has been spent (basic
/// composition: losses add up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// The whole budget.
    pub total: Epsilon,
    /// Spent so far (`0/1` when nothing is).
    pub spent: (u64, u64),
}

impl Budget {
    /// A fresh budget.
    pub fn new(total: Epsilon) -> Budget {
        Budget {
            total,
            spent: (0, 1),
        }
    }

    /// Spends `eps` if the budget allows; otherwise refuses and spends nothing.
    pub fn spend(&mut self, eps: Epsilon) -> Result<(), GateError> {
        let (sn, sd) = (self.spent.0 as u128, self.spent.1 as u128);
        let (n, d) = (
            sn * eps.den as u128 + eps.num as u128 * sd,
            sd * eps.den as u128,
        );
        if n * self.total.den as u128 > self.total.num as u128 * d {
            return Err(GateError::BudgetExhausted {
                spent: format!("{}/{}", self.spent.0, self.spent.1),
                total: self.total.to_string(),
                asked: eps.to_string(),
            });
        }
        let g = gcd128(n, d).max(1);
        let (n, d) = (n / g, d / g);
        if n > u64::MAX as u128 || d > u64::MAX as u128 {
            return Err(GateError::BudgetExhausted {
                spent: format!("{}/{}", self.spent.0, self.spent.1),
                total: self.total.to_string(),
                asked: eps.to_string(),
            });
        }
        self.spent = (n as u64, d as u64);
        Ok(())
    }
}

fn gcd128(a: u128, b: u128) -> u128 {
    if b == 0 { a } else { gcd128(b, a % b) }
}

/// Bernoulli(num/den), exactly.
fn bernoulli<R: Rng + ?Sized>(rng: &mut R, num: u64, den: u64) -> bool {
    rng.random_range(0..den) < num
}

/// Bernoulli(exp(−num/den)), exactly.
fn bernoulli_exp<R: Rng + ?Sized>(rng: &mut R, num: u64, den: u64) -> bool {
    if num <= den {
        let mut k: u64 = 1;
        loop {
            if bernoulli(rng, num, den.saturating_mul(k)) {
                k += 1;
            } else {
                return k % 2 == 1;
            }
        }
    } else {
        for _ in 0..num / den {
            if !bernoulli_exp(rng, 1, 1) {
                return false;
            }
        }
        bernoulli_exp(rng, num % den, den)
    }
}

/// A sample of the discrete Laplace distribution with scale `t/s`: P(x) ∝ exp(−|x|·s/t).
pub fn discrete_laplace<R: Rng + CryptoRng + ?Sized>(rng: &mut R, s: u64, t: u64) -> i64 {
    loop {
        let u = rng.random_range(0..t);
        if !bernoulli_exp(rng, u, t) {
            continue;
        }
        let mut v: u64 = 0;
        while bernoulli_exp(rng, 1, 1) {
            v += 1;
        }
        let x = u + t * v;
        let y = (x / s) as i64;
        let negative = rng.random_bool(0.5);
        if negative && y == 0 {
            continue;
        }
        return if negative { -y } else { y };
    }
}

/// A table published with noise: each count plus discrete Laplace noise of scale 1/ε (one person
/// is in at most one cell of a count table, so the sensitivity is 1), clamped at zero; totals are
/// the sums of the noisy counts, so the table adds up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoisyTable {
    /// The table's identifier.
    pub id: String,
    /// The row dimension.
    pub rows: Dimension,
    /// The column dimension of a two-way table.
    pub cols: Option<Dimension>,
    /// Noisy counts.
    pub cells: Vec<Vec<u64>>,
    /// Sum of the noisy counts.
    pub total: u64,
    /// The ε spent on it.
    pub epsilon: Epsilon,
}

/// Adds noise to a table, spending `eps` from the budget first (refusing, and changing nothing,
/// when the budget would be exceeded). Use [`os_rng`] in production.
pub fn noisy_table<R: Rng + CryptoRng + ?Sized>(
    table: &Table,
    eps: Epsilon,
    budget: &mut Budget,
    rng: &mut R,
) -> Result<NoisyTable, GateError> {
    table.check()?;
    budget.spend(eps)?;
    let cells: Vec<Vec<u64>> = table
        .cells
        .iter()
        .map(|row| {
            row.iter()
                .map(|&v| {
                    let noisy = v as i64 + discrete_laplace(rng, eps.num, eps.den);
                    noisy.max(0) as u64
                })
                .collect()
        })
        .collect();
    let total = cells.iter().flatten().sum();
    Ok(NoisyTable {
        id: table.id.clone(),
        rows: table.rows.clone(),
        cols: table.cols.clone(),
        cells,
        total,
        epsilon: eps,
    })
}

/// The operating system's random source, as the noise functions want it.
pub fn os_rng() -> impl Rng + CryptoRng {
    use rand::TryRngCore;
    rand::rngs::OsRng.unwrap_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn discrete_laplace_is_symmetric_and_has_the_expected_spread() {
        let mut rng = StdRng::seed_from_u64(7);
        let n = 20_000;
        let xs: Vec<i64> = (0..n).map(|_| discrete_laplace(&mut rng, 1, 2)).collect();
        let mean = xs.iter().sum::<i64>() as f64 / n as f64;
        let zeros = xs.iter().filter(|&&x| x == 0).count() as f64 / n as f64;
        // scale 2: P(0) = (1 - e^-1/2) / (1 + e^-1/2) ≈ 0.2449
        assert!(mean.abs() < 0.1, "mean {mean}");
        assert!((zeros - 0.2449).abs() < 0.015, "P(0) {zeros}");
        assert!(xs.iter().any(|&x| x < -3) && xs.iter().any(|&x| x > 3));
    }

    #[test]
    fn the_budget_refuses_what_would_overspend_it_and_spends_nothing() {
        let mut b = Budget::new(Epsilon::new(1, 1).unwrap());
        b.spend(Epsilon::new(1, 2).unwrap()).unwrap();
        b.spend(Epsilon::new(1, 3).unwrap()).unwrap();
        assert_eq!(b.spent, (5, 6));
        assert!(b.spend(Epsilon::new(1, 5).unwrap()).is_err());
        assert_eq!(b.spent, (5, 6));
        b.spend(Epsilon::new(1, 6).unwrap()).unwrap();
        assert_eq!(b.spent, (1, 1));
    }

    #[test]
    fn a_noisy_table_adds_up_and_uses_the_os_random_source() {
        let t = Table::one_way(
            "t",
            "u",
            Dimension::new("form", ["sex", "labor"]),
            vec![10, 20],
        );
        let mut b = Budget::new(Epsilon::new(1, 1).unwrap());
        let mut rng = os_rng();
        let n = noisy_table(&t, Epsilon::new(1, 2).unwrap(), &mut b, &mut rng).unwrap();
        assert_eq!(n.total, n.cells.iter().flatten().sum::<u64>());
        assert_eq!(b.spent, (1, 2));
    }
}
