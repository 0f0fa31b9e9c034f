//! Responses and the one place where errors become HTTP statuses.
//!
//! Handlers return `Result<Reply, ApiError>`. An `ApiError` carries the status, the `detail`
//! the client sees, and optionally an internal cause that is logged once here and never
//! sent. Every body is JSON in the original's `{"detail": ...}` envelope.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde::Serialize;
use serde_json::{Value, json};

use crate::search::SearchError;
use crate::store::StoreError;

/// The response type of every handler.
pub type Reply = Response<Full<Bytes>>;

/// The result type of every handler.
pub type ApiResult = Result<Reply, ApiError>;

/// An error answer: status, client-facing detail, and a cause for the log only.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: Box<Value>,
    pub internal: Option<String>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with a plain-text detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: Box::new(Value::String(detail.into())),
            internal: None,
            headers: Vec::new(),
        }
    }

    /// 400 with the given detail.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 404 with the given detail.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 422 with a FastAPI-style list of problems.
    pub fn unprocessable(problems: Vec<Value>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: Box::new(Value::Array(problems)),
            internal: None,
            headers: Vec::new(),
        }
    }

    /// 500 whose cause is logged but not shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: Box::new(Value::String(
                "Internal server error; see the server log for details".into(),
            )),
            internal: Some(cause.to_string()),
            headers: Vec::new(),
        }
    }

    /// Adds a response header (e.g. `WWW-Authenticate`).
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The response for this error; logs the internal cause, if any.
    pub fn into_reply(self) -> Reply {
        if let Some(cause) = &self.internal {
            tracing::error!(status = self.status.as_u16(), %cause, "request failed");
        }
        let mut reply = json_reply(self.status, &json!({ "detail": self.detail }));
        for (name, value) in self.headers {
            reply.headers_mut().insert(name, value);
        }
        reply
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Locked => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                detail: Box::new(Value::String("The database is busy; try again".into())),
                internal: Some(e.to_string()),
                headers: Vec::new(),
            },
            other => Self::internal(other),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::BadQuery(_) => Self::bad_request(e.to_string()),
            other => Self::internal(other),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(format!("background task failed: {e}"))
    }
}

/// A JSON response with the given status.
pub fn json_reply<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A 200 JSON response.
pub fn ok<T: Serialize + ?Sized>(body: &T) -> ApiResult {
    Ok(json_reply(StatusCode::OK, body))
}

/// `{"message": ...}` with 200, the original's acknowledgement shape.
pub fn message(text: &str) -> ApiResult {
    ok(&json!({ "message": text }))
}

/// A response with raw bytes and a content type.
pub fn bytes_reply(status: StatusCode, content_type: &str, body: Bytes) -> Reply {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}
