//! The referral directory: search (`GET` and `POST`), an HSDS 3.1 compatible read API under
//! `/api/v1/hsds/`, and the directory manager's writes (records in HSDS form, vetting, the list of
//! entries due for re-verification).

use super::{ApiJson, ApiQuery};
use crate::auth::Principal;
use crate::directory::{HitView, Loaded, Projection, SearchRequest, search};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use lantern_directory::ext::{LanternExt, VettingInfo, Viewer};
use lantern_directory::gazetteer::Gazetteer;
use lantern_directory::index::haversine_km;
use lantern_directory::io::{ImportError, Mode, import_json};
use lantern_directory::model::{Directory, Record, to_map};
use lantern_domain::account::Role;
use lantern_domain::codes::{Code as _, Vetting};
use lantern_store::{DirectoryChange, DirectoryRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// Who a signed-in user is to the directory: partners see the partner projection, staff everything.
pub fn viewer_of(p: &Principal) -> Viewer {
    if p.user.role == Role::Partner {
        Viewer::Partner
    } else {
        Viewer::Internal
    }
}

/// The caller's hotline's directory.
pub async fn loaded(state: &AppState, p: &Principal) -> AppResult<Arc<Loaded>> {
    Ok(state
        .directories
        .get(&*state.store, &p.user.hotline_id)
        .await?)
}

/// Search results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// How many results.
    pub count: usize,
    /// Ranked by distance, then relevance.
    pub results: Vec<HitView>,
}

/// `POST /api/v1/directory/search`: the search as a JSON body, which keeps a caller's place out of URLs
/// and logs.
#[utoipa::path(post, path = "/api/v1/directory/search", tag = "directory", request_body = SearchRequest,
    responses((status = 200, body = SearchResults), (status = 422, body = crate::error::Problem)))]
pub async fn search_post(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<SearchRequest>,
) -> AppResult<Json<SearchResults>> {
    let l = loaded(&state, &p).await?;
    let results = search(&l, &req, viewer_of(&p))?;
    Ok(Json(SearchResults {
        count: results.len(),
        results,
    }))
}

/// `GET /api/v1/directory/search`: the same search as a query string (lists comma-separated).
#[utoipa::path(get, path = "/api/v1/directory/search", tag = "directory", params(SearchRequest),
    responses((status = 200, body = SearchResults), (status = 422, body = crate::error::Problem)))]
pub async fn search_get(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(req): ApiQuery<SearchRequest>,
) -> AppResult<Json<SearchResults>> {
    let l = loaded(&state, &p).await?;
    let results = search(&l, &req, viewer_of(&p))?;
    Ok(Json(SearchResults {
        count: results.len(),
        results,
    }))
}

// ---- HSDS read API ----

/// `GET /api/v1/hsds/`: what this API is.
#[utoipa::path(get, path = "/api/v1/hsds/", tag = "hsds", responses((status = 200, description = "{version, profile, openapi_url}")))]
pub async fn hsds_root() -> Json<Value> {
    Json(serde_json::json!({
        "version": "3.1",
        "profile": "https://docs.openreferral.org/en/latest/hsds/",
        "openapi_url": "/api/v1/openapi.json",
    }))
}

/// Paging and filters of the HSDS list endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HsdsQuery {
    /// Words that must all appear in names or descriptions.
    #[serde(default)]
    search: Option<String>,
    /// Page number, from 1.
    #[serde(default)]
    page: Option<usize>,
    /// Items per page (default 50, at most 1000).
    #[serde(default)]
    per_page: Option<usize>,
    /// `json` (default) or `ndjson` (every item, one per line, no paging).
    #[serde(default)]
    format: Option<String>,
    /// Only records linked to this taxonomy term.
    #[serde(default)]
    taxonomy_term_id: Option<String>,
    /// Only records linked to a term of this taxonomy (or, for terms, of this taxonomy).
    #[serde(default)]
    taxonomy_id: Option<String>,
    /// Only services of this organisation.
    #[serde(default)]
    organization_id: Option<String>,
    /// Services at locations that cover this ZIP code, or lie within `proximity` of it.
    #[serde(default)]
    postcode: Option<String>,
    /// With `postcode`: within this many metres of its centroid.
    #[serde(default)]
    proximity: Option<f64>,
    /// Terms: only those with this parent.
    #[serde(default)]
    parent_id: Option<String>,
    /// Terms: only top-level ones.
    #[serde(default)]
    top_only: Option<bool>,
    /// Accepted for compatibility; objects are always full.
    #[serde(default, rename = "full")]
    _full: Option<bool>,
    /// Accepted for compatibility; ignored.
    #[serde(default, rename = "minimal")]
    _minimal: Option<bool>,
    /// Accepted for compatibility; ignored.
    #[serde(default, rename = "modified_after")]
    _modified_after: Option<String>,
}

fn words_match(words: &[String], v: &Value) -> bool {
    if words.is_empty() {
        return true;
    }
    let text = ["name", "alternate_name", "description"]
        .iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    words.iter().all(|w| text.contains(w.as_str()))
}

fn page_of(items: Vec<Value>, q: &HsdsQuery) -> AppResult<Response> {
    if let Some(f) = q.format.as_deref()
        && f != "json"
        && f != "ndjson"
    {
        return Err(AppError::invalid(
            "format",
            format!("`{f}` is not one of: json, ndjson"),
        ));
    }
    if q.format.as_deref() == Some("ndjson") {
        let mut body = String::new();
        for v in &items {
            body.push_str(&v.to_string());
            body.push('\n');
        }
        let mut res = body.into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        return Ok(res);
    }
    let per_page = q.per_page.unwrap_or(50);
    if per_page == 0 || per_page > 1000 {
        return Err(AppError::invalid("per_page", "must be between 1 and 1000"));
    }
    let page = q.page.unwrap_or(1);
    if page == 0 {
        return Err(AppError::invalid("page", "pages count from 1"));
    }
    let total = items.len();
    let total_pages = total.div_ceil(per_page).max(1);
    let contents: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    Ok(Json(serde_json::json!({
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": per_page,
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": contents.is_empty(),
        "contents": contents,
    }))
    .into_response())
}

fn search_words(q: &HsdsQuery) -> Vec<String> {
    q.search
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect()
}

/// Ids of records linked to a term (or to any term of a taxonomy) through `attribute`.
fn linked_to_terms(dir: &Directory, q: &HsdsQuery) -> Option<std::collections::BTreeSet<String>> {
    if q.taxonomy_term_id.is_none() && q.taxonomy_id.is_none() {
        return None;
    }
    Some(
        dir.attribute
            .values()
            .filter(|a| {
                let term = a.taxonomy_term_id.as_deref();
                q.taxonomy_term_id
                    .as_deref()
                    .is_none_or(|t| term == Some(t))
                    && q.taxonomy_id.as_deref().is_none_or(|tx| {
                        term.and_then(|t| dir.taxonomy_term.get(t))
                            .and_then(|t| t.taxonomy_id.as_deref())
                            == Some(tx)
                    })
            })
            .filter_map(|a| a.link_id.clone())
            .collect(),
    )
}

fn projection<'a>(l: &'a Loaded, p: &Principal) -> &'a Projection {
    l.view(viewer_of(p))
}

/// `GET /api/v1/hsds/services`: full HSDS service objects, paged.
#[utoipa::path(get, path = "/api/v1/hsds/services", tag = "hsds", params(HsdsQuery),
    responses((status = 200, description = "An HSDS page of services"), (status = 422, body = crate::error::Problem)))]
pub async fn hsds_services(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<HsdsQuery>,
) -> AppResult<Response> {
    let l = loaded(&state, &p).await?;
    let pr = projection(&l, &p);
    let words = search_words(&q);
    let linked = linked_to_terms(&pr.dir, &q);
    let items = pr
        .services_json()
        .iter()
        .filter(|(id, v)| {
            linked.as_ref().is_none_or(|s| s.contains(*id))
                && q.organization_id
                    .as_deref()
                    .is_none_or(|o| v.get("organization_id").and_then(Value::as_str) == Some(o))
                && words_match(&words, v)
        })
        .map(|(_, v)| v.clone())
        .collect();
    page_of(items, &q)
}

/// `GET /api/v1/hsds/services/{id}`: one full HSDS service object.
#[utoipa::path(get, path = "/api/v1/hsds/services/{id}", tag = "hsds", params(("id" = String, Path, description = "Service id")),
    responses((status = 200, description = "An HSDS service"), (status = 404, body = crate::error::Problem)))]
pub async fn hsds_service(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let l = loaded(&state, &p).await?;
    projection(&l, &p)
        .services_json()
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| AppError::not_found("service"))
}

/// `GET /api/v1/hsds/service_at_locations`: services at locations with their service and location,
/// paged; `postcode` finds those whose location is within `proximity` metres of the ZIP's centroid (or,
/// without `proximity`, whose service area or address covers the ZIP).
#[utoipa::path(get, path = "/api/v1/hsds/service_at_locations", tag = "hsds", params(HsdsQuery),
    responses((status = 200, description = "An HSDS page of services at locations"), (status = 422, body = crate::error::Problem)))]
pub async fn hsds_service_at_locations(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<HsdsQuery>,
) -> AppResult<Response> {
    let l = loaded(&state, &p).await?;
    let pr = projection(&l, &p);
    let dir = &pr.dir;
    let words = search_words(&q);
    let linked = linked_to_terms(dir, &q);
    let centre = match q.postcode.as_deref() {
        None => None,
        Some(z) => Some(
            Gazetteer::get()
                .zip(z.trim())
                .ok_or_else(|| AppError::invalid("postcode", format!("unknown ZIP code `{z}`")))?,
        ),
    };
    if q.proximity.is_some_and(|m| !(m > 0.0 && m <= 5_000_000.0)) {
        return Err(AppError::invalid(
            "proximity",
            "metres, more than 0 and at most 5000000",
        ));
    }
    let mut items = Vec::new();
    for sal in dir.service_at_location.values() {
        let Some(service) = sal.service_id.as_deref().and_then(|s| dir.service.get(s)) else {
            continue;
        };
        let location = sal.location_id.as_deref().and_then(|l| dir.location.get(l));
        if linked
            .as_ref()
            .is_some_and(|s| !s.contains(&service.id) && !s.contains(&sal.id))
        {
            continue;
        }
        if q.organization_id.is_some() && service.organization_id != q.organization_id {
            continue;
        }
        let sv = serde_json::to_value(service).unwrap_or(Value::Null);
        if !words_match(&words, &sv) {
            continue;
        }
        if let Some(c) = centre {
            let near = match (q.proximity, location) {
                (Some(m), Some(loc)) => match (loc.latitude, loc.longitude) {
                    (Some(lat), Some(lng)) => {
                        haversine_km((c.lat, c.lng), (lat, lng)) * 1000.0 <= m
                    }
                    _ => false,
                },
                (Some(_), None) => false,
                (None, _) => {
                    let covers = pr
                        .areas_of(&service.id)
                        .any(|a| match a.extent_type.as_deref() {
                            Some("zip") => a.extent.as_deref() == Some(c.zip.as_str()),
                            Some("state") => a.extent.as_deref() == Some(c.state.as_str()),
                            Some("national") => true,
                            _ => false,
                        });
                    let at = location.is_some_and(|loc| {
                        pr.addresses_of(&loc.id).any(|ad| {
                            ad.postal_code.as_deref().map(|z| &z[..z.len().min(5)])
                                == Some(c.zip.as_str())
                        })
                    });
                    covers || at
                }
            };
            if !near {
                continue;
            }
        }
        let mut m = to_map(sal);
        m.insert("service".into(), sv);
        if let Some(loc) = location {
            let mut lm = to_map(loc);
            let addrs: Vec<Value> = pr
                .addresses_of(&loc.id)
                .map(|a| Value::Object(to_map(a)))
                .collect();
            lm.insert("addresses".into(), Value::Array(addrs));
            m.insert("location".into(), Value::Object(lm));
        }
        items.push(Value::Object(m));
    }
    page_of(items, &q)
}

/// `GET /api/v1/hsds/taxonomies`.
#[utoipa::path(get, path = "/api/v1/hsds/taxonomies", tag = "hsds", params(HsdsQuery),
    responses((status = 200, description = "An HSDS page of taxonomies"), (status = 422, body = crate::error::Problem)))]
pub async fn hsds_taxonomies(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<HsdsQuery>,
) -> AppResult<Response> {
    let l = loaded(&state, &p).await?;
    let words = search_words(&q);
    let items = projection(&l, &p)
        .dir
        .taxonomy
        .values()
        .map(|t| Value::Object(to_map(t)))
        .filter(|v| words_match(&words, v))
        .collect();
    page_of(items, &q)
}

/// `GET /api/v1/hsds/taxonomy_terms`.
#[utoipa::path(get, path = "/api/v1/hsds/taxonomy_terms", tag = "hsds", params(HsdsQuery),
    responses((status = 200, description = "An HSDS page of taxonomy terms"), (status = 422, body = crate::error::Problem)))]
pub async fn hsds_taxonomy_terms(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<HsdsQuery>,
) -> AppResult<Response> {
    let l = loaded(&state, &p).await?;
    let words = search_words(&q);
    let items = projection(&l, &p)
        .dir
        .taxonomy_term
        .values()
        .filter(|t| {
            q.taxonomy_id
                .as_deref()
                .is_none_or(|x| t.taxonomy_id.as_deref() == Some(x))
                && q.parent_id
                    .as_deref()
                    .is_none_or(|x| t.parent_id.as_deref() == Some(x))
                && (q.top_only != Some(true) || t.parent_id.is_none())
        })
        .map(|t| Value::Object(to_map(t)))
        .filter(|v| words_match(&words, v))
        .collect();
    page_of(items, &q)
}

// ---- the directory manager's writes ----

/// What a write did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WriteResult {
    /// Records written or deleted, as `table/id`.
    pub records: Vec<String>,
    /// The directory's new version.
    pub version: i64,
}

/// Validates HSDS JSON (a single object, an array, NDJSON or an API page) into records; every invalid
/// field is named by row, table and field.
pub fn records_from_hsds(text: &str) -> AppResult<Directory> {
    let mut dir = Directory::default();
    match import_json(&mut dir, "body", text, None, Mode::Strict) {
        Ok(_) => Ok(dir),
        Err(ImportError::Invalid(issues)) => Err(AppError::invalid_fields(
            issues
                .iter()
                .map(|i| FieldError {
                    field: format!(
                        "[{}].{}{}{}",
                        i.row,
                        i.table,
                        if i.field.is_empty() { "" } else { "." },
                        i.field
                    ),
                    message: i.message.clone(),
                })
                .collect(),
        )),
        Err(e) => Err(AppError::bad_request(e.to_string())),
    }
}

/// `POST /api/v1/directory/records`: adds or replaces records given in HSDS form (a full service with its
/// organisation, locations, phones and schedules, or flat records of any table). Records not named are
/// left as they are. Open Eligibility terms are crosswalked to Lantern's taxonomy.
#[utoipa::path(post, path = "/api/v1/directory/records", tag = "directory", request_body(content = Object, description = "HSDS JSON"),
    responses((status = 200, body = WriteResult), (status = 422, body = crate::error::Problem)))]
pub async fn put_records(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<WriteResult>> {
    let mut dir = records_from_hsds(&body.to_string())?;
    // Open Eligibility terms become Lantern's service types and populations, as on any import.
    if lantern_directory::taxonomy::apply_open_eligibility_crosswalk(&mut dir) > 0 {
        lantern_directory::taxonomy::install(&mut dir);
    }
    let upserts = crate::directory::to_records(&dir);
    if upserts.is_empty() {
        return Err(AppError::invalid("body", "no HSDS records found"));
    }
    write(&state, &p, "directory.update", upserts, vec![]).await
}

/// Writes records and deletions as one change.
pub async fn write(
    state: &AppState,
    p: &Principal,
    action: &str,
    upserts: Vec<DirectoryRecord>,
    deletes: Vec<(String, String)>,
) -> AppResult<Json<WriteResult>> {
    let records = upserts
        .iter()
        .map(|r| format!("{}/{}", r.table, r.id))
        .chain(deletes.iter().map(|(t, i)| format!("{t}/{i}")))
        .collect();
    let l = state
        .directories
        .change(
            &*state.store,
            &p.ctx(),
            &p.user.hotline_id,
            &DirectoryChange {
                action: action.into(),
                upserts,
                deletes,
                replace_all: false,
            },
        )
        .await?;
    Ok(Json(WriteResult {
        records,
        version: l.version,
    }))
}

/// `DELETE /api/v1/directory/records/{table}/{id}`: removes one record.
#[utoipa::path(delete, path = "/api/v1/directory/records/{table}/{id}", tag = "directory",
    params(("table" = String, Path, description = "HSDS table"), ("id" = String, Path, description = "Record id")),
    responses((status = 200, body = WriteResult), (status = 404, body = crate::error::Problem)))]
pub async fn delete_record(
    State(state): State<AppState>,
    p: Principal,
    Path((table, id)): Path<(String, String)>,
) -> AppResult<Json<WriteResult>> {
    let l = loaded(&state, &p).await?;
    let mut probe = l.internal.dir.clone();
    if !probe.remove_record(&table, &id) {
        return Err(AppError::not_found("record"));
    }
    write(&state, &p, "directory.delete", vec![], vec![(table, id)]).await
}

/// A vetting decision.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VetInput {
    /// `vetted`, `pending` or `lapsed`.
    pub status: String,
    /// When it must be verified again (YYYY-MM-DD; default one year after today when vetted).
    #[serde(default)]
    pub reverify_due: Option<String>,
}

/// Sets a service's (and its organisation's) vetting; shared by the page and the API.
pub async fn vet(
    state: &AppState,
    p: &Principal,
    service_id: &str,
    status: &str,
    reverify_due: Option<&str>,
) -> AppResult<Json<WriteResult>> {
    let status = Vetting::parse(status).map_err(|e| AppError::invalid("status", e.to_string()))?;
    let today = jiff::Zoned::now().date();
    let due = match reverify_due.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<Date>().map_err(|_| {
            AppError::invalid(
                "reverify_due",
                format!("`{s}` is not a date such as 2027-11-22"),
            )
        })?),
        None if status == Vetting::Vetted => today.checked_add(jiff::Span::new().years(1)).ok(),
        None => None,
    };
    if due.is_some_and(|d| d < today) && status == Vetting::Vetted {
        return Err(AppError::invalid(
            "reverify_due",
            "must not be in the past for a vetted entry",
        ));
    }
    let l = loaded(state, p).await?;
    let mut service = l
        .internal
        .dir
        .service
        .get(service_id)
        .cloned()
        .ok_or_else(|| AppError::not_found("service"))?;
    let info = VettingInfo {
        status,
        vetted_on: (status == Vetting::Vetted).then_some(today),
        vetted_by: (status == Vetting::Vetted).then(|| p.user.username.clone()),
        reverify_due: due,
    };
    let mut ext = service.lantern.clone().unwrap_or_else(LanternExt::default);
    ext.vetting = Some(info);
    service.lantern = Some(ext);
    let rec = DirectoryRecord {
        table: "service".into(),
        id: service.id.clone(),
        json: serde_json::to_string(&service).unwrap_or_default(),
    };
    write(state, p, "directory.vet", vec![rec], vec![]).await
}

/// `POST /api/v1/directory/services/{id}/vet`.
#[utoipa::path(post, path = "/api/v1/directory/services/{id}/vet", tag = "directory", params(("id" = String, Path, description = "Service id")),
    request_body = VetInput, responses((status = 200, body = WriteResult), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn vet_api(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(v): ApiJson<VetInput>,
) -> AppResult<Json<WriteResult>> {
    vet(&state, &p, &id, &v.status, v.reverify_due.as_deref()).await
}

/// An entry due for (re-)verification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueEntry {
    /// The service.
    pub service_id: String,
    /// Its name.
    pub service_name: String,
    /// Its organisation's name.
    pub organization_name: Option<String>,
    /// `vetted`, `pending`, `lapsed`, or none when never reviewed.
    pub status: Option<String>,
    /// When it was last vetted.
    pub vetted_on: Option<String>,
    /// When it is due.
    pub reverify_due: Option<String>,
}

/// Services never vetted, pending, lapsed, or due within `within_days`; the most overdue first.
pub fn due_entries(dir: &Directory, within_days: i64) -> Vec<DueEntry> {
    let horizon = jiff::Zoned::now()
        .date()
        .checked_add(jiff::Span::new().days(within_days))
        .unwrap_or(Date::MAX);
    let mut out: Vec<DueEntry> = dir
        .service
        .values()
        .filter_map(|s| {
            let v = s.lantern().and_then(|e| e.vetting.clone());
            let due = match &v {
                None => true,
                Some(v) => {
                    v.status != Vetting::Vetted || v.reverify_due.is_some_and(|d| d <= horizon)
                }
            };
            due.then(|| DueEntry {
                service_id: s.id.clone(),
                service_name: s.name.clone().unwrap_or_default(),
                organization_name: s
                    .organization_id
                    .as_deref()
                    .and_then(|o| dir.organization.get(o))
                    .and_then(|o| o.name.clone()),
                status: v.as_ref().map(|v| v.status.code().to_owned()),
                vetted_on: v.as_ref().and_then(|v| v.vetted_on).map(|d| d.to_string()),
                reverify_due: v
                    .as_ref()
                    .and_then(|v| v.reverify_due)
                    .map(|d| d.to_string()),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.reverify_due
            .is_some()
            .cmp(&b.reverify_due.is_some())
            .then(a.reverify_due.cmp(&b.reverify_due))
            .then(a.service_name.cmp(&b.service_name))
    });
    out
}

/// How far ahead to look.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DueQuery {
    /// Entries due within this many days (default 30, at most 3650).
    #[serde(default)]
    within_days: Option<i64>,
}

/// `GET /api/v1/directory/due`: entries due for re-verification.
#[utoipa::path(get, path = "/api/v1/directory/due", tag = "directory", params(DueQuery),
    responses((status = 200, body = [DueEntry]), (status = 422, body = crate::error::Problem)))]
pub async fn due(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> AppResult<Json<Vec<DueEntry>>> {
    let days = q.within_days.unwrap_or(30);
    if !(0..=3650).contains(&days) {
        return Err(AppError::invalid(
            "within_days",
            "must be between 0 and 3650",
        ));
    }
    let l = loaded(&state, &p).await?;
    Ok(Json(due_entries(&l.internal.dir, days)))
}
