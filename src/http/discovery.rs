//! `/api/credentials/{id}/test`, `/discover` and `/register-models`: talking to a provider's
//! model list with a stored credential, and saving the models a user picks.
//!
//! A provider's models are listed with one GET through `net::get_json`, so the URL-safety
//! rules apply to every hop: `{base_url}/models` for OpenAI-compatible servers (the
//! credential's base URL, or the provider's public endpoint when it has none) and
//! `{base_url}/api/tags` for Ollama. The decrypted key is sent as a bearer token to that
//! origin only and never appears in a log line or an answer.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::App;
use super::credentials::{NOT_FOUND, key_error};
use super::models::invalid_type;
use super::reply::{ApiError, ApiResult, ok};
use super::request::Ctx;
use super::router::RouterBuilder;
use crate::config::Secret;
use crate::net::FetchLimits;
use crate::providers::MODEL_TYPES;
use crate::store::{Credential, NewModel, Registered};

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder
        .route(Method::POST, "/api/credentials/{id}/test", test)
        .route(Method::POST, "/api/credentials/{id}/discover", discover)
        .route(Method::POST, "/api/credentials/{id}/register-models", register)
}

const OLLAMA_DEFAULT: &str = "http://localhost:11434";

fn limits() -> FetchLimits {
    FetchLimits { timeout: Duration::from_secs(20), max_bytes: 8 << 20, max_redirects: 3 }
}

/// How a credential's models are listed.
#[derive(Debug, PartialEq, Eq)]
enum Listing {
    /// GET this URL; the answer is OpenAI's `{data: [{id}]}` or Ollama's `{models: [{name}]}`.
    Url(String),
    /// The provider needs a base URL and the credential has none.
    NoBaseUrl,
    /// No list endpoint is known for this provider; only the key's presence can be checked.
    Unsupported,
}

fn listing(c: &Credential) -> Listing {
    let base = c.endpoints.base_url.as_deref().map(|b| b.trim_end_matches('/').to_string());
    match c.provider.as_str() {
        "ollama" => Listing::Url(format!("{}/api/tags", base.as_deref().unwrap_or(OLLAMA_DEFAULT))),
        "openai_compatible" | "omlx" => match base {
            Some(base) => Listing::Url(format!("{base}/models")),
            None => Listing::NoBaseUrl,
        },
        // TODO: Azure and Anthropic-style servers authenticate with their own headers, which
        // `net::get_json` cannot send yet; their test only checks that a key is stored.
        "azure" | "anthropic_compatible" => Listing::Unsupported,
        provider => match (base, crate::providers::find(provider).and_then(|p| p.models_url)) {
            (Some(base), _) => Listing::Url(format!("{base}/models")),
            (None, Some(url)) => Listing::Url(url.to_string()),
            (None, None) => Listing::Unsupported,
        },
    }
}

/// The credential and its usable key, or the answer explaining why not.
async fn load(app: &Arc<App>, id: String) -> Result<(Credential, Option<Secret>), ApiError> {
    let credential =
        app.db(move |s| s.credential(&id)).await?.ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    let key =
        credential.api_key.as_ref().map(|k| app.keys.open(k)).transpose().map_err(key_error)?;
    Ok((credential, key))
}

fn outcome(provider: &str, success: bool, message: impl Into<String>) -> ApiResult {
    let message: String = message.into().chars().take(200).collect();
    ok(&json!({ "provider": provider, "success": success, "message": message }))
}

/// Always 200 with `{provider, success, message}`, as the original.
async fn test(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let (credential, key) = match load(&app, ctx.param("id")).await {
        Ok(loaded) => loaded,
        Err(e) => return outcome("unknown", false, e.detail.as_str().unwrap_or_default()),
    };
    let provider = credential.provider.as_str();
    tracing::info!(target: "audit", id = %credential.id, "credential used: connection test");
    if crate::providers::find(provider).is_none() {
        return outcome(provider, false, format!("Unknown provider: {provider}"));
    }
    let url = match listing(&credential) {
        Listing::Url(url) => url,
        Listing::NoBaseUrl => return outcome(provider, false, "No base URL configured"),
        Listing::Unsupported if key.is_some() => {
            return outcome(provider, true, "Connection successful (key format valid)");
        }
        Listing::Unsupported => return outcome(provider, false, "No API key configured"),
    };
    let bearer = key.as_ref().map(Secret::expose);
    match crate::net::get_json(&url, bearer, &limits()).await {
        Ok((200..=299, _)) => outcome(provider, true, "Connection successful"),
        Ok((401 | 403, _)) => outcome(provider, false, "Invalid API key"),
        Ok((status, _)) => outcome(provider, false, format!("Connection failed: HTTP {status}")),
        Err(e) => outcome(provider, false, format!("Connection failed: {e}")),
    }
}

/// Model names in an OpenAI (`data[].id`) or Ollama (`models[].name`) list answer.
fn model_names(body: &Value) -> Vec<String> {
    let (items, field) = match (body.get("data"), body.get("models")) {
        (Some(Value::Array(items)), _) => (items, "id"),
        (_, Some(Value::Array(items))) => (items, "name"),
        _ => return Vec::new(),
    };
    let mut names: Vec<String> =
        items.iter().filter_map(|m| m.get(field)?.as_str()).map(String::from).collect();
    names.sort();
    names.dedup();
    names
}

async fn discover(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let (credential, key) = load(&app, ctx.param("id")).await?;
    let Listing::Url(url) = listing(&credential) else {
        return Err(ApiError::bad_request(format!(
            "Model discovery is not available for provider '{}' without a base URL",
            credential.provider
        )));
    };
    tracing::info!(target: "audit", id = %credential.id, "credential used: model discovery");
    let bearer = key.as_ref().map(Secret::expose);
    let body = match crate::net::get_json(&url, bearer, &limits()).await {
        Ok((200..=299, body)) => body,
        Ok((status, _)) => {
            let detail = format!("Failed to discover models: the provider answered HTTP {status}");
            return Err(ApiError::new(StatusCode::BAD_GATEWAY, detail));
        }
        Err(e) => {
            let detail = format!("Failed to discover models: {e}");
            return Err(ApiError::new(e.status_hint(), detail));
        }
    };
    let discovered: Vec<Value> = model_names(&body)
        .into_iter()
        .map(|name| {
            json!({
                "name": name,
                "provider": credential.provider,
                "model_type": null,
                "description": null,
            })
        })
        .collect();
    ok(&json!({
        "credential_id": credential.id,
        "provider": credential.provider,
        "discovered": discovered,
    }))
}

#[derive(Deserialize)]
struct RegisterModels {
    models: Vec<ModelChoice>,
}

#[derive(Deserialize)]
struct ModelChoice {
    name: String,
    provider: String,
    model_type: String,
}

async fn register(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let body: RegisterModels = ctx.json()?;
    if body.models.iter().any(|m| !MODEL_TYPES.contains(&m.model_type.as_str())) {
        return Err(invalid_type());
    }
    let id = ctx.param("id");
    let new: Vec<NewModel> = body
        .models
        .into_iter()
        .map(|m| NewModel {
            name: m.name,
            provider: m.provider.to_lowercase(),
            model_type: m.model_type,
            credential: Some(id.clone()),
        })
        .collect();
    let outcome = app
        .db(move |s| match s.credential(&id)? {
            Some(_) => s.register_models(&new).map(Some),
            None => Ok(None),
        })
        .await?
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    let created = outcome.iter().filter(|r| matches!(r, Registered::Created(_))).count();
    ok(&json!({ "created": created, "existing": outcome.len() - created }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Endpoints;

    fn credential(provider: &str, base_url: Option<&str>) -> Credential {
        Credential {
            id: "credential:x".into(),
            name: "n".into(),
            provider: provider.into(),
            modalities: vec![],
            api_key: None,
            endpoints: Endpoints { base_url: base_url.map(String::from), ..Endpoints::default() },
            num_ctx: None,
            created: 0,
            updated: 0,
        }
    }

    #[test]
    fn listing_urls_follow_the_provider() {
        let url = |p, b| listing(&credential(p, b));
        assert_eq!(
            url("openai_compatible", Some("http://127.0.0.1:9/v1/")),
            Listing::Url("http://127.0.0.1:9/v1/models".into())
        );
        assert_eq!(url("openai_compatible", None), Listing::NoBaseUrl);
        assert_eq!(url("ollama", None), Listing::Url("http://localhost:11434/api/tags".into()));
        assert_eq!(url("openai", None), Listing::Url("https://api.openai.com/v1/models".into()));
        assert_eq!(url("anthropic", None), Listing::Unsupported);
    }

    #[test]
    fn model_names_read_openai_and_ollama_lists() {
        let openai = json!({"data": [{"id": "b"}, {"id": "a"}, {"id": "a"}, {"x": 1}]});
        assert_eq!(model_names(&openai), vec!["a", "b"]);
        let ollama = json!({"models": [{"name": "llama3:8b"}]});
        assert_eq!(model_names(&ollama), vec!["llama3:8b"]);
        assert!(model_names(&json!({"error": "no"})).is_empty());
    }
}
