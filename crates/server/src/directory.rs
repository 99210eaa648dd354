//! The referral directory in memory: each hotline's directory, its projection for partners, and the search
//! index over it, loaded from the store and kept current. Every change is written through the store in one
//! transaction, then this server reloads; other servers sharing a PostgreSQL database notice the new
//! version within [`Directories::RECHECK`] and reload too.
//!
//! Search requests come as a query string (`GET`) or a JSON body (`POST`, which keeps a caller's ZIP out
//! of URLs and logs); both become a [`SearchQuery`], and each hit becomes a [`HitView`] built from what the
//! viewer may see: partners never see a confidential location's address, coordinates or distance.

use crate::error::{AppError, FieldError};
use lantern_directory::ext::{Viewer, project};
use lantern_directory::index::{
    MatchReason, Near, SearchError, SearchHit, SearchIndex, SearchQuery,
};
use lantern_directory::model::Directory;
use lantern_directory::schedule::OpenStatus;
use lantern_directory::supply::supply_counts;
use lantern_directory::taxonomy::classify;
use lantern_domain::codes::{Code as _, Population, ServiceType};
use lantern_insights::gap::Supply;
use lantern_store::{AuditCtx, DirectoryChange, DirectoryRecord, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// Every record of a directory, as the store keeps them.
pub fn to_records(dir: &Directory) -> Vec<DirectoryRecord> {
    let mut out = Vec::new();
    for (table, rows) in dir.tables() {
        for row in rows {
            let id = row
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            out.push(DirectoryRecord {
                table: table.clone(),
                id,
                json: Value::Object(row).to_string(),
            });
        }
    }
    out
}

/// A directory from the store's records.
pub fn from_records(recs: &[DirectoryRecord]) -> anyhow::Result<Directory> {
    Ok(lantern_store::directory_of(recs)?)
}

/// Records linked to services and locations, for building result views without scanning tables.
#[derive(Debug, Default)]
struct Links {
    phones_of: HashMap<String, Vec<String>>,
    addresses_of: HashMap<String, Vec<String>>,
    languages_of: HashMap<String, Vec<String>>,
    schedules_of: HashMap<String, Vec<String>>,
    areas_of: HashMap<String, Vec<String>>,
}

impl Links {
    fn build(dir: &Directory) -> Links {
        let mut l = Links::default();
        let push = |m: &mut HashMap<String, Vec<String>>, k: &Option<String>, id: &str| {
            if let Some(k) = k {
                m.entry(k.clone()).or_default().push(id.to_owned());
            }
        };
        for p in dir.phone.values() {
            push(&mut l.phones_of, &p.service_id, &p.id);
            push(&mut l.phones_of, &p.location_id, &p.id);
            push(&mut l.phones_of, &p.service_at_location_id, &p.id);
        }
        for a in dir.address.values() {
            push(&mut l.addresses_of, &a.location_id, &a.id);
        }
        for x in dir.language.values() {
            push(&mut l.languages_of, &x.service_id, &x.id);
            push(&mut l.languages_of, &x.location_id, &x.id);
        }
        for a in dir.service_area.values() {
            push(&mut l.areas_of, &a.service_id, &a.id);
        }
        for s in dir.schedule.values() {
            push(&mut l.schedules_of, &s.service_id, &s.id);
            push(&mut l.schedules_of, &s.location_id, &s.id);
            push(&mut l.schedules_of, &s.service_at_location_id, &s.id);
        }
        l
    }
}

/// The directory as one kind of viewer sees it.
#[derive(Debug)]
pub struct Projection {
    /// The records this viewer may see.
    pub dir: Directory,
    links: Links,
    services_json: OnceLock<BTreeMap<String, Value>>,
    /// Result cards built so far, by service at location (or service, for an area service); `None` for
    /// a hit this projection does not hold.
    cards: RwLock<HashMap<String, Option<SharedCard>>>,
}

impl Projection {
    fn new(dir: Directory) -> Projection {
        Projection {
            links: Links::build(&dir),
            dir,
            services_json: OnceLock::new(),
            cards: RwLock::default(),
        }
    }

    /// The addresses of a location.
    pub fn addresses_of<'a>(
        &'a self,
        location_id: &str,
    ) -> impl Iterator<Item = &'a lantern_directory::model::Address> + 'a {
        let ids = self.links.addresses_of.get(location_id);
        ids.into_iter()
            .flatten()
            .filter_map(|id| self.dir.address.get(id))
    }

    /// The service areas of a service.
    pub fn areas_of<'a>(
        &'a self,
        service_id: &str,
    ) -> impl Iterator<Item = &'a lantern_directory::model::ServiceArea> + 'a {
        let ids = self.links.areas_of.get(service_id);
        ids.into_iter()
            .flatten()
            .filter_map(|id| self.dir.service_area.get(id))
    }

    /// The card of a hit, built on first use. The projection belongs to one version of the directory,
    /// so a card never goes stale: a change builds a new [`Loaded`].
    fn card(&self, loaded: &Loaded, hit: &SearchHit, viewer: Viewer) -> Option<SharedCard> {
        let key = hit
            .service_at_location_id
            .as_deref()
            .unwrap_or(&hit.service_id);
        if let Some(c) = self
            .cards
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return c.clone();
        }
        let card = build_card(loaded, self, hit, viewer).map(|c| SharedCard(Arc::new(c)));
        self.cards
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), card.clone());
        card
    }

    /// Every service as a full HSDS object (built once per version).
    pub fn services_json(&self) -> &BTreeMap<String, Value> {
        self.services_json.get_or_init(|| {
            let mut out = BTreeMap::new();
            if let Value::Array(items) = lantern_directory::io::export_json(&self.dir) {
                for v in items {
                    if let Some(id) = v.get("id").and_then(Value::as_str) {
                        out.insert(id.to_owned(), v.clone());
                    }
                }
            }
            out
        })
    }
}

/// One hotline's directory at one version.
#[derive(Debug)]
pub struct Loaded {
    /// The store's version this copy reflects.
    pub version: i64,
    /// Everything (staff).
    pub internal: Projection,
    /// What partners may see.
    pub partner: Projection,
    /// The search index over everything (hits are filtered by projection).
    pub index: SearchIndex,
    /// Service types and populations by service.
    pub classes: BTreeMap<String, (Vec<ServiceType>, Vec<Population>)>,
    /// The gap analysis's supply, and the day it was counted on (vetting is judged on a day).
    supply: Mutex<(jiff::civil::Date, Arc<Vec<Supply>>)>,
}

/// The vetted supply of a directory on `today`, as the gap analysis reads it.
pub fn count_supply(dir: &Directory, today: jiff::civil::Date) -> Arc<Vec<Supply>> {
    Arc::new(
        supply_counts(dir, today)
            .into_iter()
            .map(
                |(((state, county), service, population), resources)| Supply {
                    state,
                    county,
                    service,
                    population,
                    resources,
                },
            )
            .collect(),
    )
}

/// Today in UTC, the day vetting is judged on.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

impl Loaded {
    /// Builds the copy of a directory.
    pub fn new(version: i64, dir: Directory) -> Loaded {
        let index = SearchIndex::build(&dir);
        let classes = classify(&dir);
        let partner = Projection::new(project(&dir, Viewer::Partner));
        let day = today();
        let supply = Mutex::new((day, count_supply(&dir, day)));
        Loaded {
            version,
            internal: Projection::new(dir),
            partner,
            index,
            classes,
            supply,
        }
    }

    /// What the vetted directory offers per place, service type and population on `today`: counted
    /// when the directory is loaded, and again the first time it is asked on another day.
    pub fn supply(&self, today: jiff::civil::Date) -> Arc<Vec<Supply>> {
        let mut held = self.supply.lock().unwrap_or_else(|e| e.into_inner());
        if held.0 != today {
            *held = (today, count_supply(&self.internal.dir, today));
        }
        held.1.clone()
    }

    /// The projection for a viewer (the public sees what partners see minus partner fields; public
    /// exports go through the CLI's projection).
    pub fn view(&self, viewer: Viewer) -> &Projection {
        match viewer {
            Viewer::Internal => &self.internal,
            _ => &self.partner,
        }
    }
}

#[derive(Debug)]
struct Slot {
    loaded: Arc<Loaded>,
    checked: Instant,
}

/// Every hotline's directory in memory.
#[derive(Debug, Default)]
pub struct Directories {
    slots: RwLock<HashMap<String, Slot>>,
    loading: tokio::sync::Mutex<()>,
}

impl Directories {
    /// How often a server asks the database whether the directory changed elsewhere.
    pub const RECHECK: Duration = Duration::from_secs(1);

    fn cached(&self, hotline_id: &str) -> Option<(Arc<Loaded>, bool)> {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        slots
            .get(hotline_id)
            .map(|s| (s.loaded.clone(), s.checked.elapsed() < Self::RECHECK))
    }

    /// The hotline's directory, loading it when missing or changed elsewhere.
    pub async fn get(&self, store: &dyn Store, hotline_id: &str) -> anyhow::Result<Arc<Loaded>> {
        if let Some((loaded, fresh)) = self.cached(hotline_id) {
            if fresh {
                return Ok(loaded);
            }
            // Someone else is already checking: the copy we have is at most a second old.
            let Ok(_guard) = self.loading.try_lock() else {
                return Ok(loaded);
            };
            return self.refresh(store, hotline_id, Some(loaded)).await;
        }
        let _guard = self.loading.lock().await;
        if let Some((loaded, true)) = self.cached(hotline_id) {
            return Ok(loaded);
        }
        self.refresh(store, hotline_id, None).await
    }

    async fn refresh(
        &self,
        store: &dyn Store,
        hotline_id: &str,
        current: Option<Arc<Loaded>>,
    ) -> anyhow::Result<Arc<Loaded>> {
        let version = store.directory_version(hotline_id).await?;
        let loaded = match current {
            Some(c) if c.version == version => c,
            _ => {
                let recs = store.directory_records(hotline_id).await?;
                let dir = from_records(&recs)?;
                Arc::new(
                    tokio::task::spawn_blocking(move || Loaded::new(version, dir))
                        .await
                        .map_err(|e| anyhow::anyhow!("building the directory index: {e}"))?,
                )
            }
        };
        self.slots
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                hotline_id.to_owned(),
                Slot {
                    loaded: loaded.clone(),
                    checked: Instant::now(),
                },
            );
        Ok(loaded)
    }

    /// Writes a change and reloads this server's copy.
    pub async fn change(
        &self,
        store: &dyn Store,
        ctx: &AuditCtx,
        hotline_id: &str,
        change: &DirectoryChange,
    ) -> Result<Arc<Loaded>, AppError> {
        store.change_directory(ctx, hotline_id, change).await?;
        let _guard = self.loading.lock().await;
        let current = self.cached(hotline_id).map(|(l, _)| l);
        Ok(self.refresh(store, hotline_id, current).await?)
    }
}

/// A directory search, as a JSON body (`POST`) or, with lists comma-separated, a query string (`GET`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// A five-digit ZIP code where the person is.
    #[serde(default)]
    pub zip: Option<String>,
    /// Or a "City, ST".
    #[serde(default)]
    pub city: Option<String>,
    /// Or a latitude (with `lng`).
    #[serde(default)]
    pub lat: Option<f64>,
    /// Longitude (with `lat`).
    #[serde(default)]
    pub lng: Option<f64>,
    /// Radius in km (default 50).
    #[serde(default)]
    pub radius_km: Option<f64>,
    /// Service types (DOMAIN.md §5), any of them unless `all_service_types`.
    #[serde(default, deserialize_with = "list")]
    #[param(value_type = Option<String>)]
    pub service_types: Vec<String>,
    /// Require every listed service type.
    #[serde(default)]
    pub all_service_types: bool,
    /// Populations that must all be served.
    #[serde(default, deserialize_with = "list")]
    #[param(value_type = Option<String>)]
    pub populations: Vec<String>,
    /// Languages (ISO 639 codes), any of them.
    #[serde(default, deserialize_with = "list")]
    #[param(value_type = Option<String>)]
    pub languages: Vec<String>,
    /// Only entries open now (or at `open_at`), in each location's own time zone.
    #[serde(default)]
    pub open_now: bool,
    /// The instant to judge opening hours at (RFC 3339; default now).
    #[serde(default)]
    pub open_at: Option<String>,
    /// With `open_now`, also entries whose hours are unknown.
    #[serde(default)]
    pub include_unknown_hours: bool,
    /// Only vetted entries.
    #[serde(default)]
    pub vetted_only: bool,
    /// Words that must all appear in names or descriptions.
    #[serde(default)]
    pub text: Option<String>,
    /// At most this many results (default 50, at most 500).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A list given as a JSON array or as one comma-separated string.
fn list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum L {
        One(String),
        Many(Vec<String>),
    }
    Ok(match L::deserialize(d)? {
        L::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        L::Many(v) => v,
    })
}

impl SearchRequest {
    /// The index query, or every invalid field named.
    pub fn to_query(&self) -> Result<SearchQuery, AppError> {
        let mut errors = Vec::new();
        let mut err = |field: String, message: String| errors.push(FieldError { field, message });
        let near = match (&self.zip, &self.city, self.lat, self.lng) {
            (Some(z), None, None, None) if !z.trim().is_empty() => Some(Near::Zip {
                zip: z.trim().to_owned(),
            }),
            (None, Some(c), None, None) if !c.trim().is_empty() => Some(Near::City {
                city: c.trim().to_owned(),
            }),
            (None, None, Some(lat), Some(lng)) => Some(Near::Point { lat, lng }),
            (None, None, None, None) => None,
            (Some(z), None, None, None) | (None, Some(z), None, None) if z.trim().is_empty() => {
                None
            }
            (None, None, _, _) => {
                err("lat".into(), "give both lat and lng".into());
                None
            }
            _ => {
                err(
                    "zip".into(),
                    "give one place: a zip, a city, or lat and lng".into(),
                );
                None
            }
        };
        let mut service_types = Vec::new();
        for (i, s) in self.service_types.iter().enumerate() {
            match ServiceType::parse(s) {
                Ok(t) => service_types.push(t),
                Err(e) => err(format!("service_types[{i}]"), e.to_string()),
            }
        }
        let mut populations = Vec::new();
        for (i, s) in self.populations.iter().enumerate() {
            match Population::parse(s) {
                Ok(p) => populations.push(p),
                Err(e) => err(format!("populations[{i}]"), e.to_string()),
            }
        }
        let mut languages = Vec::new();
        for (i, s) in self.languages.iter().enumerate() {
            match lantern_domain::case::language(s) {
                Ok(l) => languages.push(l),
                Err(e) => err(format!("languages[{i}]"), e),
            }
        }
        let at = match &self.open_at {
            None => None,
            Some(s) => match s.parse::<jiff::Timestamp>() {
                Ok(t) => Some(t),
                Err(_) => {
                    err(
                        "open_at".into(),
                        format!("`{s}` is not an RFC 3339 instant such as 2026-11-23T17:00:00Z"),
                    );
                    None
                }
            },
        };
        if let Some(r) = self.radius_km
            && !(r > 0.0 && r <= 5000.0)
        {
            err(
                "radius_km".into(),
                "must be more than 0 and at most 5000".into(),
            );
        }
        if self.limit.is_some_and(|l| l == 0 || l > 500) {
            err("limit".into(), "must be between 1 and 500".into());
        }
        if self
            .text
            .as_deref()
            .is_some_and(|t| t.chars().count() > 200)
        {
            err("text".into(), "at most 200 characters".into());
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
        Ok(SearchQuery {
            near,
            radius_km: self.radius_km,
            service_types,
            all_service_types: self.all_service_types,
            populations,
            languages,
            open_at: if self.open_now || at.is_some() {
                Some(at.unwrap_or_else(jiff::Timestamp::now))
            } else {
                None
            },
            include_unknown_hours: self.include_unknown_hours,
            vetted_only: self.vetted_only,
            text: self.text.clone().filter(|t| !t.trim().is_empty()),
            limit: Some(self.limit.unwrap_or(50)),
            ..SearchQuery::default()
        })
    }
}

/// A phone as a result shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhoneView {
    /// The number.
    pub number: String,
    /// HSDS phone type (`voice`, `text`, …).
    pub r#type: Option<String>,
    /// What it is for.
    pub description: Option<String>,
}

/// What a result shows that does not depend on the search: built once per service at location for each
/// projection (and version) and shared by every search that finds it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Card {
    /// The service-at-location.
    pub service_at_location_id: Option<String>,
    /// The service.
    pub service_id: String,
    /// The location.
    pub location_id: Option<String>,
    /// The organisation.
    pub organization_id: Option<String>,
    /// The service's name.
    pub service_name: String,
    /// The organisation's name.
    pub organization_name: Option<String>,
    /// The location's name.
    pub location_name: Option<String>,
    /// The service's description.
    pub description: Option<String>,
    /// The street address (never for a confidential location seen by a partner).
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Phones.
    pub phones: Vec<PhoneView>,
    /// Opening hours as written.
    pub hours: Vec<String>,
    /// Languages offered.
    pub languages: Vec<String>,
    /// Whether the location is confidential.
    pub redacted: bool,
    /// Service types.
    #[schema(value_type = Vec<String>)]
    pub service_types: Vec<ServiceType>,
    /// Populations served.
    #[schema(value_type = Vec<String>)]
    pub populations: Vec<Population>,
}

/// A shared [`Card`], serialised as the card itself.
#[derive(Debug, Clone)]
pub struct SharedCard(pub Arc<Card>);

impl std::ops::Deref for SharedCard {
    type Target = Card;
    fn deref(&self) -> &Card {
        &self.0
    }
}

impl Serialize for SharedCard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// One search result, as the viewer may see it: its card and what this search found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HitView {
    /// What the result is.
    #[serde(flatten)]
    #[schema(value_type = Card)]
    pub card: SharedCard,
    /// Distance in km (never for a confidential location seen by a partner).
    pub distance_km: Option<f64>,
    /// `open`, `closed`, `always_open`, `unknown`.
    #[schema(value_type = String)]
    pub open: OpenStatus,
    /// Whether it is vetted.
    pub vetted: bool,
    /// Why it matched.
    #[schema(value_type = Vec<Object>)]
    pub why: Vec<MatchReason>,
}

fn hours_line(s: &lantern_directory::model::Schedule) -> Option<String> {
    if let Some(d) = s.description.as_deref().filter(|d| !d.trim().is_empty()) {
        return Some(d.to_owned());
    }
    let days = s.byday.as_deref().unwrap_or("daily");
    match (&s.opens_at, &s.closes_at) {
        (Some(o), Some(c)) => Some(format!("{days} {o}–{c}")),
        _ => None,
    }
}

/// The view of one hit for `viewer`; `None` when the viewer may not see the service at all.
pub fn hit_view(loaded: &Loaded, hit: &SearchHit, viewer: Viewer) -> Option<HitView> {
    let p = loaded.view(viewer);
    let card = p.card(loaded, hit, viewer)?;
    let hide_place = hit.redacted && viewer != Viewer::Internal;
    let why = hit
        .why
        .iter()
        .filter(|w| !(hide_place && matches!(w, MatchReason::Within { .. })))
        .cloned()
        .collect();
    Some(HitView {
        card,
        distance_km: if hide_place {
            None
        } else {
            hit.distance_km.map(|d| (d * 10.0).round() / 10.0)
        },
        open: hit.open,
        vetted: hit.vetted,
        why,
    })
}

/// The card of a hit as `p` shows it; `None` when the projection does not hold the service.
fn build_card(loaded: &Loaded, p: &Projection, hit: &SearchHit, viewer: Viewer) -> Option<Card> {
    let dir = &p.dir;
    let service = dir.service.get(&hit.service_id)?;
    let location = hit.location_id.as_ref().and_then(|l| dir.location.get(l));
    if hit.location_id.is_some() && location.is_none() {
        return None;
    }
    let hide_place = hit.redacted && viewer != Viewer::Internal;
    let address = location
        .and_then(|l| p.links.addresses_of.get(&l.id))
        .and_then(|ids| ids.iter().filter_map(|a| dir.address.get(a)).next());
    let mut phone_ids: Vec<&String> = Vec::new();
    for key in [
        Some(&hit.service_id),
        hit.location_id.as_ref(),
        hit.service_at_location_id.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(ids) = p.links.phones_of.get(key) {
            phone_ids.extend(ids);
        }
    }
    phone_ids.sort();
    phone_ids.dedup();
    let phones = phone_ids
        .into_iter()
        .filter_map(|id| dir.phone.get(id))
        .filter_map(|ph| {
            Some(PhoneView {
                number: ph.number.clone()?,
                r#type: ph.r#type.clone(),
                description: ph.description.clone(),
            })
        })
        .collect();
    let mut languages: Vec<String> = p
        .links
        .languages_of
        .get(&hit.service_id)
        .into_iter()
        .flatten()
        .filter_map(|id| dir.language.get(id))
        .filter_map(|l| l.code.clone().or_else(|| l.name.clone()))
        .collect();
    languages.sort();
    languages.dedup();
    let mut hours: Vec<String> = [
        Some(&hit.service_id),
        hit.location_id.as_ref(),
        hit.service_at_location_id.as_ref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|k| p.links.schedules_of.get(k))
    .flatten()
    .filter_map(|id| dir.schedule.get(id))
    .filter_map(hours_line)
    .collect();
    hours.dedup();
    let (types, pops) = loaded
        .classes
        .get(&hit.service_id)
        .cloned()
        .unwrap_or_default();
    Some(Card {
        service_at_location_id: hit.service_at_location_id.clone(),
        service_id: hit.service_id.clone(),
        location_id: hit.location_id.clone(),
        organization_id: hit.organization_id.clone(),
        service_name: service.name.clone().unwrap_or_default(),
        organization_name: hit
            .organization_id
            .as_ref()
            .and_then(|o| dir.organization.get(o))
            .and_then(|o| o.name.clone()),
        location_name: location.and_then(|l| l.name.clone()),
        description: service.description.clone(),
        address: if hide_place {
            None
        } else {
            address.and_then(|a| {
                let parts: Vec<&str> = [a.address_1.as_deref(), a.address_2.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            })
        },
        city: address.and_then(|a| a.city.clone()),
        state: address.and_then(|a| a.state_province.clone()),
        phones,
        hours,
        languages,
        redacted: hit.redacted,
        service_types: types,
        populations: pops,
    })
}

/// Runs a search for `viewer` and builds the views.
pub fn search(
    loaded: &Loaded,
    req: &SearchRequest,
    viewer: Viewer,
) -> Result<Vec<HitView>, AppError> {
    let q = req.to_query()?;
    let hits = loaded.index.search(&q).map_err(search_error)?;
    Ok(hits
        .iter()
        .filter_map(|h| hit_view(loaded, h, viewer))
        .collect())
}

fn search_error(e: SearchError) -> AppError {
    let msg = e.to_string();
    let message = msg.split_once(": ").map_or(msg.as_str(), |(_, m)| m);
    let field = match e {
        SearchError::UnknownZip(_) => "zip",
        SearchError::UnknownCity(_) => "city",
        SearchError::BadPoint => "lat",
        SearchError::BadRadius => "radius_km",
    };
    AppError::invalid(field, message)
}
