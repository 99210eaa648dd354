//! The anonymous web tip form: its fields, their checks, and its texts in English and Spanish.
//!
//! [`parse`] turns the form body into a [`Tip`] or the list of fields at fault, each with a message in the
//! page's language; it never echoes a value. A filled honeypot field is reported as [`Parsed::Honeypot`]:
//! the page answers as if the tip was sent, and nothing is stored.

use crate::keywords::Lang;
use lantern_domain::codes::{Code as _, SignalerType};
use lantern_domain::values::ZipCode;

/// The largest form body accepted, in bytes (a long narrative in any script fits well within it).
pub const MAX_BODY_BYTES: usize = 32 * 1024;
/// The longest narrative, in characters.
pub const MAX_NARRATIVE_CHARS: usize = 5000;
/// The longest city name, in characters.
pub const MAX_CITY_CHARS: usize = 100;
/// The name of the honeypot field: hidden from people, filled by bots.
pub const HONEYPOT: &str = "website";

/// Who a tipster says they are: the form's choices, each a signaler type of DOMAIN.md §2.
pub const WHO: &[SignalerType] = &[
    SignalerType::VictimSurvivor,
    SignalerType::FamilyFriend,
    SignalerType::CommunityMember,
    SignalerType::ServiceProvider,
    SignalerType::Business,
    SignalerType::Anonymous,
];

/// A checked tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    /// Who sent it (`anonymous` when not said).
    pub signaler_type: SignalerType,
    /// USPS state code.
    pub state: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ZIP code.
    pub zip: Option<String>,
    /// What is happening.
    pub narrative: String,
}

impl Tip {
    /// The location precision code (DOMAIN.md §2) of what was given.
    pub fn location_precision(&self) -> &'static str {
        if self.zip.is_some() {
            "zip"
        } else if self.city.is_some() {
            "city"
        } else if self.state.is_some() {
            "state"
        } else {
            "unknown"
        }
    }
}

/// One field at fault, with what is wrong in the page's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name in the form.
    pub field: &'static str,
    /// What is wrong.
    pub message: &'static str,
}

/// What a form body turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A tip to store.
    Tip(Tip),
    /// The honeypot was filled: answer as if sent, store nothing.
    Honeypot,
}

/// Parses the form body. A field that appears twice, a body that is not UTF-8 or an unknown field
/// is an error naming the field (`form` for the body as a whole).
pub fn parse(lang: Lang, body: &[u8]) -> Result<Parsed, Vec<FieldError>> {
    let err = |field, text| {
        vec![FieldError {
            field,
            message: t(lang, text),
        }]
    };
    if body.len() > MAX_BODY_BYTES {
        return Err(err("form", TipText::TooLarge));
    }
    if std::str::from_utf8(body).is_err() {
        return Err(err("form", TipText::Malformed));
    }
    const FIELDS: &[&str] = &["who", "state", "city", "zip", "narrative", "lang", HONEYPOT];
    let mut values: [Option<String>; 7] = Default::default();
    for (k, v) in form_urlencoded::parse(body) {
        let Some(i) = FIELDS.iter().position(|f| *f == k) else {
            return Err(err("form", TipText::Malformed));
        };
        if values[i].is_some() {
            return Err(err(FIELDS[i], TipText::Malformed));
        }
        values[i] = Some(v.trim().to_owned());
    }
    let [who, state, city, zip, narrative, _lang, honeypot] =
        values.map(|v| v.filter(|s| !s.is_empty()));
    if honeypot.is_some() {
        return Ok(Parsed::Honeypot);
    }
    let mut errors = Vec::new();
    let signaler_type = match who.as_deref() {
        None => SignalerType::Anonymous,
        Some(code) => match SignalerType::parse(code) {
            Ok(s) if WHO.contains(&s) => s,
            _ => {
                errors.push(FieldError {
                    field: "who",
                    message: t(lang, TipText::WhoInvalid),
                });
                SignalerType::Anonymous
            }
        },
    };
    let state = match state {
        None => None,
        Some(s) => match lantern_domain::case::us_state(&s) {
            Ok(code) => Some(code),
            Err(_) => {
                errors.push(FieldError {
                    field: "state",
                    message: t(lang, TipText::StateInvalid),
                });
                None
            }
        },
    };
    if city
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CITY_CHARS)
    {
        errors.push(FieldError {
            field: "city",
            message: t(lang, TipText::CityTooLong),
        });
    }
    let zip = match zip {
        None => None,
        Some(z) => match ZipCode::parse(&z) {
            Ok(z) => Some(z.as_str().to_owned()),
            Err(_) => {
                errors.push(FieldError {
                    field: "zip",
                    message: t(lang, TipText::ZipInvalid),
                });
                None
            }
        },
    };
    let narrative = narrative.unwrap_or_default();
    if narrative.is_empty() {
        errors.push(FieldError {
            field: "narrative",
            message: t(lang, TipText::NarrativeRequired),
        });
    } else if narrative.chars().count() > MAX_NARRATIVE_CHARS {
        errors.push(FieldError {
            field: "narrative",
            message: t(lang, TipText::NarrativeTooLong),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Parsed::Tip(Tip {
        signaler_type,
        state,
        city,
        zip,
        narrative,
    }))
}

/// A text of the tip pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TipText {
    /// The page's title.
    Title,
    /// What the form is for, and that it is anonymous.
    Intro,
    /// "In an emergency, call 911."
    Emergency,
    /// Label of "who are you".
    WhoLabel,
    /// Label of the state.
    StateLabel,
    /// The empty choice of the state.
    StateNone,
    /// Label of the city.
    CityLabel,
    /// Label of the ZIP code.
    ZipLabel,
    /// Label of the narrative.
    NarrativeLabel,
    /// Hint under the narrative.
    NarrativeHint,
    /// Label of the honeypot (read by no person: the field is hidden).
    HoneypotLabel,
    /// The send button.
    Submit,
    /// Title after sending.
    ThanksTitle,
    /// Text after sending.
    ThanksBody,
    /// Title of a refusal.
    ErrorTitle,
    /// "Nothing was saved."
    NothingSaved,
    /// Link back to the form.
    BackToForm,
    /// Title of the rate-limit page.
    TooManyTitle,
    /// Rate-limit text; `{minutes}` is replaced.
    TooManyBody,
    /// The body is too large.
    TooLarge,
    /// The body is not a form of this page.
    Malformed,
    /// The request is not a form post.
    WrongContentType,
    /// The form was posted from another site.
    CrossSite,
    /// The choice of "who" is not one of the form's.
    WhoInvalid,
    /// The state is not a USPS code.
    StateInvalid,
    /// The city is too long.
    CityTooLong,
    /// The ZIP code is not five digits.
    ZipInvalid,
    /// The narrative is missing.
    NarrativeRequired,
    /// The narrative is too long.
    NarrativeTooLong,
}

/// Every text, for completeness checks.
pub const ALL: &[TipText] = &[
    TipText::Title,
    TipText::Intro,
    TipText::Emergency,
    TipText::WhoLabel,
    TipText::StateLabel,
    TipText::StateNone,
    TipText::CityLabel,
    TipText::ZipLabel,
    TipText::NarrativeLabel,
    TipText::NarrativeHint,
    TipText::HoneypotLabel,
    TipText::Submit,
    TipText::ThanksTitle,
    TipText::ThanksBody,
    TipText::ErrorTitle,
    TipText::NothingSaved,
    TipText::BackToForm,
    TipText::TooManyTitle,
    TipText::TooManyBody,
    TipText::TooLarge,
    TipText::Malformed,
    TipText::WrongContentType,
    TipText::CrossSite,
    TipText::WhoInvalid,
    TipText::StateInvalid,
    TipText::CityTooLong,
    TipText::ZipInvalid,
    TipText::NarrativeRequired,
    TipText::NarrativeTooLong,
];

/// A text in the given language.
pub fn t(lang: Lang, text: TipText) -> &'static str {
    use TipText::*;
    match (lang, text) {
        (Lang::En, Title) => "Send a tip",
        (Lang::Es, Title) => "Enviar un aviso",
        (Lang::En, Intro) => {
            "Tell us about a situation that may be human trafficking. You do not have to give your name or any \
             way to reach you; an advocate will read every tip."
        }
        (Lang::Es, Intro) => {
            "Cuéntenos sobre una situación que podría ser trata de personas. No tiene que dar su nombre ni una \
             forma de contactarle; un/a asesor/a leerá cada aviso."
        }
        (Lang::En, Emergency) => "If someone is in immediate danger, call 911.",
        (Lang::Es, Emergency) => "Si alguien está en peligro inmediato, llame al 911.",
        (Lang::En, WhoLabel) => "Who are you?",
        (Lang::Es, WhoLabel) => "¿Quién es usted?",
        (Lang::En, StateLabel) => "State (optional)",
        (Lang::Es, StateLabel) => "Estado (opcional)",
        (Lang::En, StateNone) => "I'd rather not say",
        (Lang::Es, StateNone) => "Prefiero no decirlo",
        (Lang::En, CityLabel) => "City (optional)",
        (Lang::Es, CityLabel) => "Ciudad (opcional)",
        (Lang::En, ZipLabel) => "ZIP code (optional)",
        (Lang::Es, ZipLabel) => "Código postal (opcional)",
        (Lang::En, NarrativeLabel) => "What is happening?",
        (Lang::Es, NarrativeLabel) => "¿Qué está pasando?",
        (Lang::En, NarrativeHint) => {
            "Who, where, since when, and anything you saw or heard. At most 5,000 characters."
        }
        (Lang::Es, NarrativeHint) => {
            "Quién, dónde, desde cuándo, y todo lo que vio u oyó. Como máximo 5.000 caracteres."
        }
        (Lang::En, HoneypotLabel) => "Leave this field empty",
        (Lang::Es, HoneypotLabel) => "Deje este campo vacío",
        (Lang::En, Submit) => "Send the tip",
        (Lang::Es, Submit) => "Enviar el aviso",
        (Lang::En, ThanksTitle) => "Thank you",
        (Lang::Es, ThanksTitle) => "Gracias",
        (Lang::En, ThanksBody) => {
            "Your tip has been received. An advocate will read it. Nothing about it is kept in this browser."
        }
        (Lang::Es, ThanksBody) => {
            "Hemos recibido su aviso. Un/a asesor/a lo leerá. Este navegador no guarda nada de él."
        }
        (Lang::En, ErrorTitle) => "The tip could not be sent",
        (Lang::Es, ErrorTitle) => "No se pudo enviar el aviso",
        (Lang::En, NothingSaved) => "Nothing was saved.",
        (Lang::Es, NothingSaved) => "No se guardó nada.",
        (Lang::En, BackToForm) => "Back to the form",
        (Lang::Es, BackToForm) => "Volver al formulario",
        (Lang::En, TooManyTitle) => "Too many tips from this connection",
        (Lang::Es, TooManyTitle) => "Demasiados avisos desde esta conexión",
        (Lang::En, TooManyBody) => "Please try again in {minutes} minutes.",
        (Lang::Es, TooManyBody) => "Por favor, inténtelo de nuevo en {minutes} minutos.",
        (Lang::En, TooLarge) => "The form is too large to send.",
        (Lang::Es, TooLarge) => "El formulario es demasiado grande para enviarlo.",
        (Lang::En, Malformed) => "The form could not be read.",
        (Lang::Es, Malformed) => "No se pudo leer el formulario.",
        (Lang::En, WrongContentType) => "Send the tip with the form on this page.",
        (Lang::Es, WrongContentType) => "Envíe el aviso con el formulario de esta página.",
        (Lang::En, CrossSite) => "The form was sent from another site.",
        (Lang::Es, CrossSite) => "El formulario se envió desde otro sitio.",
        (Lang::En, WhoInvalid) => "Choose one of the answers.",
        (Lang::Es, WhoInvalid) => "Elija una de las respuestas.",
        (Lang::En, StateInvalid) => "Choose a state from the list.",
        (Lang::Es, StateInvalid) => "Elija un estado de la lista.",
        (Lang::En, CityTooLong) => "At most 100 characters.",
        (Lang::Es, CityTooLong) => "Como máximo 100 caracteres.",
        (Lang::En, ZipInvalid) => "A ZIP code has five digits.",
        (Lang::Es, ZipInvalid) => "Un código postal tiene cinco dígitos.",
        (Lang::En, NarrativeRequired) => "Tell us what is happening.",
        (Lang::Es, NarrativeRequired) => "Cuéntenos qué está pasando.",
        (Lang::En, NarrativeTooLong) => "At most 5,000 characters.",
        (Lang::Es, NarrativeTooLong) => "Como máximo 5.000 caracteres.",
    }
}

/// The label of a "who are you" choice.
pub fn who_label(lang: Lang, who: SignalerType) -> &'static str {
    use SignalerType::*;
    match (lang, who) {
        (Lang::En, VictimSurvivor) => "This is happening to me",
        (Lang::Es, VictimSurvivor) => "Esto me está pasando a mí",
        (Lang::En, FamilyFriend) => "A family member or friend of the person",
        (Lang::Es, FamilyFriend) => "Familiar o amistad de la persona",
        (Lang::En, CommunityMember) => "Someone who noticed something",
        (Lang::Es, CommunityMember) => "Alguien que notó algo",
        (Lang::En, ServiceProvider) => "I work for an organization that helps people",
        (Lang::Es, ServiceProvider) => "Trabajo en una organización que ayuda a las personas",
        (Lang::En, Business) => "I am writing for a business",
        (Lang::Es, Business) => "Escribo en nombre de una empresa",
        (Lang::En, _) => "I'd rather not say",
        (Lang::Es, _) => "Prefiero no decirlo",
    }
}

/// The rate-limit text with the minutes filled in (at least 1).
pub fn too_many(lang: Lang, retry_after_s: i64) -> String {
    let minutes = ((retry_after_s + 59) / 60).max(1);
    match (lang, minutes) {
        (Lang::En, 1) => "Please try again in 1 minute.".to_owned(),
        (Lang::Es, 1) => "Por favor, inténtelo de nuevo en 1 minuto.".to_owned(),
        _ => t(lang, TipText::TooManyBody).replace("{minutes}", &minutes.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn every_text_exists_in_both_languages_and_is_translated() {
        for &text in ALL {
            let (en, es) = (t(Lang::En, text), t(Lang::Es, text));
            assert!(!en.is_empty() && !es.is_empty() && en != es, "{text:?}");
        }
        for &w in WHO {
            assert_ne!(who_label(Lang::En, w), who_label(Lang::Es, w));
        }
    }

    #[test]
    fn a_full_tip_parses_with_its_location_precision() {
        let body = "who=family_friend&state=tx&city=El+Paso&zip=79901&narrative=They+keep+her+passport&lang=en&website=";
        let Ok(Parsed::Tip(tip)) = parse(Lang::En, body.as_bytes()) else {
            panic!("not a tip")
        };
        assert_eq!(tip.signaler_type, SignalerType::FamilyFriend);
        assert_eq!(tip.state.as_deref(), Some("TX"));
        assert_eq!(tip.zip.as_deref(), Some("79901"));
        assert_eq!(tip.location_precision(), "zip");
        assert_eq!(tip.narrative, "They keep her passport");
    }

    #[test]
    fn an_unsaid_who_is_anonymous_and_no_place_is_unknown() {
        let Ok(Parsed::Tip(tip)) = parse(Lang::Es, b"narrative=algo") else {
            panic!("not a tip")
        };
        assert_eq!(tip.signaler_type, SignalerType::Anonymous);
        assert_eq!(tip.location_precision(), "unknown");
    }

    #[test]
    fn a_filled_honeypot_is_reported_whatever_else_is_wrong() {
        assert_eq!(
            parse(Lang::En, b"website=http%3A%2F%2Fspam&zip=x"),
            Ok(Parsed::Honeypot)
        );
    }

    #[rstest]
    #[case::missing("who=anonymous", "narrative", "Tell us what is happening.")]
    #[case::too_long(&format!("narrative={}", "a".repeat(5001)), "narrative", "At most 5,000 characters.")]
    #[case::zip("narrative=x&zip=7990", "zip", "A ZIP code has five digits.")]
    #[case::state("narrative=x&state=ZZ", "state", "Choose a state from the list.")]
    #[case::who("narrative=x&who=law_enforcement", "who", "Choose one of the answers.")]
    #[case::city(&format!("narrative=x&city={}", "c".repeat(101)), "city", "At most 100 characters.")]
    #[case::repeated("narrative=x&narrative=y", "narrative", "The form could not be read.")]
    #[case::unknown("narrative=x&email=a", "form", "The form could not be read.")]
    fn a_bad_field_is_named(#[case] body: &str, #[case] field: &str, #[case] message: &str) {
        let errors = parse(Lang::En, body.as_bytes()).unwrap_err();
        assert_eq!(errors[0].field, field);
        assert_eq!(errors[0].message, message);
    }

    #[test]
    fn errors_are_in_the_pages_language() {
        let errors = parse(Lang::Es, b"narrative=").unwrap_err();
        assert_eq!(errors[0].message, "Cuéntenos qué está pasando.");
    }

    #[test]
    fn the_retry_time_is_rounded_up_to_minutes() {
        assert_eq!(too_many(Lang::En, 61), "Please try again in 2 minutes.");
        assert_eq!(
            too_many(Lang::Es, 0),
            "Por favor, inténtelo de nuevo en 1 minuto."
        );
        assert_eq!(
            too_many(Lang::Es, 3600),
            "Por favor, inténtelo de nuevo en 60 minutos."
        );
    }
}
