//! A small dense two-phase simplex, enough for the release gate's attacker: bounds of one variable
//! under linear equalities and box constraints. Sizes are those of published tables (hundreds of
//! variables), so a dense tableau with Bland's rule (no cycling) is plenty.

/// A linear program's feasible region: `a · x = b`, `lo ≤ x ≤ hi` (`hi` may be infinite).
#[derive(Debug, Clone)]
pub struct Region {
    /// Number of variables.
    pub vars: usize,
    /// Equality rows as sparse `(variable, coefficient)` lists with their right-hand side.
    pub rows: Vec<(Vec<(usize, f64)>, f64)>,
    /// Lower bound of each variable.
    pub lo: Vec<f64>,
    /// Upper bound of each variable (`f64::INFINITY` when unbounded).
    pub hi: Vec<f64>,
}

const EPS: f64 = 1e-9;

/// What optimising over a region found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimum {
    /// The best value.
    Value(f64),
    /// The objective grows without bound.
    Unbounded,
    /// No point satisfies the constraints.
    Infeasible,
}

impl Region {
    /// Maximises `x[var]` (or minimises it when `maximise` is false) over the region.
    pub fn optimise(&self, var: usize, maximise: bool) -> Optimum {
        // Shift y = x - lo so y >= 0; finite upper bounds become rows y_j + s_j = hi_j - lo_j.
        let n = self.vars;
        let bounded: Vec<usize> = (0..n).filter(|&j| self.hi[j].is_finite()).collect();
        let m = self.rows.len() + bounded.len();
        let slack0 = n;
        let art0 = n + bounded.len();
        let cols = art0 + m; // structural + slacks + one artificial per row
        let width = cols + 1; // last column is the right-hand side
        let mut t = vec![0.0f64; (m + 1) * width];
        let mut basis = vec![0usize; m];
        for (i, (coeffs, rhs)) in self.rows.iter().enumerate() {
            let mut b = *rhs;
            for &(j, c) in coeffs {
                b -= c * self.lo[j];
            }
            let sign = if b < 0.0 { -1.0 } else { 1.0 };
            for &(j, c) in coeffs {
                t[i * width + j] += sign * c;
            }
            t[i * width + art0 + i] = 1.0;
            t[i * width + cols] = sign * b;
            basis[i] = art0 + i;
        }
        for (k, &j) in bounded.iter().enumerate() {
            let i = self.rows.len() + k;
            let b = self.hi[j] - self.lo[j];
            if b < -EPS {
                return Optimum::Infeasible;
            }
            t[i * width + j] = 1.0;
            t[i * width + slack0 + k] = 1.0;
            t[i * width + cols] = b.max(0.0);
            basis[i] = slack0 + k; // the slack starts basic; its artificial stays at zero
        }
        // Phase 1: minimise the sum of artificials (objective row holds reduced costs for maximising
        // -sum).
        let obj = m * width;
        for i in 0..self.rows.len() {
            for c in 0..width {
                if c < art0 || c == cols {
                    t[obj + c] -= t[i * width + c];
                }
            }
        }
        let allowed_phase1 = cols;
        if !run(&mut t, &mut basis, m, width, allowed_phase1) {
            return Optimum::Unbounded; // cannot happen in phase 1 (bounded below by 0)
        }
        if -t[obj + cols] > 1e-6 {
            return Optimum::Infeasible;
        }
        // Drive artificials out of the basis where possible.
        for i in 0..m {
            if basis[i] < art0 {
                continue;
            }
            if let Some(c) = (0..art0).find(|&c| t[i * width + c].abs() > EPS) {
                pivot(&mut t, &mut basis, m, width, i, c);
            }
        }
        // Phase 2: objective maximise ±y_var.
        for c in 0..width {
            t[obj + c] = 0.0;
        }
        let dir = if maximise { 1.0 } else { -1.0 };
        t[obj + var] = -dir;
        for i in 0..m {
            let bv = basis[i];
            let coef = t[obj + bv];
            if coef.abs() > EPS {
                for c in 0..width {
                    t[obj + c] -= coef * t[i * width + c];
                }
            }
        }
        if !run(&mut t, &mut basis, m, width, art0) {
            return Optimum::Unbounded;
        }
        let y = t[obj + cols] * dir;
        Optimum::Value(y + self.lo[var])
    }
}

/// Simplex iterations with Bland's rule over columns `< allowed`; false when unbounded.
fn run(t: &mut [f64], basis: &mut [usize], m: usize, width: usize, allowed: usize) -> bool {
    let obj = m * width;
    let rhs = width - 1;
    loop {
        let Some(enter) = (0..allowed).find(|&c| t[obj + c] < -EPS) else {
            return true;
        };
        let mut leave: Option<(usize, f64)> = None;
        for i in 0..m {
            let a = t[i * width + enter];
            if a > EPS {
                let ratio = t[i * width + rhs] / a;
                match leave {
                    None => leave = Some((i, ratio)),
                    Some((li, lr)) => {
                        if ratio < lr - EPS || (ratio <= lr + EPS && basis[i] < basis[li]) {
                            leave = Some((i, ratio));
                        }
                    }
                }
            }
        }
        let Some((row, _)) = leave else {
            return false;
        };
        pivot(t, basis, m, width, row, enter);
    }
}

fn pivot(t: &mut [f64], basis: &mut [usize], m: usize, width: usize, row: usize, col: usize) {
    let p = t[row * width + col];
    for c in 0..width {
        t[row * width + c] /= p;
    }
    for i in 0..=m {
        if i != row {
            let f = t[i * width + col];
            if f.abs() > EPS {
                for c in 0..width {
                    let v = t[row * width + c];
                    t[i * width + c] -= f * v;
                }
            }
        }
    }
    basis[row] = col;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_constraint_bounds_each_variable_by_the_others_bounds() {
        // x0 + x1 + x2 = 10, x0 in [1, 2], x1 >= 3, x2 in [0, 4]
        let r = Region {
            vars: 3,
            rows: vec![(vec![(0, 1.0), (1, 1.0), (2, 1.0)], 10.0)],
            lo: vec![1.0, 3.0, 0.0],
            hi: vec![2.0, f64::INFINITY, 4.0],
        };
        assert_eq!(r.optimise(1, true), Optimum::Value(9.0));
        assert_eq!(r.optimise(1, false), Optimum::Value(4.0));
        assert_eq!(r.optimise(0, false), Optimum::Value(1.0));
        assert_eq!(r.optimise(2, true), Optimum::Value(4.0));
    }

    #[test]
    fn contradictory_constraints_are_infeasible_and_open_ones_unbounded() {
        let bad = Region {
            vars: 2,
            rows: vec![(vec![(0, 1.0), (1, 1.0)], 1.0)],
            lo: vec![1.0, 1.0],
            hi: vec![f64::INFINITY; 2],
        };
        assert_eq!(bad.optimise(0, true), Optimum::Infeasible);
        let open = Region {
            vars: 2,
            rows: vec![(vec![(0, 1.0), (1, -1.0)], 0.0)],
            lo: vec![0.0, 0.0],
            hi: vec![f64::INFINITY; 2],
        };
        assert_eq!(open.optimise(0, true), Optimum::Unbounded);
        assert_eq!(open.optimise(0, false), Optimum::Value(0.0));
    }
}
