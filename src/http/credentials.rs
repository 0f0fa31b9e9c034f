//! `/api/credentials*` (except test, discover and register-models, in `discovery`): status,
//! listing, create, read, presence-based update, delete with model migration, and migration of
//! legacy provider environment variables into credentials.
//!
//! Responses never carry an API key, only `has_api_key`. A key is encrypted through
//! [`KeyRing::seal`] before it reaches the store, so with no encryption key configured every
//! route that would store one answers the original's 400 and writes nothing. A credential
//! whose key the configured key cannot decrypt is listed with `decryption_error`, reads as
//! 404, can be deleted, and can be updated only by sending a new `api_key` (409 otherwise; the
//! original answers 500 here). In an update, `api_key` changes the key only when it is a
//! non-empty string: `null` and `""` keep the stored key.

use std::sync::Arc;

use http::{Method, StatusCode};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use super::App;
use super::reply::{ApiError, ApiResult, json_reply, ok};
use super::request::Ctx;
use super::router::RouterBuilder;
use crate::keys::{DECRYPTION_ERROR, KeyError, KeyRing, NO_KEY_DETAIL};
use crate::providers::{PROVIDERS, ProviderSpec, process_env};
use crate::store::{
    Credential, CredentialDeletion, Endpoints, StoredKey, format_time, new_id, now_micros,
};

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    let builder = builder
        .route(Method::GET, "/api/credentials/status", status)
        .route(Method::GET, "/api/credentials/env-status", env_status)
        .route(Method::GET, "/api/credentials", list)
        .route(Method::GET, "/api/credentials/by-provider/{provider}", by_provider)
        .route(Method::POST, "/api/credentials", create)
        .route(Method::GET, "/api/credentials/{id}", read)
        .route(Method::PUT, "/api/credentials/{id}", update)
        .route(Method::DELETE, "/api/credentials/{id}", delete)
        .route(Method::POST, "/api/credentials/migrate-from-env", migrate_from_env);
    super::discovery::routes(builder)
}

pub(super) const NOT_FOUND: &str = "Credential not found";

/// The 409 detail for a credential whose key cannot be decrypted with the configured key.
pub(super) const KEY_UNREADABLE: &str = "The stored API key of this credential cannot be \
decrypted with the current encryption key. Restore the previous OPEN_NOTEBOOK_ENCRYPTION_KEY, \
run `open-notebook rotate-key`, or send a new api_key.";

const MIGRATED_NAME: &str = "Default (Migrated from env)";

/// The error answer for a key that cannot be used.
pub(super) fn key_error(error: KeyError) -> ApiError {
    match error {
        KeyError::NotConfigured => ApiError::bad_request(NO_KEY_DETAIL),
        _ => ApiError::new(StatusCode::CONFLICT, KEY_UNREADABLE),
    }
}

fn require_key(keys: &KeyRing) -> Result<(), ApiError> {
    if keys.is_configured() { Ok(()) } else { Err(ApiError::bad_request(NO_KEY_DETAIL)) }
}

/// The original's `CredentialResponse`; only id, name, provider, modalities and times when the
/// key cannot be decrypted.
pub(super) fn credential_json(c: &Credential, model_count: u64, readable: bool) -> Value {
    let e = &c.endpoints;
    let hide = |v: &Option<String>| if readable { json!(v) } else { Value::Null };
    json!({
        "id": c.id,
        "name": c.name,
        "provider": c.provider,
        "modalities": c.modalities,
        "base_url": hide(&e.base_url),
        "endpoint": hide(&e.endpoint),
        "api_version": hide(&e.api_version),
        "endpoint_llm": hide(&e.endpoint_llm),
        "endpoint_embedding": hide(&e.endpoint_embedding),
        "endpoint_stt": hide(&e.endpoint_stt),
        "endpoint_tts": hide(&e.endpoint_tts),
        "project": hide(&e.project),
        "location": hide(&e.location),
        "credentials_path": hide(&e.credentials_path),
        "num_ctx": if readable { json!(c.num_ctx) } else { Value::Null },
        "has_api_key": c.api_key.is_some(),
        "created": format_time(c.created),
        "updated": format_time(c.updated),
        "model_count": model_count,
        "decryption_error": if readable { Value::Null } else { json!(DECRYPTION_ERROR) },
    })
}

/// Credentials with their model counts, optionally of one provider and readable ones only.
async fn listed(app: &Arc<App>, provider: Option<String>, skip_unreadable: bool) -> ApiResult {
    let (credentials, counts) = app.db(|s| Ok((s.credentials()?, s.model_counts()?))).await?;
    let rows: Vec<Value> = credentials
        .iter()
        .filter(|c| provider.as_deref().is_none_or(|p| c.provider == p))
        .map(|c| (c, app.keys.can_read(c)))
        .filter(|(_, readable)| *readable || !skip_unreadable)
        .map(|(c, readable)| credential_json(c, counts.get(&c.id).copied().unwrap_or(0), readable))
        .collect();
    ok(&rows)
}

async fn list(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let provider = ctx.query_value("provider").filter(|p| !p.is_empty()).map(|p| p.to_lowercase());
    listed(&app, provider, false).await
}

async fn by_provider(app: Arc<App>, ctx: Ctx) -> ApiResult {
    listed(&app, Some(ctx.param("provider").to_lowercase()), true).await
}

async fn read(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    let (credential, counts) = app.db(move |s| Ok((s.credential(&id)?, s.model_counts()?))).await?;
    match credential {
        Some(c) if app.keys.can_read(&c) => {
            ok(&credential_json(&c, counts.get(&c.id).copied().unwrap_or(0), true))
        }
        _ => Err(ApiError::not_found(NOT_FOUND)),
    }
}

/// Which providers are usable, from the database or the environment.
async fn status(app: Arc<App>, _ctx: Ctx) -> ApiResult {
    let credentials = app.db(|s| s.credentials()).await?;
    let (mut configured, mut source) = (Map::new(), Map::new());
    for spec in PROVIDERS {
        let in_db = credentials.iter().any(|c| c.provider == spec.name && app.keys.can_read(c));
        let in_env = spec.env_configured(&process_env);
        configured.insert(spec.name.into(), json!(in_db || in_env));
        let from = if in_db {
            "database"
        } else if in_env {
            "environment"
        } else {
            "none"
        };
        source.insert(spec.name.into(), json!(from));
    }
    ok(&json!({
        "configured": configured,
        "source": source,
        "encryption_configured": app.keys.is_configured(),
    }))
}

async fn env_status(_app: Arc<App>, _ctx: Ctx) -> ApiResult {
    let status: Map<String, Value> = PROVIDERS
        .iter()
        .map(|p| (p.name.to_string(), json!(p.env_configured(&process_env))))
        .collect();
    ok(&status)
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub(super) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct CreateCredential {
    name: String,
    provider: String,
    #[serde(default)]
    modalities: Vec<String>,
    api_key: Option<String>,
    #[serde(flatten)]
    endpoints: Endpoints,
    num_ctx: Option<u32>,
}

fn unprocessable(field: &str, kind: &str, msg: String) -> ApiError {
    let loc = if field.is_empty() { json!(["body"]) } else { json!(["body", field]) };
    ApiError::unprocessable(vec![json!({ "type": kind, "loc": loc, "msg": msg })])
}

/// The provider named in a request, lower-cased; 422 when it is not supported.
fn provider_of(raw: &str) -> Result<&'static ProviderSpec, ApiError> {
    let name = raw.to_lowercase();
    crate::providers::find(&name).ok_or_else(|| {
        let names: Vec<String> = PROVIDERS.iter().map(|p| format!("'{}'", p.name)).collect();
        let msg = format!("Input should be {}", names.join(", "));
        unprocessable("provider", "literal_error", msg)
    })
}

/// Turns `""` into "not set", as the original does for every URL-ish field.
fn normalized(mut e: Endpoints) -> Endpoints {
    let Endpoints {
        base_url,
        endpoint,
        api_version,
        endpoint_llm,
        endpoint_embedding,
        endpoint_stt,
        endpoint_tts,
        project,
        location,
        credentials_path,
    } = &mut e;
    let fields = [
        base_url,
        endpoint,
        api_version,
        endpoint_llm,
        endpoint_embedding,
        endpoint_stt,
        endpoint_tts,
        project,
        location,
        credentials_path,
    ];
    for field in fields {
        if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
            *field = None;
        }
    }
    e
}

/// The values of the fields that hold URLs.
fn urls_of(e: &Endpoints) -> Vec<String> {
    [
        &e.base_url,
        &e.endpoint,
        &e.endpoint_llm,
        &e.endpoint_embedding,
        &e.endpoint_stt,
        &e.endpoint_tts,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect()
}

/// Applies the URL-safety rules to every URL the request sets; 400 with the rule's text.
async fn validate_urls(urls: Vec<String>) -> Result<(), ApiError> {
    for url in urls.iter().filter(|u| !u.trim().is_empty()) {
        if let Err(e) = crate::net::validate_url_resolved(url.trim()).await {
            let text: String = e.to_string().chars().take(200).collect();
            return Err(ApiError::bad_request(text));
        }
    }
    Ok(())
}

fn anthropic_rule(provider: &str, has_base_url: bool, has_key: bool) -> Option<&'static str> {
    if provider != "anthropic_compatible" {
        return None;
    }
    if !has_base_url {
        return Some("Anthropic-compatible credentials require a base URL");
    }
    (!has_key).then_some("Anthropic-compatible credentials require an API key")
}

async fn create(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let body: CreateCredential = ctx.json()?;
    let spec = provider_of(&body.provider)?;
    let endpoints = normalized(body.endpoints);
    let api_key = body.api_key.filter(|k| !k.is_empty());
    if let Some(rule) = anthropic_rule(spec.name, endpoints.base_url.is_some(), api_key.is_some()) {
        return Err(unprocessable("", "value_error", format!("Value error, {rule}")));
    }
    require_key(&app.keys)?;
    validate_urls(urls_of(&endpoints)).await?;
    let sealed = api_key.map(|k| app.keys.seal(&k)).transpose().map_err(key_error)?;
    let now = now_micros();
    let credential = Credential {
        id: new_id("credential"),
        name: body.name,
        provider: spec.name.to_string(),
        modalities: body.modalities,
        api_key: sealed,
        endpoints,
        num_ctx: body.num_ctx.filter(|n| *n > 0),
        created: now,
        updated: now,
    };
    let stored = credential.clone();
    app.db(move |s| s.put_credential(&stored)).await?;
    tracing::info!(target: "audit", id = %credential.id, provider = %credential.provider,
        "credential created");
    Ok(json_reply(StatusCode::CREATED, &credential_json(&credential, 0, true)))
}

/// A presence-aware update: absent keeps, `null` (or `""`) clears.
#[derive(Deserialize, Default)]
struct UpdateCredential {
    name: Option<String>,
    modalities: Option<Vec<String>>,
    api_key: Option<String>,
    #[serde(default, deserialize_with = "present")]
    base_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    endpoint: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    api_version: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    endpoint_llm: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    endpoint_embedding: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    endpoint_stt: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    endpoint_tts: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    project: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    location: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    credentials_path: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    num_ctx: Option<Option<u32>>,
}

impl UpdateCredential {
    fn urls(&self) -> Vec<String> {
        [
            &self.base_url,
            &self.endpoint,
            &self.endpoint_llm,
            &self.endpoint_embedding,
            &self.endpoint_stt,
            &self.endpoint_tts,
        ]
        .into_iter()
        .filter_map(|f| f.clone().flatten())
        .collect()
    }

    /// Applies every present field except the API key.
    fn apply(self, c: &mut Credential) {
        let e = &mut c.endpoints;
        let pairs = [
            (self.base_url, &mut e.base_url),
            (self.endpoint, &mut e.endpoint),
            (self.api_version, &mut e.api_version),
            (self.endpoint_llm, &mut e.endpoint_llm),
            (self.endpoint_embedding, &mut e.endpoint_embedding),
            (self.endpoint_stt, &mut e.endpoint_stt),
            (self.endpoint_tts, &mut e.endpoint_tts),
            (self.project, &mut e.project),
            (self.location, &mut e.location),
            (self.credentials_path, &mut e.credentials_path),
        ];
        for (change, field) in pairs {
            if let Some(value) = change {
                *field = value.filter(|v| !v.trim().is_empty());
            }
        }
        if let Some(num_ctx) = self.num_ctx {
            c.num_ctx = num_ctx.filter(|n| *n > 0);
        }
        if let Some(name) = self.name {
            c.name = name;
        }
        if let Some(modalities) = self.modalities {
            c.modalities = modalities;
        }
    }
}

async fn update(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    let mut body: UpdateCredential = ctx.json()?;
    require_key(&app.keys)?;
    validate_urls(body.urls()).await?;
    let lookup = id.clone();
    let mut credential = app
        .db(move |s| s.credential(&lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    let new_key = body.api_key.take().filter(|k| !k.is_empty());
    credential.api_key = match (new_key, credential.api_key.take()) {
        (Some(key), _) => Some(app.keys.seal(&key).map_err(key_error)?),
        // Saving encrypts a legacy plaintext key, as the original does.
        (None, Some(StoredKey::Plaintext(plain))) => {
            Some(app.keys.seal(&plain).map_err(key_error)?)
        }
        (None, Some(token)) => {
            app.keys.open(&token).map_err(key_error)?;
            Some(token)
        }
        (None, None) => None,
    };
    body.apply(&mut credential);
    let has_base = credential.endpoints.base_url.is_some();
    if let Some(rule) = anthropic_rule(&credential.provider, has_base, credential.api_key.is_some())
    {
        return Err(ApiError::bad_request(rule));
    }
    credential.updated = now_micros();
    let stored = credential.clone();
    let counts = app.db(move |s| Ok(s.replace_credential(&stored)?.then(|| s.model_counts())));
    let counts = counts.await?.transpose()?.ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    let count = counts.get(&id).copied().unwrap_or(0);
    tracing::info!(target: "audit", id = %credential.id, "credential updated");
    ok(&credential_json(&credential, count, true))
}

async fn delete(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    let migrate_to = ctx.query_value("migrate_to").filter(|t| !t.is_empty());
    let target = id.clone();
    let outcome = app.db(move |s| s.delete_credential(&target, migrate_to.as_deref())).await?;
    match outcome {
        CredentialDeletion::Deleted { deleted_models } => {
            tracing::info!(target: "audit", id = %id, deleted_models, "credential deleted");
            ok(&json!({
                "message": "Credential deleted successfully",
                "deleted_models": deleted_models,
            }))
        }
        CredentialDeletion::TargetNotFound => {
            Err(ApiError::bad_request("migrate_to: Credential not found"))
        }
        _ => Err(ApiError::not_found(NOT_FOUND)),
    }
}

/// A credential built from a provider's legacy environment variables.
fn credential_from_env(
    spec: &ProviderSpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Endpoints, Option<String>) {
    let get = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let mut e = Endpoints::default();
    let key = match spec.name {
        "ollama" => {
            e.base_url = get("OLLAMA_API_BASE");
            None
        }
        "omlx" => {
            e.base_url = get("OMLX_API_BASE");
            get("OMLX_API_KEY")
        }
        "vertex" => {
            e.project = get("VERTEX_PROJECT");
            e.location = get("VERTEX_LOCATION");
            e.credentials_path = get("GOOGLE_APPLICATION_CREDENTIALS");
            None
        }
        "azure" => {
            e.endpoint = get("AZURE_OPENAI_ENDPOINT");
            e.api_version = get("AZURE_OPENAI_API_VERSION");
            e.endpoint_llm = get("AZURE_OPENAI_ENDPOINT_LLM");
            e.endpoint_embedding = get("AZURE_OPENAI_ENDPOINT_EMBEDDING");
            e.endpoint_stt = get("AZURE_OPENAI_ENDPOINT_STT");
            e.endpoint_tts = get("AZURE_OPENAI_ENDPOINT_TTS");
            get("AZURE_OPENAI_API_KEY")
        }
        "openai_compatible" => {
            e.base_url = get("OPENAI_COMPATIBLE_BASE_URL");
            get("OPENAI_COMPATIBLE_API_KEY")
        }
        "anthropic_compatible" => {
            e.base_url = get("ANTHROPIC_COMPATIBLE_BASE_URL");
            get("ANTHROPIC_COMPATIBLE_API_KEY")
        }
        "google" => get("GOOGLE_API_KEY").or_else(|| get("GEMINI_API_KEY")),
        _ => spec.required_env.first().and_then(|name| get(name)),
    };
    (e, key)
}

/// Which providers the environment configures, and what happened to each.
#[derive(Default)]
struct EnvMigration {
    new: Vec<Credential>,
    migrated: Vec<String>,
    skipped: Vec<String>,
    not_configured: Vec<String>,
    errors: Vec<String>,
}

async fn migrate_from_env(app: Arc<App>, _ctx: Ctx) -> ApiResult {
    require_key(&app.keys)?;
    let existing = app.db(|s| s.credentials()).await?;
    let mut plan = EnvMigration::default();
    for spec in PROVIDERS {
        if !spec.env_configured(&process_env) {
            plan.not_configured.push(spec.name.into());
        } else if existing.iter().any(|c| c.provider == spec.name && app.keys.can_read(c)) {
            plan.skipped.push(spec.name.into());
        } else {
            plan_env_credential(&app, spec, &mut plan).await;
        }
    }
    let new = std::mem::take(&mut plan.new);
    let linked = app.db(move |s| s.insert_credentials_linking_models(&new)).await?;
    tracing::info!(target: "audit", migrated = plan.migrated.len(), linked_models = linked,
        "migrated provider environment variables to credentials");
    ok(&json!({
        "message": format!("Migration complete. Migrated {} providers.", plan.migrated.len()),
        "migrated": plan.migrated,
        "skipped": plan.skipped,
        "not_configured": plan.not_configured,
        "errors": plan.errors,
    }))
}

async fn plan_env_credential(app: &App, spec: &ProviderSpec, plan: &mut EnvMigration) {
    let (endpoints, key) = credential_from_env(spec, &process_env);
    if let Err(e) = validate_urls(urls_of(&endpoints)).await {
        plan.errors.push(format!("{}: {}", spec.name, e.detail.as_str().unwrap_or_default()));
        return;
    }
    let sealed = match key.map(|k| app.keys.seal(&k)).transpose() {
        Ok(sealed) => sealed,
        Err(e) => {
            plan.errors.push(format!("{}: {e}", spec.name));
            return;
        }
    };
    let now = now_micros();
    plan.new.push(Credential {
        id: new_id("credential"),
        name: MIGRATED_NAME.into(),
        provider: spec.name.into(),
        modalities: spec.modalities.iter().map(|m| m.to_string()).collect(),
        api_key: sealed,
        endpoints,
        num_ctx: None,
        created: now,
        updated: now,
    });
    plan.migrated.push(spec.name.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_fields_distinguish_absent_null_and_value() {
        let body: UpdateCredential =
            serde_json::from_str(r#"{"base_url": null, "endpoint": "", "project": "p"}"#).unwrap();
        assert_eq!(body.base_url, Some(None));
        assert_eq!(body.endpoint, Some(Some(String::new())));
        assert_eq!(body.location, None);
        let mut c = Credential {
            id: "credential:a".into(),
            name: "n".into(),
            provider: "openai".into(),
            modalities: vec![],
            api_key: None,
            endpoints: Endpoints {
                base_url: Some("http://a".into()),
                endpoint: Some("http://b".into()),
                location: Some("eu".into()),
                ..Endpoints::default()
            },
            num_ctx: Some(4096),
            created: 0,
            updated: 0,
        };
        body.apply(&mut c);
        assert_eq!(c.endpoints.base_url, None);
        assert_eq!(c.endpoints.endpoint, None);
        assert_eq!(c.endpoints.location.as_deref(), Some("eu"));
        assert_eq!(c.endpoints.project.as_deref(), Some("p"));
        assert_eq!(c.num_ctx, Some(4096));
        let zero: UpdateCredential = serde_json::from_str(r#"{"num_ctx": 0}"#).unwrap();
        zero.apply(&mut c);
        assert_eq!(c.num_ctx, None);
    }

    #[test]
    fn env_credentials_take_the_documented_variables() {
        let env = |name: &str| match name {
            "GEMINI_API_KEY" => Some("g-key".to_string()),
            "OLLAMA_API_BASE" => Some(" http://localhost:11434 ".to_string()),
            _ => None,
        };
        let google = crate::providers::find("google").unwrap();
        assert_eq!(credential_from_env(google, &env).1.as_deref(), Some("g-key"));
        let ollama = crate::providers::find("ollama").unwrap();
        let (e, key) = credential_from_env(ollama, &env);
        assert_eq!((e.base_url.as_deref(), key), (Some("http://localhost:11434"), None));
    }
}
