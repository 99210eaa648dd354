//! The in-memory search index: one entry per service at a location (and one per service that has no
//! location but covers areas, such as hotlines and virtual services). Kept current with
//! [`SearchIndex::refresh_service`], [`SearchIndex::refresh_location`] and [`SearchIndex::remove_service`].
//!
//! Candidates come from a grid of 0.25° cells (points), from an area map (state, county, ZIP service
//! areas) and from a small inverted index of words of names and descriptions. Results are ranked by
//! distance, then relevance, and say why they matched. Law-enforcement entries are returned only when
//! vetted.
//!
//! Searches around a point read the grid nearest first and stop once the page cannot improve
//! (`ring`); the grid keeps, for every point, what the filters need packed beside it (types,
//! populations, languages, vetting, weekly hours: `week`), once in a grid of all points and once in
//! a grid per service type, and results are built from a small per-entry card. The straightforward
//! search that judges every candidate is kept as [`SearchIndex::search_exhaustive`], the reference
//! the fast path is tested and benchmarked against (`crates/directory/BENCHMARKS.md`).
//!
//! Service areas are read from HSDS `service_area` records whose `extent_type` is `state` (extent `TX`),
//! `county` (extent `Cook County, IL`), `zip` (extent `60601`) or `national`. A service with no
//! `language` record is taken to be offered in English.

use crate::ext::{LanternExt, location_is_redacted};
use crate::gazetteer::Gazetteer;
use crate::model::{Directory, Record};
use crate::schedule::{Hours, OpenStatus, local_moment, time_zone};
use crate::taxonomy::classify;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use lantern_domain::codes::{Population, ServiceType};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use week::WeekHours;

mod ring;
#[cfg(test)]
mod tests;
mod week;

const CELL_DEG: f64 = 0.25;
const EARTH_KM: f64 = 6371.0088;

/// Where the caller is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Near {
    /// A point.
    Point {
        /// Latitude (degrees).
        lat: f64,
        /// Longitude (degrees).
        lng: f64,
    },
    /// A five-digit ZIP code (placed by the gazetteer).
    Zip {
        /// The ZIP code.
        zip: String,
    },
    /// "City, ST" (placed by the gazetteer).
    City {
        /// The city and state.
        city: String,
    },
}

/// A search of the directory. `Default` searches everything, open or not, vetted or not.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// Where the caller is; without it results are not limited by distance.
    pub near: Option<Near>,
    /// Radius in kilometres around `near` (default 50).
    pub radius_km: Option<f64>,
    /// Service types wanted.
    pub service_types: Vec<ServiceType>,
    /// Whether every listed type is required (otherwise any one).
    pub all_service_types: bool,
    /// Populations that must all be served.
    pub populations: Vec<Population>,
    /// Languages (ISO 639 codes such as `es`, or names) of which at least one must be offered.
    pub languages: Vec<String>,
    /// Only entries open at this instant (evaluated in each location's own zone).
    pub open_at: Option<Timestamp>,
    /// With `open_at`, also return entries whose hours are unknown.
    pub include_unknown_hours: bool,
    /// Only vetted entries.
    pub vetted_only: bool,
    /// Words that must all appear in the names or descriptions.
    pub text: Option<String>,
    /// Also return services without a point that cover the caller's state, county or ZIP
    /// (the caller's area is known when `near` is a ZIP or a city; default true).
    pub exclude_area_services: bool,
    /// The day vetting is judged on (default: the day of `open_at`, or today, in UTC).
    pub today: Option<Date>,
    /// At most this many results (default 50).
    pub limit: Option<usize>,
}

/// Why a result matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum MatchReason {
    /// Within the radius.
    Within {
        /// Distance in km.
        km: f64,
    },
    /// Its service area covers the caller's area.
    CoversArea {
        /// `state`, `county`, `zip` or `national`.
        kind: String,
        /// The area (`TX`, `Cook County, IL`, `60601`).
        area: String,
    },
    /// It offers this service type.
    ServiceType {
        /// The type.
        code: ServiceType,
    },
    /// It serves this population.
    Population {
        /// The population.
        code: Population,
    },
    /// It offers this language.
    Language {
        /// The language as asked.
        language: String,
    },
    /// Its hours at the instant asked.
    Hours {
        /// Open, always open, or unknown.
        status: OpenStatus,
    },
    /// It is vetted.
    Vetted,
    /// These words matched.
    Text {
        /// The words.
        words: Vec<String>,
    },
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The service-at-location (absent for an area service without a location).
    pub service_at_location_id: Option<String>,
    /// The service.
    pub service_id: String,
    /// The location, if any.
    pub location_id: Option<String>,
    /// The organisation, if known.
    pub organization_id: Option<String>,
    /// Distance from the caller in km (absent without a caller point or for area services).
    pub distance_km: Option<f64>,
    /// Relevance (more is better), used after distance.
    pub relevance: f64,
    /// Hours status at `open_at` (or now).
    pub open: OpenStatus,
    /// Whether it is vetted on the query's day.
    pub vetted: bool,
    /// Whether the location is confidential (its address must not be shown to partners).
    pub redacted: bool,
    /// Why it matched.
    pub why: Vec<MatchReason>,
}

/// A search that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// The ZIP code is not in the gazetteer.
    #[error("near.zip: unknown ZIP code `{0}`")]
    UnknownZip(String),
    /// The city is not in the gazetteer.
    #[error("near.city: unknown city `{0}` (expected \"City, ST\")")]
    UnknownCity(String),
    /// Coordinates out of range.
    #[error("near: latitude and longitude out of range")]
    BadPoint,
    /// Radius not positive or too large.
    #[error("radius_km: must be between 0 and 5000")]
    BadRadius,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum AreaKey {
    National,
    State(String),
    County(String, String),
    Zip(String),
}

#[derive(Debug, Clone)]
struct Entry {
    sal_id: Option<String>,
    service_id: String,
    location_id: Option<String>,
    organization_id: Option<String>,
    point: Option<(f64, f64)>,
    types: u32,
    pops: u16,
    le: bool,
    vetted: bool,
    reverify_due: Option<Date>,
    redacted: bool,
    langs: Vec<String>,
    hours: Hours,
    tz: u16,
    /// Index into `SearchIndex::weeks`, or [`DATED_HOURS`].
    week: u32,
    areas: Vec<AreaKey>,
    words: Vec<String>,
    name_words: usize,
}

impl Entry {
    /// The last day (as [`day_number`]) it counts as vetted: `i32::MIN` when not vetted,
    /// `i32::MAX` when vetted with no re-verification due.
    fn vetted_until(&self) -> i32 {
        match (self.vetted, self.reverify_due) {
            (false, _) => i32::MIN,
            (true, None) => i32::MAX,
            (true, Some(d)) => day_number(d),
        }
    }

    /// The entry's types, populations and law-enforcement flag in one word (see [`key_types`]).
    fn key(&self) -> u64 {
        u64::from(self.types) | u64::from(self.pops) << 32 | u64::from(self.le) << 48
    }
}

/// The service types of a packed key.
fn key_types(key: u64) -> u32 {
    key as u32
}

/// The populations of a packed key.
fn key_pops(key: u64) -> u16 {
    (key >> 32) as u16
}

/// Whether a packed key is a law-enforcement entry (shown only when vetted).
fn key_le(key: u64) -> bool {
    key & 1 << 48 != 0
}

/// A point entry as the grid keeps it: everything the filters and the distance need, so a search
/// reads the entry itself only for the words of a text query, a language numbered 63 or more, or
/// hours that depend on the date.
#[derive(Debug, Clone, Copy)]
struct Packed {
    at: Radians,
    /// Bit i: the language numbered i in `SearchIndex::lang_ids` (i < 63); bit 63: a language
    /// numbered 63 or more (the entry is then asked).
    langs: u64,
    /// The last day (as [`day_number`]) it counts as vetted: `i32::MIN` when not vetted,
    /// `i32::MAX` when vetted with no re-verification due.
    vetted_until: i32,
    slot: u32,
    /// Index into `SearchIndex::weeks`, or [`DATED_HOURS`] when the entry's rules must be asked.
    hours: u32,
    tz: u16,
}

/// What a result shows of an entry, kept together (by slot) so that a page of results reads one
/// small record and one string per hit.
#[derive(Debug, Default)]
struct Card {
    /// The ids of the service at location, the service, the location and the organisation, one
    /// after another.
    ids: Box<str>,
    /// Where each id ends in `ids`.
    ends: [u32; 4],
    /// Bit i: id i is present.
    present: u8,
    types: u32,
    /// As `Packed::langs`.
    langs: u64,
    /// As `Packed::vetted_until`.
    vetted_until: i32,
    redacted: bool,
}

impl Card {
    fn new(e: &Entry, langs: u64) -> Card {
        let parts = [
            e.sal_id.as_deref(),
            Some(e.service_id.as_str()),
            e.location_id.as_deref(),
            e.organization_id.as_deref(),
        ];
        let mut ids = String::new();
        let mut ends = [0u32; 4];
        let mut present = 0u8;
        for (i, part) in parts.into_iter().enumerate() {
            if let Some(part) = part {
                ids.push_str(part);
                present |= 1 << i;
            }
            ends[i] = ids.len() as u32;
        }
        Card {
            ids: ids.into_boxed_str(),
            ends,
            present,
            types: e.types,
            langs,
            vetted_until: e.vetted_until(),
            redacted: e.redacted,
        }
    }

    /// Id `i` (0: service at location, 1: service, 2: location, 3: organisation).
    fn id(&self, i: usize) -> Option<&str> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        (self.present & 1 << i != 0).then(|| &self.ids[start..self.ends[i] as usize])
    }
}

/// The grid's points in one cell: packed keys apart from the rest, so that the type and population
/// filters read a dense array. Items are grouped by sub-cell ([`SUBS`] × [`SUBS`] squares, row by
/// row from the south-west), so a search can skip the parts of a cell that are out of reach.
#[derive(Debug, Default)]
struct Cell {
    /// Sub-cell `s` holds `keys[start[s]..start[s + 1]]` (and the same items).
    start: [u32; SUBS * SUBS + 1],
    keys: Vec<u64>,
    items: Vec<Packed>,
}

/// Points by cell.
type Grid = HashMap<(i32, i32), Cell, BuildHasherDefault<CellHasher>>;

/// A hasher for cell coordinates: a search looks up hundreds of cells, and SipHash's protection
/// against chosen keys buys nothing for coordinates of the directory's own records.
#[derive(Debug, Default)]
struct CellHasher(u64);

impl Hasher for CellHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_i32(&mut self, i: i32) {
        self.write_u64(u64::from(i as u32));
    }

    fn write_u64(&mut self, i: u64) {
        // Multiply-rotate mixing (as in rustc's FxHasher): the table uses the top bits of the hash
        // to pick a group and the bottom ones to pick a bucket, so both must vary.
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

/// Sub-cells per cell side.
const SUBS: usize = 5;
const SUB_DEG: f64 = CELL_DEG / SUBS as f64;

impl Cell {
    /// The sub-cell of a point of cell `(i, j)`.
    fn sub(ij: (i32, i32), lat: f64, lng: f64) -> usize {
        let part = |x: f64, c: i32| {
            (((x - f64::from(c) * CELL_DEG) / SUB_DEG).floor() as i64).clamp(0, SUBS as i64 - 1)
                as usize
        };
        part(lat, ij.0) * SUBS + part(lng, ij.1)
    }

    fn insert(&mut self, s: usize, key: u64, item: Packed) {
        let at = self.start[s + 1] as usize;
        self.keys.insert(at, key);
        self.items.insert(at, item);
        for x in &mut self.start[s + 1..] {
            *x += 1;
        }
    }

    fn remove(&mut self, slot: u32) {
        if let Some(at) = self.items.iter().position(|x| x.slot == slot) {
            self.keys.remove(at);
            self.items.remove(at);
            for x in &mut self.start[1..] {
                if *x as usize > at {
                    *x -= 1;
                }
            }
        }
    }
}

/// `Packed::hours` of hours that depend on the date, not only on the weekday and minute.
const DATED_HOURS: u32 = u32::MAX;

/// Language bit meaning "a language numbered 63 or more".
const OTHER_LANGS: u64 = 1 << 63;

/// A day as an integer that orders like the date.
fn day_number(d: Date) -> i32 {
    i32::from(d.year()) * 512 + i32::from(d.month()) * 32 + i32::from(d.day())
}

/// The search index.
#[derive(Debug, Default)]
pub struct SearchIndex {
    entries: Vec<Option<Entry>>,
    /// What results show of each entry, by slot (stale for free slots).
    cards: Vec<Card>,
    free: Vec<u32>,
    by_service: HashMap<String, Vec<u32>>,
    grid: Grid,
    /// The same points once per service type they offer (index: the type's bit), so a search for a
    /// type reads only entries of that type.
    by_type: Vec<Grid>,
    areas: HashMap<AreaKey, Vec<u32>>,
    words: HashMap<String, Vec<u32>>,
    zones: Vec<TimeZone>,
    zone_names: HashMap<String, u16>,
    pointless: Vec<u32>,
    /// Languages numbered in the order first seen (bits of `Packed::langs`).
    lang_ids: HashMap<String, u16>,
    /// Distinct weekly hours, and their numbers.
    weeks: Vec<WeekHours>,
    week_ids: HashMap<WeekHours, u32>,
}

fn type_bit(t: ServiceType) -> u32 {
    1 << ServiceType::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

fn pop_bit(p: Population) -> u16 {
    1 << Population::ALL.iter().position(|x| *x == p).unwrap_or(0)
}

fn cell(lat: f64, lng: f64) -> (i32, i32) {
    (
        (lat / CELL_DEG).floor() as i32,
        (lng / CELL_DEG).floor() as i32,
    )
}

/// Great-circle distance in km.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    Origin::new(a.0, a.1).km(Radians::new(b.0, b.1))
}

/// A point in radians with the cosine of its latitude, worked out once so that distances to it
/// cost one square root, one arcsine and two sines.
#[derive(Debug, Clone, Copy)]
struct Radians {
    lat: f64,
    lng: f64,
    cos_lat: f64,
}

impl Radians {
    fn new(lat: f64, lng: f64) -> Radians {
        let lat = lat.to_radians();
        Radians {
            lat,
            lng: lng.to_radians(),
            cos_lat: lat.cos(),
        }
    }
}

/// The caller's point, from which [`haversine_km`] distances are measured.
#[derive(Debug, Clone, Copy)]
struct Origin(Radians);

impl Origin {
    fn new(lat: f64, lng: f64) -> Origin {
        Origin(Radians::new(lat, lng))
    }

    /// Great-circle distance in km (the haversine formula).
    fn km(&self, b: Radians) -> f64 {
        let a = self.0;
        let h = ((b.lat - a.lat) / 2.0).sin().powi(2)
            + a.cos_lat * b.cos_lat * ((b.lng - a.lng) / 2.0).sin().powi(2);
        2.0 * EARTH_KM * h.sqrt().min(1.0).asin()
    }
}

/// Lower-case words of a text (letters and digits; accents are kept).
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .map(str::to_lowercase)
        .collect()
}

fn norm_lang(s: &str) -> String {
    let s = s.trim().to_lowercase();
    match s.as_str() {
        "english" | "eng" => "en".into(),
        "spanish" | "español" | "espanol" | "spa" => "es".into(),
        "french" | "fra" | "fre" => "fr".into(),
        "chinese" | "zho" | "chi" => "zh".into(),
        "vietnamese" | "vie" => "vi".into(),
        "korean" | "kor" => "ko".into(),
        "tagalog" | "tgl" => "tl".into(),
        "arabic" | "ara" => "ar".into(),
        "russian" | "rus" => "ru".into(),
        "haitian creole" | "hat" => "ht".into(),
        "portuguese" | "por" => "pt".into(),
        _ => s.split(['-', '_']).next().unwrap_or_default().to_owned(),
    }
}

fn parse_area(kind: &str, extent: &str) -> Option<AreaKey> {
    let e = extent.trim();
    match kind.trim().to_lowercase().as_str() {
        "national" | "nationwide" => Some(AreaKey::National),
        "state" => Some(AreaKey::State(e.to_uppercase())),
        "county" => {
            let (c, s) = e.rsplit_once(',')?;
            Some(AreaKey::County(
                c.trim().to_lowercase(),
                s.trim().to_uppercase(),
            ))
        }
        "zip" | "postal_code" => Some(AreaKey::Zip(e.get(..5)?.to_owned())),
        _ => None,
    }
}

impl SearchIndex {
    /// Builds the index of a whole directory.
    pub fn build(dir: &Directory) -> SearchIndex {
        let mut idx = SearchIndex::default();
        let classes = classify(dir);
        let links = Links::new(dir);
        for id in dir.service.keys() {
            idx.add_service(dir, id, &classes, &links);
        }
        idx
    }

    /// How many entries (services at locations and area services) are indexed.
    pub fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Re-indexes one service (after it, its attributes, languages, schedules, areas or its
    /// service-at-locations changed); removes it if it is gone from the directory.
    pub fn refresh_service(&mut self, dir: &Directory, service_id: &str) {
        self.remove_service(service_id);
        if dir.service.contains_key(service_id) {
            let classes = classify(dir);
            let links = Links::new(dir);
            self.add_service(dir, service_id, &classes, &links);
        }
    }

    /// Re-indexes every service at one location (after the location or its address changed).
    pub fn refresh_location(&mut self, dir: &Directory, location_id: &str) {
        let services: BTreeSet<String> = dir
            .service_at_location
            .values()
            .filter(|s| s.location_id.as_deref() == Some(location_id))
            .filter_map(|s| s.service_id.clone())
            .chain(
                self.entries
                    .iter()
                    .flatten()
                    .filter(|e| e.location_id.as_deref() == Some(location_id))
                    .map(|e| e.service_id.clone()),
            )
            .collect();
        for s in services {
            self.refresh_service(dir, &s);
        }
    }

    /// Removes a service and all its entries.
    pub fn remove_service(&mut self, service_id: &str) {
        let Some(slots) = self.by_service.remove(service_id) else {
            return;
        };
        for slot in slots {
            let Some(e) = self.entries[slot as usize].take() else {
                continue;
            };
            if let Some((lat, lng)) = e.point {
                let ij = cell(lat, lng);
                if let Some(c) = self.grid.get_mut(&ij) {
                    c.remove(slot);
                }
                for (t, grid) in self.by_type.iter_mut().enumerate() {
                    if e.types & 1 << t != 0
                        && let Some(c) = grid.get_mut(&ij)
                    {
                        c.remove(slot);
                    }
                }
            } else {
                self.pointless.retain(|&x| x != slot);
            }
            for a in &e.areas {
                if let Some(v) = self.areas.get_mut(a) {
                    v.retain(|&x| x != slot);
                }
            }
            for w in e.words.iter().collect::<BTreeSet<_>>() {
                if let Some(v) = self.words.get_mut(w) {
                    v.retain(|&x| x != slot);
                }
            }
            self.free.push(slot);
        }
    }

    fn zone(&mut self, name: Option<&str>) -> u16 {
        let name = name.filter(|n| !n.is_empty()).unwrap_or("UTC");
        if let Some(&i) = self.zone_names.get(name) {
            return i;
        }
        let tz = time_zone(name).unwrap_or(TimeZone::UTC);
        let i = self.zones.len() as u16;
        self.zones.push(tz);
        self.zone_names.insert(name.to_owned(), i);
        i
    }

    /// The number of a week of hours (`None`: hours that depend on the date).
    fn week(&mut self, week: Option<WeekHours>) -> u32 {
        let Some(week) = week else {
            return DATED_HOURS;
        };
        if let Some(&i) = self.week_ids.get(&week) {
            return i;
        }
        let i = self.weeks.len() as u32;
        self.weeks.push(week.clone());
        self.week_ids.insert(week, i);
        i
    }

    /// The language bits of an entry's languages, numbering languages not seen before.
    fn lang_mask(&mut self, langs: &[String]) -> u64 {
        let mut mask = 0;
        for l in langs {
            let next = self.lang_ids.len() as u16;
            let id = *self.lang_ids.entry(l.clone()).or_insert(next);
            mask |= if id < 63 { 1 << id } else { OTHER_LANGS };
        }
        mask
    }

    fn add_service(
        &mut self,
        dir: &Directory,
        service_id: &str,
        classes: &BTreeMap<String, (Vec<ServiceType>, Vec<Population>)>,
        links: &Links,
    ) {
        let Some(svc) = dir.service.get(service_id) else {
            return;
        };
        if svc.status.as_deref().is_some_and(|s| s != "active") {
            return;
        }
        let (types, pops) = classes.get(service_id).cloned().unwrap_or_default();
        let type_mask = types.iter().fold(0, |m, &t| m | type_bit(t));
        let pop_mask = pops.iter().fold(0, |m, &p| m | pop_bit(p));
        let vet = svc
            .lantern
            .as_ref()
            .and_then(|e| e.vetting.clone())
            .or_else(|| {
                let org = dir.organization.get(svc.organization_id.as_deref()?)?;
                org.lantern.as_ref()?.vetting.clone()
            });
        let vetted = vet
            .as_ref()
            .is_some_and(|v| v.status == lantern_domain::codes::Vetting::Vetted);
        let reverify_due = vet.as_ref().and_then(|v| v.reverify_due);
        let org_name = svc
            .organization_id
            .as_deref()
            .and_then(|o| dir.organization.get(o))
            .and_then(|o| o.name.clone())
            .unwrap_or_default();
        let service_langs: Vec<String> = get(&links.langs_by_service, Some(service_id))
            .iter()
            .filter_map(|l| l.code.as_deref().or(l.name.as_deref()).map(norm_lang))
            .collect();
        let areas_of = |sal: Option<&str>| -> Vec<AreaKey> {
            get(&links.areas_by_service, Some(service_id))
                .iter()
                .chain(get(&links.areas_by_sal, sal))
                .filter_map(|a| {
                    parse_area(
                        a.extent_type.as_deref()?,
                        a.extent.as_deref().or(a.name.as_deref())?,
                    )
                })
                .collect()
        };
        let schedules_of = |sal: Option<&str>, loc: Option<&str>| {
            for list in [
                get(&links.sched_by_sal, sal),
                get(&links.sched_by_service, Some(service_id)),
                get(&links.sched_by_location, loc),
            ] {
                if !list.is_empty() {
                    let hours = Hours::from_schedules(list.iter().copied());
                    let week = WeekHours::of(&hours, list);
                    return (hours, week);
                }
            }
            (Hours::default(), Some(WeekHours::Unknown))
        };
        let base_text = [
            svc.name.as_deref(),
            svc.alternate_name.as_deref(),
            Some(org_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .flat_map(tokenize)
        .collect::<Vec<_>>();
        let sals = get(&links.sals_by_service, Some(service_id));
        let mut new_entries = Vec::new();
        for sal in sals {
            let loc = sal.location_id.as_deref().and_then(|l| dir.location.get(l));
            let addrs = get(&links.addr_by_location, loc.map(Record::id));
            let addr = addrs
                .iter()
                .find(|a| a.address_type.as_deref() != Some("postal"))
                .or_else(|| addrs.first());
            let zip = addr
                .and_then(|a| a.postal_code.as_deref())
                .and_then(|z| Gazetteer::get().zip(z));
            let point = loc
                .and_then(|l| Some((l.latitude?, l.longitude?)))
                .filter(|(a, b)| a.abs() <= 90.0 && b.abs() <= 180.0)
                .or_else(|| zip.map(|z| (z.lat, z.lng)));
            let ext: Option<&LanternExt> = loc.and_then(|l| l.lantern.as_ref());
            let tz = ext
                .and_then(|e| e.time_zone.clone())
                .or_else(|| zip.map(|z| z.time_zone.clone()));
            let mut langs = service_langs.clone();
            langs.extend(
                get(&links.langs_by_location, loc.map(Record::id))
                    .iter()
                    .filter_map(|l| l.code.as_deref().or(l.name.as_deref()).map(norm_lang)),
            );
            if langs.is_empty() {
                langs.push("en".into());
            }
            let mut words = base_text.clone();
            let name_words = words.len();
            if let Some(l) = loc {
                words.extend(l.name.iter().flat_map(|n| tokenize(n)));
            }
            words.extend(svc.description.iter().flat_map(|d| tokenize(d)));
            words.extend(sal.description.iter().flat_map(|d| tokenize(d)));
            let (hours, week) = schedules_of(Some(&sal.id), loc.map(Record::id));
            new_entries.push(Entry {
                sal_id: Some(sal.id.clone()),
                service_id: service_id.to_owned(),
                location_id: loc.map(|l| l.id.clone()),
                organization_id: svc.organization_id.clone(),
                point,
                types: type_mask,
                pops: pop_mask,
                le: types.iter().any(|t| t.is_law_enforcement()),
                vetted,
                reverify_due,
                redacted: loc.is_some_and(location_is_redacted),
                langs,
                hours,
                tz: 0,
                week: self.week(week),
                areas: areas_of(Some(&sal.id)),
                words,
                name_words,
            });
            let last = new_entries.len() - 1;
            new_entries[last].tz = self.zone(tz.as_deref());
        }
        let areas = areas_of(None);
        if sals.is_empty() && !areas.is_empty() {
            let mut langs = service_langs.clone();
            if langs.is_empty() {
                langs.push("en".into());
            }
            let mut words = base_text.clone();
            let name_words = words.len();
            words.extend(svc.description.iter().flat_map(|d| tokenize(d)));
            let tz = self.zone(None);
            let (hours, week) = schedules_of(None, None);
            new_entries.push(Entry {
                sal_id: None,
                service_id: service_id.to_owned(),
                location_id: None,
                organization_id: svc.organization_id.clone(),
                point: None,
                types: type_mask,
                pops: pop_mask,
                le: types.iter().any(|t| t.is_law_enforcement()),
                vetted,
                reverify_due,
                redacted: false,
                langs,
                hours,
                tz,
                week: self.week(week),
                areas,
                words,
                name_words,
            });
        }
        for e in new_entries {
            let slot = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.entries.push(None);
                    self.cards.push(Card::default());
                    (self.entries.len() - 1) as u32
                }
            };
            match e.point {
                Some((lat, lng)) => {
                    let item = Packed {
                        at: Radians::new(lat, lng),
                        langs: self.lang_mask(&e.langs),
                        vetted_until: e.vetted_until(),
                        slot,
                        hours: e.week,
                        tz: e.tz,
                    };
                    let ij = cell(lat, lng);
                    let sub = Cell::sub(ij, lat, lng);
                    self.grid.entry(ij).or_default().insert(sub, e.key(), item);
                    if self.by_type.is_empty() {
                        self.by_type.resize_with(32, Grid::default);
                    }
                    for (t, grid) in self.by_type.iter_mut().enumerate() {
                        if e.types & 1 << t != 0 {
                            grid.entry(ij).or_default().insert(sub, e.key(), item);
                        }
                    }
                }
                None => self.pointless.push(slot),
            }
            for a in &e.areas {
                self.areas.entry(a.clone()).or_default().push(slot);
            }
            for w in e.words.iter().collect::<BTreeSet<_>>() {
                // Posting lists stay sorted so queries can intersect them without sorting.
                let list = self.words.entry(w.clone()).or_default();
                if let Err(pos) = list.binary_search(&slot) {
                    list.insert(pos, slot);
                }
            }
            self.by_service
                .entry(e.service_id.clone())
                .or_default()
                .push(slot);
            self.cards[slot as usize] = Card::new(&e, self.lang_mask(&e.langs));
            self.entries[slot as usize] = Some(e);
        }
    }

    /// Runs a search: the entries that pass every filter, nearest first (distances compared to
    /// 0.1 km), then by relevance, at most `limit` of them.
    ///
    /// Around a point, the grid is read ring by ring outwards from the caller's cell and reading
    /// stops once `limit` results are closer than anything the next ring can hold, so a search in a
    /// dense city does not look at every entry within the radius. Results are the same as
    /// [`SearchIndex::search_exhaustive`].
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>, SearchError> {
        let Some(p) = self.prepare(q)? else {
            return Ok(Vec::new());
        };
        if p.limit == 0 {
            return Ok(Vec::new());
        }
        let ranked = match self.nearest_first(q, &p) {
            Some(ranked) => ranked,
            None => self.rank_exhaustive(q, &p),
        };
        Ok(self.hits_from_cards(q, &p, ranked))
    }

    /// Runs a search by judging every candidate within the radius (or every entry) and sorting
    /// them all. The same results as [`SearchIndex::search`], more slowly: the reference that tests
    /// and the benchmark compare the fast path with.
    pub fn search_exhaustive(&self, q: &SearchQuery) -> Result<Vec<SearchHit>, SearchError> {
        let Some(p) = self.prepare(q)? else {
            return Ok(Vec::new());
        };
        let ranked = self.rank_exhaustive(q, &p);
        Ok(self.hits(q, &p, ranked))
    }

    /// Checks a query and turns it into what the filters compare with; `None` when a word of the
    /// text is in no entry (nothing can match).
    fn prepare(&self, q: &SearchQuery) -> Result<Option<Prepared>, SearchError> {
        let g = Gazetteer::get();
        let mut caller_areas: Vec<(AreaKey, String, String)> = Vec::new();
        let point = match &q.near {
            None => None,
            Some(Near::Point { lat, lng }) => {
                if !(lat.abs() <= 90.0 && lng.abs() <= 180.0) {
                    return Err(SearchError::BadPoint);
                }
                Some((*lat, *lng))
            }
            Some(Near::Zip { zip }) => {
                let z = g
                    .zip(zip)
                    .ok_or_else(|| SearchError::UnknownZip(zip.clone()))?;
                caller_areas.push((AreaKey::Zip(z.zip.clone()), "zip".into(), z.zip.clone()));
                let county = z.county.to_lowercase();
                caller_areas.push((
                    AreaKey::County(county, z.state.clone()),
                    "county".into(),
                    format!("{}, {}", z.county, z.state),
                ));
                caller_areas.push((
                    AreaKey::State(z.state.clone()),
                    "state".into(),
                    z.state.clone(),
                ));
                Some((z.lat, z.lng))
            }
            Some(Near::City { city }) => {
                let c = g
                    .city(city)
                    .ok_or_else(|| SearchError::UnknownCity(city.clone()))?;
                for z in &c.zips {
                    caller_areas.push((AreaKey::Zip(z.clone()), "zip".into(), z.clone()));
                }
                caller_areas.push((
                    AreaKey::State(c.state.clone()),
                    "state".into(),
                    c.state.clone(),
                ));
                Some((c.lat, c.lng))
            }
        };
        if point.is_some() {
            caller_areas.push((AreaKey::National, "national".into(), "US".into()));
        }
        let radius = q.radius_km.unwrap_or(50.0);
        if !(radius > 0.0 && radius <= 5000.0) {
            return Err(SearchError::BadRadius);
        }
        let want_types = q.service_types.iter().fold(0u32, |m, &t| m | type_bit(t));
        let want_pops = q.populations.iter().fold(0u16, |m, &p| m | pop_bit(p));
        let want_langs: Vec<String> = q.languages.iter().map(|l| norm_lang(l)).collect();
        let words: Vec<String> = q.text.as_deref().map(tokenize).unwrap_or_default();
        let instant = q.open_at.unwrap_or_else(Timestamp::now);
        let today = q
            .today
            .unwrap_or_else(|| instant.to_zoned(TimeZone::UTC).date());
        let limit = q.limit.unwrap_or(50);

        let text_set: Option<Vec<u32>> = if words.is_empty() {
            None
        } else {
            let mut lists: Vec<&Vec<u32>> = Vec::new();
            for w in &words {
                match self.words.get(w) {
                    Some(l) => lists.push(l),
                    None => return Ok(None),
                }
            }
            lists.sort_by_key(|l| l.len());
            let mut set: Vec<u32> = lists[0].clone();
            for l in &lists[1..] {
                set.retain(|x| l.binary_search(x).is_ok());
            }
            Some(set)
        };
        Ok(Some(Prepared {
            point,
            caller_areas,
            radius,
            want_types,
            want_pops,
            want_langs,
            words,
            instant,
            today,
            limit,
            text_set,
        }))
    }

    /// The cells around the caller that a search within the radius reads: those overlapping a
    /// box of the radius around the point (first and last cell, and how many cells that is).
    fn cell_box(lat: f64, lng: f64, radius: f64) -> ((i32, i32), (i32, i32), i64) {
        let dlat = radius / 111.0;
        let coslat = lat.to_radians().cos().max(0.01);
        let dlng = (radius / (111.32 * coslat)).min(180.0);
        let (c0, c1) = (cell(lat - dlat, lng - dlng), cell(lat + dlat, lng + dlng));
        let cells = i64::from(c1.0 - c0.0 + 1) * i64::from(c1.1 - c0.1 + 1);
        (c0, c1, cells)
    }

    /// Every candidate judged, then all sorted: (distance, relevance, slot, hours, area reason).
    fn rank_exhaustive(&self, q: &SearchQuery, p: &Prepared) -> Vec<Ranked> {
        let want_types = p.want_types;
        let radius = p.radius;
        // Candidates: (slot, distance, area reason).
        let mut cands: Vec<(u32, Option<f64>, Option<usize>)> = Vec::new();
        match p.point {
            Some((lat, lng)) => {
                let origin = Origin::new(lat, lng);
                let (c0, c1, cells) = Self::cell_box(lat, lng, radius);
                let visit =
                    |types: u32,
                     slot: u32,
                     at: Radians,
                     cands: &mut Vec<(u32, Option<f64>, Option<usize>)>| {
                        if want_types != 0 && !types_match(types, want_types, q.all_service_types) {
                            return;
                        }
                        let d = origin.km(at);
                        if d <= radius {
                            cands.push((slot, Some(d), None));
                        }
                    };
                if let Some(set) = &p.text_set.as_ref().filter(|s| (s.len() as i64) < cells * 8) {
                    for &slot in set.iter() {
                        if let Some(e) = &self.entries[slot as usize]
                            && let Some((a, b)) = e.point
                        {
                            visit(e.types, slot, Radians::new(a, b), &mut cands);
                        }
                    }
                } else if cells as usize > self.grid.len() {
                    for c in self.grid.values() {
                        for (&key, g) in c.keys.iter().zip(&c.items) {
                            visit(key_types(key), g.slot, g.at, &mut cands);
                        }
                    }
                } else {
                    for i in c0.0..=c1.0 {
                        for j in c0.1..=c1.1 {
                            if let Some(c) = self.grid.get(&(i, j)) {
                                for (&key, g) in c.keys.iter().zip(&c.items) {
                                    visit(key_types(key), g.slot, g.at, &mut cands);
                                }
                            }
                        }
                    }
                }
                if !q.exclude_area_services {
                    let mut seen: BTreeSet<u32> = cands.iter().map(|c| c.0).collect();
                    for (ai, (key, _, _)) in p.caller_areas.iter().enumerate() {
                        for &slot in self.areas.get(key).map(Vec::as_slice).unwrap_or_default() {
                            if seen.insert(slot) {
                                cands.push((slot, None, Some(ai)));
                            }
                        }
                    }
                }
            }
            None => {
                let all: Box<dyn Iterator<Item = u32>> = match &p.text_set {
                    Some(s) => Box::new(s.iter().copied()),
                    None => Box::new(0..self.entries.len() as u32),
                };
                cands.extend(all.map(|s| (s, None, None)));
            }
        }

        let mut moments = Moments::new(self.zones.len());
        let mut hits: Vec<Ranked> = Vec::new();
        for (slot, dist, area) in cands {
            if let Some(r) = self.judge(q, p, &mut moments, slot, dist, area) {
                hits.push(r);
            }
        }
        hits.sort_by(Ranked::order);
        hits.truncate(p.limit);
        hits
    }

    /// Whether one candidate passes every filter, and if so its rank.
    fn judge(
        &self,
        q: &SearchQuery,
        p: &Prepared,
        moments: &mut Moments,
        slot: u32,
        dist: Option<f64>,
        area: Option<usize>,
    ) -> Option<Ranked> {
        let e = self.entries[slot as usize].as_ref()?;
        if p.want_types != 0 && !types_match(e.types, p.want_types, q.all_service_types) {
            return None;
        }
        if e.pops & p.want_pops != p.want_pops {
            return None;
        }
        let vetted = e.vetted && e.reverify_due.is_none_or(|d| p.today <= d);
        if (q.vetted_only || e.le) && !vetted {
            return None;
        }
        if !p.want_langs.is_empty() && !p.want_langs.iter().any(|l| e.langs.contains(l)) {
            return None;
        }
        if let Some(set) = &p.text_set
            && set.binary_search(&slot).is_err()
        {
            return None;
        }
        let (date, minute, _) = moments.get(&self.zones, e.tz, p.instant);
        let status = e.hours.status_local(date, minute);
        if q.open_at.is_some()
            && !(status.is_open() || (q.include_unknown_hours && status == OpenStatus::Unknown))
        {
            return None;
        }
        let d = dist.unwrap_or(f64::INFINITY);
        Some(Ranked::new(d, relevance(e, p, vetted), slot, status, area))
    }

    /// The results as callers see them, with their reasons, read from the cards: the same as
    /// [`SearchIndex::hits`] with one small record and one string read per hit.
    fn hits_from_cards(
        &self,
        q: &SearchQuery,
        p: &Prepared,
        ranked: Vec<Ranked>,
    ) -> Vec<SearchHit> {
        let today = day_number(p.today);
        let lang_ids: Vec<Option<u16>> = p
            .want_langs
            .iter()
            .map(|l| self.lang_ids.get(l).copied())
            .collect();
        ranked
            .into_iter()
            .map(|r| {
                let c = &self.cards[r.slot as usize];
                let vetted = today <= c.vetted_until;
                let mut why = Vec::with_capacity(
                    3 + q.service_types.len() + q.populations.len() + q.languages.len(),
                );
                if r.d.is_finite() {
                    why.push(MatchReason::Within {
                        km: (r.d * 10.0).round() / 10.0,
                    });
                }
                if let Some(ai) = r.area {
                    let (_, kind, name) = &p.caller_areas[ai];
                    why.push(MatchReason::CoversArea {
                        kind: kind.clone(),
                        area: name.clone(),
                    });
                }
                for &t in &q.service_types {
                    if c.types & type_bit(t) != 0 {
                        why.push(MatchReason::ServiceType { code: t });
                    }
                }
                for &pop in &q.populations {
                    why.push(MatchReason::Population { code: pop });
                }
                for ((l, n), id) in q.languages.iter().zip(&p.want_langs).zip(&lang_ids) {
                    let offered = match *id {
                        Some(id) if id < 63 => c.langs & 1 << id != 0,
                        Some(_) => self.entries[r.slot as usize]
                            .as_ref()
                            .is_some_and(|e| e.langs.contains(n)),
                        None => false,
                    };
                    if offered {
                        why.push(MatchReason::Language {
                            language: l.clone(),
                        });
                    }
                }
                if q.open_at.is_some() {
                    why.push(MatchReason::Hours { status: r.status });
                }
                if vetted {
                    why.push(MatchReason::Vetted);
                }
                if !p.words.is_empty() {
                    why.push(MatchReason::Text {
                        words: p.words.clone(),
                    });
                }
                SearchHit {
                    service_at_location_id: c.id(0).map(str::to_owned),
                    service_id: c.id(1).unwrap_or_default().to_owned(),
                    location_id: c.id(2).map(str::to_owned),
                    organization_id: c.id(3).map(str::to_owned),
                    distance_km: r.d.is_finite().then_some(r.d),
                    relevance: r.rel,
                    open: r.status,
                    vetted,
                    redacted: c.redacted,
                    why,
                }
            })
            .collect()
    }

    /// The results as callers see them, with their reasons.
    fn hits(&self, q: &SearchQuery, p: &Prepared, ranked: Vec<Ranked>) -> Vec<SearchHit> {
        ranked
            .into_iter()
            .filter_map(|r| {
                let Ranked {
                    d,
                    rel,
                    slot,
                    status,
                    area,
                    ..
                } = r;
                let e = self.entries[slot as usize].as_ref()?;
                let vetted = e.vetted && e.reverify_due.is_none_or(|d| p.today <= d);
                let mut why = Vec::new();
                if d.is_finite() {
                    why.push(MatchReason::Within {
                        km: (d * 10.0).round() / 10.0,
                    });
                }
                if let Some(ai) = area {
                    let (_, kind, name) = &p.caller_areas[ai];
                    why.push(MatchReason::CoversArea {
                        kind: kind.clone(),
                        area: name.clone(),
                    });
                }
                for &t in &q.service_types {
                    if e.types & type_bit(t) != 0 {
                        why.push(MatchReason::ServiceType { code: t });
                    }
                }
                for &pop in &q.populations {
                    why.push(MatchReason::Population { code: pop });
                }
                for (l, n) in q.languages.iter().zip(&p.want_langs) {
                    if e.langs.contains(n) {
                        why.push(MatchReason::Language {
                            language: l.clone(),
                        });
                    }
                }
                if q.open_at.is_some() {
                    why.push(MatchReason::Hours { status });
                }
                if vetted {
                    why.push(MatchReason::Vetted);
                }
                if !p.words.is_empty() {
                    why.push(MatchReason::Text {
                        words: p.words.clone(),
                    });
                }
                Some(SearchHit {
                    service_at_location_id: e.sal_id.clone(),
                    service_id: e.service_id.clone(),
                    location_id: e.location_id.clone(),
                    organization_id: e.organization_id.clone(),
                    distance_km: d.is_finite().then_some(d),
                    relevance: rel,
                    open: status,
                    vetted,
                    redacted: e.redacted,
                    why,
                })
            })
            .collect()
    }
}

/// A query checked and reduced to what the filters compare with.
struct Prepared {
    point: Option<(f64, f64)>,
    caller_areas: Vec<(AreaKey, String, String)>,
    radius: f64,
    want_types: u32,
    want_pops: u16,
    want_langs: Vec<String>,
    words: Vec<String>,
    instant: Timestamp,
    today: Date,
    limit: usize,
    text_set: Option<Vec<u32>>,
}

/// One entry that passed the filters, with what it is ranked by.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    /// Distance in tenths of a km, rounded: entries closer than 100 m to one another tie on
    /// distance and are ranked by relevance.
    tenths: f64,
    d: f64,
    rel: f64,
    slot: u32,
    status: OpenStatus,
    area: Option<usize>,
}

impl Ranked {
    fn new(d: f64, rel: f64, slot: u32, status: OpenStatus, area: Option<usize>) -> Ranked {
        Ranked {
            tenths: (d * 10.0).round(),
            d,
            rel,
            slot,
            status,
            area,
        }
    }

    /// Nearest first, then most relevant, then oldest slot (so the order is total).
    fn order(a: &Ranked, b: &Ranked) -> std::cmp::Ordering {
        a.tenths
            .total_cmp(&b.tenths)
            .then(b.rel.total_cmp(&a.rel))
            .then(a.slot.cmp(&b.slot))
    }
}

/// Each time zone's local date, minute and minute of the week at the query's instant, worked out
/// the first time an entry in that zone needs it.
struct Moments(Vec<Option<(Date, u16, u16)>>);

impl Moments {
    fn new(zones: usize) -> Moments {
        Moments(vec![None; zones])
    }

    fn get(&mut self, zones: &[TimeZone], tz: u16, at: Timestamp) -> (Date, u16, u16) {
        *self.0[tz as usize].get_or_insert_with(|| {
            let (date, minute) = local_moment(&zones[tz as usize], at);
            (date, minute, week::minute_of_week(date, minute))
        })
    }
}

/// Relevance: one per wanted type offered, two per word in a name and one per word elsewhere,
/// a half for being vetted.
fn relevance(e: &Entry, p: &Prepared, vetted: bool) -> f64 {
    let mut rel = (p.want_types & e.types).count_ones() as f64;
    for w in &p.words {
        for (i, t) in e.words.iter().enumerate() {
            if t == w {
                rel += if i < e.name_words { 2.0 } else { 1.0 };
            }
        }
    }
    if vetted {
        rel += 0.5;
    }
    rel
}

/// The directory's records grouped by what they link to, built once per (re)indexing so indexing
/// stays linear in the directory's size.
#[derive(Default)]
struct Links<'a> {
    langs_by_service: HashMap<&'a str, Vec<&'a crate::model::Language>>,
    langs_by_location: HashMap<&'a str, Vec<&'a crate::model::Language>>,
    areas_by_service: HashMap<&'a str, Vec<&'a crate::model::ServiceArea>>,
    areas_by_sal: HashMap<&'a str, Vec<&'a crate::model::ServiceArea>>,
    sched_by_sal: HashMap<&'a str, Vec<&'a crate::model::Schedule>>,
    sched_by_service: HashMap<&'a str, Vec<&'a crate::model::Schedule>>,
    sched_by_location: HashMap<&'a str, Vec<&'a crate::model::Schedule>>,
    sals_by_service: HashMap<&'a str, Vec<&'a crate::model::ServiceAtLocation>>,
    addr_by_location: HashMap<&'a str, Vec<&'a crate::model::Address>>,
}

impl<'a> Links<'a> {
    fn new(dir: &'a Directory) -> Links<'a> {
        let mut l = Links::default();
        for x in dir.language.values() {
            if let Some(s) = x.service_id.as_deref() {
                l.langs_by_service.entry(s).or_default().push(x);
            }
            if let Some(s) = x.location_id.as_deref() {
                l.langs_by_location.entry(s).or_default().push(x);
            }
        }
        for x in dir.service_area.values() {
            if let Some(s) = x.service_id.as_deref() {
                l.areas_by_service.entry(s).or_default().push(x);
            }
            if let Some(s) = x.service_at_location_id.as_deref() {
                l.areas_by_sal.entry(s).or_default().push(x);
            }
        }
        for x in dir.schedule.values() {
            if let Some(s) = x.service_at_location_id.as_deref() {
                l.sched_by_sal.entry(s).or_default().push(x);
            } else if let Some(s) = x.service_id.as_deref() {
                l.sched_by_service.entry(s).or_default().push(x);
            } else if let Some(s) = x.location_id.as_deref() {
                l.sched_by_location.entry(s).or_default().push(x);
            }
        }
        for x in dir.service_at_location.values() {
            if let Some(s) = x.service_id.as_deref() {
                l.sals_by_service.entry(s).or_default().push(x);
            }
        }
        for x in dir.address.values() {
            if let Some(s) = x.location_id.as_deref() {
                l.addr_by_location.entry(s).or_default().push(x);
            }
        }
        l
    }
}

fn get<'m, 'a, T>(m: &'m HashMap<&'a str, Vec<&'a T>>, k: Option<&str>) -> &'m [&'a T] {
    k.and_then(|k| m.get(k))
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn types_match(have: u32, want: u32, all: bool) -> bool {
    if all {
        have & want == want
    } else {
        have & want != 0
    }
}
