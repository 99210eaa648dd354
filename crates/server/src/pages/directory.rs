//! The directory pages: the advocate's search (opened from a case, each result can be referred), and the
//! directory manager's list of entries due for re-verification, vetting, and the add/edit form.
//!
//! The search form is posted, so a caller's ZIP or city never appears in a URL or an access log.

use super::{Chrome, PageError, PageResult, render};
use crate::api::directory::{DueEntry, due_entries, loaded, vet, viewer_of, write};
use crate::auth::Principal;
use crate::directory::{HitView, SearchRequest, search};
use crate::error::AppError;
use crate::policy::Action;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use lantern_directory::ext::{LanternExt, LanternLocationType, Visibility};
use lantern_directory::gazetteer::Gazetteer;
use lantern_directory::model::{
    Address, Attribute, Language, Location, Organization, Phone, Schedule, Service,
    ServiceAtLocation,
};
use lantern_directory::schedule::OpenStatus;
use lantern_directory::taxonomy::{population_attribute, service_type_attribute};
use lantern_domain::codes::{Code as _, Population, ServiceType};
use lantern_store::DirectoryRecord;
use serde::Deserialize;

/// A form body as its name/value pairs (checkbox groups repeat a name).
#[derive(Debug)]
pub struct Pairs(pub Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Pairs {
    type Rejection = PageError;
    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
            .await
            .map_err(|_| AppError::bad_request("the form is too large"))?;
        Ok(Pairs(
            form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

impl Pairs {
    /// The first value of a field, trimmed, if not empty.
    pub fn one(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Whether a checkbox is ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }
}

/// A choice of a checkbox group or a select.
#[derive(Debug, Clone)]
pub struct Choice {
    code: &'static str,
    label: &'static str,
    on: bool,
}

fn choices<T: lantern_domain::codes::Code>(picked: &[String]) -> Vec<Choice> {
    T::all()
        .iter()
        .map(|t| Choice {
            code: t.code(),
            label: t.label(),
            on: picked.iter().any(|p| p == t.code()),
        })
        .collect()
}

const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("es", "Spanish"),
    ("zh", "Chinese"),
    ("vi", "Vietnamese"),
    ("ko", "Korean"),
    ("tl", "Tagalog"),
    ("ar", "Arabic"),
    ("fr", "French"),
    ("ht", "Haitian Creole"),
    ("ru", "Russian"),
    ("pt", "Portuguese"),
    ("hi", "Hindi"),
];

/// One result as the page shows it.
#[derive(Debug)]
pub struct ResultRow {
    hit: HitView,
    open_label: &'static str,
    open_class: &'static str,
    types: String,
    refer_href: Option<String>,
}

fn open_label(s: OpenStatus) -> (&'static str, &'static str) {
    match s {
        OpenStatus::Open => ("Open now", "ok"),
        OpenStatus::AlwaysOpen => ("Open 24/7", "ok"),
        OpenStatus::Closed => ("Closed now", "warn"),
        OpenStatus::Unknown => ("Hours unknown", "muted"),
    }
}

#[derive(Template)]
#[template(path = "directory.html")]
struct SearchPage {
    chrome: Option<Chrome>,
    csrf: String,
    case_id: Option<String>,
    place: String,
    radius_km: String,
    types: Vec<Choice>,
    all_types: bool,
    populations: Vec<Choice>,
    languages: Vec<Choice>,
    open_now: bool,
    vetted_only: bool,
    text: String,
    searched: bool,
    results: Vec<ResultRow>,
    partner_view: bool,
}

/// `?case=` when the search is opened from a case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromCase {
    #[serde(default)]
    case: Option<String>,
}

fn lang_choices(picked: &[String]) -> Vec<Choice> {
    LANGUAGES
        .iter()
        .map(|(c, l)| Choice {
            code: c,
            label: l,
            on: picked.iter().any(|p| p == c),
        })
        .collect()
}

/// `GET /directory`: the empty search form.
pub async fn show(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<FromCase>,
) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/directory").await?;
    render(&SearchPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        case_id: q.case,
        place: String::new(),
        radius_km: "50".into(),
        types: choices::<ServiceType>(&[]),
        all_types: false,
        populations: choices::<Population>(&[]),
        languages: lang_choices(&[]),
        open_now: false,
        vetted_only: true,
        text: String::new(),
        searched: false,
        results: vec![],
        partner_view: viewer_of(&p) != lantern_directory::ext::Viewer::Internal,
    })
}

/// `POST /directory`: runs the search.
pub async fn run(State(state): State<AppState>, p: Principal, f: Pairs) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/directory").await?;
    let place = f.one("place").unwrap_or_default();
    let mut req = SearchRequest {
        radius_km: match f.one("radius_km") {
            None => None,
            Some(r) => Some(
                r.parse::<f64>()
                    .map_err(|_| AppError::invalid("radius_km", "must be a number of km"))?,
            ),
        },
        service_types: f.all("service_type"),
        all_service_types: f.checked("all_types"),
        populations: f.all("population"),
        languages: f.all("language"),
        open_now: f.checked("open_now"),
        vetted_only: f.checked("vetted_only"),
        text: f.one("text"),
        ..SearchRequest::default()
    };
    if !place.is_empty() {
        if place.len() >= 5 && place[..5].chars().all(|c| c.is_ascii_digit()) {
            req.zip = Some(place[..5].to_owned());
        } else {
            req.city = Some(place.clone());
        }
    }
    let l = loaded(&state, &p).await?;
    let hits = search(&l, &req, viewer_of(&p))?;
    let case_id = f.one("case");
    let may_refer = p.may(Action::ReferralWrite);
    let results = hits
        .into_iter()
        .map(|hit| {
            let (label, class) = open_label(hit.open);
            let types = hit
                .card
                .service_types
                .iter()
                .map(|t| t.label())
                .collect::<Vec<_>>()
                .join(", ");
            let refer_href = case_id.as_ref().filter(|_| may_refer).map(|c| {
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair("service", &hit.card.service_id);
                if let Some(l) = &hit.card.location_id {
                    q.append_pair("location", l);
                }
                format!("/cases/{c}/referrals/new?{}", q.finish())
            });
            ResultRow {
                hit,
                open_label: label,
                open_class: class,
                types,
                refer_href,
            }
        })
        .collect();
    render(&SearchPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        case_id,
        place,
        radius_km: f.one("radius_km").unwrap_or_else(|| "50".into()),
        types: choices::<ServiceType>(&req.service_types),
        all_types: req.all_service_types,
        populations: choices::<Population>(&req.populations),
        languages: lang_choices(&req.languages),
        open_now: req.open_now,
        vetted_only: req.vetted_only,
        text: req.text.clone().unwrap_or_default(),
        searched: true,
        results,
        partner_view: viewer_of(&p) != lantern_directory::ext::Viewer::Internal,
    })
}

// ---- the directory manager's pages ----

#[derive(Template)]
#[template(path = "directory_manage.html")]
struct ManagePage {
    chrome: Option<Chrome>,
    csrf: String,
    due: Vec<DueEntry>,
    total: usize,
    message: Option<String>,
}

/// `GET /directory/manage`: entries due for re-verification within 30 days, never vetted, pending or
/// lapsed.
pub async fn manage(State(state): State<AppState>, p: Principal) -> PageResult {
    manage_page(&state, &p, None).await
}

async fn manage_page(state: &AppState, p: &Principal, message: Option<String>) -> PageResult {
    let chrome = Chrome::new(state, p, "/directory/manage").await?;
    let l = loaded(state, p).await?;
    let due = due_entries(&l.internal.dir, 30);
    render(&ManagePage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        total: l.internal.dir.service.len(),
        due: due.into_iter().take(300).collect(),
        message,
    })
}

/// `POST /directory/services/{id}/vet`.
pub async fn vet_form(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    f: Pairs,
) -> PageResult {
    let status = f.one("status").unwrap_or_default();
    let _saved = vet(&state, &p, &id, &status, f.one("reverify_due").as_deref()).await?;
    manage_page(&state, &p, Some(format!("Saved: {status}."))).await
}

/// What the add/edit form holds.
#[derive(Debug, Default, Clone)]
pub struct Entry {
    organization: String,
    service: String,
    description: String,
    types: Vec<String>,
    populations: Vec<String>,
    languages: String,
    phone: String,
    phone_visibility: String,
    address: String,
    city: String,
    state: String,
    zip: String,
    confidential: bool,
    hours: String,
    opens: String,
    closes: String,
}

#[derive(Template)]
#[template(path = "directory_entry.html")]
struct EntryPage {
    chrome: Option<Chrome>,
    csrf: String,
    action: String,
    heading: String,
    e: Entry,
    types: Vec<Choice>,
    populations: Vec<Choice>,
}

fn entry_page(chrome: Chrome, csrf: &str, action: String, heading: String, e: Entry) -> PageResult {
    render(&EntryPage {
        chrome: Some(chrome),
        csrf: csrf.to_owned(),
        types: choices::<ServiceType>(&e.types),
        populations: choices::<Population>(&e.populations),
        action,
        heading,
        e,
    })
}

/// `GET /directory/new`.
pub async fn new_entry(State(state): State<AppState>, p: Principal) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/directory/manage").await?;
    entry_page(
        chrome,
        p.csrf(),
        "/directory/services".into(),
        "Add a directory entry".into(),
        Entry {
            phone_visibility: "public".into(),
            hours: "unknown".into(),
            languages: "en".into(),
            ..Entry::default()
        },
    )
}

/// `GET /directory/services/{id}/edit`.
pub async fn edit_entry(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/directory/manage").await?;
    let l = loaded(&state, &p).await?;
    let dir = &l.internal.dir;
    let s = dir
        .service
        .get(&id)
        .ok_or_else(|| AppError::not_found("service"))?;
    let (types, pops) = l.classes.get(&id).cloned().unwrap_or_default();
    let loc = dir
        .service_at_location
        .values()
        .find(|x| x.service_id.as_deref() == Some(id.as_str()))
        .and_then(|x| x.location_id.as_deref())
        .and_then(|x| dir.location.get(x));
    let addr = loc.and_then(|loc| {
        dir.address
            .values()
            .find(|a| a.location_id.as_deref() == Some(loc.id.as_str()))
    });
    let phone = dir
        .phone
        .values()
        .find(|ph| ph.service_id.as_deref() == Some(id.as_str()));
    let sched: Vec<&Schedule> = dir
        .schedule
        .values()
        .filter(|x| x.service_id.as_deref() == Some(id.as_str()))
        .collect();
    let (hours, opens, closes) = match sched.first() {
        None => ("unknown", String::new(), String::new()),
        Some(x)
            if x.opens_at.as_deref() == Some("00:00")
                && x.closes_at.as_deref() == Some("23:59") =>
        {
            ("always", String::new(), String::new())
        }
        Some(x) => (
            if x.byday.as_deref() == Some("MO,TU,WE,TH,FR") {
                "weekdays"
            } else {
                "daily"
            },
            x.opens_at.clone().unwrap_or_default(),
            x.closes_at.clone().unwrap_or_default(),
        ),
    };
    let e = Entry {
        organization: s
            .organization_id
            .as_deref()
            .and_then(|o| dir.organization.get(o))
            .and_then(|o| o.name.clone())
            .unwrap_or_default(),
        service: s.name.clone().unwrap_or_default(),
        description: s.description.clone().unwrap_or_default(),
        types: types.iter().map(|t| t.code().to_owned()).collect(),
        populations: pops.iter().map(|t| t.code().to_owned()).collect(),
        languages: dir
            .language
            .values()
            .filter(|x| x.service_id.as_deref() == Some(id.as_str()))
            .filter_map(|x| x.code.clone())
            .collect::<Vec<_>>()
            .join(", "),
        phone: phone.and_then(|x| x.number.clone()).unwrap_or_default(),
        phone_visibility: phone
            .and_then(|x| x.lantern.as_ref())
            .map(|x| match x.visibility {
                Visibility::Public => "public",
                Visibility::Partner => "partner",
                Visibility::Internal => "internal",
            })
            .unwrap_or("public")
            .into(),
        address: addr.and_then(|a| a.address_1.clone()).unwrap_or_default(),
        city: addr.and_then(|a| a.city.clone()).unwrap_or_default(),
        state: addr
            .and_then(|a| a.state_province.clone())
            .unwrap_or_default(),
        zip: addr.and_then(|a| a.postal_code.clone()).unwrap_or_default(),
        confidential: loc.is_some_and(lantern_directory::ext::location_is_redacted),
        hours: hours.into(),
        opens,
        closes,
    };
    entry_page(
        chrome,
        p.csrf(),
        format!("/directory/services/{id}"),
        format!("Edit: {}", e.service),
        e,
    )
}

fn entry_from(f: &Pairs) -> Entry {
    Entry {
        organization: f.one("organization").unwrap_or_default(),
        service: f.one("service").unwrap_or_default(),
        description: f.one("description").unwrap_or_default(),
        types: f.all("service_type"),
        populations: f.all("population"),
        languages: f.one("languages").unwrap_or_default(),
        phone: f.one("phone").unwrap_or_default(),
        phone_visibility: f.one("phone_visibility").unwrap_or_else(|| "public".into()),
        address: f.one("address").unwrap_or_default(),
        city: f.one("city").unwrap_or_default(),
        state: f.one("state").unwrap_or_default(),
        zip: f.one("zip").unwrap_or_default(),
        confidential: f.checked("confidential"),
        hours: f.one("hours").unwrap_or_else(|| "unknown".into()),
        opens: f.one("opens").unwrap_or_default(),
        closes: f.one("closes").unwrap_or_default(),
    }
}

/// A record named by its table and id.
type TableId = (String, String);

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn rec<T: serde::Serialize + lantern_directory::model::Record>(r: &T) -> DirectoryRecord {
    DirectoryRecord {
        table: T::TABLE.into(),
        id: r.id().to_owned(),
        json: serde_json::to_string(r).unwrap_or_default(),
    }
}

/// Builds the HSDS records of an entry (new ids for a new entry; for an edit the service's own
/// organisation, location and address keep their ids and its phones, schedules, languages and
/// attributes are replaced). Every invalid field is named.
fn records_of(
    e: &Entry,
    existing: Option<(&lantern_directory::model::Directory, &Service)>,
) -> Result<(Vec<DirectoryRecord>, Vec<TableId>), AppError> {
    let mut errors = Vec::new();
    let mut err = |f: &str, m: String| {
        errors.push(crate::error::FieldError {
            field: f.into(),
            message: m,
        })
    };
    if e.organization.is_empty() {
        err("organization", "give the organisation's name".into());
    }
    if e.service.is_empty() {
        err("service", "give the service's name".into());
    }
    let mut types = Vec::new();
    for t in &e.types {
        match ServiceType::parse(t) {
            Ok(t) => types.push(t),
            Err(x) => err("service_type", x.to_string()),
        }
    }
    if types.is_empty() {
        err("service_type", "choose at least one service type".into());
    }
    let mut pops = Vec::new();
    for t in &e.populations {
        match Population::parse(t) {
            Ok(t) => pops.push(t),
            Err(x) => err("population", x.to_string()),
        }
    }
    let mut langs = Vec::new();
    for l in e
        .languages
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match lantern_domain::case::language(l) {
            Ok(l) => langs.push(l),
            Err(x) => err("languages", x),
        }
    }
    let place = if e.zip.is_empty() {
        None
    } else {
        match Gazetteer::get().zip(&e.zip[..e.zip.len().min(5)]) {
            Some(z) => Some(z),
            None => {
                err("zip", format!("`{}` is not a ZIP code we know", e.zip));
                None
            }
        }
    };
    if !e.state.is_empty() && lantern_domain::case::us_state(&e.state).is_err() {
        err(
            "state",
            format!("`{}` is not a USPS state code such as TX", e.state),
        );
    }
    let visibility = match e.phone_visibility.as_str() {
        "public" => Visibility::Public,
        "partner" => Visibility::Partner,
        "internal" => Visibility::Internal,
        other => {
            err(
                "phone_visibility",
                format!("`{other}` is not one of: public, partner, internal"),
            );
            Visibility::Public
        }
    };
    let parse_time = |f: &str, v: &str, errs: &mut dyn FnMut(&str, String)| -> String {
        if lantern_directory::schedule::parse_time(v).is_none() {
            errs(f, format!("`{v}` is not a time such as 09:00"));
        }
        v.to_owned()
    };
    let hours: Option<(String, String, String)> = match e.hours.as_str() {
        "unknown" => None,
        "always" => Some((
            "MO,TU,WE,TH,FR,SA,SU".into(),
            "00:00".into(),
            "23:59".into(),
        )),
        h @ ("weekdays" | "daily") => {
            let o = parse_time("opens", &e.opens, &mut err);
            let c = parse_time("closes", &e.closes, &mut err);
            let days = if h == "weekdays" {
                "MO,TU,WE,TH,FR"
            } else {
                "MO,TU,WE,TH,FR,SA,SU"
            };
            Some((days.into(), o, c))
        }
        other => {
            err(
                "hours",
                format!("`{other}` is not one of: unknown, always, weekdays, daily"),
            );
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::invalid_fields(errors));
    }
    let (dir, old) = match existing {
        Some((d, s)) => (Some(d), Some(s)),
        None => (None, None),
    };
    let service_id = old.map_or_else(uuid, |s| s.id.clone());
    let org_id = old
        .and_then(|s| s.organization_id.clone())
        .unwrap_or_else(uuid);
    let old_sal = dir.and_then(|d| {
        d.service_at_location
            .values()
            .find(|x| x.service_id.as_deref() == Some(service_id.as_str()))
    });
    let loc_id = old_sal
        .and_then(|x| x.location_id.clone())
        .unwrap_or_else(uuid);
    let sal_id = old_sal.map_or_else(uuid, |x| x.id.clone());
    let mut deletes = Vec::new();
    if let Some(d) = dir {
        let linked = |v: &Option<String>| v.as_deref() == Some(service_id.as_str());
        deletes.extend(
            d.phone
                .values()
                .filter(|x| linked(&x.service_id))
                .map(|x| ("phone".to_owned(), x.id.clone())),
        );
        deletes.extend(
            d.schedule
                .values()
                .filter(|x| linked(&x.service_id))
                .map(|x| ("schedule".to_owned(), x.id.clone())),
        );
        deletes.extend(
            d.language
                .values()
                .filter(|x| linked(&x.service_id))
                .map(|x| ("language".to_owned(), x.id.clone())),
        );
        deletes.extend(
            d.attribute
                .values()
                .filter(|x| linked(&x.link_id))
                .map(|x| ("attribute".to_owned(), x.id.clone())),
        );
        deletes.extend(
            d.address
                .values()
                .filter(|x| x.location_id.as_deref() == Some(loc_id.as_str()))
                .map(|x| ("address".to_owned(), x.id.clone())),
        );
    }
    let mut out = Vec::new();
    let mut org = dir
        .and_then(|d| d.organization.get(&org_id))
        .cloned()
        .unwrap_or_default();
    org.id = org_id.clone();
    org.name = Some(e.organization.clone());
    out.push(rec::<Organization>(&org));
    let mut s = old.cloned().unwrap_or_default();
    s.id = service_id.clone();
    s.organization_id = Some(org_id.clone());
    s.name = Some(e.service.clone());
    s.description = (!e.description.is_empty()).then(|| e.description.clone());
    s.status = Some(s.status.clone().unwrap_or_else(|| "active".into()));
    if s.lantern.is_none() {
        s.lantern = Some(LanternExt {
            vetting: Some(lantern_directory::ext::VettingInfo {
                status: lantern_domain::codes::Vetting::Pending,
                vetted_on: None,
                vetted_by: None,
                reverify_due: None,
            }),
            ..LanternExt::default()
        });
    }
    out.push(rec::<Service>(&s));
    let mut loc = dir
        .and_then(|d| d.location.get(&loc_id))
        .cloned()
        .unwrap_or_default();
    loc.id = loc_id.clone();
    loc.organization_id = Some(org_id.clone());
    loc.name = Some(e.organization.clone());
    loc.location_type = Some("physical".into());
    loc.latitude = place.map(|z| z.lat);
    loc.longitude = place.map(|z| z.lng);
    let mut lext = loc.lantern.clone().unwrap_or_default();
    lext.location_type = e.confidential.then_some(LanternLocationType::Redacted);
    lext.time_zone = place
        .map(|z| z.time_zone.clone())
        .filter(|t| !t.is_empty())
        .or(lext.time_zone);
    loc.lantern = Some(lext);
    out.push(rec::<Location>(&loc));
    out.push(rec::<ServiceAtLocation>(&ServiceAtLocation {
        id: sal_id,
        service_id: Some(service_id.clone()),
        location_id: Some(loc_id.clone()),
        ..ServiceAtLocation::default()
    }));
    if !e.address.is_empty() || !e.city.is_empty() || !e.zip.is_empty() {
        out.push(rec::<Address>(&Address {
            id: uuid(),
            location_id: Some(loc_id.clone()),
            address_1: (!e.address.is_empty()).then(|| e.address.clone()),
            city: Some(if e.city.is_empty() {
                place.map(|z| z.city.clone()).unwrap_or_default()
            } else {
                e.city.clone()
            }),
            state_province: Some(if e.state.is_empty() {
                place.map(|z| z.state.clone()).unwrap_or_default()
            } else {
                e.state.to_uppercase()
            }),
            postal_code: (!e.zip.is_empty()).then(|| e.zip.clone()),
            country: Some("US".into()),
            address_type: Some("physical".into()),
            ..Address::default()
        }));
    }
    if !e.phone.is_empty() {
        out.push(rec::<Phone>(&Phone {
            id: uuid(),
            service_id: Some(service_id.clone()),
            number: Some(e.phone.clone()),
            r#type: Some("voice".into()),
            lantern: (visibility != Visibility::Public).then(|| LanternExt {
                visibility,
                ..LanternExt::default()
            }),
            ..Phone::default()
        }));
    }
    if let Some((days, o, c)) = hours {
        out.push(rec::<Schedule>(&Schedule {
            id: uuid(),
            service_id: Some(service_id.clone()),
            freq: Some("WEEKLY".into()),
            byday: Some(days),
            opens_at: Some(o),
            closes_at: Some(c),
            ..Schedule::default()
        }));
    }
    for l in langs {
        out.push(rec::<Language>(&Language {
            id: uuid(),
            service_id: Some(service_id.clone()),
            code: Some(l),
            ..Language::default()
        }));
    }
    for t in types {
        out.push(rec::<Attribute>(&service_type_attribute(&service_id, t)));
    }
    for pp in pops {
        out.push(rec::<Attribute>(&population_attribute(&service_id, pp)));
    }
    // Replaced records that are written again are not deleted.
    let written: std::collections::BTreeSet<(String, String)> = out
        .iter()
        .map(|r| (r.table.clone(), r.id.clone()))
        .collect();
    deletes.retain(|d| !written.contains(d));
    Ok((out, deletes))
}

async fn save(state: &AppState, p: &Principal, id: Option<&str>, f: &Pairs) -> PageResult {
    let e = entry_from(f);
    let l = loaded(state, p).await?;
    let existing = match id {
        None => None,
        Some(id) => Some((
            &l.internal.dir,
            l.internal
                .dir
                .service
                .get(id)
                .ok_or_else(|| AppError::not_found("service"))?,
        )),
    };
    let (upserts, deletes) = records_of(&e, existing)?;
    let service_id = upserts
        .iter()
        .find(|r| r.table == "service")
        .map(|r| r.id.clone())
        .unwrap_or_default();
    let mut taxonomy = lantern_directory::model::Directory::default();
    lantern_directory::taxonomy::install(&mut taxonomy);
    let mut all = crate::directory::to_records(&taxonomy);
    all.extend(upserts);
    let _saved = write(
        state,
        p,
        if id.is_some() {
            "directory.update"
        } else {
            "directory.create"
        },
        all,
        deletes,
    )
    .await?;
    Ok(Redirect::to(&format!("/directory/services/{service_id}/edit")).into_response())
}

/// `POST /directory/services`: adds an entry (pending vetting).
pub async fn create_entry(State(state): State<AppState>, p: Principal, f: Pairs) -> PageResult {
    save(&state, &p, None, &f).await
}

/// `POST /directory/services/{id}`: saves an edited entry.
pub async fn update_entry(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    f: Pairs,
) -> PageResult {
    save(&state, &p, Some(&id), &f).await
}
