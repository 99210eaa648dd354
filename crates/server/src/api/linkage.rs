//! Cross-case linkage over the API: ask for a run, read its status, list the components (networks of
//! cases), read one with its links and their explanations, decide on a link, and the possible matches
//! of a new party at intake. Identifier values appear only for roles that may read cases.

use super::ApiJson;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::linkage::graph::{self, Edge, Node};
use crate::linkage::records::{self, Facts};
use crate::linkage::{PossibleMatch, job};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lantern_store::{ComponentDetail, ComponentSummary, LinkageRun};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// `POST /api/v1/linkage/runs`: queues a run of the hotline's linkage (or returns the one already
/// queued or running) and starts it.
#[utoipa::path(post, path = "/api/v1/linkage/runs", tag = "linkage",
    responses((status = 202, description = "The run: {id, status, reason, requested_at_us, …}")))]
pub async fn run(State(state): State<AppState>, p: Principal) -> AppResult<Response> {
    let run = request(&state, &p).await?;
    Ok((StatusCode::ACCEPTED, Json(run)).into_response())
}

/// Queues a manual run and starts working on it in this server.
pub async fn request(state: &AppState, p: &Principal) -> AppResult<LinkageRun> {
    let run = state
        .store
        .request_linkage_run(&p.ctx(), &p.user.hotline_id, "manual")
        .await?;
    job::kick(state);
    Ok(run)
}

/// The newest run and the newest finished one.
#[derive(Debug, Serialize)]
pub struct StatusView {
    /// The newest run, whatever its status.
    pub latest: Option<LinkageRun>,
    /// The newest run that finished, whose components are shown.
    pub last_finished: Option<LinkageRun>,
}

/// `GET /api/v1/linkage/status`.
#[utoipa::path(get, path = "/api/v1/linkage/status", tag = "linkage",
    responses((status = 200, description = "{latest, last_finished}: runs with status, counts and times")))]
pub async fn status(State(state): State<AppState>, p: Principal) -> AppResult<Json<StatusView>> {
    let (latest, last_finished) = state.store.latest_linkage_runs(&p.user.hotline_id).await?;
    Ok(Json(StatusView {
        latest,
        last_finished,
    }))
}

/// `GET /api/v1/linkage/components`: the networks of the last finished run, largest first.
#[utoipa::path(get, path = "/api/v1/linkage/components", tag = "linkage",
    responses((status = 200, description = "[{id, run_id, case_ids, case_numbers, link_count, top_weight_milli}]")))]
pub async fn components(
    State(state): State<AppState>,
    p: Principal,
) -> AppResult<Json<Vec<ComponentSummary>>> {
    Ok(Json(
        state
            .store
            .linkage_components(&p.user.hotline_id, 1000)
            .await?,
    ))
}

/// One field's part in a link.
#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    /// The field.
    pub field: String,
    /// Its agreement level.
    pub level: String,
    /// The weight it added (log2 Bayes factor).
    pub weight: f64,
}

/// One identifier, for roles that may see it.
#[derive(Debug, Clone, Serialize)]
pub struct IdentifierView {
    /// Kind.
    pub kind: String,
    /// Value.
    pub value: String,
}

/// A link between parties of two cases.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    /// Its id (for decisions).
    pub id: String,
    /// One case.
    pub case_a: String,
    /// Its number.
    pub case_a_number: i64,
    /// The other case.
    pub case_b: String,
    /// Its number.
    pub case_b_number: i64,
    /// The party in `case_a`.
    pub party_a: String,
    /// The party in `case_b`.
    pub party_b: String,
    /// The role of the party in `case_a`.
    pub role_a: String,
    /// The role of the party in `case_b`.
    pub role_b: String,
    /// Match probability.
    pub probability: f64,
    /// Match weight (log2 odds).
    pub weight: f64,
    /// What agreed, in words ("same phone", "similar name").
    pub kinds: Vec<String>,
    /// Each field's part.
    pub explanation: Vec<FieldView>,
    /// Kept because an analyst confirmed it.
    pub forced: bool,
    /// The decision on it, if any.
    pub decision: Option<String>,
    /// The identifiers of the party in `case_a` (roles that may read cases only).
    pub identifiers_a: Option<Vec<IdentifierView>>,
    /// The identifiers of the party in `case_b`.
    pub identifiers_b: Option<Vec<IdentifierView>>,
}

/// A case of a component.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    /// The case.
    pub id: String,
    /// Its number.
    pub number: i64,
    /// Its status.
    pub status: String,
    /// Its main state.
    pub state: Option<String>,
}

/// A component: its cases, links and their drawing.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentView {
    /// Its id.
    pub id: String,
    /// Its cases, by number.
    pub cases: Vec<CaseView>,
    /// Its links, strongest first.
    pub links: Vec<LinkView>,
    /// Whether identifier values are shown (the viewer may read cases).
    pub identifiers_shown: bool,
    /// The graph as SVG.
    pub svg: String,
}

/// Reads a component for `p`, with values only when `p` may read cases.
pub async fn component_view(state: &AppState, p: &Principal, id: &str) -> AppResult<ComponentView> {
    let with_values = p.may(Action::CaseRead);
    let d: ComponentDetail = state
        .store
        .linkage_component(&p.ctx(), &p.user.hotline_id, id, with_values)
        .await?;
    let number: HashMap<&str, i64> = d.cases.iter().map(|c| (c.id.as_str(), c.number)).collect();
    let party: HashMap<&str, &lantern_store::ComponentParty> =
        d.parties.iter().map(|p| (p.id.as_str(), p)).collect();
    let idents = |pid: &str| {
        with_values.then(|| {
            party
                .get(pid)
                .map(|p| {
                    p.identifiers
                        .iter()
                        .map(|(k, v)| IdentifierView {
                            kind: k.clone(),
                            value: v.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    };
    let role = |pid: &str| party.get(pid).map(|p| p.role.clone()).unwrap_or_default();
    let links: Vec<LinkView> = d
        .links
        .iter()
        .map(|l| {
            // Shown with the lower case number first.
            let (ca, cb, pa, pb) = if number.get(l.case_a.as_str()) <= number.get(l.case_b.as_str())
            {
                (&l.case_a, &l.case_b, &l.party_a, &l.party_b)
            } else {
                (&l.case_b, &l.case_a, &l.party_b, &l.party_a)
            };
            LinkView {
                id: l.id.clone(),
                case_a_number: number.get(ca.as_str()).copied().unwrap_or(0),
                case_b_number: number.get(cb.as_str()).copied().unwrap_or(0),
                case_a: ca.clone(),
                case_b: cb.clone(),
                party_a: pa.clone(),
                party_b: pb.clone(),
                role_a: role(pa),
                role_b: role(pb),
                probability: l.probability,
                weight: l.weight,
                kinds: records::kinds(
                    l.explanation
                        .iter()
                        .map(|f| (f.field.as_str(), f.level.as_str(), f.weight)),
                )
                .into_iter()
                .map(str::to_owned)
                .collect(),
                explanation: l
                    .explanation
                    .iter()
                    .map(|f| FieldView {
                        field: f.field.clone(),
                        level: f.level.clone(),
                        weight: f.weight,
                    })
                    .collect(),
                forced: l.forced,
                decision: l.decision.clone(),
                identifiers_a: idents(pa),
                identifiers_b: idents(pb),
            }
        })
        .collect();
    let pos: HashMap<&str, usize> = d
        .cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut edges: BTreeMap<(usize, usize), (Vec<String>, f64)> = BTreeMap::new();
    for l in links
        .iter()
        .filter(|l| l.decision.as_deref() != Some("rejected"))
    {
        let (Some(&a), Some(&b)) = (pos.get(l.case_a.as_str()), pos.get(l.case_b.as_str())) else {
            continue;
        };
        let e = edges.entry((a.min(b), a.max(b))).or_default();
        for k in &l.kinds {
            if !e.0.contains(k) {
                e.0.push(k.clone());
            }
        }
        e.1 = e.1.max(l.probability);
    }
    let nodes: Vec<Node> = d
        .cases
        .iter()
        .map(|c| Node {
            label: format!("#{}", c.number),
            href: with_values.then(|| format!("/cases/{}", c.id)),
        })
        .collect();
    let edges: Vec<Edge> = edges
        .into_iter()
        .map(|((a, b), (kinds, probability))| Edge {
            a,
            b,
            label: if kinds.is_empty() {
                "linked".into()
            } else {
                kinds.join(", ")
            },
            probability,
        })
        .collect();
    let numbers: Vec<String> = d.cases.iter().map(|c| format!("#{}", c.number)).collect();
    let svg = graph::svg(
        &format!("Network of {} cases", d.cases.len()),
        &format!(
            "Cases {} joined by {} links between their people, phones, businesses and addresses.",
            numbers.join(", "),
            links.len()
        ),
        &nodes,
        &edges,
    );
    Ok(ComponentView {
        id: d.id,
        cases: d
            .cases
            .into_iter()
            .map(|c| CaseView {
                id: c.id,
                number: c.number,
                status: c.status,
                state: c.state,
            })
            .collect(),
        links,
        identifiers_shown: with_values,
        svg,
    })
}

/// `GET /api/v1/linkage/components/{id}`: a component's cases, links with their explanations, and
/// its graph as SVG; identifier values only for roles that may read cases.
#[utoipa::path(get, path = "/api/v1/linkage/components/{id}", tag = "linkage",
    params(("id" = String, Path, description = "Component id")),
    responses((status = 200, description = "{id, cases, links: [{id, case_a, case_b, probability, weight, kinds, explanation, decision, identifiers_a?, identifiers_b?}], identifiers_shown, svg}"),
        (status = 404, body = crate::error::Problem)))]
pub async fn component(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<ComponentView>> {
    Ok(Json(component_view(&state, &p, &id).await?))
}

/// A decision on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The two parties are the same person or business.
    Confirmed,
    /// They are not.
    Rejected,
}

impl Decision {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Decision::Confirmed => "confirmed",
            Decision::Rejected => "rejected",
        }
    }
}

/// The body of a decision.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `confirmed` or `rejected`.
    pub decision: Decision,
}

/// `POST /api/v1/linkage/links/{id}/decision`: confirms or rejects a link; the decision is audited and
/// labels the next runs (a confirmed pair stays linked, a rejected one apart).
#[utoipa::path(post, path = "/api/v1/linkage/links/{id}/decision", tag = "linkage",
    params(("id" = String, Path, description = "Link id")),
    request_body(content = serde_json::Value, description = "{decision: confirmed | rejected}"),
    responses((status = 200, description = "The link with its decision"),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn decide(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> AppResult<Json<lantern_store::StoredLink>> {
    Ok(Json(
        state
            .store
            .decide_linkage_link(&p.ctx(), &p.user.hotline_id, &id, input.decision.code())
            .await?,
    ))
}

/// A party being recorded at intake.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeInput {
    /// The state of the contact.
    #[serde(default)]
    pub state: Option<String>,
    /// The party's role (a business's name is compared as a business name).
    #[serde(default)]
    pub role: Option<lantern_domain::codes::PartyRole>,
    /// Age in years.
    #[serde(default)]
    pub age: Option<u32>,
    /// Names, phones, emails, addresses, handles, business names.
    pub identifiers: Vec<crate::intake::IdentifierInput>,
}

/// `POST /api/v1/linkage/possible-matches`: cases whose parties may be this party (similar names,
/// phones written differently, the same business under a variant name), scored by the linkage model
/// against the hotline's blocking-key index. A POST keeps the identifiers out of URLs and logs.
#[utoipa::path(post, path = "/api/v1/linkage/possible-matches", tag = "linkage",
    request_body(content = serde_json::Value, description = "{state, role, age, identifiers: [{kind, value}]}"),
    responses((status = 200, description = "[{case_id, number, state, probability, weight, kinds}]"),
        (status = 422, body = crate::error::Problem)))]
pub async fn possible_matches(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(m): ApiJson<ProbeInput>,
) -> AppResult<Json<Vec<PossibleMatch>>> {
    let st = m
        .state
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(lantern_domain::case::us_state)
        .transpose()
        .map_err(|e| AppError::invalid("state", e))?;
    if m.age.is_some_and(|a| a > 130) {
        return Err(AppError::invalid(
            "age",
            "must be an age in years, 0 to 130",
        ));
    }
    let mut idents = Vec::new();
    for (i, id) in m.identifiers.iter().enumerate() {
        let value = id.value.trim();
        if value.chars().count() > 500 {
            return Err(AppError::invalid(
                format!("identifiers[{i}].value"),
                "at most 500 characters",
            ));
        }
        if !value.is_empty() {
            idents.push((
                lantern_domain::identity::lookup_kind(id.kind).to_owned(),
                value.to_owned(),
            ));
        }
    }
    if idents.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let role = m.role.map_or("", |r| r.code());
    let facts = Facts {
        role,
        age: m.age.map(i64::from),
        state: st.as_deref(),
        identifiers: &idents,
    };
    let found = state
        .linkage
        .possible_matches(&state, &p.ctx(), &p.user.hotline_id, facts)
        .await?;
    state
        .store
        .audit(
            &p.ctx(),
            "linkage.match",
            "case",
            None,
            serde_json::json!({"found": found.len()}),
        )
        .await?;
    Ok(Json(found))
}
