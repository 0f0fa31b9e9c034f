//! `/api/auth/login` and `/api/auth/logout`: session tokens instead of the password.
//!
//! Login is a public route, so it applies the failed-authentication throttle itself: a wrong
//! password here costs the same as a wrong bearer header anywhere else.

use std::sync::Arc;

use http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use serde_json::json;

use super::reply::{ApiError, ApiResult, message, ok};
use super::request::Ctx;
use super::router::RouterBuilder;
use super::{App, REVOKED_SESSIONS_KEY};
use crate::auth::bearer_credential;

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder.route(Method::POST, "/api/auth/login", login).route(
        Method::POST,
        "/api/auth/logout",
        logout,
    )
}

#[derive(Deserialize)]
struct Login {
    password: String,
}

async fn login(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let client: std::net::IpAddr = ctx.client.parse().unwrap_or([0, 0, 0, 0].into());
    if let Some(wait) = app.throttle.blocked_for(client) {
        return Err(super::throttled(client, wait));
    }
    let body: Login = ctx.json()?;
    if !app.password.verify(body.password.as_bytes()) {
        app.throttle.record_failure(client);
        tracing::warn!(target: "audit", %client, "login failed");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "Invalid password")
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
    }
    let now = chrono::Utc::now().timestamp();
    let issued = app.sessions.issue(now);
    tracing::info!(target: "audit", %client, session = %issued.session_id, "login");
    let expires = chrono::DateTime::from_timestamp(issued.expires_at, 0).unwrap_or_default();
    ok(&json!({
        "token": issued.token,
        "token_type": "bearer",
        "expires_at": expires.to_rfc3339(),
        "expires_in": issued.expires_at - now,
    }))
}

async fn logout(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let header = ctx.headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    let Ok(credential) = bearer_credential(header) else {
        return message("Logged out");
    };
    let now = chrono::Utc::now().timestamp();
    if let Some(id) = app.sessions.verify(credential, now) {
        let expires_at = app.sessions.expiry_of(credential).unwrap_or(now);
        let revoked = app.sessions.revoke(&id, expires_at, now);
        let bytes = serde_json::to_vec(&revoked).map_err(ApiError::internal)?;
        app.db(move |s| s.set_meta(REVOKED_SESSIONS_KEY, &bytes)).await?;
        tracing::info!(target: "audit", client = %ctx.client, session = %id, "logout");
    }
    message("Logged out")
}
