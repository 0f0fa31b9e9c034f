//! What happens to every request before and after its handler: strict path decoding, CORS,
//! the password gate and the security headers.
//!
//! The path is decoded exactly once and refused when any spelling could make a protected
//! path look like a public one (dot segments, empty segments, encoded slashes, backslashes,
//! NUL). The public list is compared against that single decoded form.

use http::{HeaderMap, HeaderValue, StatusCode, header};
use percent_encoding::percent_decode_str;

use super::reply::{ApiError, Reply, json_reply};
use crate::config::CorsOrigins;

/// Paths anyone may call without a password.
const PUBLIC_PATHS: &[&str] = &[
    "/",
    "/health",
    "/docs",
    "/openapi.json",
    "/api/auth/status",
    "/api/config",
    "/api/auth/login",
];

/// True when `path` (decoded) needs no password.
pub fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path)
}

/// Decodes a raw request path once, refusing ambiguous spellings with a 400.
pub fn decode_path(raw: &str) -> Result<String, ApiError> {
    let refuse = |why: &str| {
        ApiError::bad_request(format!("Invalid request path: {why}; use the canonical path"))
    };
    if !raw.starts_with('/') {
        return Err(refuse("it must start with /"));
    }
    let lower = raw.to_ascii_lowercase();
    for encoded in ["%2f", "%5c", "%2e", "%00"] {
        if lower.contains(encoded) {
            return Err(refuse("it contains an encoded '/', '\\', '.' or NUL"));
        }
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| refuse("it is not valid UTF-8 after decoding"))?
        .into_owned();
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err(refuse("it contains a backslash or NUL"));
    }
    if decoded.len() > 1 && decoded[1..].split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        let trailing_only = decoded.ends_with('/') && !decoded[1..decoded.len() - 1].contains("//");
        let has_dots = decoded.split('/').any(|s| s == "." || s == "..");
        if has_dots || !trailing_only {
            return Err(refuse("it contains empty, '.' or '..' segments"));
        }
    }
    Ok(decoded)
}

/// Answers a CORS preflight, or `None` when the request is not one.
pub fn preflight(cors: &CorsOrigins, headers: &HeaderMap) -> Option<Reply> {
    let origin = headers.get(header::ORIGIN)?;
    let requested_headers = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    headers.get(header::ACCESS_CONTROL_REQUEST_METHOD)?;
    if !origin_allowed(cors, origin) {
        let mut reply = json_reply(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({ "detail": "Disallowed CORS origin; add it to CORS_ORIGINS" }),
        );
        reply.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
        return Some(reply);
    }
    let mut reply = json_reply(StatusCode::OK, &serde_json::json!("OK"));
    let h = reply.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"),
    );
    if let Some(requested) = requested_headers {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
    }
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    add_cors(cors, Some(origin), h);
    Some(reply)
}

fn origin_allowed(cors: &CorsOrigins, origin: &HeaderValue) -> bool {
    match cors {
        CorsOrigins::Any => true,
        CorsOrigins::List(list) => origin.to_str().is_ok_and(|o| list.iter().any(|a| a == o)),
    }
}

/// Adds the CORS response headers for a request from `origin`.
pub fn add_cors(cors: &CorsOrigins, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
    let Some(origin) = origin else { return };
    match cors {
        CorsOrigins::Any => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        CorsOrigins::List(_) if origin_allowed(cors, origin) => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers
                .insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        CorsOrigins::List(_) => {}
    }
}

/// The headers every response carries; API responses are never cached.
pub fn add_security_headers(path: &str, headers: &mut HeaderMap) {
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
             form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if path.starts_with("/api") || path == "/openapi.json" {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths_decode() {
        assert_eq!(
            decode_path("/api/notebooks/notebook%3Aabc").unwrap(),
            "/api/notebooks/notebook:abc"
        );
        assert_eq!(decode_path("/").unwrap(), "/");
        assert_eq!(decode_path("/api/notebooks/").unwrap(), "/api/notebooks/");
    }

    #[test]
    fn ambiguous_spellings_are_refused() {
        for raw in [
            "/api/../health",
            "/health/..",
            "/api/./notebooks",
            "//api/notebooks",
            "/api//notebooks",
            "/api%2Fnotebooks",
            "/api/%2e%2e/health",
            "/api\\notebooks",
            "/api/notebooks%00",
            "/api/%5cnotebooks",
            "/api/%2E/notebooks",
        ] {
            assert!(decode_path(raw).is_err(), "{raw} should be refused");
        }
    }

    #[test]
    fn only_exact_public_paths_are_public() {
        assert!(is_public("/health"));
        assert!(!is_public("/health/"));
        assert!(!is_public("/api/auth/status/x"));
        assert!(!is_public("/api/notebooks"));
    }
}
