//! Nearest first: a search around a point reads the grid ring by ring outwards from the caller's
//! cell, keeps the best `limit` results in a heap, and stops once the next ring cannot hold anything
//! that would rank among them. Every filter reads the packed grid items; an entry itself is read only
//! when it is about to be ranked (for its words and relevance) or when it has a rare language.

use super::{
    CELL_DEG, Cell, DATED_HOURS, EARTH_KM, Grid, OTHER_LANGS, Origin, Packed, Prepared, Ranked,
    SUB_DEG, SUBS, SearchIndex, SearchQuery, cell, day_number, key_le, key_pops, key_types,
    relevance, types_match,
};
use super::{Moments, Radians};
use crate::schedule::OpenStatus;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::f64::consts::FRAC_PI_2;

/// Slack (km) for floating-point error when a bound decides that something cannot be within
/// reach. Far above the error of the formulas, far below 100 m.
const SLACK_KM: f64 = 1e-6;

/// Whether a distance (km, non-negative) rounds to more tenths of a km than `bar`: the same as
/// `(d * 10).round() > bar` for a whole `bar` (rounding half away from zero), without the rounding.
fn beyond(d: f64, bar: f64) -> bool {
    d * 10.0 >= bar + 0.5
}

/// The worst result kept on top of the heap.
struct Worst(Ranked);

impl PartialEq for Worst {
    fn eq(&self, other: &Worst) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Worst) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Worst) -> Ordering {
        Ranked::order(&self.0, &other.0)
    }
}

/// The best `limit` results so far.
struct Best {
    heap: BinaryHeap<Worst>,
    limit: usize,
}

impl Best {
    fn full(&self) -> bool {
        self.heap.len() >= self.limit
    }

    /// The rounded distance (tenths of a km) a new result must not exceed to be kept.
    fn bar(&self) -> f64 {
        match self.heap.peek() {
            Some(w) if self.full() => w.0.tenths,
            _ => f64::INFINITY,
        }
    }

    fn offer(&mut self, r: Ranked) {
        if !self.full() {
            self.heap.push(Worst(r));
        } else if let Some(mut top) = self.heap.peek_mut()
            && Ranked::order(&r, &top.0) == Ordering::Less
        {
            *top = Worst(r);
        }
    }
}

/// The caller's cell, the cells a search reads, and lower bounds on the distance to the cells
/// of each ring around the caller's cell.
pub(super) struct Rings {
    center: (i32, i32),
    lo: (i32, i32),
    hi: (i32, i32),
    /// From the caller to the nearest cell edge, north-south and east-west (degrees).
    lat_gap: f64,
    lng_gap: f64,
    cos_lat: f64,
}

impl Rings {
    /// The rings around the cell of a point, limited to the box of cells from `lo` to `hi`.
    pub(super) fn around(lat: f64, lng: f64, lo: (i32, i32), hi: (i32, i32)) -> Rings {
        let center = cell(lat, lng);
        let (i, j) = (f64::from(center.0), f64::from(center.1));
        Rings {
            center,
            lo,
            hi,
            lat_gap: ((i + 1.0) * CELL_DEG - lat).min(lat - i * CELL_DEG),
            lng_gap: ((j + 1.0) * CELL_DEG - lng).min(lng - j * CELL_DEG),
            cos_lat: lat.to_radians().cos(),
        }
    }

    /// At least the distance (km) from the caller to any point of ring `r` (the cells whose row or
    /// column is `r` away from the caller's cell).
    pub(super) fn lower_bound(&self, r: i32) -> f64 {
        if r == 0 {
            return 0.0;
        }
        let steps = f64::from(r - 1) * CELL_DEG;
        // A point whose latitude differs by Δφ is at least R·Δφ away; one whose longitude differs by
        // Δλ (up to 90°) is at least R·asin(cos φ·sin Δλ) away (its distance to that meridian's great
        // circle).
        let by_lat = EARTH_KM * (steps + self.lat_gap).to_radians();
        let dlng = (steps + self.lng_gap).to_radians().min(FRAC_PI_2);
        let by_lng = EARTH_KM * (self.cos_lat * dlng.sin()).min(1.0).asin();
        (by_lat.min(by_lng) - SLACK_KM).max(0.0)
    }

    /// The cells of ring `r` that lie in the search's box.
    pub(super) fn cells(&self, r: i32, mut f: impl FnMut((i32, i32))) {
        let (ci, cj) = self.center;
        let (i0, i1) = ((ci - r).max(self.lo.0), (ci + r).min(self.hi.0));
        let (j0, j1) = ((cj - r).max(self.lo.1), (cj + r).min(self.hi.1));
        for i in i0..=i1 {
            if (i - ci).abs() == r {
                for j in j0..=j1 {
                    f((i, j));
                }
            } else {
                if cj - r >= self.lo.1 {
                    f((i, cj - r));
                }
                if r > 0 && cj + r <= self.hi.1 {
                    f((i, cj + r));
                }
            }
        }
    }

    /// How many rings reach every cell of the box.
    pub(super) fn count(&self) -> i32 {
        let (ci, cj) = self.center;
        (ci - self.lo.0)
            .max(self.hi.0 - ci)
            .max(cj - self.lo.1)
            .max(self.hi.1 - cj)
            + 1
    }
}

/// What a packed grid item is compared with.
struct Filter {
    origin: Origin,
    /// The caller's point in degrees, and the cosine of its latitude.
    lat: f64,
    lng: f64,
    cos_lat: f64,
    radius: f64,
    want_types: u32,
    all_types: bool,
    want_pops: u16,
    vetted_only: bool,
    today: i32,
    want_langs: u64,
    /// Some wanted language is numbered 63 or more: entries with such languages must be asked.
    rare_langs: bool,
    any_lang: bool,
    open_only: bool,
    unknown_ok: bool,
    /// The entries with every word of the text, one bit per slot.
    text: Option<Vec<u64>>,
}

impl Filter {
    /// The largest haversine term (sin²(d / 2R)) of a point that could still be kept when results
    /// must round to at most `bar` tenths of a km and lie within the radius, with some slack.
    fn haversine_term_within(&self, bar: f64) -> f64 {
        let reach = self.radius.min((bar + 0.5) / 10.0);
        let s = (reach / EARTH_KM / 2.0).min(FRAC_PI_2).sin();
        s * s * (1.0 + 1e-9) + 1e-18
    }
}

impl SearchIndex {
    /// The ranked results of a search around a point read nearest first, or `None` when the search
    /// is not around a point or is better served by [`SearchIndex::rank_exhaustive`] (a few words
    /// that name few entries, a radius that spans a large part of the globe).
    pub(super) fn nearest_first(&self, q: &SearchQuery, p: &Prepared) -> Option<Vec<Ranked>> {
        let (lat, lng) = p.point?;
        let (lo, hi, cells) = Self::cell_box(lat, lng, p.radius);
        let dlng = (hi.1 - lo.1 + 1) as f64 * CELL_DEG;
        if cells as usize > self.grid.len()
            || dlng >= 90.0
            || p.text_set
                .as_ref()
                .is_some_and(|s| (s.len() as i64) < cells * 8)
        {
            return None;
        }
        let origin = Origin::new(lat, lng);
        let rings = Rings::around(lat, lng, lo, hi);
        let mut want_langs = 0u64;
        let mut rare_langs = false;
        for l in &p.want_langs {
            match self.lang_ids.get(l) {
                Some(&id) if id < 63 => want_langs |= 1 << id,
                Some(_) => rare_langs = true,
                None => {}
            }
        }
        let f = Filter {
            origin,
            lat,
            lng,
            cos_lat: origin.0.cos_lat,
            radius: p.radius,
            want_types: p.want_types,
            all_types: q.all_service_types,
            want_pops: p.want_pops,
            vetted_only: q.vetted_only,
            today: day_number(p.today),
            want_langs,
            rare_langs,
            any_lang: p.want_langs.is_empty(),
            open_only: q.open_at.is_some(),
            unknown_ok: q.include_unknown_hours,
            text: p.text_set.as_ref().map(|set| {
                let mut bits = vec![0u64; self.entries.len().div_ceil(64)];
                for &s in set {
                    bits[s as usize / 64] |= 1 << (s % 64);
                }
                bits
            }),
        };
        let mut best = Best {
            heap: BinaryHeap::with_capacity(p.limit.min(1024) + 1),
            limit: p.limit,
        };
        let mut moments = Moments::new(self.zones.len());
        // Which grids to read: every point, or the points of each wanted type (skipping, in the
        // grid of a later type, entries already read in the grid of an earlier one), or for all of
        // several types the points of the one found in the fewest cells.
        let mut grids: Vec<(&Grid, u64)> = Vec::new();
        let bits = (0..32).filter(|&t| p.want_types & 1 << t != 0);
        if p.want_types == 0 || self.by_type.is_empty() {
            grids.push((&self.grid, 0));
        } else if q.all_service_types {
            let t = bits
                .min_by_key(|&t| self.by_type[t].len())
                .unwrap_or_default();
            grids.push((&self.by_type[t], 0));
        } else {
            let mut skip = 0u64;
            for t in bits {
                grids.push((&self.by_type[t], skip));
                skip |= 1 << t;
            }
        }
        let mut cells: Vec<(&Cell, u64)> = Vec::with_capacity(grids.len());
        for r in 0..rings.count() {
            let bound = rings.lower_bound(r);
            if bound > p.radius || beyond(bound, best.bar()) {
                break;
            }
            // Near the caller, and once the page is full, a cell's nearest sub-cells are read first
            // so that the page fills with near results early and the rest can be skipped.
            let nearest_first = r <= 1 || best.full();
            rings.cells(r, |ij| {
                cells.clear();
                cells.extend(
                    grids
                        .iter()
                        .filter_map(|&(g, skip)| Some((g.get(&ij)?, skip))),
                );
                if !cells.is_empty() {
                    self.scan_cell(ij, &cells, p, &f, &mut moments, &mut best, nearest_first);
                }
            });
        }
        if !q.exclude_area_services && !best.full() {
            self.add_area_services(q, p, &f, (lo, hi), &mut moments, &mut best);
        }
        Some(
            best.heap
                .into_sorted_vec()
                .into_iter()
                .map(|w| w.0)
                .collect(),
        )
    }

    /// Offers every item of a cell that passes the filters, skipping sub-cells out of reach.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the state of one search"
    )]
    fn scan_cell(
        &self,
        ij: (i32, i32),
        cells: &[(&Cell, u64)],
        p: &Prepared,
        f: &Filter,
        moments: &mut Moments,
        best: &mut Best,
        nearest_first: bool,
    ) {
        // Lower bounds on the distance to each row and each column of sub-cells (as in
        // `Rings::lower_bound`, with asin x >= x and sin x >= x - x³/6 to spare the trigonometry).
        let mut by_row = [0.0; SUBS];
        let mut by_col = [0.0; SUBS];
        for k in 0..SUBS {
            let south = f64::from(ij.0) * CELL_DEG + k as f64 * SUB_DEG;
            let gap = (south - f.lat).max(f.lat - (south + SUB_DEG)).max(0.0);
            by_row[k] = EARTH_KM * gap.to_radians();
            let west = f64::from(ij.1) * CELL_DEG + k as f64 * SUB_DEG;
            let g = (west - f.lng)
                .max(f.lng - (west + SUB_DEG))
                .max(0.0)
                .to_radians();
            by_col[k] = EARTH_KM * f.cos_lat * (g - g * g * g / 6.0).max(0.0);
        }
        let mut order = [(0.0f64, 0u8); SUBS * SUBS];
        for (s, o) in order.iter_mut().enumerate() {
            *o = (by_row[s / SUBS].max(by_col[s % SUBS]) - SLACK_KM, s as u8);
        }
        if nearest_first {
            order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        }
        for (bound, s) in order {
            if bound > f.radius || beyond(bound, best.bar()) {
                if nearest_first {
                    break;
                }
                continue;
            }
            for &(c, skip) in cells {
                let (a, b) = (
                    c.start[s as usize] as usize,
                    c.start[s as usize + 1] as usize,
                );
                if a < b {
                    self.scan(&c.keys[a..b], &c.items[a..b], skip, p, f, moments, best);
                }
            }
        }
    }

    /// Offers every item that passes the filters (but those with a type in `skip`).
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the state of one search"
    )]
    fn scan(
        &self,
        keys: &[u64],
        items: &[Packed],
        skip: u64,
        p: &Prepared,
        f: &Filter,
        moments: &mut Moments,
        best: &mut Best,
    ) {
        let mut bar = best.bar();
        let mut h_max = f.haversine_term_within(bar);
        for (&key, g) in keys.iter().zip(items) {
            if key & skip != 0 {
                continue;
            }
            if f.want_types != 0 && !types_match(key_types(key), f.want_types, f.all_types) {
                continue;
            }
            if key_pops(key) & f.want_pops != f.want_pops {
                continue;
            }
            if (f.vetted_only || key_le(key)) && f.today > g.vetted_until {
                continue;
            }
            if !f.any_lang && g.langs & f.want_langs == 0 && !self.rare_language(g, p, f) {
                continue;
            }
            if let Some(bits) = &f.text
                && bits[g.slot as usize / 64] & 1 << (g.slot % 64) == 0
            {
                continue;
            }
            // The haversine term with sin x >= x - x³/6: a lower bound of the distance without
            // trigonometry, against what the page and the radius still let in.
            let (a, b) = (
                (g.at.lat - f.origin.0.lat).abs() * 0.5,
                (g.at.lng - f.origin.0.lng).abs() * 0.5,
            );
            let (sa, sb) = (
                (a - a * a * a / 6.0).max(0.0),
                (b - b * b * b / 6.0).max(0.0),
            );
            if sa * sa + f.origin.0.cos_lat * g.at.cos_lat * sb * sb > h_max {
                continue;
            }
            let d = f.origin.km(g.at);
            if d > f.radius || beyond(d, bar) {
                continue;
            }
            let Some(status) = self.status(g, p, f, moments) else {
                continue;
            };
            let vetted = f.today <= g.vetted_until;
            let rel = if p.words.is_empty() {
                // `relevance` without reading the entry.
                let mut rel = (p.want_types & key_types(key)).count_ones() as f64;
                if vetted {
                    rel += 0.5;
                }
                rel
            } else {
                let Some(e) = self.entries[g.slot as usize].as_ref() else {
                    continue;
                };
                relevance(e, p, vetted)
            };
            best.offer(Ranked::new(d, rel, g.slot, status, None));
            if best.bar() != bar {
                bar = best.bar();
                h_max = f.haversine_term_within(bar);
            }
        }
    }

    /// Whether an entry whose language bits miss offers a wanted language numbered 63 or more.
    fn rare_language(&self, g: &Packed, p: &Prepared, f: &Filter) -> bool {
        f.rare_langs
            && g.langs & OTHER_LANGS != 0
            && self.entries[g.slot as usize]
                .as_ref()
                .is_some_and(|e| p.want_langs.iter().any(|l| e.langs.contains(l)))
    }

    /// The entry's hours at the query's instant, or `None` when they rule it out.
    fn status(
        &self,
        g: &Packed,
        p: &Prepared,
        f: &Filter,
        moments: &mut Moments,
    ) -> Option<OpenStatus> {
        let (date, minute, week_minute) = moments.get(&self.zones, g.tz, p.instant);
        let status = match g.hours {
            DATED_HOURS => self.entries[g.slot as usize]
                .as_ref()?
                .hours
                .status_local(date, minute),
            w => self.weeks[w as usize].status(week_minute),
        };
        let ok =
            !f.open_only || status.is_open() || (f.unknown_ok && status == OpenStatus::Unknown);
        ok.then_some(status)
    }

    /// Services that cover the caller's area (without a point within the radius), judged like any
    /// candidate and ranked after every result with a distance.
    fn add_area_services(
        &self,
        q: &SearchQuery,
        p: &Prepared,
        f: &Filter,
        (lo, hi): ((i32, i32), (i32, i32)),
        moments: &mut Moments,
        best: &mut Best,
    ) {
        let mut seen: HashSet<u32> = HashSet::new();
        for (ai, (key, _, _)) in p.caller_areas.iter().enumerate() {
            for &slot in self.areas.get(key).map(Vec::as_slice).unwrap_or_default() {
                if !seen.insert(slot) {
                    continue;
                }
                let Some(e) = self.entries[slot as usize].as_ref() else {
                    continue;
                };
                // An entry the grid read (in a cell of the box, of a wanted type, within the radius)
                // was already judged with its distance.
                let read_by_grid = e.point.is_some_and(|(a, b)| {
                    let c = cell(a, b);
                    (lo.0..=hi.0).contains(&c.0)
                        && (lo.1..=hi.1).contains(&c.1)
                        && (f.want_types == 0 || types_match(e.types, f.want_types, f.all_types))
                        && f.origin.km(Radians::new(a, b)) <= f.radius
                });
                if read_by_grid {
                    continue;
                }
                if let Some(r) = self.judge(q, p, moments, slot, None, Some(ai)) {
                    best.offer(r);
                }
            }
        }
    }
}
