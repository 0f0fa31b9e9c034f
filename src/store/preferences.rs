//! The two singletons: default model slots and content-processing settings.
//!
//! This module owns the `open_notebook` table, which holds one record per singleton under a
//! fixed key, mirroring the original's `open_notebook:default_models` and
//! `open_notebook:content_settings`. A singleton that was never written reads as its defaults.
//! Validation of values (which model ids, which engine names) is the HTTP layer's job.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::records::{self, Record};
use super::{Store, StoreResult};

pub(crate) const SINGLETONS: TableDefinition<&str, &[u8]> = TableDefinition::new("open_notebook");

/// The default model for each purpose; every slot is a model id or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultModels {
    pub default_chat_model: Option<String>,
    pub default_transformation_model: Option<String>,
    pub large_context_model: Option<String>,
    pub default_text_to_speech_model: Option<String>,
    pub default_speech_to_text_model: Option<String>,
    pub default_embedding_model: Option<String>,
    pub default_tools_model: Option<String>,
}

impl Record for DefaultModels {
    const KIND: &'static str = "default_models";
    const VERSION: u8 = 1;
}

/// How content is processed; the original's eight settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentSettings {
    pub default_content_processing_engine_doc: String,
    pub default_content_processing_engine_url: String,
    pub default_embedding_option: String,
    pub auto_delete_files: String,
    pub docling_ocr: bool,
    pub docling_formulas: bool,
    pub docling_vision: bool,
    pub youtube_preferred_languages: Vec<String>,
}

impl Default for ContentSettings {
    fn default() -> Self {
        Self {
            default_content_processing_engine_doc: "auto".into(),
            default_content_processing_engine_url: "auto".into(),
            default_embedding_option: "ask".into(),
            auto_delete_files: "yes".into(),
            docling_ocr: true,
            docling_formulas: false,
            docling_vision: false,
            youtube_preferred_languages: [
                "en", "pt", "es", "de", "nl", "en-GB", "fr", "de", "hi", "ja",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl Record for ContentSettings {
    const KIND: &'static str = "content_settings";
    const VERSION: u8 = 1;
}

impl Store {
    /// Reads a singleton, or its defaults when it was never written.
    pub fn singleton<R: Record + Default>(&self) -> StoreResult<R> {
        let txn = self.read()?;
        let table = txn.open_table(SINGLETONS)?;
        match table.get(R::KIND)? {
            Some(bytes) => records::decode(bytes.value()),
            None => Ok(R::default()),
        }
    }

    /// Reads, changes and writes a singleton in one transaction; returns the new value.
    pub fn update_singleton<R: Record + Default>(
        &self,
        change: impl FnOnce(&mut R),
    ) -> StoreResult<R> {
        self.write(|txn| {
            let mut table = txn.open_table(SINGLETONS)?;
            let mut value = match table.get(R::KIND)? {
                Some(bytes) => records::decode(bytes.value())?,
                None => R::default(),
            };
            change(&mut value);
            table.insert(R::KIND, records::encode(&value)?.as_slice())?;
            Ok(value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singletons_default_then_persist() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.redb")).unwrap();
        assert_eq!(store.singleton::<ContentSettings>().unwrap(), ContentSettings::default());
        store.update_singleton(|s: &mut ContentSettings| s.docling_vision = true).unwrap();
        assert!(store.singleton::<ContentSettings>().unwrap().docling_vision);
        let defaults = store
            .update_singleton(|d: &mut DefaultModels| d.default_chat_model = Some("model:a".into()))
            .unwrap();
        assert_eq!(store.singleton::<DefaultModels>().unwrap(), defaults);
    }
}
