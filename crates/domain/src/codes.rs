//! The codes of DOMAIN.md as enums. Each serialises to exactly its code; each has `ALL`, `code()`,
//! `label()` (English, for pages) and `FromStr`, whose error lists the allowed codes. Codes are a public
//! contract: add new ones, never rename one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A code that is not one of an enum's codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`; allowed: {}", allowed.join(", "))]
pub struct UnknownCode {
    /// The kind of code (`channel`, `means`, …).
    pub kind: &'static str,
    /// What was given.
    pub value: String,
    /// Every allowed code.
    pub allowed: Vec<&'static str>,
}

/// Behaviour shared by every code enum.
pub trait Code: Sized + Copy + 'static {
    /// The kind's name, as fields are named (`channel`, `signaler_type`).
    const KIND: &'static str;
    /// Every value.
    fn all() -> &'static [Self];
    /// The code.
    fn code(self) -> &'static str;
    /// An English label.
    fn label(self) -> &'static str;
    /// Parses a code exactly (codes are lowercase snake_case).
    fn parse(s: &str) -> Result<Self, UnknownCode> {
        Self::all()
            .iter()
            .copied()
            .find(|v| v.code() == s)
            .ok_or_else(|| UnknownCode {
                kind: Self::KIND,
                value: s.to_owned(),
                allowed: Self::all().iter().map(|v| v.code()).collect(),
            })
    }
}

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident = $code:literal : $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[doc = $label] #[serde(rename = $code)] $variant),+
        }

        impl $name {
            /// Every value, in DOMAIN.md's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// An English label for pages.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl Code for $name {
            const KIND: &'static str = $kind;
            fn all() -> &'static [Self] { Self::ALL }
            fn code(self) -> &'static str { $name::code(self) }
            fn label(self) -> &'static str { $name::label(self) }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.code()) }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> { <$name as Code>::parse(s) }
        }
    };
}

codes!(
    /// What a trafficker does (DOMAIN.md §1).
    Action, "action" {
    Recruits = "recruits": "Recruits", Entices = "entices": "Entices", Harbors = "harbors": "Harbors",
    Transports = "transports": "Transports", Provides = "provides": "Provides", Obtains = "obtains": "Obtains",
    Advertises = "advertises": "Advertises", Maintains = "maintains": "Maintains", Patronizes = "patronizes": "Patronizes",
    Solicits = "solicits": "Solicits", BenefitsFromVenture = "benefits_from_venture": "Benefits from the venture",
});

codes!(
    /// How a person is controlled (DOMAIN.md §1), each of one [`MeansClass`].
    Means, "means" {
    PhysicalAbuse = "physical_abuse": "Physical abuse",
    SexualAbuse = "sexual_abuse": "Sexual abuse",
    PhysicalRestraint = "physical_restraint": "Physical restraint or confinement",
    FalsePromises = "false_promises": "False promises",
    FraudulentContract = "fraudulent_contract": "Fraudulent contract",
    ThreatsOfHarm = "threats_of_harm": "Threats of serious harm",
    ThreatensFamily = "threatens_family": "Threats against family",
    ThreatsOfDeportationOrArrest = "threats_of_deportation_or_arrest": "Threats of deportation or arrest",
    DebtBondage = "debt_bondage": "Debt bondage",
    WithholdsDocuments = "withholds_documents": "Documents withheld",
    TakesEarnings = "takes_earnings": "Earnings taken",
    PsychologicalAbuse = "psychological_abuse": "Psychological abuse",
    Isolation = "isolation": "Isolation",
    RestrictsMovement = "restricts_movement": "Movement restricted",
    ExcessiveMonitoring = "excessive_monitoring": "Excessive monitoring",
    InducesSubstanceUse = "induces_substance_use": "Induced substance use",
    WithholdsNecessities = "withholds_necessities": "Necessities withheld",
});

codes!(
    /// The class of a means: force, fraud or coercion.
    MeansClass, "means_class" {
    Force = "force": "Force", Fraud = "fraud": "Fraud", Coercion = "coercion": "Coercion",
});

impl Means {
    /// The class of this means.
    pub fn class(self) -> MeansClass {
        use Means::*;
        match self {
            PhysicalAbuse | SexualAbuse | PhysicalRestraint => MeansClass::Force,
            FalsePromises | FraudulentContract => MeansClass::Fraud,
            _ => MeansClass::Coercion,
        }
    }
}

codes!(
    /// What the exploitation is for (DOMAIN.md §1).
    Purpose, "purpose" {
    CommercialSex = "commercial_sex": "Commercial sex",
    LaborServices = "labor_services": "Labor or services",
});

codes!(
    /// The screening's determination (DOMAIN.md §1).
    Outcome, "outcome" {
    LikelyTrafficking = "likely_trafficking": "Likely trafficking",
    PossibleTrafficking = "possible_trafficking": "Possible trafficking",
    LaborExploitation = "labor_exploitation": "Labor exploitation",
    Smuggling = "smuggling": "Smuggling",
    CommercialSexNoIndicators = "commercial_sex_no_indicators": "Commercial sex, no trafficking indicators",
    InsufficientInformation = "insufficient_information": "Insufficient information",
    NotTrafficking = "not_trafficking": "Not trafficking",
});

impl Outcome {
    /// Whether supervisors must review it (DOMAIN.md: likely or possible trafficking).
    pub fn needs_review(self) -> bool {
        matches!(
            self,
            Outcome::LikelyTrafficking | Outcome::PossibleTrafficking
        )
    }
}

codes!(
    /// A form of trafficking in a determination.
    TraffickingForm, "form" {
    Sex = "sex": "Sex trafficking",
    Labor = "labor": "Labor trafficking",
});

codes!(
    /// How a contact reached the hotline (DOMAIN.md §2).
    Channel, "channel" {
    Phone = "phone": "Phone", Sms = "sms": "Text (SMS)", Webchat = "webchat": "Web chat", Email = "email": "Email",
    Webform = "webform": "Web form", Tty = "tty": "TTY",
});

codes!(
    /// Who reached out (DOMAIN.md §2).
    SignalerType, "signaler_type" {
    VictimSurvivor = "victim_survivor": "Victim or survivor",
    CommunityMember = "community_member": "Community member",
    FamilyFriend = "family_friend": "Family or friend",
    ServiceProvider = "service_provider": "Service provider",
    LawEnforcement = "law_enforcement": "Law enforcement",
    Government = "government": "Government",
    Business = "business": "Business",
    Educator = "educator": "Educator",
    MedicalProfessional = "medical_professional": "Medical professional",
    Anonymous = "anonymous": "Anonymous",
    Other = "other": "Other",
});

codes!(
    /// What kind of contact (DOMAIN.md §2).
    Category, "category" {
    Crisis = "crisis": "Crisis", Tip = "tip": "Tip", ReferralRequest = "referral_request": "Referral request",
    TrainingTa = "training_ta": "Training or technical assistance", GeneralInformation = "general_information": "General information",
    Related = "related": "Related", NonSubstantive = "non_substantive": "Non-substantive",
});

codes!(
    /// Whether it is safe to talk now (DOMAIN.md §2).
    SafeToTalk, "safe_to_talk" {
    Yes = "yes": "Yes", No = "no": "No", Unsure = "unsure": "Unsure",
});

codes!(
    /// How precise a location is (DOMAIN.md §2).
    LocationPrecision, "precision" {
    Exact = "exact": "Exact", Zip = "zip": "ZIP code", City = "city": "City", County = "county": "County",
    State = "state": "State", Unknown = "unknown": "Unknown",
});

codes!(
    /// A case's status (DOMAIN.md §3).
    CaseStatus, "status" {
    Open = "open": "Open", Monitoring = "monitoring": "Monitoring", Referred = "referred": "Referred", Closed = "closed": "Closed",
});

impl CaseStatus {
    /// Whether a case may move from this status to `next`. Any status may close; a closed case may only
    /// be reopened; the others move freely among themselves. Staying put is not a transition.
    pub fn can_transition_to(self, next: CaseStatus) -> bool {
        use CaseStatus::*;
        match (self, next) {
            (a, b) if a == b => false,
            (Closed, Open) => true,
            (Closed, _) => false,
            _ => true,
        }
    }
}

codes!(
    /// A case's form (DOMAIN.md §3).
    CaseForm, "form" {
    Sex = "sex": "Sex trafficking", Labor = "labor": "Labor trafficking", SexAndLabor = "sex_and_labor": "Sex and labor trafficking",
    NotSpecified = "not_specified": "Not specified",
});

impl CaseForm {
    /// The case form for the forms of a determination.
    pub fn from_forms(forms: &[TraffickingForm]) -> CaseForm {
        match (
            forms.contains(&TraffickingForm::Sex),
            forms.contains(&TraffickingForm::Labor),
        ) {
            (true, true) => CaseForm::SexAndLabor,
            (true, false) => CaseForm::Sex,
            (false, true) => CaseForm::Labor,
            (false, false) => CaseForm::NotSpecified,
        }
    }
}

codes!(
    /// Venue or industry (Polaris, The Typology of Modern Slavery, 2017; DOMAIN.md §3).
    Typology, "typology" {
    EscortServices = "escort_services": "Escort services",
    IllicitMassageHealthBeauty = "illicit_massage_health_beauty": "Illicit massage, health and beauty",
    OutdoorSolicitation = "outdoor_solicitation": "Outdoor solicitation",
    Residential = "residential": "Residential",
    DomesticWork = "domestic_work": "Domestic work",
    BarsStripClubsCantinas = "bars_strip_clubs_cantinas": "Bars, strip clubs and cantinas",
    Pornography = "pornography": "Pornography",
    TravelingSalesCrews = "traveling_sales_crews": "Traveling sales crews",
    RestaurantsFoodService = "restaurants_food_service": "Restaurants and food service",
    PeddlingBegging = "peddling_begging": "Peddling and begging",
    AgricultureAnimalHusbandry = "agriculture_animal_husbandry": "Agriculture and animal husbandry",
    PersonalSexualServitude = "personal_sexual_servitude": "Personal sexual servitude",
    HealthBeautyServices = "health_beauty_services": "Health and beauty services",
    Construction = "construction": "Construction",
    HotelsHospitality = "hotels_hospitality": "Hotels and hospitality",
    Landscaping = "landscaping": "Landscaping",
    IllicitActivities = "illicit_activities": "Illicit activities",
    ArtsEntertainment = "arts_entertainment": "Arts and entertainment",
    CommercialCleaning = "commercial_cleaning": "Commercial cleaning",
    FactoriesManufacturing = "factories_manufacturing": "Factories and manufacturing",
    RemoteInteractiveSexualActs = "remote_interactive_sexual_acts": "Remote interactive sexual acts",
    Carnivals = "carnivals": "Carnivals",
    ForestryLogging = "forestry_logging": "Forestry and logging",
    HealthCare = "health_care": "Health care",
    RecreationalFacilities = "recreational_facilities": "Recreational facilities",
    Other = "other": "Other",
    Unknown = "unknown": "Unknown",
});

codes!(
    /// A vulnerability (DOMAIN.md §3).
    RiskFactor, "risk_factor" {
    RecentMigration = "recent_migration": "Recent migration", SubstanceUse = "substance_use": "Substance use",
    RunawayHomelessYouth = "runaway_homeless_youth": "Runaway or homeless youth", MentalHealth = "mental_health": "Mental health",
    UnstableHousing = "unstable_housing": "Unstable housing", FosterCare = "foster_care": "Foster care",
    HistoryOfAbuse = "history_of_abuse": "History of abuse", EconomicHardship = "economic_hardship": "Economic hardship",
    Disability = "disability": "Disability", LimitedEnglish = "limited_english": "Limited English",
    Lgbtq = "lgbtq": "LGBTQ", CriminalRecord = "criminal_record": "Criminal record",
});

codes!(
    /// Who recruited the person (DOMAIN.md §3).
    RecruiterRelation, "recruiter_relation" {
    IntimatePartner = "intimate_partner": "Intimate partner", Family = "family": "Family", Friend = "friend": "Friend",
    EmployerBroker = "employer_broker": "Employer or broker", Other = "other": "Other", Unknown = "unknown": "Unknown",
});

codes!(
    /// How the person was recruited (DOMAIN.md §3).
    Recruitment, "recruitment" {
    JobOffer = "job_offer": "Job offer", IntimatePartnerProposition = "intimate_partner_proposition": "Intimate partner proposition",
    Familial = "familial": "Familial", FalseBenefactor = "false_benefactor": "False benefactor",
    SmugglingRelated = "smuggling_related": "Smuggling-related", OnlineSocialNetwork = "online_social_network": "Online social network",
    OnlineAdvertisement = "online_advertisement": "Online advertisement", Abduction = "abduction": "Abduction", Other = "other": "Other",
});

codes!(
    /// A party's role in a case (DOMAIN.md §3).
    PartyRole, "role" {
    PotentialVictim = "potential_victim": "Potential victim", SuspectedTrafficker = "suspected_trafficker": "Suspected trafficker",
    Business = "business": "Business", Signaler = "signaler": "Signaler", Witness = "witness": "Witness",
});

codes!(
    /// Gender (DOMAIN.md §3).
    Gender, "gender" {
    Woman = "woman": "Woman", Man = "man": "Man", TransgenderNonconforming = "transgender_nonconforming": "Transgender or gender non-conforming",
    Unknown = "unknown": "Unknown",
});

codes!(
    /// CTDC age band (DOMAIN.md §3).
    AgeBand, "age_band" {
    A0to8 = "0-8": "0 to 8", A9to17 = "9-17": "9 to 17", A18to20 = "18-20": "18 to 20", A21to23 = "21-23": "21 to 23",
    A24to26 = "24-26": "24 to 26", A27to29 = "27-29": "27 to 29", A30to38 = "30-38": "30 to 38", A39to47 = "39-47": "39 to 47",
    A48Plus = "48+": "48 and over",
});

impl AgeBand {
    /// The band of an age in years.
    pub fn of(age: u32) -> AgeBand {
        use AgeBand::*;
        match age {
            0..=8 => A0to8,
            9..=17 => A9to17,
            18..=20 => A18to20,
            21..=23 => A21to23,
            24..=26 => A24to26,
            27..=29 => A27to29,
            30..=38 => A30to38,
            39..=47 => A39to47,
            _ => A48Plus,
        }
    }

    /// Whether everyone in the band is a minor.
    pub fn is_minor(self) -> bool {
        matches!(self, AgeBand::A0to8 | AgeBand::A9to17)
    }
}

codes!(
    /// An identifier of a party (names, contact details, handles).
    IdentifierKind, "kind" {
    Name = "name": "Name", Alias = "alias": "Alias", Phone = "phone": "Phone", Email = "email": "Email",
    Address = "address": "Address", Handle = "handle": "Online handle", BusinessName = "business_name": "Business name",
});

codes!(
    /// Why something about a person may leave the hotline (DOMAIN.md §4). Only `consent` needs no
    /// supervisor; the two exceptions need a supervisor's confirmation with a reason.
    ReportBasis, "report_basis" {
    Consent = "consent": "Consent", MandatoryMinor = "mandatory_minor": "Mandatory report: suspected abuse of a minor",
    ImminentDanger = "imminent_danger": "Imminent danger", ThirdPartyTip = "third_party_tip": "Third-party tip",
});

impl ReportBasis {
    /// Whether a supervisor must confirm it with a reason (the two exceptions of DOMAIN.md §4).
    pub fn needs_supervisor(self) -> bool {
        matches!(
            self,
            ReportBasis::MandatoryMinor | ReportBasis::ImminentDanger
        )
    }
}

codes!(
    /// What a referral is (DOMAIN.md §4).
    ReferralKind, "referral_kind" {
    Service = "service": "Service referral", LawEnforcement = "law_enforcement": "Law-enforcement report",
    WarmTransfer = "warm_transfer": "Warm transfer",
});

codes!(
    /// Where a referral stands (DOMAIN.md §4).
    ReferralStatus, "referral_status" {
    Proposed = "proposed": "Proposed", Sent = "sent": "Sent", Accepted = "accepted": "Accepted",
    Declined = "declined": "Declined", Completed = "completed": "Completed", Withdrawn = "withdrawn": "Withdrawn",
});

impl ReferralStatus {
    /// Whether a referral may move from this status to `next`: proposed → sent or withdrawn; sent →
    /// accepted, declined or withdrawn; accepted → completed or withdrawn; declined, completed and
    /// withdrawn are final.
    pub fn can_transition_to(self, next: ReferralStatus) -> bool {
        use ReferralStatus::*;
        matches!(
            (self, next),
            (Proposed, Sent | Withdrawn)
                | (Sent, Accepted | Declined | Withdrawn)
                | (Accepted, Completed | Withdrawn)
        )
    }
}

codes!(
    /// A service type of the referral directory (Lantern's open taxonomy, DOMAIN.md §5).
    ServiceType, "service_type" {
    EmergencyShelter = "emergency_shelter": "Emergency shelter",
    LongTermHousing = "long_term_housing": "Long-term housing",
    LegalServices = "legal_services": "Legal services",
    ImmigrationLegal = "immigration_legal": "Immigration legal services (T and U visas)",
    MedicalCare = "medical_care": "Medical care",
    MentalHealthCounseling = "mental_health_counseling": "Mental health counseling",
    SubstanceUseTreatment = "substance_use_treatment": "Substance use treatment",
    CaseManagement = "case_management": "Case management",
    EmploymentTraining = "employment_training": "Employment and training",
    Education = "education": "Education",
    BasicNeeds = "basic_needs": "Basic needs",
    Transportation = "transportation": "Transportation",
    Interpretation = "interpretation": "Interpretation",
    LawEnforcementLocal = "law_enforcement_local": "Local law enforcement",
    LawEnforcementFederal = "law_enforcement_federal": "Federal law enforcement",
    ChildWelfare = "child_welfare": "Child welfare",
    DomesticViolenceServices = "domestic_violence_services": "Domestic violence services",
    SexualAssaultServices = "sexual_assault_services": "Sexual assault services",
    YouthServices = "youth_services": "Youth services",
    LgbtqServices = "lgbtq_services": "LGBTQ services",
    LaborRights = "labor_rights": "Labor rights",
    CrisisLine = "crisis_line": "Crisis line",
    FinancialAssistance = "financial_assistance": "Financial assistance",
    Repatriation = "repatriation": "Repatriation",
});

impl ServiceType {
    /// Whether it is a law-enforcement entry, offered only when vetted (DOMAIN.md §5).
    pub fn is_law_enforcement(self) -> bool {
        matches!(
            self,
            ServiceType::LawEnforcementLocal | ServiceType::LawEnforcementFederal
        )
    }
}

codes!(
    /// A population a service serves (DOMAIN.md §5).
    Population, "population" {
    Adults = "adults": "Adults", Minors = "minors": "Minors", Women = "women": "Women", Men = "men": "Men",
    TransgenderNonbinary = "transgender_nonbinary": "Transgender and non-binary people", Lgbtq = "lgbtq": "LGBTQ people",
    ForeignNationals = "foreign_nationals": "Foreign nationals", UsCitizens = "us_citizens": "U.S. citizens",
    SexTraffickingSurvivors = "sex_trafficking_survivors": "Sex trafficking survivors",
    LaborTraffickingSurvivors = "labor_trafficking_survivors": "Labor trafficking survivors",
    FamiliesWithChildren = "families_with_children": "Families with children",
    PeopleWithDisabilities = "people_with_disabilities": "People with disabilities",
});

codes!(
    /// Where a directory entry's vetting stands (DOMAIN.md §5). `vetted` carries a date and who
    /// vetted it, kept beside the code by the directory.
    Vetting, "vetting" {
    Vetted = "vetted": "Vetted", Pending = "pending": "Pending", Lapsed = "lapsed": "Lapsed",
});

codes!(
    /// A field of the CTDC global synthetic codebook (2024) that exports fill (DOMAIN.md §8). The codes
    /// are CTDC's own field names (camelCase where CTDC spells them so); `means*`, `typeOfLabour*`,
    /// `typeOfSex*` and `recruiterRelation*` are families of fields, named by their prefix.
    CtdcField, "ctdc_field" {
    Gender = "gender": "Gender", AgeBroad = "ageBroad": "Age band", Citizenship = "citizenship": "Citizenship",
    CountryOfExploitation = "CountryOfExploitation": "Country of exploitation", Means = "means": "Means of control (merged)",
    IsForcedLabour = "isForcedLabour": "Forced labour", IsSexualExploit = "isSexualExploit": "Sexual exploitation",
    IsOtherExploit = "isOtherExploit": "Other exploitation", TypeOfLabour = "typeOfLabour": "Type of labour",
    TypeOfSex = "typeOfSex": "Type of sexual exploitation", RecruiterRelation = "recruiterRelation": "Recruiter relation",
});

codes!(
    /// A U.S. state, the District of Columbia or Puerto Rico, by its USPS code (DOMAIN.md §2). The codes
    /// are USPS's uppercase ones; [`UsState::parse_usps`] also accepts lowercase and spaces around.
    UsState, "state" {
    Al = "AL": "Alabama",
    Ak = "AK": "Alaska",
    Az = "AZ": "Arizona",
    Ar = "AR": "Arkansas",
    Ca = "CA": "California",
    Co = "CO": "Colorado",
    Ct = "CT": "Connecticut",
    De = "DE": "Delaware",
    Dc = "DC": "District of Columbia",
    Fl = "FL": "Florida",
    Ga = "GA": "Georgia",
    Hi = "HI": "Hawaii",
    Id = "ID": "Idaho",
    Il = "IL": "Illinois",
    In = "IN": "Indiana",
    Ia = "IA": "Iowa",
    Ks = "KS": "Kansas",
    Ky = "KY": "Kentucky",
    La = "LA": "Louisiana",
    Me = "ME": "Maine",
    Md = "MD": "Maryland",
    Ma = "MA": "Massachusetts",
    Mi = "MI": "Michigan",
    Mn = "MN": "Minnesota",
    Ms = "MS": "Mississippi",
    Mo = "MO": "Missouri",
    Mt = "MT": "Montana",
    Ne = "NE": "Nebraska",
    Nv = "NV": "Nevada",
    Nh = "NH": "New Hampshire",
    Nj = "NJ": "New Jersey",
    Nm = "NM": "New Mexico",
    Ny = "NY": "New York",
    Nc = "NC": "North Carolina",
    Nd = "ND": "North Dakota",
    Oh = "OH": "Ohio",
    Ok = "OK": "Oklahoma",
    Or = "OR": "Oregon",
    Pa = "PA": "Pennsylvania",
    Pr = "PR": "Puerto Rico",
    Ri = "RI": "Rhode Island",
    Sc = "SC": "South Carolina",
    Sd = "SD": "South Dakota",
    Tn = "TN": "Tennessee",
    Tx = "TX": "Texas",
    Ut = "UT": "Utah",
    Vt = "VT": "Vermont",
    Va = "VA": "Virginia",
    Wa = "WA": "Washington",
    Wv = "WV": "West Virginia",
    Wi = "WI": "Wisconsin",
    Wy = "WY": "Wyoming",
});

impl UsState {
    /// Parses a USPS code, trimmed and in any case (`" tx "` → `TX`).
    pub fn parse_usps(raw: &str) -> Result<UsState, UnknownCode> {
        <UsState as Code>::parse(&raw.trim().to_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_serde_and_from_str() {
        fn check<T: Code + Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug>() {
            for v in T::all() {
                let json = serde_json::to_string(v).unwrap();
                assert_eq!(json, format!("\"{}\"", v.code()));
                assert_eq!(serde_json::from_str::<T>(&json).unwrap(), *v);
                assert_eq!(T::parse(v.code()).unwrap(), *v);
            }
        }
        check::<Action>();
        check::<Means>();
        check::<Purpose>();
        check::<Outcome>();
        check::<Channel>();
        check::<SignalerType>();
        check::<Category>();
        check::<CaseStatus>();
        check::<CaseForm>();
        check::<Typology>();
        check::<RiskFactor>();
        check::<RecruiterRelation>();
        check::<Recruitment>();
        check::<PartyRole>();
        check::<Gender>();
        check::<AgeBand>();
        check::<IdentifierKind>();
        check::<ReportBasis>();
        check::<ReferralKind>();
        check::<ReferralStatus>();
        check::<ServiceType>();
        check::<Population>();
        check::<Vetting>();
        check::<CtdcField>();
        check::<SafeToTalk>();
        check::<LocationPrecision>();
        check::<MeansClass>();
        check::<UsState>();
        assert_eq!(UsState::ALL.len(), 52);
        assert_eq!(UsState::parse_usps(" pr ").unwrap(), UsState::Pr);
        assert!(UsState::parse_usps("XX").is_err());
        assert_eq!(ServiceType::ALL.len(), 24);
        assert_eq!(Population::ALL.len(), 12);
        assert_eq!(Typology::ALL.len(), 27);
        assert_eq!(Means::ALL.len(), 17);
        assert_eq!(Action::ALL.len(), 11);
    }

    #[test]
    fn an_unknown_code_lists_the_allowed_ones() {
        let e = "text".parse::<Channel>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown channel `text`; allowed: phone, sms, webchat, email, webform, tty"
        );
    }

    #[test]
    fn means_carry_their_class() {
        assert_eq!(Means::SexualAbuse.class(), MeansClass::Force);
        assert_eq!(Means::FraudulentContract.class(), MeansClass::Fraud);
        assert_eq!(Means::DebtBondage.class(), MeansClass::Coercion);
    }

    #[test]
    fn only_the_two_exceptions_need_a_supervisor() {
        let need: Vec<_> = ReportBasis::ALL
            .iter()
            .filter(|b| b.needs_supervisor())
            .map(|b| b.code())
            .collect();
        assert_eq!(need, ["mandatory_minor", "imminent_danger"]);
    }

    #[test]
    fn a_referral_moves_forward_and_final_states_stay_final() {
        use ReferralStatus::*;
        assert!(Proposed.can_transition_to(Sent));
        assert!(Sent.can_transition_to(Accepted));
        assert!(Accepted.can_transition_to(Completed));
        assert!(!Proposed.can_transition_to(Completed));
        for s in [Declined, Completed, Withdrawn] {
            assert!(ReferralStatus::ALL.iter().all(|n| !s.can_transition_to(*n)));
        }
    }

    #[test]
    fn a_closed_case_can_only_be_reopened() {
        assert!(CaseStatus::Closed.can_transition_to(CaseStatus::Open));
        assert!(!CaseStatus::Closed.can_transition_to(CaseStatus::Referred));
        assert!(CaseStatus::Open.can_transition_to(CaseStatus::Closed));
        assert!(!CaseStatus::Open.can_transition_to(CaseStatus::Open));
    }

    #[test]
    fn ages_fall_in_ctdc_bands() {
        assert_eq!(AgeBand::of(17), AgeBand::A9to17);
        assert_eq!(AgeBand::of(18), AgeBand::A18to20);
        assert_eq!(AgeBand::of(48).code(), "48+");
        assert!(AgeBand::of(16).is_minor() && !AgeBand::of(18).is_minor());
    }
}
