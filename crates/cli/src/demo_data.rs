//! Loads the synthetic hotline (`lantern_domain::synth`) into a demo hotline: cases with their
//! parties and screened first contacts, their later contacts, and contacts of no case — through the
//! store's bulk import, so every record is encrypted and audited like any other.

use lantern_directory::demo::synthetic_case_details;
use lantern_directory::model::Directory;
use lantern_directory::supply::{Offer, vetted_offers};
use lantern_domain::case::CaseDetails;
use lantern_domain::codes::IdentifierKind;
use lantern_domain::codes::{ServiceType, UsState};
use lantern_domain::identity;
use lantern_domain::model;
use lantern_domain::synth::{Generator, SynthItem};
use lantern_server::intake::determination;
use lantern_store::{
    AuditCtx, NewCase, NewContact, NewIdentifier, NewParty, NewReferral, PartnerOrg, ReferralMove,
    Store,
};
use std::collections::HashMap;
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

/// First names and surnames of the planted networks' suspected traffickers: not among the generator's
/// names, so each network's trafficker is a rare name, as a real one usually is.
const NET_FIRST: [&str; 8] = [
    "Dragan", "Teodoro", "Marek", "Olumide", "Vasile", "Arturo", "Kemal", "Radu",
];
const NET_LAST: [&str; 8] = [
    "Kovalenko",
    "Villasenor",
    "Wisniewski",
    "Adeyemi",
    "Ionescu",
    "Quezada",
    "Demirci",
    "Popescu",
];
const NET_STREET: [&str; 8] = [
    "Elm",
    "Harbor",
    "Commerce",
    "Industrial",
    "Maple",
    "Bayou",
    "Canal",
    "Market",
];

/// The trafficker of network `net` as the `member`th caller spelled the name: as given, with two
/// letters swapped, or in capitals with a letter missing.
pub fn network_name(net: usize, member: usize) -> String {
    let first = NET_FIRST[net % 8];
    let last = NET_LAST[(net / 8 + net) % 8];
    match member % 3 {
        0 => format!("{first} {last}"),
        1 => {
            let mut c: Vec<char> = last.chars().collect();
            let n = c.len();
            c.swap(n - 2, n - 1);
            format!("{first} {}", c.into_iter().collect::<String>())
        }
        _ => {
            let mut l = last.to_uppercase();
            l.remove(l.len() / 2);
            format!("{} {l}", first.to_uppercase())
        }
    }
}

/// An E.164 US number written the way the `member`th caller gave it.
pub fn network_phone(e164: &str, member: usize) -> String {
    let d = e164.trim_start_matches("+1");
    if d.len() != 10 {
        return e164.to_owned();
    }
    let (a, e, l) = (&d[..3], &d[3..6], &d[6..]);
    match member % 4 {
        0 => format!("({a}) {e}-{l}"),
        1 => format!("{a}.{e}.{l}"),
        2 => format!("+1 {a} {e} {l}"),
        _ => format!("1-{a}-{e}-{l}"),
    }
}

/// The business address of network `net`, formatted the way the `member`th caller gave it.
pub fn network_address(net: usize, member: usize) -> String {
    let number = 100 + net * 37;
    let street = NET_STREET[net % 8];
    let suite = 1 + net % 9;
    match member % 3 {
        0 => format!("{number} {street} Street, Suite {suite}"),
        1 => format!("{number} {} ST STE {suite}", street.to_uppercase()),
        _ => format!("{number} {street} St., #{suite}"),
    }
}

/// Makes a planted network's members look like what callers report over months: the network's
/// suspected trafficker with a name spelled three ways and the shared phone written in four formats,
/// and the business (under its variant names) with the same phone and an address formatted
/// differently. `model` and `parties` are the same parties, in order.
fn plant(
    net: usize,
    member: usize,
    phone: &str,
    model: &[model::Party],
    parties: &mut [NewParty],
    state: Option<&str>,
) {
    use lantern_domain::codes::PartyRole;
    for (m, p) in model.iter().zip(parties.iter_mut()) {
        let has_phone = m.identifiers.phones.iter().any(|x| x.as_str() == phone);
        if m.role == PartyRole::SuspectedTrafficker && has_phone {
            let mut ids = vec![ident(
                IdentifierKind::Name,
                network_name(net, member),
                state,
            )];
            ids.extend(
                m.identifiers
                    .aliases
                    .iter()
                    .map(|a| ident(IdentifierKind::Alias, a.clone(), state)),
            );
            ids.push(ident(
                IdentifierKind::Phone,
                network_phone(phone, member),
                state,
            ));
            p.identifiers = ids;
        } else if m.role == PartyRole::Business {
            p.identifiers.push(ident(
                IdentifierKind::Phone,
                network_phone(phone, member + 1),
                state,
            ));
            p.identifiers.push(ident(
                IdentifierKind::Address,
                network_address(net, member),
                state,
            ));
        }
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
    opened: &mut Vec<Opened>,
) -> anyhow::Result<()> {
    let ids = store.import_contacts(ctx, firsts).await?;
    let mut rest: Vec<NewContact> = Vec::new();
    for (((_, case_id), later), first) in ids.into_iter().zip(laters.drain(..)).zip(firsts.iter()) {
        if let (Some(id), Some(case)) = (&case_id, &first.open_case) {
            opened.push(Opened {
                case_id: id.clone(),
                state: case.state.clone(),
                details_json: case.details_json.clone(),
                opened_at_us: case.opened_at_us.unwrap_or(first.occurred_at_us),
            });
        }
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

/// A case the loader opened, as [`refer`] reads it.
#[derive(Debug, Clone)]
pub struct Opened {
    case_id: String,
    state: Option<String>,
    details_json: String,
    opened_at_us: i64,
}

/// Loads `scale` years-worth of the synthetic hotline (1.0 = three years of a national hotline:
/// about 35,000 cases and 150,000 contacts). Returns the cases it opened, for [`refer`].
pub async fn load(
    store: &dyn Store,
    hotline_id: &str,
    seed: u64,
    scale: f64,
) -> anyhow::Result<Vec<Opened>> {
    let ctx = AuditCtx::system(Some(hotline_id.to_owned()));
    let start = Instant::now();
    let generator = Generator::new(seed, scale);
    let networks = generator.networks().to_vec();
    // Each network operates in the state of its first case; its members are counted as they come.
    let mut network_state: std::collections::HashMap<usize, Option<String>> =
        std::collections::HashMap::new();
    let mut members: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let total_cases = generator.case_count();
    let (mut cases, mut contacts) = (0usize, 0usize);
    let mut firsts: Vec<NewContact> = Vec::new();
    let mut laters: Vec<Vec<NewContact>> = Vec::new();
    let mut loose: Vec<NewContact> = Vec::new();
    let mut opened: Vec<Opened> = Vec::new();
    for item in generator {
        match item {
            SynthItem::Case(sc) => {
                let state = sc
                    .case
                    .locations
                    .iter()
                    .find_map(|l| l.state)
                    .map(|s| s.code().to_owned());
                let state = match sc.network {
                    Some(n) => network_state.entry(n).or_insert(state).clone(),
                    None => state,
                };
                let details = synthetic_case_details(&sc.case);
                let mut iter = sc.contacts.iter();
                let Some(first) = iter.next() else { continue };
                let mut c = contact(hotline_id, first);
                if sc.network.is_some() {
                    c.state.clone_from(&state);
                }
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
                    opened_at_us: Some(us(sc.case.opened_at)),
                });
                c.parties = sc
                    .parties
                    .iter()
                    .map(|p| party(p, state.as_deref()))
                    .collect();
                if let Some(n) = sc.network
                    && let Some(net) = networks.iter().find(|x| x.id == n)
                {
                    let member = members.entry(n).or_default();
                    plant(
                        n,
                        *member,
                        net.phone.as_str(),
                        &sc.parties,
                        &mut c.parties,
                        state.as_deref(),
                    );
                    *member += 1;
                }
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
            flush(
                store,
                &ctx,
                &mut firsts,
                &mut laters,
                &mut loose,
                &mut opened,
            )
            .await?;
            eprint!("\rloading the demo hotline: {cases}/{total_cases} cases, {contacts} contacts");
        }
    }
    flush(
        store,
        &ctx,
        &mut firsts,
        &mut laters,
        &mut loose,
        &mut opened,
    )
    .await?;
    eprintln!(
        "\rloaded the demo hotline: {cases} cases, {contacts} contacts in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(opened)
}

/// Refers about 3% of the loaded cases that recorded needs — one referral each, with the caller's
/// consent, sharing only the need — to a vetted service offering one of those needs in the case's
/// state (the demo partner organisation's when it offers it, and then 30% of them, so the partner's
/// inbox has work), and
/// moves them on as services answer: most are accepted and some of those completed, some declined,
/// the partner's stay sent for the partner user to answer. So the dashboard's referral outcomes and the
/// gap analysis's referred needs have something to show. `opened` is what [`load`] opened; the
/// referrals are written a few at a time, so that the store commits them in groups. Returns how many
/// referrals it made.
pub async fn refer(
    store: &dyn Store,
    hotline_id: &str,
    partner: &PartnerOrg,
    opened: &[Opened],
    seed: u64,
) -> anyhow::Result<usize> {
    use futures_util::{StreamExt as _, TryStreamExt as _};
    let ctx = AuditCtx::system(Some(hotline_id.to_owned()));
    let dir = lantern_store::directory_of(&store.directory_records(hotline_id).await?)?;
    let mut plan = ReferralPlan::new(&dir, partner, seed);
    let mut jobs = Vec::new();
    for case in opened {
        jobs.extend(plan.referral(hotline_id, case)?);
    }
    let made = jobs.len();
    futures_util::stream::iter(jobs)
        .map(|(new, steps)| {
            let ctx = &ctx;
            async move {
                let referral = store.create_referral(ctx, &new).await?;
                for (from, to) in steps {
                    let step = ReferralMove {
                        from: (*from).into(),
                        to: (*to).into(),
                        ..ReferralMove::default()
                    };
                    store
                        .move_referral(ctx, hotline_id, &referral.id, &step)
                        .await?;
                }
                anyhow::Ok(())
            }
        })
        .buffer_unordered(16)
        .try_collect::<()>()
        .await?;
    Ok(made)
}

/// What [`refer`] draws from: the vetted services offering each service type in each state.
struct ReferralPlan<'a> {
    dir: &'a Directory,
    partner: &'a PartnerOrg,
    offering: HashMap<(UsState, ServiceType), Vec<Offer>>,
    rng: rand::rngs::StdRng,
}

/// How a referral moves on after it is sent.
type Steps = &'static [(&'static str, &'static str)];

impl<'a> ReferralPlan<'a> {
    fn new(dir: &'a Directory, partner: &'a PartnerOrg, seed: u64) -> ReferralPlan<'a> {
        use rand::SeedableRng as _;
        let mut offering: HashMap<(UsState, ServiceType), Vec<Offer>> = HashMap::new();
        for o in vetted_offers(dir, lantern_server::directory::today()) {
            let states: std::collections::BTreeSet<UsState> =
                o.places.iter().map(|p| p.0).collect();
            for state in states {
                for &t in &o.types {
                    offering.entry((state, t)).or_default().push(o.clone());
                }
            }
        }
        ReferralPlan {
            dir,
            partner,
            offering,
            rng: rand::rngs::StdRng::seed_from_u64(seed ^ 0x7265_6665_7272_616c),
        }
    }

    /// Whether a service belongs to the demo partner's directory organisation.
    fn ours(&self, service_id: &str) -> bool {
        let org = self
            .dir
            .service
            .get(service_id)
            .and_then(|s| s.organization_id.as_deref());
        org.is_some() && org == self.partner.directory_organization_id.as_deref()
    }

    /// The referral a case gets, if it gets one, and how it moves on.
    fn referral(
        &mut self,
        hotline_id: &str,
        case: &Opened,
    ) -> anyhow::Result<Option<(NewReferral, Steps)>> {
        use rand::Rng as _;
        let Some(state) = case
            .state
            .as_deref()
            .and_then(|s| UsState::parse_usps(s).ok())
        else {
            return Ok(None);
        };
        let details: CaseDetails = serde_json::from_str(&case.details_json)?;
        let Some((need, choices)) = details
            .needs
            .iter()
            .find_map(|n| Some((*n, self.offering.get(&(state, *n))?)))
        else {
            return Ok(None);
        };
        let partners = choices.iter().find(|o| self.ours(&o.service_id));
        // A case the partner could take is referred more often, so the partner's inbox has work.
        let share = if partners.is_some() { 0.3 } else { 0.03 };
        if !self.rng.random_bool(share) {
            return Ok(None);
        }
        let offer = match partners {
            Some(o) => o,
            None => &choices[self.rng.random_range(0..choices.len())],
        };
        let Some(service) = self.dir.service.get(&offer.service_id) else {
            return Ok(None);
        };
        let to_partner = self.ours(&service.id);
        let org = service
            .organization_id
            .as_deref()
            .and_then(|o| self.dir.organization.get(o));
        let name = service.name.clone().unwrap_or_default();
        let new = NewReferral {
            hotline_id: hotline_id.to_owned(),
            case_id: case.case_id.clone(),
            kind: "service".into(),
            status: "sent".into(),
            service_id: Some(service.id.clone()),
            organization_id: service.organization_id.clone(),
            target_name: match org.and_then(|o| o.name.as_deref()) {
                Some(o) => format!("{name} — {o}"),
                None => name,
            },
            partner_org_id: to_partner.then(|| self.partner.id.clone()),
            basis: "consent".into(),
            consent_by: Some("The caller".into()),
            consent_method: Some("verbal".into()),
            consent_at_us: Some(case.opened_at_us),
            shares: vec!["needs".into()],
            shared_json: serde_json::json!({ "needs": need.label() }).to_string(),
            service_types: offer.types.iter().map(|t| t.code().to_owned()).collect(),
            ..NewReferral::default()
        };
        let answer = self.rng.random::<f64>();
        let steps: Steps = if to_partner {
            &[]
        } else if answer < 0.55 {
            if self.rng.random_bool(0.5) {
                &[("sent", "accepted"), ("accepted", "completed")]
            } else {
                &[("sent", "accepted")]
            }
        } else if answer < 0.75 {
            &[("sent", "declined")]
        } else {
            &[]
        };
        Ok(Some((new, steps)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_domain::synth::SynthItem;
    use lantern_store::{Keyring, NewHotline, OpenOptions};

    #[test]
    fn a_network_s_names_phones_and_addresses_are_written_in_several_ways() {
        let names: std::collections::HashSet<String> = (0..3).map(|m| network_name(5, m)).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        let phones: std::collections::HashSet<String> =
            (0..4).map(|m| network_phone("+17135550142", m)).collect();
        assert_eq!(phones.len(), 4);
        for p in &phones {
            assert_eq!(identity::phone_e164(p).unwrap(), "+17135550142");
        }
        assert_ne!(network_address(2, 0), network_address(2, 1));
        // Every network's trafficker has a name of their own.
        let all: std::collections::HashSet<String> = (0..40).map(|n| network_name(n, 0)).collect();
        assert_eq!(all.len(), 40);
    }

    #[tokio::test]
    async fn the_linkage_job_finds_the_planted_networks_of_the_demo_hotline() {
        let dir = tempfile::tempdir().unwrap();
        let store = lantern_store::open(
            &dir.path().join("demo.db").display().to_string(),
            Keyring::generate(),
            &OpenOptions::default(),
        )
        .await
        .unwrap();
        let ctx = AuditCtx::cli(None);
        let hotline = store
            .create_hotline(
                &ctx,
                &NewHotline {
                    slug: "demo".into(),
                    name: "Demo".into(),
                },
            )
            .await
            .unwrap();
        let (seed, scale) = (11, 0.05);
        load(&*store, &hotline.id, seed, scale).await.unwrap();

        // The case numbers of each planted network, replaying the generator.
        let mut expected: std::collections::BTreeMap<usize, Vec<i64>> = Default::default();
        let mut number = 0;
        for item in Generator::new(seed, scale) {
            if let SynthItem::Case(c) = item
                && !c.contacts.is_empty()
            {
                number += 1;
                if let Some(n) = c.network {
                    expected.entry(n).or_default().push(number);
                }
            }
        }
        assert!(expected.len() >= 2, "{expected:?}");

        let state =
            lantern_server::AppState::new(store.clone(), lantern_server::Settings::default());
        store
            .request_linkage_run(&ctx, &hotline.id, "manual")
            .await
            .unwrap();
        assert_eq!(
            lantern_server::linkage::job::drain(&state).await.unwrap(),
            1
        );
        let (latest, _) = store.latest_linkage_runs(&hotline.id).await.unwrap();
        assert_eq!(latest.unwrap().status, "done");
        let comps = store.linkage_components(&hotline.id, 1000).await.unwrap();
        eprintln!(
            "{} components; sizes {:?}",
            comps.len(),
            comps.iter().map(|c| c.case_ids.len()).collect::<Vec<_>>()
        );
        for (net, numbers) in &expected {
            let found = comps
                .iter()
                .find(|c| c.case_numbers.contains(&numbers[0]))
                .unwrap_or_else(|| panic!("network {net} ({numbers:?}) is not a component"));
            eprintln!("network {net}: {numbers:?} -> {:?}", found.case_numbers);
            for n in numbers {
                assert!(
                    found.case_numbers.contains(n),
                    "network {net}: case {n} missing from {:?}",
                    found.case_numbers
                );
            }
            assert!(
                found.case_numbers.len() <= numbers.len() + 1,
                "network {net} {numbers:?} was merged into {:?}",
                found.case_numbers
            );
        }
    }
}
