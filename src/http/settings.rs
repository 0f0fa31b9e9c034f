//! `/api/settings` (content-processing settings) and `/api/providers` (the provider registry).
//!
//! Settings updates are partial: an absent or `null` field leaves the stored value alone. A
//! value outside the original's allowed set is a 422 naming the field, so the stored settings
//! are always ones the original could hold.

use std::sync::Arc;

use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::App;
use super::reply::{ApiError, ApiResult, ok};
use super::request::Ctx;
use super::router::RouterBuilder;
use crate::providers::{PROVIDERS, process_env};
use crate::store::ContentSettings;

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder
        .route(Method::GET, "/api/settings", read)
        .route(Method::PUT, "/api/settings", update)
        .route(Method::GET, "/api/providers", providers)
}

const DOC_ENGINES: &[&str] = &["auto", "docling", "simple"];
const URL_ENGINES: &[&str] = &["auto", "firecrawl", "jina", "crawl4ai", "simple"];
const EMBEDDING_OPTIONS: &[&str] = &["ask", "always", "never"];
const YES_NO: &[&str] = &["yes", "no"];

async fn read(app: Arc<App>, _ctx: Ctx) -> ApiResult {
    let settings: ContentSettings = app.db(|s| s.singleton()).await?;
    ok(&json!(settings))
}

/// A partial settings update; `None` (absent or `null`) keeps the stored value.
#[derive(Deserialize, Default)]
struct SettingsPatch {
    default_content_processing_engine_doc: Option<String>,
    default_content_processing_engine_url: Option<String>,
    default_embedding_option: Option<String>,
    auto_delete_files: Option<String>,
    docling_ocr: Option<bool>,
    docling_formulas: Option<bool>,
    docling_vision: Option<bool>,
    youtube_preferred_languages: Option<Vec<String>>,
}

fn one_of(field: &str, value: &Option<String>, allowed: &[&str]) -> Result<(), ApiError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => {
            let choices: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
            Err(ApiError::unprocessable(vec![json!({
                "type": "literal_error",
                "loc": ["body", field],
                "msg": format!("Input should be {}", choices.join(", ")),
                "input": v,
            })]))
        }
        _ => Ok(()),
    }
}

impl SettingsPatch {
    fn check(&self) -> Result<(), ApiError> {
        one_of(
            "default_content_processing_engine_doc",
            &self.default_content_processing_engine_doc,
            DOC_ENGINES,
        )?;
        one_of(
            "default_content_processing_engine_url",
            &self.default_content_processing_engine_url,
            URL_ENGINES,
        )?;
        one_of("default_embedding_option", &self.default_embedding_option, EMBEDDING_OPTIONS)?;
        one_of("auto_delete_files", &self.auto_delete_files, YES_NO)
    }

    fn apply(self, s: &mut ContentSettings) {
        let text = [
            (
                self.default_content_processing_engine_doc,
                &mut s.default_content_processing_engine_doc,
            ),
            (
                self.default_content_processing_engine_url,
                &mut s.default_content_processing_engine_url,
            ),
            (self.default_embedding_option, &mut s.default_embedding_option),
            (self.auto_delete_files, &mut s.auto_delete_files),
        ];
        for (change, field) in text {
            if let Some(value) = change {
                *field = value;
            }
        }
        let flags = [
            (self.docling_ocr, &mut s.docling_ocr),
            (self.docling_formulas, &mut s.docling_formulas),
            (self.docling_vision, &mut s.docling_vision),
        ];
        for (change, field) in flags {
            if let Some(value) = change {
                *field = value;
            }
        }
        if let Some(languages) = self.youtube_preferred_languages {
            s.youtube_preferred_languages = languages;
        }
    }
}

async fn update(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let patch: SettingsPatch = ctx.json()?;
    patch.check()?;
    let updated =
        app.db(move |s| s.update_singleton(|c: &mut ContentSettings| patch.apply(c))).await?;
    ok(&json!(updated))
}

/// The registry in display order, with whether the environment configures each provider.
async fn providers(_app: Arc<App>, _ctx: Ctx) -> ApiResult {
    let list: Vec<Value> = PROVIDERS
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "display_name": p.display_name,
                "modalities": p.modalities,
                "docs_url": p.docs_url,
                "env_configured": p.env_configured(&process_env),
            })
        })
        .collect();
    ok(&list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_updates_keep_unsent_fields_and_refuse_unknown_values() {
        let patch: SettingsPatch =
            serde_json::from_str(r#"{"docling_vision": true, "auto_delete_files": null}"#).unwrap();
        assert!(patch.check().is_ok());
        let mut s = ContentSettings::default();
        patch.apply(&mut s);
        assert!(s.docling_vision);
        assert_eq!(s.auto_delete_files, "yes");
        let bad: SettingsPatch =
            serde_json::from_str(r#"{"default_embedding_option": "sometimes"}"#).unwrap();
        assert_eq!(bad.check().unwrap_err().status, http::StatusCode::UNPROCESSABLE_ENTITY);
    }
}
