//! The equations of a release: which figures of which tables are one and the same, and which sums
//! hold between them. Used by the gate to suppress and by the attacker to recover.

use super::Dimension;
use std::collections::HashMap;

/// Where the figures of one table live among the release's figures (indices of classes).
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    pub cells: Vec<Vec<usize>>,
    pub row_totals: Vec<usize>,
    pub col_totals: Vec<usize>,
    pub total: usize,
}

/// The shape of a table, enough to lay out its equations.
pub(crate) struct Shape<'a> {
    pub id: &'a str,
    pub universe: &'a str,
    pub rows: &'a Dimension,
    pub cols: Option<&'a Dimension>,
}

/// Figures (classes of figures known to be equal) and the equations between them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    pub classes: usize,
    /// For each class, a readable name: table id and figure.
    pub names: Vec<(String, String)>,
    pub slots: Vec<Slots>,
    /// Each equation says `sum(coef * class) = 0`.
    pub equations: Vec<Vec<(usize, f64)>>,
}

type Key = (String, String, String);

struct Builder {
    layout: Layout,
    keys: HashMap<Key, usize>,
}

impl Builder {
    /// The class of a figure: the existing one for a shared key, a new one otherwise.
    fn class(&mut self, key: Option<Key>, table: &str, name: String) -> usize {
        if let Some(c) = key.as_ref().and_then(|k| self.keys.get(k)) {
            return *c;
        }
        let c = self.layout.classes;
        self.layout.classes += 1;
        self.layout.names.push((table.to_owned(), name));
        if let Some(k) = key {
            self.keys.insert(k, c);
        }
        c
    }

    fn margin(&mut self, universe: &str, table: &str, d: &Dimension) -> Vec<usize> {
        d.labels
            .iter()
            .map(|lab| {
                self.class(
                    Some((universe.to_owned(), d.name.clone(), lab.clone())),
                    table,
                    format!("{}={}", d.name, lab),
                )
            })
            .collect()
    }

    fn sum(&mut self, parts: &[usize], whole: usize) {
        let mut eq: Vec<(usize, f64)> = parts.iter().map(|&c| (c, 1.0)).collect();
        eq.push((whole, -1.0));
        self.layout.equations.push(eq);
    }
}

impl Layout {
    pub fn build(shapes: &[Shape<'_>]) -> Layout {
        let mut b = Builder {
            layout: Layout::default(),
            keys: HashMap::new(),
        };
        for s in shapes {
            let total = b.class(
                Some(("\u{0}total".into(), s.universe.to_owned(), String::new())),
                s.id,
                "total".into(),
            );
            let row_totals = b.margin(s.universe, s.id, s.rows);
            match s.cols {
                None => {
                    b.sum(&row_totals, total);
                    b.layout.slots.push(Slots {
                        cells: row_totals.iter().map(|&c| vec![c]).collect(),
                        row_totals: Vec::new(),
                        col_totals: Vec::new(),
                        total,
                    });
                }
                Some(cd) => {
                    let col_totals = b.margin(s.universe, s.id, cd);
                    let mut cells = Vec::with_capacity(s.rows.labels.len());
                    for rl in &s.rows.labels {
                        let row: Vec<usize> = cd
                            .labels
                            .iter()
                            .map(|cl| {
                                b.class(
                                    None,
                                    s.id,
                                    format!("{}={}, {}={}", s.rows.name, rl, cd.name, cl),
                                )
                            })
                            .collect();
                        cells.push(row);
                    }
                    for (r, row) in cells.iter().enumerate() {
                        b.sum(row, row_totals[r]);
                    }
                    for (c, &ct) in col_totals.iter().enumerate() {
                        let col: Vec<usize> = cells.iter().map(|row| row[c]).collect();
                        b.sum(&col, ct);
                    }
                    b.sum(&row_totals, total);
                    b.sum(&col_totals, total);
                    b.layout.slots.push(Slots {
                        cells,
                        row_totals,
                        col_totals,
                        total,
                    });
                }
            }
        }
        b.layout
    }
}
