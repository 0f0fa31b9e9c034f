//! The web UI's static files, compiled into the binary and served from an allow-list.
//!
//! Only files that exist in `assets/` are served; any other non-API path on the UI listener
//! gets the single-page app's `index.html`, so client-side routes survive a reload.

use bytes::Bytes;
use http::{Method, StatusCode};
use rust_embed::RustEmbed;

use crate::http::{ApiError, Reply};

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// Serves one UI path.
pub fn serve(method: &Method, path: &str) -> Reply {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").into_reply();
    }
    let name = path.trim_start_matches('/');
    let (name, file) = match Assets::get(name) {
        Some(file) if !name.is_empty() => (name, file),
        _ => match Assets::get("index.html") {
            Some(file) => ("index.html", file),
            None => return ApiError::not_found("Not Found").into_reply(),
        },
    };
    let body =
        if method == Method::HEAD { Bytes::new() } else { Bytes::from(file.data.into_owned()) };
    crate::http::bytes_reply(StatusCode::OK, content_type(name), body)
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}
