//! The attacker: from a published release alone, the interval each hidden figure can take.
//!
//! It knows every published figure, which hidden figures are "fewer than N" (so in `[1 or 0, N−1]`)
//! and which are "withheld" (so in `[N, ∞)`), and every sum between figures of the release (row,
//! column and grand totals, totals shared between tables of one universe). For each hidden figure it
//! minimises and maximises it by linear programming over the reals, which bounds what any integer
//! solution can reach. The gate's protection criterion is stated in [`super`].

use super::layout::{Layout, Shape};
use super::lp::{Optimum, Region};
use super::{Cell, GateConfig, Release};

/// What the attacker learnt about one hidden figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// The table (first one that shows the figure).
    pub table: String,
    /// The figure (`state=TX, form=sex`, `total`).
    pub figure: String,
    /// How it was published.
    pub shown: Cell,
    /// The smallest value consistent with everything published.
    pub lo: f64,
    /// The largest (`None`: unbounded).
    pub hi: Option<f64>,
    /// The figure's class in the release's layout.
    pub(crate) class: usize,
}

impl Interval {
    /// Whether this interval meets the gate's protection criterion.
    pub fn is_protected(&self, config: &GateConfig) -> bool {
        let tol = 1e-6;
        match self.shown {
            Cell::FewerThan(_) => match self.hi {
                None => true,
                Some(h) => h - self.lo >= config.required_width() as f64 - tol,
            },
            Cell::Withheld => self.hi.is_none_or(|h| h - self.lo >= 1.0 - tol),
            Cell::Value(_) => true,
        }
    }
}

/// The attacker's result over a release.
#[derive(Debug, Clone, PartialEq)]
pub struct Attack {
    /// One interval per hidden figure.
    pub intervals: Vec<Interval>,
    /// True when the published figures contradict each other (they never should).
    pub inconsistent: bool,
}

impl Attack {
    /// The hidden figures the attacker narrowed beyond the protection criterion.
    pub fn breaches(&self, config: &GateConfig) -> Vec<&Interval> {
        self.intervals
            .iter()
            .filter(|i| !i.is_protected(config))
            .collect()
    }
}

/// Tries to recover every hidden figure of a published release.
pub fn attack(release: &Release) -> Attack {
    let shapes: Vec<Shape<'_>> = release
        .tables
        .iter()
        .map(|t| Shape {
            id: &t.id,
            universe: &t.universe,
            rows: &t.rows,
            cols: t.cols.as_ref(),
        })
        .collect();
    let layout = Layout::build(&shapes);
    let mut shown: Vec<Option<Cell>> = vec![None; layout.classes];
    for (ti, t) in release.tables.iter().enumerate() {
        let s = &layout.slots[ti];
        let mut put = |c: usize, cell: Cell| {
            // A figure published exactly anywhere is known everywhere.
            match (shown[c], cell) {
                (None, x) | (Some(_), x @ Cell::Value(_)) => shown[c] = Some(x),
                _ => {}
            }
        };
        for (r, row) in t.cells.iter().enumerate() {
            for (c, &cell) in row.iter().enumerate() {
                put(s.cells[r][c], cell);
            }
        }
        for (i, &cell) in t.row_totals.iter().enumerate() {
            put(s.row_totals[i], cell);
        }
        for (i, &cell) in t.col_totals.iter().enumerate() {
            put(s.col_totals[i], cell);
        }
        put(s.total, t.total);
    }
    let shown: Vec<Cell> = shown
        .into_iter()
        .map(|c| c.unwrap_or(Cell::Withheld))
        .collect();
    let (intervals, inconsistent) = intervals(&layout, &shown, &release.config);
    Attack {
        intervals,
        inconsistent,
    }
}

/// Intervals of every hidden class, given how each class is shown.
pub(crate) fn intervals(
    layout: &Layout,
    shown: &[Cell],
    config: &GateConfig,
) -> (Vec<Interval>, bool) {
    let hidden: Vec<usize> = (0..layout.classes)
        .filter(|&c| !matches!(shown[c], Cell::Value(_)))
        .collect();
    let mut var_of = vec![usize::MAX; layout.classes];
    for (i, &c) in hidden.iter().enumerate() {
        var_of[c] = i;
    }
    let mut rows = Vec::new();
    for eq in &layout.equations {
        let mut coeffs = Vec::new();
        let mut rhs = 0.0;
        for &(c, k) in eq {
            match shown[c] {
                Cell::Value(v) => rhs -= k * v as f64,
                _ => coeffs.push((var_of[c], k)),
            }
        }
        if !coeffs.is_empty() {
            rows.push((coeffs, rhs));
        } else if rhs.abs() > 1e-9 {
            return (Vec::new(), true);
        }
    }
    let (slo, shi) = config.small_range();
    let (lo, hi): (Vec<f64>, Vec<f64>) = hidden
        .iter()
        .map(|&c| match shown[c] {
            Cell::FewerThan(_) => (slo as f64, shi as f64),
            _ => (config.threshold as f64, f64::INFINITY),
        })
        .unzip();
    let region = Region {
        vars: hidden.len(),
        rows,
        lo,
        hi,
    };
    let mut out = Vec::with_capacity(hidden.len());
    let mut inconsistent = false;
    for (i, &c) in hidden.iter().enumerate() {
        let lo = match region.optimise(i, false) {
            Optimum::Value(v) => v,
            Optimum::Infeasible => {
                inconsistent = true;
                continue;
            }
            Optimum::Unbounded => f64::NEG_INFINITY,
        };
        let hi = match region.optimise(i, true) {
            Optimum::Value(v) => Some(v),
            Optimum::Infeasible => {
                inconsistent = true;
                continue;
            }
            Optimum::Unbounded => None,
        };
        out.push(Interval {
            table: layout.names[c].0.clone(),
            figure: layout.names[c].1.clone(),
            shown: shown[c],
            lo,
            hi,
            class: c,
        });
    }
    (out, inconsistent)
}
