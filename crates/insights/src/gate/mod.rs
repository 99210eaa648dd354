//! The release gate: every number that leaves the analyst role passes here (DESIGN.md invariant 4).
//!
//! # Rules
//! - **Primary suppression.** A cell or total whose count is at least 1 and below the threshold `N`
//!   (3 by default; CTDC uses 11) is published as "fewer than N" ([`Cell::FewerThan`]).
//! - **Zeros.** With [`ZeroRule::Publish`] (the default) a zero is published as `0`: an empty cell says
//!   that nobody is in it, which exposes no one, and "fewer than N" then means 1 to N−1. With
//!   [`ZeroRule::Suppress`] zeros are treated as small cells too, and "fewer than N" means 0 to N−1
//!   (use it when the absence of a group is itself sensitive).
//! - **Complementary suppression.** Further cells or totals are published as "withheld"
//!   ([`Cell::Withheld`]) until no hidden small count can be narrowed from the published figures. A
//!   withheld figure is never a small count and never zero.
//! - **Protection criterion.** An attacker who knows every published figure and total of the release,
//!   which figures are "fewer than N" and which are "withheld" (so: each small figure lies in
//!   `[1 or 0, N−1]`, each withheld one in `[N, ∞)`), and every equation between them (row, column and
//!   grand totals; totals that two tables of the release share), computes by linear programming the
//!   interval each hidden figure can take ([`attack()`]). The gate publishes only when the interval of
//!   every hidden small figure is at least [`GateConfig::required_width`] wide (half of "fewer than
//!   N", at least 1: threshold 3 means the attacker cannot tell 1 from 2; 11 means an interval of at
//!   least 5), and every withheld figure's interval is at least 1 wide: no hidden figure is ever
//!   pinned to one value. For one cross-tab, and for tables linked only through margins that form a
//!   network (for example state × form and state × channel sharing the state margin), the equations
//!   are a network's flow constraints, totally unimodular, so the extreme points the linear program
//!   finds are integer counts and the real interval is the integer one. Tables whose shared margins
//!   form a cycle (state × form, form × channel and channel × state) are not: there an attacker
//!   solving over the integers could narrow an interval more than this check does (known limit). When no suppression achieves it under [`ZeroRule::Publish`], the
//!   gate hides zeros too (the release then says [`ZeroRule::Suppress`]); when even that fails it
//!   refuses with [`GateError::CannotProtect`] rather than publish.
//! - **Tables of one release** that have the same universe share totals: the grand totals are one
//!   figure, and margins over the same dimension (same name) with the same label are one figure. A
//!   one-way table over a dimension is the margin of every two-way table over it. Shared figures are
//!   suppressed together, and their values must agree ([`GateError::InconsistentTotals`]).
//!
//! The alternative to suppression is calibrated noise ([`noise`]).

pub mod attack;
mod layout;
pub mod lp;
pub mod noise;
mod suppress;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use attack::{Attack, attack};
pub use suppress::publish;

/// What happens to zero counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroRule {
    /// Zeros are published as `0`; "fewer than N" means 1 to N−1.
    #[default]
    Publish,
    /// Zeros are hidden like other small counts; "fewer than N" means 0 to N−1.
    Suppress,
}

/// The gate's settings (per hotline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateConfig {
    /// Counts below this are never published exactly (3 by default; CTDC uses 11). At least 2.
    pub threshold: u64,
    /// What happens to zeros.
    pub zeros: ZeroRule,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            threshold: 3,
            zeros: ZeroRule::Publish,
        }
    }
}

impl GateConfig {
    /// A configuration with the given threshold; refuses thresholds below 2 (they hide nothing).
    pub fn with_threshold(threshold: u64) -> Result<GateConfig, GateError> {
        if threshold < 2 {
            return Err(GateError::BadThreshold(threshold));
        }
        Ok(GateConfig {
            threshold,
            ..GateConfig::default()
        })
    }

    /// Whether a count must be hidden as "fewer than N".
    pub fn is_small(&self, v: u64) -> bool {
        v < self.threshold && (v > 0 || self.zeros == ZeroRule::Suppress)
    }

    /// How wide the attacker's interval for a hidden small figure must stay: half the width of
    /// "fewer than N" (rounded down), and at least 1, so that no small figure is ever pinned to one
    /// value (threshold 3: 1, so `[1, 2]`; threshold 11: 5).
    pub fn required_width(&self) -> u64 {
        ((self.threshold - 1) / 2).max(1)
    }

    /// The range an attacker knows a "fewer than N" figure lies in.
    pub fn small_range(&self) -> (u64, u64) {
        let lo = match self.zeros {
            ZeroRule::Publish => 1,
            ZeroRule::Suppress => 0,
        };
        (lo, self.threshold - 1)
    }
}

/// A named dimension of a table with its category labels (for example `state` with `TX`, `CA`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    /// The dimension's name; tables of a release share margins over dimensions of the same name.
    pub name: String,
    /// The categories, in display order.
    pub labels: Vec<String>,
}

impl Dimension {
    /// A dimension from a name and labels.
    pub fn new(
        name: impl Into<String>,
        labels: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Dimension {
            name: name.into(),
            labels: labels.into_iter().map(Into::into).collect(),
        }
    }
}

/// A table of counts before the gate: one-way (`cols` is `None`, one count per row) or two-way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The table's identifier in the release (unique).
    pub id: String,
    /// What is counted (`cases_2025`); tables with the same universe share their totals.
    pub universe: String,
    /// The row dimension.
    pub rows: Dimension,
    /// The column dimension of a two-way table.
    pub cols: Option<Dimension>,
    /// Counts, `cells[row][col]` (one column for a one-way table).
    pub cells: Vec<Vec<u64>>,
}

impl Table {
    /// A one-way table.
    pub fn one_way(
        id: impl Into<String>,
        universe: impl Into<String>,
        rows: Dimension,
        counts: Vec<u64>,
    ) -> Table {
        Table {
            id: id.into(),
            universe: universe.into(),
            rows,
            cols: None,
            cells: counts.into_iter().map(|c| vec![c]).collect(),
        }
    }

    /// A two-way table (cross-tabulation).
    pub fn two_way(
        id: impl Into<String>,
        universe: impl Into<String>,
        rows: Dimension,
        cols: Dimension,
        cells: Vec<Vec<u64>>,
    ) -> Table {
        Table {
            id: id.into(),
            universe: universe.into(),
            rows,
            cols: Some(cols),
            cells,
        }
    }

    fn check(&self) -> Result<(), GateError> {
        let width = self.cols.as_ref().map_or(1, |c| c.labels.len());
        if self.cells.len() != self.rows.labels.len() {
            return Err(GateError::Shape {
                table: self.id.clone(),
                detail: format!(
                    "{} rows of counts for {} row labels",
                    self.cells.len(),
                    self.rows.labels.len()
                ),
            });
        }
        for (r, row) in self.cells.iter().enumerate() {
            if row.len() != width {
                return Err(GateError::Shape {
                    table: self.id.clone(),
                    detail: format!("row {r} has {} counts, expected {width}", row.len()),
                });
            }
        }
        Ok(())
    }
}

/// A published figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Cell {
    /// The exact count.
    Value(u64),
    /// A small count, shown as "fewer than N" (N is the threshold).
    FewerThan(u64),
    /// Hidden so that small counts cannot be recovered from totals.
    Withheld,
}

impl Cell {
    /// The exact count, when published.
    pub fn value(self) -> Option<u64> {
        match self {
            Cell::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Value(v) => write!(f, "{v}"),
            Cell::FewerThan(n) => write!(f, "fewer than {n}"),
            Cell::Withheld => f.write_str("withheld"),
        }
    }
}

/// A table after the gate: every figure is a [`Cell`], totals included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTable {
    /// The table's identifier.
    pub id: String,
    /// What is counted.
    pub universe: String,
    /// The row dimension.
    pub rows: Dimension,
    /// The column dimension of a two-way table.
    pub cols: Option<Dimension>,
    /// `cells[row][col]` (one column for a one-way table).
    pub cells: Vec<Vec<Cell>>,
    /// Row totals of a two-way table (empty for a one-way table, whose cells are its row totals).
    pub row_totals: Vec<Cell>,
    /// Column totals of a two-way table (empty for a one-way table).
    pub col_totals: Vec<Cell>,
    /// The grand total.
    pub total: Cell,
}

/// A release: the published tables with the settings they were published under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The settings.
    pub config: GateConfig,
    /// The tables, in the order given.
    pub tables: Vec<PublishedTable>,
}

/// Why the gate refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// The threshold hides nothing.
    #[error("threshold {0} is too low: it must be at least 2")]
    BadThreshold(u64),
    /// A table's counts do not match its labels.
    #[error("table `{table}`: {detail}")]
    Shape {
        /// The table.
        table: String,
        /// What is wrong.
        detail: String,
    },
    /// Two tables have the same identifier.
    #[error("table `{0}` appears twice in the release")]
    DuplicateTable(String),
    /// Two tables of one universe disagree on a figure they share.
    #[error(
        "table `{table}`: {figure} is {found}, but another table of universe `{universe}` has {expected}"
    )]
    InconsistentTotals {
        /// The table.
        table: String,
        /// The universe.
        universe: String,
        /// Which figure (`total`, `state=TX`).
        figure: String,
        /// Its value in this table.
        found: u64,
        /// Its value in an earlier table.
        expected: u64,
    },
    /// No suppression can protect a small figure; the table must be coarsened (or use noise).
    #[error(
        "table `{table}`: the small figure {figure} cannot be protected; merge categories or publish with noise"
    )]
    CannotProtect {
        /// The table.
        table: String,
        /// Which figure.
        figure: String,
    },
    /// The privacy budget would be exceeded.
    #[error("privacy budget exhausted: {spent} of {total} spent, {asked} asked")]
    BudgetExhausted {
        /// Spent so far.
        spent: String,
        /// The whole budget.
        total: String,
        /// What was asked.
        asked: String,
    },
}
#[cfg(test)]
mod tests;
