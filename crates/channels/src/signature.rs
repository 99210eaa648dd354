//! Twilio request signatures (`X-Twilio-Signature`).
//!
//! Twilio signs a webhook with HMAC-SHA1 keyed by the account's auth token, over the full public URL of the
//! webhook followed by every POST parameter sorted by name, each name immediately followed by its value, and
//! sends the Base64 of the digest. Because proxies may add or drop the default port, a signature is accepted
//! when it matches the URL as configured, with the default port added, or with it removed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Computes the Base64 signature Twilio would send for `url` and form `params` under `auth_token`.
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Twilio sorts by name; for repeated names the values are sorted too, so the order is stable.
    sorted.sort();
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks an `X-Twilio-Signature` header against the configured public URL of the webhook and the POST
/// parameters. A missing header (`None`) never validates. The comparison is constant-time; the URL is tried
/// as given, with its default port (`:443` for https, `:80` for http) and without it.
pub fn validate(
    auth_token: &str,
    public_url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> bool {
    let Some(header) = header else { return false };
    let header = header.trim().as_bytes();
    let mut ok = subtle::Choice::from(0u8);
    for url in url_variants(public_url) {
        let expected = compute(auth_token, &url, params);
        ok |= expected.as_bytes().ct_eq(header);
    }
    ok.into()
}

/// The URL as given, plus the same URL with the scheme's default port toggled (added when absent, removed
/// when present).
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    let (scheme, default_port) = if let Some(rest) = url.strip_prefix("https://") {
        (("https://", rest), ":443")
    } else if let Some(rest) = url.strip_prefix("http://") {
        (("http://", rest), ":80")
    } else {
        return out;
    };
    let (prefix, rest) = scheme;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // Userinfo (user:pass@host) may precede the host; the port follows the host.
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => authority.split_at(i + 1),
        None => ("", authority),
    };
    if let Some(host) = hostport.strip_suffix(default_port) {
        out.push(format!("{prefix}{userinfo}{host}{tail}"));
    } else if !has_port(hostport) {
        out.push(format!("{prefix}{userinfo}{hostport}{default_port}{tail}"));
    }
    out
}

fn has_port(hostport: &str) -> bool {
    // An IPv6 literal ends with `]` unless a port follows it.
    match hostport.rfind(':') {
        Some(i) => {
            !hostport[i..].contains(']') && hostport[i + 1..].chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const TOKEN: &str = "12345";
    const EXPECTED: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    #[test]
    fn twilios_documented_example_computes_the_documented_signature() {
        assert_eq!(compute(TOKEN, URL, &params()), EXPECTED);
    }

    #[test]
    fn twilios_documented_example_validates_whatever_the_parameter_order() {
        let mut p = params();
        p.reverse();
        assert!(validate(TOKEN, URL, &p, Some(EXPECTED)));
    }

    #[rstest]
    #[case::token("12346", URL, 0, None, EXPECTED)]
    #[case::url(
        "12345",
        "https://mycompany.com/myapp.php?foo=1&bar=3",
        0,
        None,
        EXPECTED
    )]
    #[case::scheme(
        "12345",
        "http://mycompany.com/myapp.php?foo=1&bar=2",
        0,
        None,
        EXPECTED
    )]
    #[case::param_value("12345", URL, 2, Some("1235"), EXPECTED)]
    #[case::param_from("12345", URL, 3, Some("+12349013031"), EXPECTED)]
    #[case::signature("12345", URL, 0, None, "0/KCTR6DLpKmkAf8muzZqo1nDgR=")]
    #[case::signature_first_char("12345", URL, 0, None, "1/KCTR6DLpKmkAf8muzZqo1nDgQ=")]
    fn a_one_character_change_in_any_input_fails(
        #[case] token: &str,
        #[case] url: &str,
        #[case] param_index: usize,
        #[case] new_value: Option<&str>,
        #[case] header: &str,
    ) {
        let mut p = params();
        if let Some(v) = new_value {
            p[param_index].1 = v.to_owned();
        }
        assert!(!validate(token, url, &p, Some(header)));
    }

    #[test]
    fn a_renamed_parameter_fails() {
        let mut p = params();
        p[2].0 = "Digitz".to_owned();
        assert!(!validate(TOKEN, URL, &p, Some(EXPECTED)));
    }

    #[test]
    fn an_extra_parameter_fails() {
        let mut p = params();
        p.push(("X".to_owned(), String::new()));
        assert!(!validate(TOKEN, URL, &p, Some(EXPECTED)));
    }

    #[test]
    fn a_missing_or_empty_header_fails() {
        assert!(!validate(TOKEN, URL, &params(), None));
        assert!(!validate(TOKEN, URL, &params(), Some("")));
    }

    #[rstest]
    #[case::configured_without_signed_with("https://h.example/sms", "https://h.example:443/sms")]
    #[case::configured_with_signed_without("https://h.example:443/sms", "https://h.example/sms")]
    #[case::http_default_port("http://h.example/sms?a=1", "http://h.example:80/sms?a=1")]
    fn the_default_port_is_tried_both_ways(#[case] configured: &str, #[case] signed: &str) {
        let sig = compute(TOKEN, signed, &params());
        assert!(validate(TOKEN, configured, &params(), Some(&sig)));
    }

    #[test]
    fn a_non_default_port_is_not_dropped() {
        let sig = compute(TOKEN, "https://h.example/sms", &params());
        assert!(!validate(
            TOKEN,
            "https://h.example:8443/sms",
            &params(),
            Some(&sig)
        ));
    }
}
