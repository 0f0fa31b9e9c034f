//! The request as handlers see it: path parameters, query, headers and the body.
//!
//! Bodies are read by the dispatcher under the upload-size limit before a handler runs, so a
//! handler never sees more than the limit. Parsing helpers turn malformed JSON or query
//! strings into the original's 422 lists naming each field that is wrong.

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::reply::ApiError;

/// One request, ready for a handler.
#[derive(Debug)]
pub struct Ctx {
    pub method: Method,
    pub path: String,
    pub params: Vec<(String, String)>,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub client: String,
}

impl Ctx {
    /// A path parameter by name (always present for a matched route).
    pub fn param(&self, name: &str) -> String {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// The body parsed as JSON into `T`, or a 422 list of what is wrong.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json_body(&self.body)
    }

    /// Query parameters as (name, value) pairs, percent-decoded.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_str(&self.query).unwrap_or_default()
    }

    /// The last value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query_pairs().into_iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A header as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Parses a JSON body, mapping failures to FastAPI-style 422 problems.
pub fn parse_json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::unprocessable(vec![json!({
            "type": "missing",
            "loc": ["body"],
            "msg": "Field required",
            "input": Value::Null,
        })]));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::unprocessable(vec![json_problem(&e)]))
}

fn json_problem(error: &serde_json::Error) -> Value {
    use serde_json::error::Category;
    let text = error.to_string();
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => json!({
            "type": "json_invalid",
            "loc": ["body", error.column()],
            "msg": "JSON decode error",
            "input": {},
            "ctx": { "error": text },
        }),
        Category::Data => match missing_field(&text) {
            Some(field) => json!({
                "type": "missing",
                "loc": ["body", field],
                "msg": "Field required",
            }),
            None => json!({
                "type": "value_error",
                "loc": ["body"],
                "msg": text,
            }),
        },
    }
}

fn missing_field(text: &str) -> Option<String> {
    let rest = text.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// A 422 for one bad query parameter.
pub fn query_problem(name: &str, message: &str) -> ApiError {
    ApiError::unprocessable(vec![json!({
        "type": "value_error",
        "loc": ["query", name],
        "msg": message,
    })])
}

/// Parses an optional boolean query parameter the way FastAPI does.
pub fn query_bool(ctx: &Ctx, name: &str) -> Result<Option<bool>, ApiError> {
    let Some(raw) = ctx.query_value(name) else { return Ok(None) };
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Ok(Some(true)),
        "false" | "0" | "no" | "off" | "f" | "n" => Ok(Some(false)),
        _ => Err(query_problem(name, "Input should be a valid boolean, unable to interpret input")),
    }
}

/// Parses an optional integer query parameter within bounds.
pub fn query_int(ctx: &Ctx, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
    let Some(raw) = ctx.query_value(name) else { return Ok(None) };
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        Ok(_) => Err(query_problem(name, &format!("Input should be between {min} and {max}"))),
        Err(_) => Err(query_problem(name, "Input should be a valid integer")),
    }
}
