//! The address a help-seeker's request came from, for counting (rate limits) only: it is hashed with the
//! installation's blind-index key at once and never stored, logged or kept in memory in the clear.

use crate::state::AppState;
use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use std::net::SocketAddr;

/// The keyed hash of the client's address, under `kind` (a separate key per use, so the tip form's and
/// the chat's counts cannot be joined). The address is the last entry of the header that
/// `tips.client_ip_header` names (the one the proxy added), or the connection's peer when none is named.
pub fn client_key(
    state: &AppState,
    kind: &str,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Vec<u8> {
    let address = client_address(&state.settings.tips.client_ip_header, headers, extensions);
    state.store.keys().blind_index(kind, &address)
}

fn client_address(header: &str, headers: &HeaderMap, extensions: &Extensions) -> String {
    let name = header.trim();
    if !name.is_empty() {
        let last = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|s| !s.is_empty());
        return last.unwrap_or("unknown").to_owned();
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_proxy_header_gives_its_last_entry_and_the_peer_is_used_without_one() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("10.0.0.9, 203.0.113.7"),
        );
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 4000))));
        assert_eq!(
            client_address("x-forwarded-for", &headers, &ext),
            "203.0.113.7"
        );
        assert_eq!(client_address("", &headers, &ext), "192.0.2.1");
        assert_eq!(
            client_address("x-real-ip", &headers, &Extensions::new()),
            "unknown"
        );
        assert_eq!(client_address("", &headers, &Extensions::new()), "unknown");
    }
}
