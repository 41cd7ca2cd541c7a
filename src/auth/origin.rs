//! Refusing cross-origin state changes. A browser tells us where a request comes from with
//! `Sec-Fetch-Site` (modern browsers) or `Origin`; a state-changing request from another site
//! is refused before it reaches a handler. Clients that send neither header (curl, scripts,
//! other boxes) are not browsers and cannot be tricked into sending our cookie, so they pass.
//! Forms additionally carry the session's token (see `http::pages`).

use axum::http::{HeaderMap, Method, header};

pub fn is_cross_origin(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return true;
        };
        // Origin is scheme://host[:port]; compare the authority with the Host we were sent.
        let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or("");
        return !authority.eq_ignore_ascii_case(host);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn refuses_other_sites_and_allows_plain_clients() {
        let post = Method::POST;
        assert!(!is_cross_origin(&post, &headers(&[])));
        assert!(!is_cross_origin(&post, &headers(&[("sec-fetch-site", "same-origin")])));
        assert!(is_cross_origin(&post, &headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_origin(&post, &headers(&[("sec-fetch-site", "same-site")])));
        assert!(!is_cross_origin(
            &post,
            &headers(&[("origin", "http://folio.local:8080"), ("host", "folio.local:8080")])
        ));
        assert!(is_cross_origin(&post, &headers(&[("origin", "http://evil.example"), ("host", "folio.local:8080")])));
        assert!(is_cross_origin(&post, &headers(&[("origin", "null"), ("host", "folio.local")])));
        assert!(!is_cross_origin(&Method::GET, &headers(&[("sec-fetch-site", "cross-site")])));
    }
}
