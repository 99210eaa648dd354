//! Loads the synthetic hotline (`lantern_domain::synth`) into a demo hotline: cases with their
//! parties and screened first contacts, their later contacts, and contacts of no case — through the
//! store's bulk import, so every record is encrypted and audited like any other.

use lantern_domain::case::{CaseDetails, CaseLocation};
use lantern_domain::codes::IdentifierKind;
use lantern_domain::identity;
use lantern_domain::model;
use lantern_domain::synth::{Generator, SynthItem};
use lantern_server::intake::determination;
use lantern_store::{AuditCtx, NewCase, NewContact, NewIdentifier, NewParty, Store};
use std::time::Instant;

fn us(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

fn contact(hotline_id: &str, c: &model::Contact) -> NewContact {
    NewContact {
        hotline_id: hotline_id.to_owned(),
        case_id: None,
        channel: c.channel.code().to_owned(),
        signaler_type: c.signaler_type.map(|v| v.code().to_owned()),
        category: c.category.map(|v| v.code().to_owned()),
        language: c.language.as_ref().map(|v| v.as_str().to_owned()),
        state: c.location.state.map(|v| v.code().to_owned()),
        zip: c.location.zip.as_ref().map(|v| v.as_str().to_owned()),
        city: c.location.city.clone(),
        location_precision: c.location.precision.code().to_owned(),
        safe_to_talk: c.safe_to_talk.map(|v| v.code().to_owned()),
        safe_contact: c
            .safe_contact
            .as_ref()
            .map(|s| serde_json::to_string(s).expect("serialises")),
        interpreter: c.interpreter.as_ref().map(|v| v.as_str().to_owned()),
        narrative: c.narrative.clone(),
        occurred_at_us: us(c.occurred_at),
        created_by: None,
        determination: None,
        open_case: None,
        parties: Vec::new(),
    }
}

fn ident(kind: IdentifierKind, value: String, state: Option<&str>) -> NewIdentifier {
    NewIdentifier {
        kind: identity::lookup_kind(kind).to_owned(),
        lookup: identity::lookup_key(kind, &value, state),
        value,
    }
}

fn party(p: &model::Party, state: Option<&str>) -> NewParty {
    let i = &p.identifiers;
    let mut identifiers = Vec::new();
    identifiers.extend(
        i.names
            .iter()
            .map(|n| ident(IdentifierKind::Name, n.clone(), state)),
    );
    identifiers.extend(
        i.aliases
            .iter()
            .map(|n| ident(IdentifierKind::Alias, n.clone(), state)),
    );
    identifiers.extend(
        i.phones
            .iter()
            .map(|n| ident(IdentifierKind::Phone, n.as_str().to_owned(), state)),
    );
    identifiers.extend(
        i.emails
            .iter()
            .map(|n| ident(IdentifierKind::Email, n.as_str().to_owned(), state)),
    );
    identifiers.extend(i.addresses.iter().map(|a| {
        let text = [
            a.street.clone(),
            a.city.clone(),
            a.state.map(|s| s.code().to_owned()),
            a.zip.as_ref().map(|z| z.as_str().to_owned()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        ident(IdentifierKind::Address, text, state)
    }));
    identifiers.extend(i.handles.iter().map(|h| {
        ident(
            IdentifierKind::Handle,
            format!("{}: {}", h.platform, h.handle),
            state,
        )
    }));
    NewParty {
        case_id: String::new(),
        role: p.role.code().to_owned(),
        gender: Some(p.gender.code().to_owned()),
        age: p.age.map(i64::from),
        age_band: p.band().map(|b| b.code().to_owned()),
        nationality: p.nationality.as_ref().map(|c| c.as_str().to_owned()),
        details: None,
        identifiers,
    }
}

/// Imports a chunk: first contacts (opening their cases), then the cases' later contacts and the
/// contacts of no case.
async fn flush(
    store: &dyn Store,
    ctx: &AuditCtx,
    firsts: &mut Vec<NewContact>,
    laters: &mut Vec<Vec<NewContact>>,
    loose: &mut Vec<NewContact>,
) -> anyhow::Result<()> {
    let ids = store.import_contacts(ctx, firsts).await?;
    let mut rest: Vec<NewContact> = Vec::new();
    for ((_, case_id), later) in ids.into_iter().zip(laters.drain(..)) {
        for mut c in later {
            c.case_id.clone_from(&case_id);
            rest.push(c);
        }
    }
    rest.append(loose);
    firsts.clear();
    store.import_contacts(ctx, &rest).await?;
    Ok(())
}

/// Loads `scale` years-worth of the synthetic hotline (1.0 = three years of a national hotline:
/// about 35,000 cases and 150,000 contacts). Returns (cases, contacts).
pub async fn load(
    store: &dyn Store,
    hotline_id: &str,
    seed: u64,
    scale: f64,
) -> anyhow::Result<(usize, usize)> {
    let ctx = AuditCtx::system(Some(hotline_id.to_owned()));
    let start = Instant::now();
    let generator = Generator::new(seed, scale);
    let total_cases = generator.case_count();
    let (mut cases, mut contacts) = (0usize, 0usize);
    let mut firsts: Vec<NewContact> = Vec::new();
    let mut laters: Vec<Vec<NewContact>> = Vec::new();
    let mut loose: Vec<NewContact> = Vec::new();
    for item in generator {
        match item {
            SynthItem::Case(sc) => {
                let state = sc
                    .case
                    .locations
                    .iter()
                    .find_map(|l| l.state)
                    .map(|s| s.code().to_owned());
                let details = CaseDetails {
                    typology: sc.case.typology.clone(),
                    locations: sc
                        .case
                        .locations
                        .iter()
                        .filter_map(|l| {
                            l.state.map(|s| CaseLocation {
                                state: s.code().to_owned(),
                                county: l.county.clone(),
                                city: l.city.clone(),
                                zip: l.zip.as_ref().map(|z| z.as_str().to_owned()),
                            })
                        })
                        .collect(),
                    risk_factors: sc.case.risk_factors.clone(),
                    recruitment: sc.case.recruitment.clone(),
                    recruiter_relation: sc.case.recruiter_relation,
                    means: sc.case.means.clone(),
                };
                let mut iter = sc.contacts.iter();
                let Some(first) = iter.next() else { continue };
                let mut c = contact(hotline_id, first);
                // History: these determinations were reviewed long ago, so they do not fill today's queue.
                let mut d = determination(&sc.answers).1;
                d.needs_review = false;
                c.determination = Some(d);
                c.open_case = Some(NewCase {
                    hotline_id: hotline_id.to_owned(),
                    status: sc.case.status.code().to_owned(),
                    form: sc.case.form.code().to_owned(),
                    state: state.clone(),
                    details_json: serde_json::to_string(&details)?,
                    safety_plan: sc.case.safety_plan.clone(),
                    assignee_id: None,
                });
                c.parties = sc
                    .parties
                    .iter()
                    .map(|p| party(p, state.as_deref()))
                    .collect();
                firsts.push(c);
                laters.push(iter.map(|k| contact(hotline_id, k)).collect());
                cases += 1;
                contacts += sc.contacts.len();
            }
            SynthItem::Contact(k) => {
                loose.push(contact(hotline_id, &k));
                contacts += 1;
            }
        }
        if firsts.len() >= 500 {
            flush(store, &ctx, &mut firsts, &mut laters, &mut loose).await?;
            eprint!("\rloading the demo hotline: {cases}/{total_cases} cases, {contacts} contacts");
        }
    }
    flush(store, &ctx, &mut firsts, &mut laters, &mut loose).await?;
    eprintln!(
        "\rloaded the demo hotline: {cases} cases, {contacts} contacts in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok((cases, contacts))
}
