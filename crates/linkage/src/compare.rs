//! String and value comparators: Jaro-Winkler, bounded Levenshtein, phone, date, address and
//! business-name normalisation. All functions are pure and allocation-light.

/// Jaro similarity of two sequences, in `[0, 1]`.
pub fn jaro<T: PartialEq + Copy>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_hit = [false; 64];
    let mut b_hit = [false; 64];
    if a.len() > 64 || b.len() > 64 {
        return jaro_long(a, b, window);
    }
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_hit[j] && b[j] == ca {
                a_hit[i] = true;
                b_hit[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut k = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        if a_hit[i] {
            while !b_hit[k] {
                k += 1;
            }
            if ca != b[k] {
                transpositions += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

fn jaro_long<T: PartialEq + Copy>(a: &[T], b: &[T], window: usize) -> f64 {
    let mut a_hit = vec![false; a.len()];
    let mut b_hit = vec![false; b.len()];
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_hit[j] && b[j] == ca {
                a_hit[i] = true;
                b_hit[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut k = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        if a_hit[i] {
            while !b_hit[k] {
                k += 1;
            }
            if ca != b[k] {
                transpositions += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

/// Jaro-Winkler similarity (prefix scale 0.1, prefix up to 4), in `[0, 1]`.
pub fn jaro_winkler<T: PartialEq + Copy>(a: &[T], b: &[T]) -> f64 {
    let j = jaro(a, b);
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    j + prefix as f64 * 0.1 * (1.0 - j)
}

/// Jaro-Winkler similarity of two strings (compared as bytes when both are ASCII).
pub fn jaro_winkler_str(a: &str, b: &str) -> f64 {
    if a.is_ascii() && b.is_ascii() {
        jaro_winkler(a.as_bytes(), b.as_bytes())
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        jaro_winkler(&a, &b)
    }
}

/// Levenshtein distance of two sequences, or `None` when it exceeds `max`.
pub fn levenshtein_bounded<T: PartialEq + Copy>(a: &[T], b: &[T], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if b.len() >= 64 {
        return levenshtein_long(a, b, max);
    }
    let mut prev = [0usize; 64];
    let mut cur = [0usize; 64];
    for (j, p) in prev.iter_mut().enumerate().take(b.len() + 1) {
        *p = j;
    }
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

fn levenshtein_long<T: PartialEq + Copy>(a: &[T], b: &[T], max: usize) -> Option<usize> {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// Levenshtein distance of two strings, or `None` when it exceeds `max`.
pub fn levenshtein_str(a: &str, b: &str, max: usize) -> Option<usize> {
    if a.is_ascii() && b.is_ascii() {
        levenshtein_bounded(a.as_bytes(), b.as_bytes(), max)
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        levenshtein_bounded(&a, &b, max)
    }
}

/// Trims, lower-cases and collapses inner whitespace; `None` for an empty value.
pub fn normalise_text(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            let start = out.len();
            out.push_str(word);
            out[start..].make_ascii_lowercase();
        } else {
            for c in word.chars() {
                out.extend(c.to_lowercase());
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Normalises a phone number to E.164 (`+` and digits). A number without an international prefix is
/// taken to be national in `default_country` (a calling code such as `"1"` or `"61"`), dropping one
/// leading trunk `0`. Returns `None` when fewer than 6 digits remain.
pub fn normalise_phone(raw: &str, default_country: &str) -> Option<String> {
    let trimmed = raw.trim();
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    if international {
        if trimmed.starts_with("00") {
            digits.drain(..2);
        }
        return Some(format!("+{digits}"));
    }
    if !default_country.is_empty() && digits.starts_with(default_country) && digits.len() > 10 {
        return Some(format!("+{digits}"));
    }
    let national = digits.strip_prefix('0').unwrap_or(&digits);
    Some(format!("+{default_country}{national}"))
}

/// Parses a date as days since 0000-03-01 (proleptic Gregorian). Accepts `YYYY-MM-DD`, `YYYYMMDD`,
/// `YYYY/MM/DD` and `DD/MM/YYYY` (also with `-` or `.`).
pub fn parse_date_days(raw: &str) -> Option<i32> {
    let t = raw.trim();
    let parts: Vec<&str> = t.split(['-', '/', '.']).filter(|p| !p.is_empty()).collect();
    let (y, m, d) = match parts.as_slice() {
        [one] if one.len() == 8 && one.bytes().all(|b| b.is_ascii_digit()) => (
            one[..4].parse().ok()?,
            one[4..6].parse().ok()?,
            one[6..].parse().ok()?,
        ),
        [a, b, c] if a.len() == 4 => (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?),
        [a, b, c] if c.len() == 4 => (c.parse().ok()?, b.parse().ok()?, a.parse().ok()?),
        _ => return None,
    };
    days_from_civil(y, m, d)
}

fn days_from_civil(y: i32, m: u32, d: u32) -> Option<i32> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1000..=2999).contains(&y) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe)
}

/// Common words of street addresses, mapped to one spelling.
fn address_token(token: &str) -> &str {
    match token {
        "st" | "str" => "street",
        "rd" => "road",
        "ave" | "av" => "avenue",
        "dr" => "drive",
        "ln" => "lane",
        "ct" | "crt" => "court",
        "pl" => "place",
        "blvd" => "boulevard",
        "hwy" => "highway",
        "cres" => "crescent",
        "apt" | "unit" | "flat" | "#" => "unit",
        // Single letters are left alone: in typed addresses "s treet" is more often a stray space
        // than "south".
        other => other,
    }
}

/// Splits an address into normalised words, in order ("St" and "Street" are one word).
pub fn address_words(raw: &str) -> Vec<String> {
    let lower = raw.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| address_token(t).to_string())
        .collect()
}

/// Splits an address into normalised, sorted, de-duplicated tokens.
pub fn address_tokens(raw: &str) -> Vec<String> {
    let mut tokens = address_words(raw);
    tokens.sort();
    tokens.dedup();
    tokens
}

/// Levenshtein distance of two strings with their spaces left out (so that "sanf ord place" and
/// "sanford place" are one edit apart), or `None` when it exceeds `max`.
pub fn levenshtein_compact(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<u8> = a.bytes().filter(|&c| c != b' ').collect();
    let b: Vec<u8> = b.bytes().filter(|&c| c != b' ').collect();
    if a.is_ascii() && b.is_ascii() {
        levenshtein_bounded(&a, &b, max)
    } else {
        let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        levenshtein_str(&a, &b, max)
    }
}

/// Words too common in business names to tell two businesses apart.
const BUSINESS_STOP_WORDS: &[&str] = &[
    "the",
    "and",
    "of",
    "ltd",
    "limited",
    "inc",
    "llc",
    "co",
    "company",
    "corp",
    "group",
    "spa",
    "massage",
    "salon",
    "nail",
    "nails",
    "bar",
    "club",
    "restaurant",
    "cafe",
    "services",
    "service",
    "agency",
    "international",
    "day",
    "beauty",
    "health",
    "center",
    "centre",
    "studio",
    "&",
];

/// Normalises a business name: lower-cased words without common business words, joined by spaces.
/// Falls back to all words when every word is common.
pub fn business_core(raw: &str) -> String {
    let lower = raw.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '&')
        .filter(|w| !w.is_empty())
        .collect();
    let core: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !BUSINESS_STOP_WORDS.contains(w))
        .collect();
    if core.is_empty() {
        words.join(" ")
    } else {
        core.join(" ")
    }
}

/// Jaccard overlap of two sorted, de-duplicated token lists.
pub fn token_jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case("martha", "marhta", 0.961)]
    #[case("dwayne", "duane", 0.840)]
    #[case("dixon", "dicksonx", 0.813)]
    #[case("abc", "abc", 1.0)]
    #[case("abc", "xyz", 0.0)]
    fn jaro_winkler_matches_the_published_examples(
        #[case] a: &str,
        #[case] b: &str,
        #[case] want: f64,
    ) {
        assert!(
            (jaro_winkler_str(a, b) - want).abs() < 0.001,
            "{a} {b} {}",
            jaro_winkler_str(a, b)
        );
    }

    #[rstest]
    #[case("kitten", "sitting", 3, Some(3))]
    #[case("kitten", "sitting", 2, None)]
    #[case("", "abc", 3, Some(3))]
    #[case("flaw", "lawn", 2, Some(2))]
    #[case("müller", "muller", 1, Some(1))]
    fn levenshtein_counts_edits_up_to_the_bound(
        #[case] a: &str,
        #[case] b: &str,
        #[case] max: usize,
        #[case] want: Option<usize>,
    ) {
        assert_eq!(levenshtein_str(a, b, max), want);
    }

    #[rstest]
    #[case("(02) 9876 5432", "61", Some("+61298765432"))]
    #[case("+61 2 9876 5432", "61", Some("+61298765432"))]
    #[case("0061 2 9876 5432", "61", Some("+61298765432"))]
    #[case("415-555-0199", "1", Some("+14155550199"))]
    #[case("1 415 555 0199", "1", Some("+14155550199"))]
    #[case("123", "1", None)]
    fn phones_normalise_to_e164(#[case] raw: &str, #[case] cc: &str, #[case] want: Option<&str>) {
        assert_eq!(normalise_phone(raw, cc).as_deref(), want);
    }

    #[rstest]
    #[case("1990-05-17", "19900517")]
    #[case("17/05/1990", "1990/05/17")]
    fn dates_in_different_formats_parse_to_the_same_day(#[case] a: &str, #[case] b: &str) {
        assert_eq!(parse_date_days(a), parse_date_days(b));
        assert!(parse_date_days(a).is_some());
    }

    #[test]
    fn consecutive_days_are_one_apart_across_a_year_end() {
        let a = parse_date_days("1999-12-31").unwrap();
        let b = parse_date_days("2000-01-01").unwrap();
        assert_eq!(b - a, 1);
        assert_eq!(parse_date_days("2000-13-01"), None);
    }

    #[test]
    fn addresses_in_different_formats_share_tokens() {
        let a = address_tokens("12 Main St, Apt 4");
        let b = address_tokens("12 main street unit 4");
        assert_eq!(token_jaccard(&a, &b), 1.0);
        assert_eq!(
            levenshtein_compact("yarra s treet", "yarra street", 2),
            Some(0)
        );
        assert_eq!(
            levenshtein_compact("sanf ord place", "sanford xplace", 2),
            Some(1)
        );
    }

    #[test]
    fn business_names_ignore_common_words() {
        assert_eq!(
            business_core("Golden Lotus Massage & Spa Ltd"),
            "golden lotus"
        );
        assert_eq!(business_core("The Massage Spa"), "the massage spa");
    }

    proptest! {
        #[test]
        fn jaro_winkler_is_symmetric_and_bounded(a in "[a-e]{0,12}", b in "[a-e]{0,12}") {
            let x = jaro_winkler_str(&a, &b);
            let y = jaro_winkler_str(&b, &a);
            prop_assert!((x - y).abs() < 1e-9);
            prop_assert!((0.0..=1.0).contains(&x));
        }

        #[test]
        fn levenshtein_is_zero_only_for_equal_strings(a in "[a-c]{0,8}", b in "[a-c]{0,8}") {
            let d = levenshtein_str(&a, &b, 16).unwrap();
            prop_assert_eq!(d == 0, a == b);
        }
    }
}
