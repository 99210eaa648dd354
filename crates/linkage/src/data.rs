//! Records held column by column: each field's values interned once, prepared for comparison
//! (normalised text, E.164 phones, parsed dates, address tokens) and referred to by `u32` codes.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::compare::{
    address_words, business_core, jaro_winkler_str, levenshtein_compact, levenshtein_str,
    normalise_phone, normalise_text, parse_date_days, token_jaccard,
};
use crate::config::{Kind, LinkConfig};

/// A quick hash with a fixed seed (foldhash) for interning tables: the values are the user's own
/// data, read once, so hash flooding is no concern here, and a fixed seed keeps runs repeatable.
pub type FastHash = foldhash::fast::FixedState;

/// The hash under which a normalised text is interned.
fn text_hash(text: &str) -> u64 {
    use std::hash::BuildHasher as _;
    FastHash::default().hash_one(text)
}

/// A distinct value of one field, prepared for comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// Normalised text (the interning key).
    pub text: Box<str>,
    /// Parsed number: days for dates, years for ages; `i32::MIN` when not parsed.
    pub num: i32,
    /// Sorted token ids (addresses) or word ids (business names).
    pub tokens: Box<[u32]>,
}

/// One field's interned values.
#[derive(Debug, Clone)]
pub struct Column {
    /// How the field is compared.
    pub kind: Kind,
    /// Per record: `0` for missing, else `1 + index` into `values`.
    pub codes: Vec<u32>,
    /// The distinct values.
    pub values: Vec<Value>,
    /// How many records hold each distinct value.
    pub counts: Vec<u32>,
    /// The codes of `values`, found by their text (stored once, in `values`).
    lookup: hashbrown::HashTable<u32>,
    tokens: HashMap<Box<str>, u32, FastHash>,
    /// Records with a value in this field.
    pub present: u32,
}

/// A raw value prepared for a field: its interning key, number and tokens.
type Prepared = (String, i32, Vec<String>);

/// Prepares one raw value for a field of `kind`: its interning key, number and tokens.
fn prepare(kind: Kind, raw: &str, country: &str) -> Option<Prepared> {
    let text = normalise_text(raw)?;
    Some(match kind {
        Kind::Exact | Kind::Name | Kind::Code => (text, i32::MIN, Vec::new()),
        Kind::Phone => (normalise_phone(&text, country)?, i32::MIN, Vec::new()),
        Kind::Date => {
            let days = parse_date_days(&text).unwrap_or(i32::MIN);
            let digits: String = if days == i32::MIN {
                text
            } else {
                civil_text(days)
            };
            (digits, days, Vec::new())
        }
        Kind::Age => {
            let n = text
                .parse::<f64>()
                .ok()
                .map(|f| f.round() as i32)
                .unwrap_or(i32::MIN);
            (text, n, Vec::new())
        }
        Kind::Address => {
            let words = address_words(&text);
            if words.is_empty() {
                return None;
            }
            let text = words.join(" ");
            let mut toks = words;
            toks.sort();
            toks.dedup();
            (text, i32::MIN, toks)
        }
        Kind::Business => {
            let core = business_core(&text);
            if core.is_empty() {
                return None;
            }
            let mut words: Vec<String> = core.split(' ').map(str::to_string).collect();
            words.sort();
            words.dedup();
            (core, i32::MIN, words)
        }
    })
}

/// Writes days since 0000-03-01 back as `YYYYMMDD`, so that one day has one key.
fn civil_text(days: i32) -> String {
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    format!("{y:04}{m:02}{d:02}")
}

impl Column {
    fn new(kind: Kind) -> Self {
        Column {
            kind,
            codes: Vec::new(),
            values: Vec::new(),
            counts: Vec::new(),
            lookup: hashbrown::HashTable::new(),
            tokens: HashMap::default(),
            present: 0,
        }
    }

    /// Prepares a raw value without storing it: its code if already known, else the prepared value.
    pub fn probe(&self, raw: &str, country: &str) -> Probe {
        let Some((text, num, toks)) = prepare(self.kind, raw, country) else {
            return Probe::Missing;
        };
        if let Some(code) = self.code_of(&text) {
            return Probe::Known(code);
        }
        let mut ids: Vec<u32> = toks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                self.tokens
                    .get(t.as_str())
                    .copied()
                    .unwrap_or(u32::MAX - i as u32)
            })
            .collect();
        ids.sort_unstable();
        Probe::New(Value {
            text: text.into(),
            num,
            tokens: ids.into(),
        })
    }

    /// Adds one record's raw value (empty or unparseable as missing) and returns its code.
    pub fn push(&mut self, raw: &str, country: &str) -> u32 {
        let code = self.intern(raw, country);
        self.record(code);
        code
    }

    /// Adds many records' raw values (in parts, one after the other) at once: each distinct raw value is prepared once, in
    /// parallel, and interned in order of first appearance (so codes are those of one-by-one adding).
    pub fn extend(&mut self, parts: &[RawColumn], country: &str) {
        // The table is sized once from the share of distinct values among the first records
        // (growing it step by step hashed every value again at each step).
        const PROBE: usize = 1 << 16;
        let expected: usize = parts.iter().map(RawColumn::len).sum();
        let mut seen: HashMap<&str, u32, FastHash> = HashMap::default();
        let mut distinct: Vec<&str> = Vec::new();
        let mut local: Vec<u32> = Vec::with_capacity(expected);
        for raw in parts.iter().flat_map(RawColumn::iter) {
            if local.len() == PROBE && expected > PROBE {
                let share = distinct.len() as f64 / PROBE as f64;
                seen.reserve((share * expected as f64) as usize);
            }
            let next = distinct.len() as u32;
            let code = *seen.entry(raw).or_insert(next);
            if code == next {
                distinct.push(raw);
            }
            local.push(code);
        }
        drop(seen);
        let kind = self.kind;
        let prepared: Vec<Option<Prepared>> = distinct
            .par_iter()
            .map(|raw| prepare(kind, raw, country))
            .collect();
        self.values.reserve(prepared.len());
        self.counts.reserve(prepared.len());
        let values = &self.values;
        self.lookup
            .reserve(prepared.len(), |&c| text_hash(&values[c as usize - 1].text));
        let codes: Vec<u32> = prepared
            .into_iter()
            .map(|p| self.intern_prepared(p))
            .collect();
        self.codes.reserve(local.len());
        for l in local {
            self.record(codes[l as usize]);
        }
    }

    /// The code of a raw value (0 when empty or unparseable), interning it when new; not counted.
    fn intern(&mut self, raw: &str, country: &str) -> u32 {
        self.intern_prepared(prepare(self.kind, raw, country))
    }

    /// The code of a prepared value (0 for none), interning it when new; not counted.
    fn intern_prepared(&mut self, prepared: Option<Prepared>) -> u32 {
        match prepared {
            None => 0,
            Some((text, num, toks)) => {
                if let Some(code) = self.code_of(&text) {
                    code
                } else {
                    let mut ids: Vec<u32> = toks
                        .into_iter()
                        .map(|t| {
                            let next = self.tokens.len() as u32;
                            *self.tokens.entry(t.into_boxed_str()).or_insert(next)
                        })
                        .collect();
                    ids.sort_unstable();
                    let hash = text_hash(&text);
                    self.values.push(Value {
                        text: text.into(),
                        num,
                        tokens: ids.into(),
                    });
                    self.counts.push(0);
                    let code = self.values.len() as u32;
                    let values = &self.values;
                    self.lookup
                        .insert_unique(hash, code, |&c| text_hash(&values[c as usize - 1].text));
                    code
                }
            }
        }
    }

    /// The code of an interned normalised text.
    fn code_of(&self, text: &str) -> Option<u32> {
        self.lookup
            .find(text_hash(text), |&c| {
                &*self.values[c as usize - 1].text == text
            })
            .copied()
    }

    /// Appends one record's code and counts it.
    fn record(&mut self, code: u32) {
        if code != 0 {
            self.counts[code as usize - 1] += 1;
            self.present += 1;
        }
        self.codes.push(code);
    }

    /// Agreement level of two codes of this column; `None` where either is missing.
    pub fn level_of(&self, a: u32, b: u32) -> Option<u8> {
        if a == 0 || b == 0 {
            None
        } else if a == b {
            Some((self.kind.level_labels().len() - 1) as u8)
        } else {
            Some(level(self.kind, self.value(a), self.value(b)))
        }
    }

    /// The prepared value of a non-zero code.
    pub fn value(&self, code: u32) -> &Value {
        &self.values[code as usize - 1]
    }

    /// The share of records holding a value (term frequency), for a non-zero code.
    pub fn frequency(&self, code: u32) -> f64 {
        f64::from(self.counts[code as usize - 1]) / f64::from(self.present.max(1))
    }
}

/// One field's raw values, read from a file: all in one buffer.
#[derive(Debug, Clone, Default)]
pub struct RawColumn {
    buf: String,
    ends: Vec<usize>,
}

impl RawColumn {
    /// Appends a value.
    pub fn push(&mut self, value: &str) {
        self.buf.push_str(value);
        self.ends.push(self.buf.len());
    }

    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let mut start = 0usize;
        self.ends.iter().map(move |&e| {
            let s = &self.buf[start..e];
            start = e;
            s
        })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// A value prepared for a one-off comparison (see [`Column::probe`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// Empty or unparseable.
    Missing,
    /// Already interned under this code.
    Known(u32),
    /// Not seen before.
    New(Value),
}

/// Agreement level of two prepared values of `kind` (index into [`Kind::level_labels`]).
pub fn level(kind: Kind, a: &Value, b: &Value) -> u8 {
    let top = (kind.level_labels().len() - 1) as u8;
    if a.text == b.text {
        return top;
    }
    let (x, y) = (&*a.text, &*b.text);
    match kind {
        Kind::Exact => 0,
        Kind::Name => {
            if levenshtein_str(x, y, 1).is_some() {
                4
            } else {
                let jw = jaro_winkler_str(x, y);
                if jw >= 0.92 {
                    3
                } else if jw >= 0.88 {
                    2
                } else if jw >= 0.80 {
                    1
                } else {
                    0
                }
            }
        }
        Kind::Code => match levenshtein_str(x, y, 2) {
            Some(1) => 2,
            Some(2) => 1,
            _ => 0,
        },
        Kind::Phone => {
            fn tail(s: &str, n: usize) -> &str {
                &s[s.len().saturating_sub(n)..]
            }
            if tail(x, 8) == tail(y, 8) || levenshtein_str(x, y, 1).is_some() {
                2
            } else if tail(x, 7) == tail(y, 7) {
                1
            } else {
                0
            }
        }
        Kind::Date => {
            if levenshtein_str(x, y, 1).is_some() {
                4
            } else if day_month_swapped(x, y) {
                3
            } else if a.num != i32::MIN && b.num != i32::MIN {
                let d = (a.num - b.num).abs();
                if d <= 31 {
                    2
                } else if d <= 366 {
                    1
                } else {
                    0
                }
            } else {
                0
            }
        }
        Kind::Age => {
            if a.num == i32::MIN || b.num == i32::MIN {
                return 0;
            }
            match (a.num - b.num).abs() {
                0 => 3,
                1 => 2,
                2..=3 => 1,
                _ => 0,
            }
        }
        Kind::Address => {
            let j = token_jaccard(&a.tokens, &b.tokens);
            if j >= 0.6 || levenshtein_compact(x, y, 2).is_some() {
                2
            } else if j >= 0.3 {
                1
            } else {
                0
            }
        }
        Kind::Business => {
            if jaro_winkler_str(x, y) >= 0.9 {
                2
            } else if token_jaccard(&a.tokens, &b.tokens) > 0.0 {
                1
            } else {
                0
            }
        }
    }
}

/// Whether two dates written `YYYYMMDD` have the same year and the day and month swapped.
fn day_month_swapped(x: &str, y: &str) -> bool {
    let (x, y) = (x.as_bytes(), y.as_bytes());
    x.len() == 8 && y.len() == 8 && x[..4] == y[..4] && x[4..6] == y[6..8] && x[6..8] == y[4..6]
}

/// FNV-1a hash of a string, used for blocking keys.
pub fn hash_str(s: &str) -> u64 {
    hash_bytes(0xcbf2_9ce4_8422_2325, s.as_bytes())
}

/// Continues an FNV-1a hash over `bytes`.
pub fn hash_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Records of one or two sources, held column by column.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// One column per configured field, in config order.
    pub columns: Vec<Column>,
    /// Record ids as given.
    pub ids: Vec<Box<str>>,
    /// Per record: 0 for the first source, 1 for the second (linking two files).
    pub sources: Vec<u8>,
    /// Calling code for national phone numbers.
    pub country: String,
}

impl Dataset {
    /// An empty dataset for `config`'s fields.
    pub fn new(config: &LinkConfig) -> Self {
        Dataset {
            columns: config.fields.iter().map(|f| Column::new(f.kind)).collect(),
            ids: Vec::new(),
            sources: Vec::new(),
            country: config.default_country.clone(),
        }
    }

    /// Adds one record: its id, its source (0 or 1) and one raw value per configured field, in order.
    pub fn push<S: AsRef<str>>(&mut self, id: &str, source: u8, values: &[S]) -> u32 {
        let n = self.ids.len() as u32;
        for (col, raw) in self.columns.iter_mut().zip(values) {
            col.push(raw.as_ref(), &self.country);
        }
        self.ids.push(id.into());
        self.sources.push(source);
        n
    }

    /// Adds many records of one source at once: their ids and, per configured field in order, its
    /// raw values (one per id, in parts read one after the other). Fields are prepared in parallel.
    pub fn extend(&mut self, ids: Vec<Box<str>>, source: u8, raw: &[Vec<RawColumn>]) {
        let country = self.country.as_str();
        self.columns
            .par_iter_mut()
            .zip(raw)
            .for_each(|(col, parts)| col.extend(parts, country));
        self.sources.extend(std::iter::repeat_n(source, ids.len()));
        self.ids.extend(ids);
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether records come from two sources (linking rather than deduplicating).
    pub fn is_link(&self) -> bool {
        self.sources.contains(&1)
    }

    /// Agreement level per field of records `a` and `b`; `None` where either is missing.
    pub fn levels(&self, a: u32, b: u32, out: &mut [Option<u8>]) {
        for (slot, col) in out.iter_mut().zip(&self.columns) {
            *slot = col.level_of(col.codes[a as usize], col.codes[b as usize]);
        }
    }

    /// Every record's codes, record after record (one per field, in config order): comparing a
    /// pair then reads two short rows instead of one scattered code per field.
    pub fn code_rows(&self) -> Vec<u32> {
        let nf = self.columns.len();
        if nf == 0 {
            return Vec::new();
        }
        let mut rows = vec![0u32; self.len() * nf];
        rows.par_chunks_mut(nf).enumerate().for_each(|(r, row)| {
            for (slot, col) in row.iter_mut().zip(&self.columns) {
                *slot = col.codes[r];
            }
        });
        rows
    }

    /// [`Dataset::levels`] of two records given their rows of [`Dataset::code_rows`].
    pub fn levels_of_rows(&self, a: &[u32], b: &[u32], out: &mut [Option<u8>]) {
        for (((slot, col), &ca), &cb) in out.iter_mut().zip(&self.columns).zip(a).zip(b) {
            *slot = col.level_of(ca, cb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_written_differently_share_one_code() {
        let mut col = Column::new(Kind::Date);
        let a = col.push("1990-05-17", "1");
        let b = col.push("17/05/1990", "1");
        assert_eq!(a, b);
        assert_eq!(col.counts[0], 2);
        assert_eq!(&*col.value(a).text, "19900517");
    }

    #[test]
    fn empty_values_are_missing_and_not_counted() {
        let mut col = Column::new(Kind::Name);
        assert_eq!(col.push("  ", "1"), 0);
        assert_eq!(col.present, 0);
    }

    #[test]
    fn name_levels_step_down_with_distance() {
        let v = |s: &str| Value {
            text: s.into(),
            num: i32::MIN,
            tokens: Box::new([]),
        };
        assert_eq!(level(Kind::Name, &v("smith"), &v("smith")), 5);
        assert_eq!(level(Kind::Name, &v("smith"), &v("smyth")), 4);
        assert_eq!(level(Kind::Name, &v("alexander"), &v("alexandra")), 3);
        assert_eq!(level(Kind::Name, &v("jonathan"), &v("jonothon")), 2);
        assert_eq!(level(Kind::Name, &v("dwayne"), &v("duane")), 1);
        assert_eq!(level(Kind::Name, &v("smith"), &v("jones")), 0);
    }

    #[test]
    fn date_and_phone_levels_catch_swaps_and_shared_endings() {
        let v = |s: &str| {
            let mut col = Column::new(Kind::Date);
            let c = col.push(s, "1");
            col.value(c).clone()
        };
        let lv =
            |a: &str, b: &str| Kind::Date.level_labels()[level(Kind::Date, &v(a), &v(b)) as usize];
        assert_eq!(lv("1990-05-07", "1990-07-05"), "swap");
        assert_eq!(lv("1990-05-07", "1990-05-08"), "typo");
        assert_eq!(lv("1990-05-07", "1990-05-28"), "month");
        assert_eq!(lv("1990-05-07", "1991-02-01"), "year");
        let p = |s: &str| {
            let mut col = Column::new(Kind::Phone);
            let c = col.push(s, "1");
            col.value(c).clone()
        };
        let lp = |a: &str, b: &str| {
            Kind::Phone.level_labels()[level(Kind::Phone, &p(a), &p(b)) as usize]
        };
        assert_eq!(lp("415-555-0199", "415-555-0190"), "near");
        assert_eq!(lp("415-555-0199", "212-555-0199"), "last7");
        assert_eq!(lp("415-555-0199", "212-444-0199"), "else");
    }

    #[test]
    fn bulk_loading_gives_the_codes_and_counts_of_one_by_one_loading() {
        let raws = ["Ann", "", "ann ", "Bob", "ANN", "bob", "  "];
        let mut one = Column::new(Kind::Name);
        for r in raws {
            one.push(r, "1");
        }
        let mut raw = RawColumn::default();
        for r in raws {
            raw.push(r);
        }
        let mut bulk = Column::new(Kind::Name);
        bulk.extend(&[raw], "1");
        assert_eq!(bulk.codes, one.codes);
        assert_eq!(bulk.codes, [1, 0, 1, 2, 1, 2, 0]);
        assert_eq!(bulk.counts, one.counts);
        assert_eq!(bulk.present, 5);
    }

    #[test]
    fn phones_in_two_formats_are_one_value() {
        let mut col = Column::new(Kind::Phone);
        assert_eq!(
            col.push("(415) 555-0199", "1"),
            col.push("+1 415 555 0199", "1")
        );
    }
}
