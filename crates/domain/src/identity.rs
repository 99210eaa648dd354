//! Identifiers of people and businesses, normalised for exact matching: phone numbers to E.164, emails
//! to lowercase, names folded (case, accents, punctuation, spacing) and paired with a state, so that
//! "José  PÉREZ" in TX and "jose perez" in TX match while the same name in another state does not.

use crate::codes::IdentifierKind;
use crate::values::PhoneE164;

/// Normalises a phone number to E.164 (see [`PhoneE164::parse`], the one place its rules live).
pub fn phone_e164(raw: &str) -> Result<String, String> {
    PhoneE164::parse(raw)
        .map(|p| p.as_str().to_owned())
        .map_err(|e| e.to_string())
}

/// Normalises an email address, or says why it is not one.
pub fn email(raw: &str) -> Result<String, String> {
    let e = raw.trim().to_lowercase();
    match e.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !e.contains(char::is_whitespace) =>
        {
            Ok(e)
        }
        _ => Err("expected an email address such as name@example.org".into()),
    }
}

fn fold_char(c: char) -> Option<char> {
    let base = match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'ē' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'ī' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'ū' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        'ý' | 'ÿ' => 'y',
        'ß' => 's',
        c if c.is_alphanumeric() => c,
        _ => return None,
    };
    Some(base)
}

/// Folds a name for exact matching: lowercase, common Latin accents removed, punctuation dropped,
/// whitespace collapsed.
pub fn normalise_name(raw: &str) -> String {
    let lower = raw.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for word in lower.split(|c: char| c.is_whitespace() || c == '-' || c == '.' || c == ',') {
        let w: String = word.chars().filter_map(fold_char).collect();
        if !w.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&w);
        }
    }
    out
}

/// The value to blind-index for exact lookups of an identifier, or `None` when this kind is not looked
/// up (addresses and handles are matched by the fuzzy linkage instead). Names need a state.
pub fn lookup_key(kind: IdentifierKind, value: &str, state: Option<&str>) -> Option<String> {
    match kind {
        IdentifierKind::Phone => phone_e164(value).ok(),
        IdentifierKind::Email => email(value).ok(),
        IdentifierKind::Name | IdentifierKind::Alias | IdentifierKind::BusinessName => {
            let n = normalise_name(value);
            match (n.is_empty(), state) {
                (false, Some(st)) => Some(format!("{n}|{}", st.to_uppercase())),
                _ => None,
            }
        }
        IdentifierKind::Address | IdentifierKind::Handle => None,
    }
}

/// The blind-index kind an identifier is filed under: aliases match names.
pub fn lookup_kind(kind: IdentifierKind) -> &'static str {
    match kind {
        IdentifierKind::Alias | IdentifierKind::Name => "name",
        other => other.code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_fold_to_e164() {
        assert_eq!(phone_e164("(555) 201-3344").unwrap(), "+15552013344");
        assert_eq!(phone_e164("1-555-201-3344").unwrap(), "+15552013344");
        assert_eq!(phone_e164("+52 55 1234 5678").unwrap(), "+525512345678");
        assert!(phone_e164("555-CALL").is_err());
        assert!(
            phone_e164("(055) 201-3344").is_err(),
            "US area codes start with 2-9"
        );
        assert!(phone_e164("12345").is_err());
    }

    #[test]
    fn names_fold_accents_case_and_spacing_and_pair_with_a_state() {
        assert_eq!(normalise_name("  José   PÉREZ-Núñez "), "jose perez nunez");
        assert_eq!(
            lookup_key(IdentifierKind::Name, "José Pérez", Some("tx")),
            Some("jose perez|TX".into())
        );
        assert_eq!(lookup_key(IdentifierKind::Name, "José Pérez", None), None);
        assert_eq!(
            lookup_key(IdentifierKind::Email, " Ana@Example.ORG ", None),
            Some("ana@example.org".into())
        );
        assert_eq!(lookup_key(IdentifierKind::Handle, "@ana", None), None);
        assert_eq!(lookup_kind(IdentifierKind::Alias), "name");
    }

    #[test]
    fn bad_emails_are_refused() {
        assert!(email("not an email").is_err());
        assert!(email("a@b").is_err());
        assert!(email("a@b.org").is_ok());
    }
}
