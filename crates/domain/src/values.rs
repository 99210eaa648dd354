//! Value types that are parsed once, at the edge, and trusted afterwards: phone numbers, emails, ZIP
//! codes, language and country codes, case numbers; and the name normalisation used for exact-match
//! lookups ("possible existing cases").
//!
//! Each type has a private field and a `parse` constructor returning a `Result`; each serialises as
//! its normalised text and deserialises through `parse`, so a JSON body with a bad value is refused
//! with the field's path.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Why a value was refused. The message is fit to show to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not a phone number Lantern can dial.
    #[error(
        "`{0}` is not a phone number: give 10 U.S. digits like (555) 201-3344, or + and a country code"
    )]
    Phone(String),
    /// Not an email address.
    #[error("`{0}` is not an email address")]
    Email(String),
    /// Not a ZIP code.
    #[error("`{0}` is not a ZIP code: give 5 digits, or ZIP+4 like 60601-1234")]
    Zip(String),
    /// Not an ISO 639 language code.
    #[error("`{0}` is not an ISO 639 language code: give 2 or 3 letters, like `en` or `spa`")]
    Language(String),
    /// Not an ISO 3166 alpha-2 country code.
    #[error("`{0}` is not an ISO 3166 country code: give 2 letters, like `MX`")]
    Country(String),
    /// Not a case number.
    #[error("`{0}` is not a case number: expected LAN-YYYY-NNNNNN, like LAN-2026-000123")]
    CaseNumber(String),
}

macro_rules! text_value {
    ($name:ident) => {
        impl $name {
            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $name::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

/// A phone number in E.164 form (`+15552013344`). U.S. numbers may be given in any usual spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneE164(String);
text_value!(PhoneE164);

impl PhoneE164 {
    /// Parses a phone number: `(555) 201-3344`, `555.201.3344`, `1-555-201-3344` and `+1 555 201 3344`
    /// become `+15552013344`; `+44 20 7946 0958` and `011 44 20 7946 0958` become `+442079460958`. Letters,
    /// too few or too many digits, and U.S. area codes or exchanges starting with 0 or 1 are refused.
    pub fn parse(raw: &str) -> Result<PhoneE164, ValueError> {
        let err = || ValueError::Phone(raw.to_owned());
        let t = raw.trim();
        let plus = t.starts_with('+');
        let rest = if plus { &t[1..] } else { t };
        let mut digits = String::with_capacity(16);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' | '/' => {}
                _ => return Err(err()),
            }
        }
        let international = if plus {
            Some(digits.as_str())
        } else {
            digits.strip_prefix("011")
        };
        let e164 = match international {
            Some(d) => {
                if let Some(national) = d.strip_prefix('1') {
                    nanp(national).ok_or_else(err)?
                } else if (8..=15).contains(&d.len()) && !d.starts_with('0') {
                    format!("+{d}")
                } else {
                    return Err(err());
                }
            }
            None => match digits.len() {
                10 => nanp(&digits).ok_or_else(err)?,
                11 if digits.starts_with('1') => nanp(&digits[1..]).ok_or_else(err)?,
                _ => return Err(err()),
            },
        };
        Ok(PhoneE164(e164))
    }

    /// Whether it is a North American (+1) number.
    pub fn is_nanp(&self) -> bool {
        self.0.starts_with("+1")
    }
}

/// A North American number from its 10 national digits, or `None` when area code or exchange start
/// with 0 or 1 (the North American Numbering Plan reserves those).
fn nanp(d: &str) -> Option<String> {
    let b = d.as_bytes();
    (b.len() == 10 && b[0] >= b'2' && b[3] >= b'2').then(|| format!("+1{d}"))
}

/// An email address, trimmed and folded to lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);
text_value!(Email);

impl Email {
    /// Parses an address: one `@`, a local part of 1 to 64 characters, a domain with a dot and no
    /// empty label, no spaces, at most 254 characters in all.
    pub fn parse(raw: &str) -> Result<Email, ValueError> {
        let s = raw.trim().to_lowercase();
        let err = || ValueError::Email(raw.to_owned());
        let (local, domain) = s.split_once('@').ok_or_else(err)?;
        let ok = s.len() <= 254
            && (1..=64).contains(&local.len())
            && !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|l| {
                !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && !l.contains('_')
            })
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c));
        if ok { Ok(Email(s)) } else { Err(err()) }
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }
}

/// A five-digit U.S. ZIP code; ZIP+4 is accepted and shortened to its first five digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ZipCode(String);
text_value!(ZipCode);

impl ZipCode {
    /// Parses `60601`, `60601-1234` or `606011234`.
    pub fn parse(raw: &str) -> Result<ZipCode, ValueError> {
        let s = raw.trim();
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        let five = match s.len() {
            5 if all_digits(s) => s,
            9 if all_digits(s) => &s[..5],
            10 if s.as_bytes()[5] == b'-' && all_digits(&s[..5]) && all_digits(&s[6..]) => &s[..5],
            _ => return Err(ValueError::Zip(raw.to_owned())),
        };
        Ok(ZipCode(five.to_owned()))
    }
}

/// An ISO 639 language code: 639-1 (two letters, `en`) or 639-2/3 (three letters, `spa`), lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageCode(String);
text_value!(LanguageCode);

/// The languages a U.S. hotline hears most, with English names, for pages.
const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("en", "English"),
    ("es", "Spanish"),
    ("zh", "Chinese"),
    ("vi", "Vietnamese"),
    ("tl", "Tagalog"),
    ("ko", "Korean"),
    ("ru", "Russian"),
    ("ar", "Arabic"),
    ("fr", "French"),
    ("ht", "Haitian Creole"),
    ("pt", "Portuguese"),
    ("hi", "Hindi"),
    ("th", "Thai"),
    ("uk", "Ukrainian"),
    ("ase", "American Sign Language"),
];

impl LanguageCode {
    /// Parses two or three ASCII letters, in any case.
    pub fn parse(raw: &str) -> Result<LanguageCode, ValueError> {
        let s = raw.trim().to_ascii_lowercase();
        if (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(LanguageCode(s))
        } else {
            Err(ValueError::Language(raw.to_owned()))
        }
    }

    /// English name for the languages a hotline hears most; `None` for others.
    pub fn name(&self) -> Option<&'static str> {
        LANGUAGE_NAMES
            .iter()
            .find(|(c, _)| *c == self.0)
            .map(|(_, n)| *n)
    }
}

/// An ISO 3166-1 alpha-2 country code (`MX`), for nationality.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(String);
text_value!(CountryCode);

impl CountryCode {
    /// Parses two ASCII letters, in any case, to uppercase.
    pub fn parse(raw: &str) -> Result<CountryCode, ValueError> {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(CountryCode(s))
        } else {
            Err(ValueError::Country(raw.to_owned()))
        }
    }
}

/// A case's number as people say it: `LAN-2026-000123`, the year the case was opened and its number
/// within the hotline (at least six digits, zero-padded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber {
    year: u16,
    seq: u32,
}

impl CaseNumber {
    /// The prefix of every case number.
    pub const PREFIX: &'static str = "LAN";

    /// A case number from its year (2000 to 2999) and sequence (from 1).
    pub fn new(year: u16, seq: u32) -> Result<CaseNumber, ValueError> {
        if (2000..=2999).contains(&year) && seq >= 1 {
            Ok(CaseNumber { year, seq })
        } else {
            Err(ValueError::CaseNumber(format!("{year}/{seq}")))
        }
    }

    /// Parses `LAN-2026-000123`, in any case and with spaces around.
    pub fn parse(raw: &str) -> Result<CaseNumber, ValueError> {
        let err = || ValueError::CaseNumber(raw.to_owned());
        let s = raw.trim().to_ascii_uppercase();
        let mut parts = s.split('-');
        let (Some(prefix), Some(year), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err());
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if prefix != Self::PREFIX
            || year.len() != 4
            || !digits(year)
            || seq.len() < 6
            || !digits(seq)
        {
            return Err(err());
        }
        let year: u16 = year.parse().map_err(|_| err())?;
        let seq: u32 = seq.parse().map_err(|_| err())?;
        CaseNumber::new(year, seq).map_err(|_| err())
    }

    /// The year the case was opened.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The case's number within its hotline.
    pub fn seq(self) -> u32 {
        self.seq
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:06}", Self::PREFIX, self.year, self.seq)
    }
}

impl FromStr for CaseNumber {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CaseNumber::parse(s)
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CaseNumber::parse(&s)
    }
}

impl From<CaseNumber> for String {
    fn from(n: CaseNumber) -> String {
        n.to_string()
    }
}

/// A name folded for exact matching: accents stripped (`José` → `jose`), case folded, apostrophes and
/// periods dropped (`O'Brien` → `obrien`), other punctuation and runs of white space turned into one
/// space, trimmed. Two spellings that differ only so match; anything fuzzier is the linkage crate's job.
pub fn normalise_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut space = false;
    for c in raw.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '’' | '`' | '.') {
            continue;
        }
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::us_with_parentheses("(555) 201-3344", "+15552013344")]
    #[case::us_with_dots("555.201.3344", "+15552013344")]
    #[case::us_with_country_code("1-555-201-3344", "+15552013344")]
    #[case::us_in_e164("+1 555 201 3344", "+15552013344")]
    #[case::uk_with_plus("+44 20 7946 0958", "+442079460958")]
    #[case::uk_dialled_from_the_us("011 44 20 7946 0958", "+442079460958")]
    #[case::mexico("+52 55 1234 5678", "+525512345678")]
    fn phone_numbers_are_normalised_to_e164(#[case] raw: &str, #[case] e164: &str) {
        assert_eq!(PhoneE164::parse(raw).unwrap().as_str(), e164);
    }

    #[rstest]
    #[case::letters("555-CALL-NOW")]
    #[case::too_short("201-3344")]
    #[case::too_long("+1234567890123456")]
    #[case::area_code_starts_with_one("(155) 201-3344")]
    #[case::exchange_starts_with_zero("(555) 001-3344")]
    #[case::empty("")]
    #[case::plus_alone("+")]
    #[case::eleven_digits_not_starting_with_one("25552013344")]
    fn junk_is_not_a_phone_number(#[case] raw: &str) {
        assert_eq!(PhoneE164::parse(raw), Err(ValueError::Phone(raw.into())));
    }

    #[rstest]
    #[case("  Ana.Diaz@Example.ORG ", Ok("ana.diaz@example.org"))]
    #[case("ana@example", Err(()))]
    #[case("ana example@x.org", Err(()))]
    #[case("@example.org", Err(()))]
    #[case("ana@@example.org", Err(()))]
    #[case("ana@example..org", Err(()))]
    fn emails_are_folded_and_checked(#[case] raw: &str, #[case] want: Result<&str, ()>) {
        assert_eq!(
            Email::parse(raw)
                .map(|e| e.as_str().to_owned())
                .map_err(|_| ()),
            want.map(str::to_owned)
        );
    }

    #[rstest]
    #[case("60601", Ok("60601"))]
    #[case(" 60601-1234 ", Ok("60601"))]
    #[case("606011234", Ok("60601"))]
    #[case("6060", Err(()))]
    #[case("60601-12", Err(()))]
    #[case("6060a", Err(()))]
    fn zip_codes_keep_five_digits(#[case] raw: &str, #[case] want: Result<&str, ()>) {
        assert_eq!(
            ZipCode::parse(raw)
                .map(|z| z.as_str().to_owned())
                .map_err(|_| ()),
            want.map(str::to_owned)
        );
    }

    #[rstest]
    #[case("LAN-2026-000123", Some((2026, 123)))]
    #[case(" lan-2026-000123 ", Some((2026, 123)))]
    #[case("LAN-2026-1234567", Some((2026, 1_234_567)))]
    #[case("LAN-2026-123", None)]
    #[case("LAN-26-000123", None)]
    #[case("XYZ-2026-000123", None)]
    #[case("LAN-2026-000000", None)]
    #[case("LAN-2026-000123-1", None)]
    fn case_numbers_parse(#[case] raw: &str, #[case] want: Option<(u16, u32)>) {
        assert_eq!(
            CaseNumber::parse(raw).ok().map(|n| (n.year(), n.seq())),
            want
        );
    }

    #[test]
    fn a_case_number_formats_with_six_digits_and_parses_back() {
        let n = CaseNumber::new(2026, 123).unwrap();
        assert_eq!(n.to_string(), "LAN-2026-000123");
        assert_eq!(n.to_string().parse::<CaseNumber>().unwrap(), n);
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"LAN-2026-000123\"");
    }

    #[rstest]
    #[case("  José   GARCÍA ", "jose garcia")]
    #[case("O'Brien", "obrien")]
    #[case("Mary-Ann  Smith", "mary ann smith")]
    #[case("Nguyễn Văn A", "nguyen van a")]
    #[case("J. R.", "j r")]
    #[case("", "")]
    fn names_are_folded_for_exact_matching(#[case] raw: &str, #[case] want: &str) {
        assert_eq!(normalise_name(raw), want);
    }

    #[test]
    fn a_bad_value_in_json_is_refused() {
        assert!(serde_json::from_str::<PhoneE164>("\"junk\"").is_err());
        assert_eq!(
            serde_json::from_str::<ZipCode>("\"60601-1234\"")
                .unwrap()
                .as_str(),
            "60601"
        );
        assert_eq!(LanguageCode::parse("ES").unwrap().name(), Some("Spanish"));
        assert!(LanguageCode::parse("e1").is_err());
        assert_eq!(CountryCode::parse("mx").unwrap().as_str(), "MX");
    }

    proptest::proptest! {
        #[test]
        fn a_normalised_phone_parses_to_itself(area in 200u32..1000, exch in 200u32..1000, line in 0u32..10000) {
            let p = PhoneE164::parse(&format!("({area}) {exch}-{line:04}")).unwrap();
            proptest::prop_assert_eq!(PhoneE164::parse(p.as_str()).unwrap(), p);
        }

        #[test]
        fn normalising_a_name_twice_changes_nothing(s in "[a-zA-ZÀ-ÿĀ-ž '.,-]{0,30}") {
            let once = normalise_name(&s);
            proptest::prop_assert_eq!(normalise_name(&once), once);
        }
    }
}
