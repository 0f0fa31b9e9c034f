//! `/api/models*`: registered models, the default model slots, and provider availability.
//!
//! Uniqueness of (provider, name, type), ignoring case, is checked inside the store's write
//! transaction, so concurrent creates cannot both succeed. Default slots are presence-based:
//! an absent field keeps its value, `null` clears it, except that the chat and embedding
//! defaults can only be reassigned.

use std::sync::Arc;

use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::App;
use super::credentials::present;
use super::reply::{ApiError, ApiResult, message, ok};
use super::request::Ctx;
use super::router::RouterBuilder;
use crate::providers::{MODEL_TYPES, PROVIDERS, process_env};
use crate::store::{DefaultModels, Model, NewModel, Registered, format_time};

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder
        .route(Method::GET, "/api/models", list)
        .route(Method::POST, "/api/models", create)
        .route(Method::DELETE, "/api/models/{id}", delete)
        .route(Method::GET, "/api/models/defaults", defaults)
        .route(Method::PUT, "/api/models/defaults", set_defaults)
        .route(Method::GET, "/api/models/providers", providers)
}

const NOT_FOUND: &str = "Model not found";

/// The original's 400 for a model type outside the four it knows.
pub(super) fn invalid_type() -> ApiError {
    ApiError::bad_request(
        "Invalid model type. Must be one of: ['language', 'embedding', 'text_to_speech', \
         'speech_to_text']",
    )
}

fn model_json(m: &Model) -> Value {
    json!({
        "id": m.id,
        "name": m.name,
        "provider": m.provider,
        "type": m.model_type,
        "credential": m.credential,
        "created": format_time(m.created),
        "updated": format_time(m.updated),
    })
}

async fn list(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let model_type = ctx.query_value("type").filter(|t| !t.is_empty());
    let models = app.db(move |s| s.models(model_type.as_deref())).await?;
    ok(&models.iter().map(model_json).collect::<Vec<_>>())
}

#[derive(Deserialize)]
struct CreateModel {
    name: String,
    provider: String,
    #[serde(rename = "type")]
    model_type: String,
    credential: Option<String>,
}

async fn create(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let body: CreateModel = ctx.json()?;
    if !MODEL_TYPES.contains(&body.model_type.as_str()) {
        return Err(invalid_type());
    }
    let new = NewModel {
        name: body.name,
        provider: body.provider,
        model_type: body.model_type,
        credential: body.credential.filter(|c| !c.is_empty()),
    };
    let link = new.credential.clone();
    let outcome = app
        .db(move |s| {
            if let Some(id) = &link
                && s.credential(id)?.is_none()
            {
                return Ok(None);
            }
            s.register_models(std::slice::from_ref(&new)).map(|mut r| r.pop())
        })
        .await?;
    match outcome {
        Some(Registered::Created(model)) => ok(&model_json(&model)),
        Some(Registered::Exists(model)) => Err(ApiError::bad_request(format!(
            "Model '{}' already exists for provider '{}' with type '{}'",
            model.name, model.provider, model.model_type
        ))),
        None => Err(ApiError::not_found(super::credentials::NOT_FOUND)),
    }
}

async fn delete(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    if !app.db(move |s| s.delete_model(&id)).await? {
        return Err(ApiError::not_found(NOT_FOUND));
    }
    message("Model deleted successfully")
}

async fn defaults(app: Arc<App>, _ctx: Ctx) -> ApiResult {
    let current: DefaultModels = app.db(|s| s.singleton()).await?;
    ok(&current)
}

/// A presence-aware change to the default slots.
#[derive(Deserialize, Default)]
struct DefaultsPatch {
    #[serde(default, deserialize_with = "present")]
    default_chat_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    default_transformation_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    large_context_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    default_text_to_speech_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    default_speech_to_text_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    default_embedding_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    default_tools_model: Option<Option<String>>,
}

impl DefaultsPatch {
    /// Refuses to clear the two slots that can only be reassigned.
    fn check(&self) -> Result<(), ApiError> {
        let required = [
            ("default_chat_model", &self.default_chat_model),
            ("default_embedding_model", &self.default_embedding_model),
        ];
        for (field, value) in required {
            if matches!(value, Some(None)) || matches!(value, Some(Some(v)) if v.is_empty()) {
                return Err(ApiError::bad_request(format!(
                    "{field} is required and cannot be cleared, only reassigned"
                )));
            }
        }
        Ok(())
    }

    fn apply(self, d: &mut DefaultModels) {
        let pairs = [
            (self.default_chat_model, &mut d.default_chat_model),
            (self.default_transformation_model, &mut d.default_transformation_model),
            (self.large_context_model, &mut d.large_context_model),
            (self.default_text_to_speech_model, &mut d.default_text_to_speech_model),
            (self.default_speech_to_text_model, &mut d.default_speech_to_text_model),
            (self.default_embedding_model, &mut d.default_embedding_model),
            (self.default_tools_model, &mut d.default_tools_model),
        ];
        for (change, slot) in pairs {
            if let Some(value) = change {
                *slot = value.filter(|v| !v.is_empty());
            }
        }
    }
}

async fn set_defaults(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let patch: DefaultsPatch = ctx.json()?;
    patch.check()?;
    let updated =
        app.db(move |s| s.update_singleton(|d: &mut DefaultModels| patch.apply(d))).await?;
    ok(&updated)
}

/// Providers usable now (a readable credential or the environment), and the model types of
/// each available one.
async fn providers(app: Arc<App>, _ctx: Ctx) -> ApiResult {
    let credentials = app.db(|s| s.credentials()).await?;
    let (mut available, mut unavailable, mut types) = (vec![], vec![], serde_json::Map::new());
    for spec in PROVIDERS {
        let in_db = credentials.iter().any(|c| c.provider == spec.name && app.keys.can_read(c));
        if in_db || spec.env_configured(&process_env) {
            available.push(spec.name);
            types.insert(spec.name.into(), json!(spec.modalities));
        } else {
            unavailable.push(spec.name);
        }
    }
    ok(&json!({ "available": available, "unavailable": unavailable, "supported_types": types }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_keep_absent_clear_null_and_refuse_clearing_required() {
        let patch: DefaultsPatch =
            serde_json::from_str(r#"{"default_tools_model": null, "large_context_model": "m:2"}"#)
                .unwrap();
        assert!(patch.check().is_ok());
        let mut d = DefaultModels {
            default_chat_model: Some("m:1".into()),
            default_tools_model: Some("m:3".into()),
            ..DefaultModels::default()
        };
        patch.apply(&mut d);
        assert_eq!(d.default_chat_model.as_deref(), Some("m:1"));
        assert_eq!(d.default_tools_model, None);
        assert_eq!(d.large_context_model.as_deref(), Some("m:2"));
        let clear: DefaultsPatch =
            serde_json::from_str(r#"{"default_embedding_model": null}"#).unwrap();
        assert_eq!(
            *clear.check().unwrap_err().detail,
            "default_embedding_model is required and cannot be cleared, only reassigned"
        );
    }
}
