//! Explanations written fast: each field's `column=level(+w.w)` text made once per level (and, for
//! term-frequency adjusted fields, once per value at the exact level), then joined per pair from
//! its comparison pattern, as [`explanation_text`] of [`Model::explain`] writes them.

use rayon::prelude::*;

use crate::data::Dataset;
#[cfg(doc)]
use crate::model::explanation_text;
use crate::model::{Model, unpack};

/// One field's texts.
#[derive(Debug, Clone)]
struct FieldTexts {
    /// Per level, then one more for a missing value.
    levels: Vec<String>,
    /// For a term-frequency adjusted field, the exact level's text per value code (`1 + index`),
    /// all in one buffer: value `i` is `exact[ends[i - 1]..ends[i]]` (from 0 for the first).
    exact: String,
    ends: Vec<usize>,
}

/// Writes the explanation of a pair from its comparison pattern.
#[derive(Debug, Clone)]
pub struct Explainer {
    fields: Vec<FieldTexts>,
}

impl Explainer {
    /// The texts of `model`'s fields over `data`'s values.
    pub fn new(model: &Model, data: &Dataset) -> Self {
        let fields = model
            .fields
            .par_iter()
            .enumerate()
            .map(|(i, f)| {
                let labels = f.kind.level_labels();
                let mut levels: Vec<String> = (0..labels.len())
                    .map(|l| {
                        let w = model.field_weight(i, l as u8, None);
                        format!("{}={}({:+.1})", f.column, labels[l], w)
                    })
                    .collect();
                levels.push(format!("{}=missing({:+.1})", f.column, 0.0));
                let (mut exact, mut ends) = (String::new(), Vec::new());
                if f.tf {
                    use std::fmt::Write as _;
                    let col = &data.columns[i];
                    let top = labels.len() - 1;
                    for c in 1..=col.values.len() as u32 {
                        let w = model.field_weight(i, top as u8, Some(col.frequency(c)));
                        let _ = write!(exact, "{}={}({:+.1})", f.column, labels[top], w);
                        ends.push(exact.len());
                    }
                }
                FieldTexts {
                    levels,
                    exact,
                    ends,
                }
            })
            .collect();
        Explainer { fields }
    }

    /// Appends the explanation of the pair of record `a` (and another) with comparison `pattern`.
    pub fn write(&self, data: &Dataset, a: u32, pattern: u64, out: &mut String) {
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            let text = match unpack(pattern, i) {
                None => &f.levels[f.levels.len() - 1],
                Some(l) if !f.ends.is_empty() && l as usize == f.levels.len() - 2 => {
                    let c = data.columns[i].codes[a as usize] as usize;
                    let start = if c > 1 { f.ends[c - 2] } else { 0 };
                    &f.exact[start..f.ends[c - 1]]
                }
                Some(l) => &f.levels[l as usize],
            };
            out.push_str(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Kind, LinkConfig};
    use crate::model::{FieldModel, explanation_text, pack};

    #[test]
    fn a_written_explanation_is_the_text_of_the_contributions() {
        let cfg = LinkConfig::from_toml(
            "[[field]]\ncolumn = \"first\"\nkind = \"name\"\ntf = true\n\
             [[field]]\ncolumn = \"dob\"\nkind = \"date\"\n\
             [[blocking]]\non = [\"first\"]\n",
        )
        .unwrap();
        let mut d = Dataset::new(&cfg);
        d.push("1", 0, &["Ann", "1990-05-07"]);
        d.push("2", 0, &["Anne", "1990-07-05"]);
        d.push("3", 0, &["Ann", ""]);
        d.push("4", 0, &["Bob", "1990-07-05"]);
        d.push("5", 0, &["Bob", "1990-07-05"]);
        let field = |column: &str, kind: Kind, tf: bool| {
            let n = kind.level_labels().len();
            FieldModel {
                column: column.into(),
                kind,
                tf,
                m: (1..=n).map(|i| i as f64 / 30.0).collect(),
                u: (1..=n).rev().map(|i| i as f64 / 30.0).collect(),
            }
        };
        let model = Model {
            fields: vec![
                field("first", Kind::Name, true),
                field("dob", Kind::Date, false),
            ],
            lambda: 0.01,
        };
        let explainer = Explainer::new(&model, &d);
        let mut buf = vec![None; 2];
        for (a, b) in [(0, 1), (0, 2), (1, 2), (3, 4), (0, 3)] {
            d.levels(a, b, &mut buf);
            let mut out = String::new();
            explainer.write(&d, a, pack(&buf), &mut out);
            assert_eq!(out, explanation_text(&model.explain(&d, a, b)));
        }
        let mut out = String::new();
        d.levels(0, 1, &mut buf);
        explainer.write(&d, 0, pack(&buf), &mut out);
        assert!(
            out.starts_with("first=lev1(") && out.contains("; dob=swap("),
            "{out}"
        );
    }
}
