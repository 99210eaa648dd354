//! Primary and complementary suppression (the rules are stated in [`super`]).

use super::attack::intervals;
use super::layout::{Layout, Shape};
use super::{Cell, GateConfig, GateError, PublishedTable, Release, Table, ZeroRule};
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Published,
    Small,
    Withheld,
}

/// Passes the tables of one release through the gate: small figures become "fewer than N", and
/// further figures are withheld until the attacker of [`super::attack()`] can narrow no small figure.
/// Refuses (changing nothing) when the tables are malformed, disagree on shared totals, or cannot be
/// protected.
///
/// With [`ZeroRule::Publish`], some releases cannot be protected because "fewer than N" then means
/// "at least 1" (two hidden cells of a row whose total is "fewer than 3" must both be 1). The gate then
/// publishes the whole release under [`ZeroRule::Suppress`] instead, and the returned
/// [`Release::config`] says so.
pub fn publish(tables: &[Table], config: &GateConfig) -> Result<Release, GateError> {
    match publish_with(tables, config) {
        Err(GateError::CannotProtect { .. }) if config.zeros == ZeroRule::Publish => {
            let stricter = GateConfig {
                zeros: ZeroRule::Suppress,
                ..*config
            };
            publish_with(tables, &stricter)
        }
        other => other,
    }
}

fn publish_with(tables: &[Table], config: &GateConfig) -> Result<Release, GateError> {
    if config.threshold < 2 {
        return Err(GateError::BadThreshold(config.threshold));
    }
    let mut ids = HashSet::new();
    for t in tables {
        t.check()?;
        if !ids.insert(t.id.as_str()) {
            return Err(GateError::DuplicateTable(t.id.clone()));
        }
    }
    let shapes: Vec<Shape<'_>> = tables
        .iter()
        .map(|t| Shape {
            id: &t.id,
            universe: &t.universe,
            rows: &t.rows,
            cols: t.cols.as_ref(),
        })
        .collect();
    let layout = Layout::build(&shapes);
    let values = class_values(tables, &layout)?;
    let mut state: Vec<State> = values
        .iter()
        .map(|&v| {
            if config.is_small(v) {
                State::Small
            } else {
                State::Published
            }
        })
        .collect();
    let candidate = |state: &[State], c: usize| state[c] == State::Published && values[c] > 0;
    loop {
        // Cheap rule first: an equation with exactly one hidden figure gives it away.
        let mut changed = true;
        while changed {
            changed = false;
            for eq in &layout.equations {
                let hidden = eq
                    .iter()
                    .filter(|&&(c, _)| state[c] != State::Published)
                    .count();
                if hidden != 1 {
                    continue;
                }
                if let Some(&(c, _)) = eq
                    .iter()
                    .filter(|&&(c, _)| candidate(&state, c))
                    .min_by_key(|&&(c, _)| values[c])
                {
                    state[c] = State::Withheld;
                    changed = true;
                }
            }
        }
        // Then the attacker: every breach gets one more withheld figure near it.
        let shown: Vec<Cell> = state
            .iter()
            .zip(&values)
            .map(|(s, &v)| shown(*s, v, config))
            .collect();
        let (found, inconsistent) = intervals(&layout, &shown, config);
        debug_assert!(!inconsistent, "true values are always feasible");
        let breaches: Vec<usize> = found
            .iter()
            .filter(|i| !i.is_protected(config))
            .map(|i| i.class)
            .collect();
        if breaches.is_empty() {
            break;
        }
        let mut chosen = HashSet::new();
        for b in breaches {
            match nearest_candidate(&layout, &state, &values, b) {
                Some(c) => {
                    chosen.insert(c);
                }
                None => {
                    return Err(GateError::CannotProtect {
                        table: layout.names[b].0.clone(),
                        figure: layout.names[b].1.clone(),
                    });
                }
            }
        }
        for c in chosen {
            state[c] = State::Withheld;
        }
    }
    let shown_of = |c: usize| shown(state[c], values[c], config);
    let published = tables
        .iter()
        .enumerate()
        .map(|(ti, t)| {
            let s = &layout.slots[ti];
            PublishedTable {
                id: t.id.clone(),
                universe: t.universe.clone(),
                rows: t.rows.clone(),
                cols: t.cols.clone(),
                cells: s
                    .cells
                    .iter()
                    .map(|row| row.iter().map(|&c| shown_of(c)).collect())
                    .collect(),
                row_totals: s.row_totals.iter().map(|&c| shown_of(c)).collect(),
                col_totals: s.col_totals.iter().map(|&c| shown_of(c)).collect(),
                total: shown_of(s.total),
            }
        })
        .collect();
    Ok(Release {
        config: *config,
        tables: published,
    })
}

fn shown(state: State, v: u64, config: &GateConfig) -> Cell {
    match state {
        State::Published => Cell::Value(v),
        State::Small => Cell::FewerThan(config.threshold),
        State::Withheld => Cell::Withheld,
    }
}

/// The value of every class, checking that tables sharing a figure agree on it.
fn class_values(tables: &[Table], layout: &Layout) -> Result<Vec<u64>, GateError> {
    let mut values: Vec<Option<u64>> = vec![None; layout.classes];
    for (ti, t) in tables.iter().enumerate() {
        let s = &layout.slots[ti];
        let mut set = |c: usize, v: u64| -> Result<(), GateError> {
            match values[c] {
                Some(e) if e != v => Err(GateError::InconsistentTotals {
                    table: t.id.clone(),
                    universe: t.universe.clone(),
                    figure: layout.names[c].1.clone(),
                    found: v,
                    expected: e,
                }),
                _ => {
                    values[c] = Some(v);
                    Ok(())
                }
            }
        };
        let width = t.cols.as_ref().map_or(1, |c| c.labels.len());
        let mut col_sums = vec![0u64; width];
        let mut total = 0u64;
        for (r, row) in t.cells.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                set(s.cells[r][c], v)?;
                col_sums[c] += v;
            }
            let rs: u64 = row.iter().sum();
            total += rs;
            if let Some(&rt) = s.row_totals.get(r) {
                set(rt, rs)?;
            }
        }
        for (c, &ct) in s.col_totals.iter().enumerate() {
            set(ct, col_sums[c])?;
        }
        set(s.total, total)?;
    }
    Ok(values.into_iter().map(|v| v.unwrap_or(0)).collect())
}

/// The smallest published non-zero figure sharing an equation with `start`, looking further out
/// (through hidden figures) when the nearest equations have none.
fn nearest_candidate(
    layout: &Layout,
    state: &[State],
    values: &[u64],
    start: usize,
) -> Option<usize> {
    let mut frontier = vec![start];
    let mut seen_class: HashSet<usize> = HashSet::from([start]);
    let mut seen_eq: HashSet<usize> = HashSet::new();
    while !frontier.is_empty() {
        let mut best: Option<usize> = None;
        let mut next = Vec::new();
        for (ei, eq) in layout.equations.iter().enumerate() {
            if seen_eq.contains(&ei) || !eq.iter().any(|(c, _)| frontier.contains(c)) {
                continue;
            }
            seen_eq.insert(ei);
            for &(c, _) in eq {
                if state[c] == State::Published {
                    if values[c] > 0 && best.is_none_or(|b| values[c] < values[b]) {
                        best = Some(c);
                    }
                } else if seen_class.insert(c) {
                    next.push(c);
                }
            }
        }
        if best.is_some() {
            return best;
        }
        frontier = next;
    }
    None
}
