//! A deterministic synthetic hotline, for `lantern demo` and for benchmarks.
//!
//! [`Generator::new`]`(seed, scale)` streams cases with their parties and contacts, and contacts that
//! belong to no case, as the model types of [`crate::model`]. At scale 1.0 it is about three years of a
//! national hotline: 35,000 cases and 150,000 contacts, from 2023-01-01. The same seed and scale always
//! give the same data. The mix follows published national hotline figures (issue 3):
//! - channels: phone 79%, web form 9%, text 7%, email 5% (Polaris, 2017), with web chat added by taking
//!   4 points from phone: phone 75%, web form 9%, text 7%, email 5%, web chat 4%;
//! - case forms: sex 73%, labor 14%, not specified 9%, sex and labor 4%;
//! - venues ranked as in Polaris, *The Typology of Modern Slavery* (2017; 32,000 cases, Dec 2007 to
//!   Dec 2016), whose order DOMAIN.md §3 keeps: each case form draws from its own venues, with weights
//!   set so that the overall shares fall in exactly the report's rank order (escort services first, at
//!   about 4,600 of the report's cases; recreational facilities last), tested below;
//! - about 4 contacts (signals) per case, 1.2 potential victims per case;
//! - states weighted by the 2020 Census resident population;
//! - as in real hotline data, many fields unknown.
//!
//! A few networks are planted: the same suspected trafficker (phone, business name, alias spelled
//! differently) across 3 to 6 cases, for the linkage work to find. [`Generator::networks`] says which.

use crate::codes::{Action, Purpose};
use crate::codes::{
    AgeBand, CaseForm, CaseStatus, Category, Channel, Gender, LocationPrecision, Means, PartyRole,
    RecruiterRelation, Recruitment, RiskFactor, SafeToTalk, ServiceType, SignalerType, Typology,
    UsState,
};
use crate::model::{Case, Contact, Identifiers, Location, OnlineHandle, Party, SafeContact};
use crate::screening::Answers;
use crate::values::{CaseNumber, CountryCode, LanguageCode, PhoneE164, ZipCode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use time::{Duration, OffsetDateTime, macros::datetime};
use uuid::Uuid;

/// Cases at scale 1.0 (three years of a national hotline).
pub const CASES_AT_SCALE_1: f64 = 35_000.0;
/// Contacts at scale 1.0.
pub const CONTACTS_AT_SCALE_1: f64 = 150_000.0;
/// The first instant of the synthetic period.
pub const START: OffsetDateTime = datetime!(2023-01-01 00:00 UTC);
/// The length of the synthetic period, in days (three years).
pub const DAYS: i64 = 1096;

/// Channel weights, in percent.
pub const CHANNEL_MIX: [(Channel, u32); 5] = [
    (Channel::Phone, 75),
    (Channel::Webform, 9),
    (Channel::Sms, 7),
    (Channel::Email, 5),
    (Channel::Webchat, 4),
];

/// Case form weights, in percent.
pub const FORM_MIX: [(CaseForm, u32); 4] = [
    (CaseForm::Sex, 73),
    (CaseForm::Labor, 14),
    (CaseForm::NotSpecified, 9),
    (CaseForm::SexAndLabor, 4),
];

/// Sex-trafficking venues, in the Typology's rank order, with weights falling with rank.
const SEX_TYPOLOGY: [(Typology, u32); 8] = [
    (Typology::EscortServices, 4600),
    (Typology::IllicitMassageHealthBeauty, 2900),
    (Typology::OutdoorSolicitation, 2300),
    (Typology::Residential, 1500),
    (Typology::BarsStripClubsCantinas, 880),
    (Typology::Pornography, 780),
    (Typology::PersonalSexualServitude, 230),
    (Typology::RemoteInteractiveSexualActs, 40),
];

/// Labor-trafficking venues, in the Typology's rank order, with weights falling with rank.
const LABOR_TYPOLOGY: [(Typology, u32); 17] = [
    (Typology::DomesticWork, 1400),
    (Typology::TravelingSalesCrews, 690),
    (Typology::RestaurantsFoodService, 650),
    (Typology::PeddlingBegging, 400),
    (Typology::AgricultureAnimalHusbandry, 390),
    (Typology::HealthBeautyServices, 180),
    (Typology::Construction, 170),
    (Typology::HotelsHospitality, 150),
    (Typology::Landscaping, 120),
    (Typology::IllicitActivities, 110),
    (Typology::ArtsEntertainment, 85),
    (Typology::CommercialCleaning, 80),
    (Typology::FactoriesManufacturing, 70),
    (Typology::Carnivals, 40),
    (Typology::ForestryLogging, 30),
    (Typology::HealthCare, 27),
    (Typology::RecreationalFacilities, 25),
];

/// Resident population by state, 2020 Census (U.S. Census Bureau, 2020 Census Redistricting Data,
/// P.L. 94-171, table P1), used as weights.
pub const STATE_POPULATION_2020: [(UsState, u32); 52] = [
    (UsState::Al, 5_024_279),
    (UsState::Ak, 733_391),
    (UsState::Az, 7_151_502),
    (UsState::Ar, 3_011_524),
    (UsState::Ca, 39_538_223),
    (UsState::Co, 5_773_714),
    (UsState::Ct, 3_605_944),
    (UsState::De, 989_948),
    (UsState::Dc, 689_545),
    (UsState::Fl, 21_538_187),
    (UsState::Ga, 10_711_908),
    (UsState::Hi, 1_455_271),
    (UsState::Id, 1_839_106),
    (UsState::Il, 12_812_508),
    (UsState::In, 6_785_528),
    (UsState::Ia, 3_190_369),
    (UsState::Ks, 2_937_880),
    (UsState::Ky, 4_505_836),
    (UsState::La, 4_657_757),
    (UsState::Me, 1_362_359),
    (UsState::Md, 6_177_224),
    (UsState::Ma, 7_029_917),
    (UsState::Mi, 10_077_331),
    (UsState::Mn, 5_706_494),
    (UsState::Ms, 2_961_279),
    (UsState::Mo, 6_154_913),
    (UsState::Mt, 1_084_225),
    (UsState::Ne, 1_961_504),
    (UsState::Nv, 3_104_614),
    (UsState::Nh, 1_377_529),
    (UsState::Nj, 9_288_994),
    (UsState::Nm, 2_117_522),
    (UsState::Ny, 20_201_249),
    (UsState::Nc, 10_439_388),
    (UsState::Nd, 779_094),
    (UsState::Oh, 11_799_448),
    (UsState::Ok, 3_959_353),
    (UsState::Or, 4_237_256),
    (UsState::Pa, 13_002_700),
    (UsState::Pr, 3_285_874),
    (UsState::Ri, 1_097_379),
    (UsState::Sc, 5_118_425),
    (UsState::Sd, 886_667),
    (UsState::Tn, 6_910_840),
    (UsState::Tx, 29_145_505),
    (UsState::Ut, 3_271_616),
    (UsState::Vt, 643_077),
    (UsState::Va, 8_631_393),
    (UsState::Wa, 7_705_281),
    (UsState::Wv, 1_793_716),
    (UsState::Wi, 5_893_718),
    (UsState::Wy, 576_851),
];

const FIRST: [&str; 24] = [
    "Maria", "Ana", "Jose", "Juan", "Li", "Mei", "Olga", "Irina", "Grace", "Joy", "Rosa", "Carmen",
    "Luis", "Carlos", "Nguyen", "Thanh", "Aisha", "Fatima", "James", "Michael", "Ashley",
    "Jessica", "Daniel", "Kevin",
];
const LAST: [&str; 20] = [
    "Garcia",
    "Hernandez",
    "Lopez",
    "Martinez",
    "Chen",
    "Wang",
    "Petrova",
    "Ivanova",
    "Okafor",
    "Santos",
    "Reyes",
    "Cruz",
    "Tran",
    "Le",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Davis",
];
const BUSINESS: [&str; 12] = [
    "Golden Lotus",
    "Blue Orchid",
    "Sunrise",
    "Lucky Star",
    "Green Valley",
    "Royal Palace",
    "Pacific",
    "Silver Moon",
    "Evergreen",
    "Happy Garden",
    "Diamond",
    "Paradise",
];
const BUSINESS_KIND: [&str; 6] = [
    "Spa",
    "Massage",
    "Nail Salon",
    "Restaurant",
    "Cleaning Services",
    "Farm Labor",
];
const NATIONALITIES: [(&str, u32); 10] = [
    ("US", 50),
    ("MX", 18),
    ("PH", 5),
    ("HN", 4),
    ("GT", 4),
    ("CN", 4),
    ("SV", 3),
    ("IN", 2),
    ("TH", 2),
    ("UA", 2),
];
const LANGUAGES: [(&str, u32); 6] = [
    ("en", 80),
    ("es", 14),
    ("zh", 2),
    ("vi", 1),
    ("tl", 1),
    ("ru", 1),
];
const CITIES: [&str; 8] = [
    "Springfield",
    "Riverside",
    "Fairview",
    "Franklin",
    "Greenville",
    "Clinton",
    "Madison",
    "Georgetown",
];

/// One planted network: the same suspected trafficker across several cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantedNetwork {
    /// Its number, from 0.
    pub id: usize,
    /// The ids of its cases, in the order generated.
    pub case_ids: Vec<Uuid>,
    /// The trafficker's phone, shared by every case.
    pub phone: PhoneE164,
    /// The business name, as first spelled.
    pub business: String,
    /// The alias, as first spelled.
    pub alias: String,
}

/// A case with everything generated for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthCase {
    /// The case.
    pub case: Case,
    /// Its parties: potential victims, suspected traffickers, sometimes a business.
    pub parties: Vec<Party>,
    /// Its contacts, oldest first, each with `case_id` set.
    pub contacts: Vec<Contact>,
    /// The planted network it belongs to, if any.
    pub network: Option<usize>,
    /// The screening answers established in its first contact (feed them to
    /// [`crate::screening::assess`] to get the determination to save with that contact).
    pub answers: Answers,
}

/// What the generator yields: a case with its parties and contacts, or a contact of no case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SynthItem {
    /// A case.
    Case(Box<SynthCase>),
    /// A contact that belongs to no case (general information, training, non-substantive…).
    Contact(Box<Contact>),
}

/// The synthetic hotline: an iterator of [`SynthItem`] in time order.
pub struct Generator {
    rng: ChaCha8Rng,
    seed: u64,
    cases: u32,
    next_case: u32,
    standalone_per_case: f64,
    standalone_due: f64,
    members: HashMap<u32, (usize, usize)>,
    networks: Vec<PlantedNetwork>,
    pending_contacts: u32,
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (v, w) in table {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    table[table.len() - 1].0
}

fn one<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn uuid(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

fn phone(rng: &mut ChaCha8Rng) -> PhoneE164 {
    let area = rng.random_range(201..990);
    let exch = rng.random_range(200..1000);
    let line = rng.random_range(0..10000);
    PhoneE164::parse(&format!("{area}{exch}{line:04}")).expect("area and exchange start with 2-9")
}

fn some<T>(rng: &mut ChaCha8Rng, p: f64, f: impl FnOnce(&mut ChaCha8Rng) -> T) -> Option<T> {
    if rng.random_bool(p) {
        Some(f(rng))
    } else {
        None
    }
}

fn several<T: Copy + PartialEq>(rng: &mut ChaCha8Rng, items: &[T], max: usize, p: f64) -> Vec<T> {
    let mut v = Vec::new();
    while v.len() < max && rng.random_bool(p) {
        let x = one(rng, items);
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v
}

/// The same name spelled as advocates type it from what different callers say.
fn respell(name: &str, variant: usize) -> String {
    match variant % 4 {
        0 => name.to_owned(),
        1 => name.to_uppercase(),
        2 => name.replace(' ', ""),
        _ => format!("{name} LLC"),
    }
}

/// What a case's potential victims need, drawn from a generator of its own (so adding needs left
/// every other field of the synthetic hotline as it was): shelter most often, and more often asked
/// for than the directory offers men; legal help, labor rights and employment in labor cases,
/// immigration help for foreign nationals, youth services for minors. About a third record none.
fn needs(seed: u64, i: u32, form: CaseForm, parties: &[Party]) -> Vec<ServiceType> {
    use ServiceType as S;
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x6e65_6564_7300_0000 ^ u64::from(i));
    if r.random_bool(0.35) {
        return Vec::new();
    }
    let victims: Vec<&Party> = parties
        .iter()
        .filter(|p| p.role == PartyRole::PotentialVictim)
        .collect();
    let man = victims.iter().any(|p| p.gender == Gender::Man);
    let minor = victims
        .iter()
        .any(|p| p.age.map(|a| a < 18).or(p.age_band.map(AgeBand::is_minor)) == Some(true));
    let foreign = victims.iter().any(|p| {
        p.nationality
            .as_ref()
            .is_some_and(|n| !n.as_str().eq_ignore_ascii_case("US"))
    });
    let sex = matches!(form, CaseForm::Sex | CaseForm::SexAndLabor);
    let labor = matches!(form, CaseForm::Labor | CaseForm::SexAndLabor);
    let mut chances: Vec<(ServiceType, f64)> = vec![
        (S::EmergencyShelter, if man { 0.55 } else { 0.4 }),
        (S::CaseManagement, 0.3),
        (S::MentalHealthCounseling, 0.25),
        (S::BasicNeeds, 0.2),
        (S::MedicalCare, 0.15),
    ];
    if sex {
        chances.extend([
            (S::SexualAssaultServices, 0.2),
            (S::SubstanceUseTreatment, 0.1),
            (S::LegalServices, 0.15),
        ]);
    }
    if labor {
        chances.extend([
            (S::LegalServices, 0.35),
            (S::LaborRights, 0.35),
            (S::EmploymentTraining, 0.3),
            (S::Interpretation, 0.15),
        ]);
    }
    if foreign {
        chances.push((S::ImmigrationLegal, 0.5));
    }
    if minor {
        chances.extend([(S::YouthServices, 0.5), (S::ChildWelfare, 0.3)]);
    }
    let mut out: Vec<ServiceType> = Vec::new();
    for (t, p) in chances {
        if !out.contains(&t) && r.random_bool(p) {
            out.push(t);
        }
    }
    if out.is_empty() {
        out.push(S::CaseManagement);
    }
    out
}

impl Generator {
    /// A generator for `seed` at `scale` (1.0: 35,000 cases and 150,000 contacts over three years).
    pub fn new(seed: u64, scale: f64) -> Generator {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            0.0
        };
        let cases = (CASES_AT_SCALE_1 * scale).round() as u32;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // The contacts of cases average 4; the rest of the contacts belong to no case.
        let standalone_per_case = (CONTACTS_AT_SCALE_1 - 4.0 * CASES_AT_SCALE_1) / CASES_AT_SCALE_1;
        let mut members = HashMap::new();
        let mut networks = Vec::new();
        if cases >= 10 {
            let count = ((cases as f64 / 1_500.0).round() as usize).clamp(2, 40);
            let mut taken = std::collections::HashSet::new();
            for id in 0..count {
                let size = rng.random_range(3..=6usize);
                let mut case_ids = Vec::new();
                let mut idx = Vec::new();
                while idx.len() < size {
                    let i = rng.random_range(0..cases);
                    if taken.insert(i) {
                        idx.push(i);
                    }
                }
                idx.sort_unstable();
                for (member, i) in idx.iter().enumerate() {
                    members.insert(*i, (id, member));
                    case_ids.push(Self::case_id_for(seed, *i));
                }
                let business = format!(
                    "{} {}",
                    one(&mut rng, &BUSINESS),
                    one(&mut rng, &BUSINESS_KIND)
                );
                let alias = format!("Big {}", one(&mut rng, &FIRST));
                networks.push(PlantedNetwork {
                    id,
                    case_ids,
                    phone: phone(&mut rng),
                    business,
                    alias,
                });
            }
        }
        Generator {
            rng,
            seed,
            cases,
            next_case: 0,
            standalone_per_case,
            standalone_due: 0.0,
            members,
            networks,
            pending_contacts: 0,
        }
    }

    /// How many cases it yields.
    pub fn case_count(&self) -> u32 {
        self.cases
    }

    /// The planted networks.
    pub fn networks(&self) -> &[PlantedNetwork] {
        &self.networks
    }

    /// The id of the `i`th case (from 0), known before it is generated.
    pub fn case_id(&self, i: u32) -> Uuid {
        Self::case_id_for(self.seed, i)
    }

    fn case_id_for(seed: u64, i: u32) -> Uuid {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&seed.to_le_bytes());
        b[8..12].copy_from_slice(&i.to_le_bytes());
        b[12..].copy_from_slice(b"case");
        uuid::Builder::from_random_bytes(b).into_uuid()
    }

    /// The instant of the `i`th of `n` slots of the period, plus a random part of the slot.
    fn when(&mut self, i: u32) -> OffsetDateTime {
        let slot = DAYS as f64 * 86_400.0 / self.cases.max(1) as f64;
        let secs = (i as f64 + self.rng.random::<f64>()) * slot;
        START + Duration::seconds(secs as i64)
    }

    fn location(&mut self, state: UsState) -> Location {
        let r = &mut self.rng;
        let precision = pick(
            r,
            &[
                (LocationPrecision::Unknown, 10),
                (LocationPrecision::State, 25),
                (LocationPrecision::City, 40),
                (LocationPrecision::Zip, 20),
                (LocationPrecision::Exact, 5),
            ],
        );
        let known = precision != LocationPrecision::Unknown;
        let city = matches!(
            precision,
            LocationPrecision::City | LocationPrecision::Zip | LocationPrecision::Exact
        )
        .then(|| one(r, &CITIES).to_owned());
        let zip =
            matches!(precision, LocationPrecision::Zip | LocationPrecision::Exact).then(|| {
                ZipCode::parse(&format!("{:05}", r.random_range(1_000..99_951)))
                    .expect("five digits")
            });
        Location {
            state: known.then_some(state),
            county: None,
            city,
            zip,
            precision,
        }
    }

    fn contact(&mut self, at: OffsetDateTime, case_id: Option<Uuid>, state: UsState) -> Contact {
        let location = self.location(state);
        let r = &mut self.rng;
        let channel = pick(r, &CHANNEL_MIX);
        let victim = r.random_bool(0.25);
        let signaler_type = some(r, 0.8, |r| {
            if victim {
                SignalerType::VictimSurvivor
            } else {
                pick(
                    r,
                    &[
                        (SignalerType::CommunityMember, 30),
                        (SignalerType::FamilyFriend, 20),
                        (SignalerType::ServiceProvider, 15),
                        (SignalerType::LawEnforcement, 6),
                        (SignalerType::Anonymous, 15),
                        (SignalerType::Business, 4),
                        (SignalerType::Educator, 3),
                        (SignalerType::MedicalProfessional, 3),
                        (SignalerType::Government, 2),
                        (SignalerType::Other, 2),
                    ],
                )
            }
        });
        let category = some(r, 0.9, |r| {
            if case_id.is_some() {
                pick(
                    r,
                    &[
                        (Category::Tip, 45),
                        (Category::Crisis, 15),
                        (Category::ReferralRequest, 25),
                        (Category::Related, 15),
                    ],
                )
            } else {
                pick(
                    r,
                    &[
                        (Category::GeneralInformation, 40),
                        (Category::TrainingTa, 20),
                        (Category::NonSubstantive, 30),
                        (Category::ReferralRequest, 10),
                    ],
                )
            }
        });
        let lang = pick(r, &LANGUAGES);
        let language = some(r, 0.85, |_| LanguageCode::parse(lang).expect("ISO 639-1"));
        let voice = matches!(channel, Channel::Phone);
        let interpreter = (voice && lang != "en" && r.random_bool(0.6))
            .then(|| LanguageCode::parse(lang).expect("ISO 639-1"));
        let safe_to_talk = some(r, 0.7, |r| {
            pick(
                r,
                &[
                    (SafeToTalk::Yes, 85),
                    (SafeToTalk::Unsure, 10),
                    (SafeToTalk::No, 5),
                ],
            )
        });
        let safe_contact = (victim && r.random_bool(0.5)).then(|| {
            let allowed = r.random_bool(0.7);
            SafeContact {
                allowed,
                number: allowed.then(|| phone(r)),
                time_windows: if allowed {
                    vec!["weekdays 9am-noon".into()]
                } else {
                    vec![]
                },
                voicemail: allowed.then_some(false),
                text: allowed.then(|| r.random_bool(0.5)),
                code_word: None,
            }
        });
        let narrative = some(r, 0.6, |r| {
            one(
                r,
                &[
                    "Caller describes someone who cannot leave their work and whose papers are kept by the boss.",
                    "Tip about a business with workers living on site and frequent late-night visitors.",
                    "Person says they owe a debt to the people who brought them here and are not allowed to leave.",
                    "Concerned neighbour reports young people being dropped off and picked up at odd hours.",
                    "Caller asks for shelter and legal help; says her partner takes all her earnings.",
                ],
            )
            .to_owned()
        });
        Contact {
            id: uuid(r),
            case_id,
            occurred_at: at,
            channel,
            signaler_type,
            category,
            language,
            location,
            safe_to_talk,
            safe_contact,
            interpreter,
            narrative,
        }
    }

    fn person(&mut self, case_id: Uuid, role: PartyRole, form: CaseForm) -> Party {
        let r = &mut self.rng;
        let gender = match (role, form) {
            (PartyRole::PotentialVictim, CaseForm::Sex) => pick(
                r,
                &[
                    (Gender::Woman, 80),
                    (Gender::Man, 6),
                    (Gender::TransgenderNonconforming, 4),
                    (Gender::Unknown, 10),
                ],
            ),
            (PartyRole::PotentialVictim, _) => pick(
                r,
                &[
                    (Gender::Woman, 40),
                    (Gender::Man, 45),
                    (Gender::TransgenderNonconforming, 1),
                    (Gender::Unknown, 14),
                ],
            ),
            _ => pick(
                r,
                &[
                    (Gender::Woman, 25),
                    (Gender::Man, 55),
                    (Gender::Unknown, 20),
                ],
            ),
        };
        let minor_share = if form == CaseForm::Sex { 0.3 } else { 0.1 };
        let (age, age_band) = match r.random_range(0..10) {
            0..=3 => {
                let age = if role == PartyRole::PotentialVictim && r.random_bool(minor_share) {
                    r.random_range(12..18)
                } else {
                    r.random_range(18..60)
                };
                (Some(age), Some(AgeBand::of(age)))
            }
            4..=5 => (None, Some(one(r, AgeBand::ALL))),
            _ => (None, None),
        };
        let nat = pick(r, &NATIONALITIES);
        let nationality = some(r, 0.4, |_| CountryCode::parse(nat).expect("alpha-2"));
        let mut identifiers = Identifiers::default();
        if r.random_bool(0.6) {
            identifiers
                .names
                .push(format!("{} {}", one(r, &FIRST), one(r, &LAST)));
        }
        if role == PartyRole::SuspectedTrafficker {
            if r.random_bool(0.3) {
                identifiers.aliases.push(format!("Big {}", one(r, &FIRST)));
            }
            if r.random_bool(0.4) {
                identifiers.phones.push(phone(r));
            }
            if r.random_bool(0.15) {
                identifiers.handles.push(OnlineHandle {
                    platform: "instagram".into(),
                    handle: format!(
                        "@{}{}",
                        one(r, &FIRST).to_lowercase(),
                        r.random_range(1..99)
                    ),
                });
            }
        }
        Party {
            id: uuid(r),
            case_id,
            role,
            gender,
            age,
            age_band,
            nationality,
            identifiers,
        }
    }

    fn case(&mut self, i: u32) -> SynthCase {
        let id = self.case_id(i);
        let opened_at = self.when(i);
        let r = &mut self.rng;
        let form = pick(r, &FORM_MIX);
        let state = pick(r, &STATE_POPULATION_2020);
        let mut typology = Vec::new();
        if r.random_bool(0.7) {
            match form {
                CaseForm::Sex => typology.push(pick(r, &SEX_TYPOLOGY)),
                CaseForm::Labor => typology.push(pick(r, &LABOR_TYPOLOGY)),
                CaseForm::SexAndLabor => {
                    typology.push(pick(r, &SEX_TYPOLOGY));
                    typology.push(pick(r, &LABOR_TYPOLOGY));
                }
                CaseForm::NotSpecified => typology.push(Typology::Unknown),
            }
        }
        let age_days = (START + Duration::days(DAYS) - opened_at).whole_days();
        let status = if r.random_bool((age_days as f64 / DAYS as f64).clamp(0.05, 0.9)) {
            CaseStatus::Closed
        } else {
            pick(
                r,
                &[
                    (CaseStatus::Open, 60),
                    (CaseStatus::Monitoring, 20),
                    (CaseStatus::Referred, 20),
                ],
            )
        };
        let risk_factors = several(r, RiskFactor::ALL, 3, 0.45);
        let recruitment = several(r, Recruitment::ALL, 2, 0.35);
        let recruiter_relation = some(r, 0.4, |r| one(r, RecruiterRelation::ALL));
        let means = several(r, Means::ALL, 4, 0.55);
        let safety_plan = some(r, 0.1, |_| {
            "Agreed code word; will call back from a friend's phone.".to_owned()
        });
        let year = opened_at.year() as u16;
        let number = CaseNumber::new(year, i + 1).expect("years of the period are valid");
        let mut locations = vec![self.location(state)];
        if self.rng.random_bool(0.15) {
            let other = pick(&mut self.rng, &STATE_POPULATION_2020);
            locations.push(self.location(other));
        }
        let case = Case {
            id,
            number,
            opened_at,
            status,
            form,
            typology,
            locations,
            risk_factors,
            recruitment,
            recruiter_relation,
            means,
            needs: Vec::new(),
            safety_plan,
            assignee: None,
        };

        // 1.2 potential victims per case; a suspected trafficker in most cases.
        let mut parties = vec![self.person(id, PartyRole::PotentialVictim, form)];
        if self.rng.random_bool(0.2) {
            parties.push(self.person(id, PartyRole::PotentialVictim, form));
        }
        if self.rng.random_bool(0.65) {
            parties.push(self.person(id, PartyRole::SuspectedTrafficker, form));
        }
        let network = self.members.get(&i).copied();
        if let Some((net, member)) = network {
            let n = &self.networks[net];
            let (phone, business, alias) = (n.phone.clone(), n.business.clone(), n.alias.clone());
            let mut t = self.person(id, PartyRole::SuspectedTrafficker, form);
            t.identifiers.phones = vec![phone];
            t.identifiers.aliases = vec![respell(&alias, member + 1)];
            parties.push(t);
            let mut b = self.person(id, PartyRole::Business, form);
            b.gender = Gender::Unknown;
            b.age = None;
            b.age_band = None;
            b.nationality = None;
            b.identifiers = Identifiers {
                names: vec![respell(&business, member)],
                ..Identifiers::default()
            };
            parties.push(b);
        } else if self.rng.random_bool(0.15) {
            let mut b = self.person(id, PartyRole::Business, form);
            b.gender = Gender::Unknown;
            b.age = None;
            b.age_band = None;
            b.identifiers = Identifiers {
                names: vec![format!(
                    "{} {}",
                    one(&mut self.rng, &BUSINESS),
                    one(&mut self.rng, &BUSINESS_KIND)
                )],
                ..Identifiers::default()
            };
            parties.push(b);
        }

        // About 4 signals per case: 1 + Binomial(6, 1/2), spread over the following weeks.
        let k = 1 + (0..6).filter(|_| self.rng.random_bool(0.5)).count();
        let mut contacts = Vec::with_capacity(k);
        let mut at = opened_at;
        for _ in 0..k {
            contacts.push(self.contact(at, Some(id), state));
            // Later contacts follow over the next weeks, within the period.
            at = (at + Duration::hours(self.rng.random_range(1..24 * 21)))
                .min(START + Duration::days(DAYS) - Duration::seconds(1));
        }
        let mut case = case;
        case.needs = needs(self.seed, i, form, &parties);
        let answers = self.answers(&case, &parties);
        SynthCase {
            case,
            parties,
            contacts,
            network: network.map(|(n, _)| n),
            answers,
        }
    }
}

impl Generator {
    /// What an advocate established in a case's first contact: the case's purposes and means, the
    /// first potential victim's age when known, and often an action and compulsion; as in real calls,
    /// much stays unknown.
    fn answers(&mut self, case: &Case, parties: &[Party]) -> Answers {
        let r = &mut self.rng;
        let purposes = match case.form {
            CaseForm::Sex => vec![Purpose::CommercialSex],
            CaseForm::Labor => vec![Purpose::LaborServices],
            CaseForm::SexAndLabor => vec![Purpose::CommercialSex, Purpose::LaborServices],
            CaseForm::NotSpecified => vec![],
        };
        let victim = parties
            .iter()
            .find(|p| p.role == PartyRole::PotentialVictim);
        let subject_age = victim.and_then(|v| v.age);
        let subject_minor = match (subject_age, victim.and_then(|v| v.age_band)) {
            (None, Some(band)) => Some(band.is_minor()),
            _ => None,
        };
        let actions = several(r, Action::ALL, 2, 0.6);
        let compelled = pick(r, &[(Some(true), 55), (None, 35), (Some(false), 10)]);
        Answers {
            subject_age,
            subject_minor,
            actions,
            means: case.means.clone(),
            purposes,
            compelled,
            smuggling_arrangement: some(r, 0.3, |r| r.random_bool(0.2)),
            labor_violations: (case.form != CaseForm::Sex)
                .then(|| r.random_bool(0.5))
                .filter(|_| r.random_bool(0.6)),
        }
    }
}

impl Iterator for Generator {
    type Item = SynthItem;

    fn next(&mut self) -> Option<SynthItem> {
        if self.pending_contacts > 0 {
            self.pending_contacts -= 1;
            let at = self.when(self.next_case.saturating_sub(1));
            let state = pick(&mut self.rng, &STATE_POPULATION_2020);
            return Some(SynthItem::Contact(Box::new(self.contact(at, None, state))));
        }
        if self.next_case >= self.cases {
            return None;
        }
        let i = self.next_case;
        self.next_case += 1;
        self.standalone_due += self.standalone_per_case;
        let whole = self.standalone_due.floor();
        self.standalone_due -= whole;
        self.pending_contacts = whole as u32;
        Some(SynthItem::Case(Box::new(self.case(i))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share<T: PartialEq>(items: &[T], v: &T) -> f64 {
        items.iter().filter(|x| *x == v).count() as f64 / items.len() as f64
    }

    #[test]
    fn the_same_seed_gives_the_same_hotline_and_another_seed_another() {
        let a: Vec<_> = Generator::new(7, 0.02).collect();
        let b: Vec<_> = Generator::new(7, 0.02).collect();
        let c: Vec<_> = Generator::new(8, 0.02).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            Generator::new(7, 0.02).networks(),
            Generator::new(7, 0.02).networks()
        );
    }

    #[test]
    fn the_mix_is_near_the_published_figures() {
        let g = Generator::new(42, 0.3);
        let cases_expected = g.case_count() as usize;
        let (mut cases, mut contacts, mut victims, mut states) = (vec![], vec![], 0usize, vec![]);
        for item in g {
            match item {
                SynthItem::Case(c) => {
                    victims += c
                        .parties
                        .iter()
                        .filter(|p| p.role == PartyRole::PotentialVictim)
                        .count();
                    contacts.extend(c.contacts.iter().map(|c| c.channel));
                    states.push(c.case.locations[0].state);
                    cases.push(c.case);
                }
                SynthItem::Contact(c) => contacts.push(c.channel),
            }
        }
        assert_eq!(cases.len(), cases_expected);
        assert_eq!(cases.len(), 10_500);
        let per_case = contacts.len() as f64 / cases.len() as f64;
        assert!((per_case - 150.0 / 35.0).abs() < 0.1, "{per_case}");
        for (ch, pct) in CHANNEL_MIX {
            let s = share(&contacts, &ch) * 100.0;
            assert!((s - pct as f64).abs() < 1.5, "{ch}: {s}");
        }
        let forms: Vec<_> = cases.iter().map(|c| c.form).collect();
        for (f, pct) in FORM_MIX {
            let s = share(&forms, &f) * 100.0;
            assert!((s - pct as f64).abs() < 1.5, "{f}: {s}");
        }
        let v = victims as f64 / cases.len() as f64;
        assert!((v - 1.2).abs() < 0.03, "{v}");
        // Escort services leads the Typology's ranking; California and Texas lead the states.
        let typ: Vec<_> = cases
            .iter()
            .flat_map(|c| c.typology.iter().copied())
            .collect();
        assert!(
            share(&typ, &Typology::EscortServices)
                > share(&typ, &Typology::IllicitMassageHealthBeauty)
        );
        assert!(
            share(&typ, &Typology::IllicitMassageHealthBeauty)
                > share(&typ, &Typology::DomesticWork)
        );
        let known: Vec<_> = states.into_iter().flatten().collect();
        let ca = share(&known, &UsState::Ca);
        assert!((ca - 0.119).abs() < 0.015, "{ca}");
        assert!(share(&known, &UsState::Tx) > share(&known, &UsState::Wy) * 20.0);
        // Three years, in time order.
        assert!(cases.windows(2).all(|w| w[0].opened_at <= w[1].opened_at));
        assert_eq!(cases[0].opened_at.year(), 2023);
        assert_eq!(cases.last().unwrap().opened_at.year(), 2025);
        assert!(contacts.len() > 40_000);
    }

    #[test]
    fn planted_networks_share_a_phone_and_spell_their_names_differently() {
        let g = Generator::new(3, 0.1);
        let nets = g.networks().to_vec();
        assert!(nets.len() >= 2);
        let mut found: HashMap<usize, Vec<SynthCase>> = HashMap::new();
        for item in g {
            if let SynthItem::Case(c) = item
                && let Some(n) = c.network
            {
                found.entry(n).or_default().push(*c);
            }
        }
        for n in &nets {
            let cases = &found[&n.id];
            assert!((3..=6).contains(&cases.len()));
            assert_eq!(
                cases.iter().map(|c| c.case.id).collect::<Vec<_>>(),
                n.case_ids
            );
            let mut spellings = std::collections::HashSet::new();
            for c in cases {
                assert!(
                    c.parties
                        .iter()
                        .any(|p| p.identifiers.phones.contains(&n.phone))
                );
                let b = c
                    .parties
                    .iter()
                    .find(|p| p.role == PartyRole::Business)
                    .unwrap();
                spellings.insert(b.identifiers.names[0].clone());
            }
            assert!(spellings.len() >= 3, "{spellings:?}");
        }
    }

    #[test]
    fn expected_venue_shares_follow_the_typologys_rank_order() {
        let form = |f: CaseForm| FORM_MIX.iter().find(|(x, _)| *x == f).unwrap().1 as f64;
        let both = form(CaseForm::SexAndLabor);
        let share = |t: Typology| -> f64 {
            let of = |table: &[(Typology, u32)], p: f64| {
                let total: u32 = table.iter().map(|(_, w)| w).sum();
                table
                    .iter()
                    .find(|(x, _)| *x == t)
                    .map_or(0.0, |(_, w)| p * *w as f64 / total as f64)
            };
            of(&SEX_TYPOLOGY, form(CaseForm::Sex) + both)
                + of(&LABOR_TYPOLOGY, form(CaseForm::Labor) + both)
        };
        // DOMAIN.md lists the 25 ranked venues in the report's order, then `other` and `unknown`.
        let ranked = &Typology::ALL[..25];
        for pair in ranked.windows(2) {
            assert!(
                share(pair[0]) > share(pair[1]),
                "{} should outrank {}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn synthetic_screenings_reach_every_kind_of_outcome_and_mostly_need_review() {
        use crate::codes::Outcome;
        let outcomes: Vec<Outcome> = Generator::new(5, 0.05)
            .filter_map(|i| match i {
                SynthItem::Case(c) => Some(crate::screening::assess(&c.answers).outcome),
                SynthItem::Contact(_) => None,
            })
            .collect();
        let review = outcomes.iter().filter(|o| o.needs_review()).count() as f64;
        assert!(review / outcomes.len() as f64 > 0.5, "{review}");
        for o in [
            Outcome::LikelyTrafficking,
            Outcome::PossibleTrafficking,
            Outcome::CommercialSexNoIndicators,
            Outcome::InsufficientInformation,
        ] {
            assert!(outcomes.contains(&o), "{o}");
        }
    }

    #[test]
    fn many_fields_are_left_unknown() {
        let contacts: Vec<Contact> = Generator::new(1, 0.02)
            .flat_map(|i| match i {
                SynthItem::Case(c) => c.contacts,
                SynthItem::Contact(c) => vec![*c],
            })
            .collect();
        let unknown = |f: &dyn Fn(&Contact) -> bool| {
            contacts.iter().filter(|c| f(c)).count() as f64 / contacts.len() as f64
        };
        assert!(unknown(&|c| c.signaler_type.is_none()) > 0.1);
        assert!(unknown(&|c| c.safe_to_talk.is_none()) > 0.2);
        assert!(unknown(&|c| c.location.precision == LocationPrecision::Unknown) > 0.05);
    }
}
