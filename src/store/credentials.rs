//! AI-provider credentials and the models registered under them.
//!
//! This module owns the `credential` and `model` tables and the relation between them (a
//! model names at most one credential). It stores an API key exactly as it is handed one, as a
//! [`StoredKey`] that says whether the bytes are a Fernet token or legacy plaintext; deciding
//! which to write, and encrypting, is the `keys` module's job.
//!
//! Invariants: a record never holds an API key outside [`StoredKey`], whose `Debug` hides the
//! value; every change that touches several rows (a deletion that re-points or deletes models,
//! a re-encryption of every key) happens in one write transaction.

use std::collections::HashMap;
use std::fmt;

use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::records::Record;
use super::{META, Store, StoreResult, all_records, get_record, new_id, now_micros, put_record};

pub(crate) const CREDENTIALS: TableDefinition<&str, &[u8]> = TableDefinition::new("credential");
pub(crate) const MODELS: TableDefinition<&str, &[u8]> = TableDefinition::new("model");

/// The `meta` key holding the key-check token of the encryption key in use.
pub const KEY_CHECK_META: &str = "key_check";

/// The `meta` key holding the time (µs) of the last key rotation.
pub const KEY_ROTATED_META: &str = "key_rotated_at";

/// An API key as stored: a Fernet token, or plaintext kept from before encryption existed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredKey {
    /// A Fernet token under the configured key.
    Encrypted(String),
    /// A key that was stored unencrypted (imported data); encrypted at the next start-up that
    /// has a key.
    Plaintext(String),
}

impl StoredKey {
    /// Classifies a value imported from elsewhere with the original's token-shape heuristic.
    ///
    /// Our own records never need this: they say which kind they hold.
    pub fn from_imported(value: &str) -> Self {
        if crate::crypto::looks_like_fernet_token(value) {
            Self::Encrypted(value.to_string())
        } else {
            Self::Plaintext(value.to_string())
        }
    }
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encrypted(_) => f.write_str("Encrypted(***)"),
            Self::Plaintext(_) => f.write_str("Plaintext(***)"),
        }
    }
}

/// The fields of a credential that are URLs and may be cleared with `null` or `""`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    pub base_url: Option<String>,
    pub endpoint: Option<String>,
    pub api_version: Option<String>,
    pub endpoint_llm: Option<String>,
    pub endpoint_embedding: Option<String>,
    pub endpoint_stt: Option<String>,
    pub endpoint_tts: Option<String>,
    pub project: Option<String>,
    pub location: Option<String>,
    pub credentials_path: Option<String>,
}

/// One AI-provider credential (`credential:...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub id: String,
    pub name: String,
    /// Always lower-case.
    pub provider: String,
    pub modalities: Vec<String>,
    pub api_key: Option<StoredKey>,
    pub endpoints: Endpoints,
    /// Ollama's context size; `None` means the provider default.
    pub num_ctx: Option<u32>,
    pub created: i64,
    pub updated: i64,
}

impl Record for Credential {
    const KIND: &'static str = "credential";
    const VERSION: u8 = 1;
}

/// A model registered for use (`model:...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    /// The provider's own model id.
    pub name: String,
    pub provider: String,
    /// `language`, `embedding`, `text_to_speech` or `speech_to_text`.
    pub model_type: String,
    pub credential: Option<String>,
    pub created: i64,
    pub updated: i64,
}

impl Record for Model {
    const KIND: &'static str = "model";
    const VERSION: u8 = 1;
}

impl Model {
    /// Whether this is the same model as (provider, name, type), ignoring case.
    pub fn same_as(&self, provider: &str, name: &str, model_type: &str) -> bool {
        self.provider.eq_ignore_ascii_case(provider)
            && self.name.eq_ignore_ascii_case(name)
            && self.model_type.eq_ignore_ascii_case(model_type)
    }
}

/// A model to register: (name, provider, type, credential).
#[derive(Debug, Clone)]
pub struct NewModel {
    pub name: String,
    pub provider: String,
    pub model_type: String,
    pub credential: Option<String>,
}

/// What registering one model did.
#[derive(Debug, Clone)]
pub enum Registered {
    Created(Model),
    /// A model with the same provider, name and type (ignoring case) already exists.
    Exists(Model),
}

/// What deleting a credential did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialDeletion {
    Deleted {
        deleted_models: u64,
    },
    NotFound,
    /// `migrate_to` names no credential; nothing was changed.
    TargetNotFound,
}

/// A credential's new stored key, for [`Store::replace_api_keys`].
#[derive(Debug, Clone)]
pub struct KeyUpdate {
    pub credential_id: String,
    pub api_key: StoredKey,
}

impl Store {
    /// Every credential, ordered by provider then creation time.
    pub fn credentials(&self) -> StoreResult<Vec<Credential>> {
        let txn = self.read()?;
        let mut all: Vec<Credential> = all_records(&txn.open_table(CREDENTIALS)?)?;
        all.sort_by(|a, b| (&a.provider, a.created, &a.id).cmp(&(&b.provider, b.created, &b.id)));
        Ok(all)
    }

    /// One credential.
    pub fn credential(&self, id: &str) -> StoreResult<Option<Credential>> {
        let txn = self.read()?;
        get_record(&txn.open_table(CREDENTIALS)?, id)
    }

    /// Writes a credential (new or changed) under its id.
    pub fn put_credential(&self, credential: &Credential) -> StoreResult<()> {
        self.write(|txn| put_record(txn, CREDENTIALS, &credential.id, credential))
    }

    /// Overwrites an existing credential; false (nothing written) when it was deleted meanwhile.
    pub fn replace_credential(&self, credential: &Credential) -> StoreResult<bool> {
        self.write(|txn| {
            if txn.open_table(CREDENTIALS)?.get(credential.id.as_str())?.is_none() {
                return Ok(false);
            }
            put_record(txn, CREDENTIALS, &credential.id, credential)?;
            Ok(true)
        })
    }

    /// Writes new credentials and links every model of their provider that has no credential
    /// yet, all in one transaction (environment migration). Returns how many models were linked.
    pub fn insert_credentials_linking_models(&self, new: &[Credential]) -> StoreResult<u64> {
        self.write(|txn| {
            let mut linked = 0;
            for credential in new {
                put_record(txn, CREDENTIALS, &credential.id, credential)?;
                linked += link_unassigned_models(txn, credential)?;
            }
            Ok(linked)
        })
    }

    /// Deletes a credential; its models move to `migrate_to` when given, else are deleted.
    pub fn delete_credential(
        &self,
        id: &str,
        migrate_to: Option<&str>,
    ) -> StoreResult<CredentialDeletion> {
        self.write(|txn| {
            let mut credentials = txn.open_table(CREDENTIALS)?;
            if credentials.get(id)?.is_none() {
                return Ok(CredentialDeletion::NotFound);
            }
            if let Some(target) = migrate_to
                && (target == id || credentials.get(target)?.is_none())
            {
                return Ok(CredentialDeletion::TargetNotFound);
            }
            credentials.remove(id)?;
            drop(credentials);
            let deleted_models = reassign_models(txn, id, migrate_to)?;
            Ok(CredentialDeletion::Deleted { deleted_models })
        })
    }

    /// Replaces stored API keys and sets `meta` entries (the key-check token, the rotation
    /// time) in one transaction.
    ///
    /// Credentials deleted meanwhile are skipped. Returns how many keys were written.
    pub fn replace_api_keys(
        &self,
        updates: &[KeyUpdate],
        meta: &[(&str, &[u8])],
    ) -> StoreResult<usize> {
        self.write(|txn| {
            let mut written = 0;
            for update in updates {
                let current =
                    get_record::<Credential>(&txn.open_table(CREDENTIALS)?, &update.credential_id)?;
                let Some(mut credential) = current else { continue };
                credential.api_key = Some(update.api_key.clone());
                put_record(txn, CREDENTIALS, &credential.id, &credential)?;
                written += 1;
            }
            let mut table = txn.open_table(META)?;
            for (key, value) in meta {
                table.insert(*key, *value)?;
            }
            Ok(written)
        })
    }

    /// The stored key-check token, if one was ever written.
    pub fn key_check(&self) -> StoreResult<Option<String>> {
        Ok(self.meta(KEY_CHECK_META)?.map(|raw| String::from_utf8_lossy(&raw).into_owned()))
    }

    /// Every model, optionally of one type, ordered by provider, type and name.
    pub fn models(&self, model_type: Option<&str>) -> StoreResult<Vec<Model>> {
        let txn = self.read()?;
        let mut all: Vec<Model> = all_records(&txn.open_table(MODELS)?)?;
        all.retain(|m| model_type.is_none_or(|t| m.model_type == t));
        all.sort_by(|a, b| {
            (&a.provider, &a.model_type, &a.name, &a.id).cmp(&(
                &b.provider,
                &b.model_type,
                &b.name,
                &b.id,
            ))
        });
        Ok(all)
    }

    /// One model.
    pub fn model(&self, id: &str) -> StoreResult<Option<Model>> {
        let txn = self.read()?;
        get_record(&txn.open_table(MODELS)?, id)
    }

    /// How many models each credential has.
    pub fn model_counts(&self) -> StoreResult<HashMap<String, u64>> {
        let mut counts = HashMap::new();
        for model in self.models(None)? {
            if let Some(credential) = model.credential {
                *counts.entry(credential).or_default() += 1;
            }
        }
        Ok(counts)
    }

    /// Registers models unless an equal one exists; the check and the inserts share one
    /// transaction, so two concurrent calls cannot both create the same model.
    pub fn register_models(&self, new: &[NewModel]) -> StoreResult<Vec<Registered>> {
        self.write(|txn| {
            let mut existing: Vec<Model> = all_records(&txn.open_table(MODELS)?)?;
            let mut outcome = Vec::with_capacity(new.len());
            for wanted in new {
                let same = existing
                    .iter()
                    .find(|m| m.same_as(&wanted.provider, &wanted.name, &wanted.model_type));
                if let Some(found) = same {
                    outcome.push(Registered::Exists(found.clone()));
                    continue;
                }
                let now = now_micros();
                let model = Model {
                    id: new_id("model"),
                    name: wanted.name.clone(),
                    provider: wanted.provider.clone(),
                    model_type: wanted.model_type.clone(),
                    credential: wanted.credential.clone(),
                    created: now,
                    updated: now,
                };
                put_record(txn, MODELS, &model.id, &model)?;
                existing.push(model.clone());
                outcome.push(Registered::Created(model));
            }
            Ok(outcome)
        })
    }

    /// Deletes a model; false when there was none.
    pub fn delete_model(&self, id: &str) -> StoreResult<bool> {
        self.write(|txn| Ok(txn.open_table(MODELS)?.remove(id)?.is_some()))
    }
}

/// Points every model of `credential`'s provider that has no credential at it.
fn link_unassigned_models(txn: &WriteTransaction, credential: &Credential) -> StoreResult<u64> {
    let models: Vec<Model> = all_records(&txn.open_table(MODELS)?)?;
    let mut linked = 0;
    for mut model in models {
        if model.credential.is_none() && model.provider.eq_ignore_ascii_case(&credential.provider) {
            model.credential = Some(credential.id.clone());
            model.updated = now_micros();
            put_record(txn, MODELS, &model.id.clone(), &model)?;
            linked += 1;
        }
    }
    Ok(linked)
}

/// Moves the models of credential `from` to `to`, or deletes them; returns how many were deleted.
fn reassign_models(txn: &WriteTransaction, from: &str, to: Option<&str>) -> StoreResult<u64> {
    let models: Vec<Model> = all_records(&txn.open_table(MODELS)?)?;
    let mut deleted = 0;
    for mut model in models.into_iter().filter(|m| m.credential.as_deref() == Some(from)) {
        match to {
            Some(target) => {
                model.credential = Some(target.to_string());
                model.updated = now_micros();
                put_record(txn, MODELS, &model.id.clone(), &model)?;
            }
            None => {
                txn.open_table(MODELS)?.remove(model.id.as_str())?;
                deleted += 1;
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(provider: &str, key: Option<StoredKey>) -> Credential {
        Credential {
            id: new_id("credential"),
            name: "c".into(),
            provider: provider.into(),
            modalities: vec![],
            api_key: key,
            endpoints: Endpoints::default(),
            num_ctx: None,
            created: now_micros(),
            updated: now_micros(),
        }
    }

    fn new_model(name: &str, credential: Option<&str>) -> NewModel {
        NewModel {
            name: name.into(),
            provider: "openai".into(),
            model_type: "language".into(),
            credential: credential.map(String::from),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.redb")).unwrap();
        (dir, store)
    }

    #[test]
    fn stored_keys_never_print_their_value() {
        let shown = format!("{:?}", credential("x", Some(StoredKey::Plaintext("sk-123".into()))));
        assert!(!shown.contains("sk-123"), "{shown}");
        assert!(shown.contains("Plaintext(***)"));
    }

    #[test]
    fn imported_values_are_classified_by_token_shape() {
        let token = crate::crypto::Cipher::from_passphrase("k").encrypt("sk-abc");
        assert_eq!(StoredKey::from_imported(&token), StoredKey::Encrypted(token.clone()));
        assert_eq!(StoredKey::from_imported("sk-abc"), StoredKey::Plaintext("sk-abc".into()));
    }

    #[test]
    fn registering_is_case_insensitive_and_idempotent() {
        let (_dir, store) = store();
        let first = store.register_models(&[new_model("GPT-4o", None)]).unwrap();
        assert!(matches!(first[0], Registered::Created(_)));
        let again = store.register_models(&[new_model("gpt-4O", None)]).unwrap();
        assert!(matches!(again[0], Registered::Exists(_)));
        assert_eq!(store.models(None).unwrap().len(), 1);
    }

    #[test]
    fn deleting_a_credential_deletes_or_moves_its_models() {
        let (_dir, store) = store();
        let (a, b) = (credential("openai", None), credential("openai", None));
        store.put_credential(&a).unwrap();
        store.put_credential(&b).unwrap();
        store
            .register_models(&[new_model("m1", Some(&a.id)), new_model("m2", Some(&a.id))])
            .unwrap();
        assert_eq!(
            store.delete_credential(&a.id, Some("credential:nope")).unwrap(),
            CredentialDeletion::TargetNotFound
        );
        assert_eq!(
            store.delete_credential(&a.id, Some(&b.id)).unwrap(),
            CredentialDeletion::Deleted { deleted_models: 0 }
        );
        assert_eq!(store.model_counts().unwrap().get(&b.id), Some(&2));
        assert_eq!(
            store.delete_credential(&b.id, None).unwrap(),
            CredentialDeletion::Deleted { deleted_models: 2 }
        );
        assert!(store.models(None).unwrap().is_empty());
        assert_eq!(store.delete_credential(&b.id, None).unwrap(), CredentialDeletion::NotFound);
    }

    #[test]
    fn replacing_keys_writes_keys_and_check_together() {
        let (_dir, store) = store();
        let c = credential("openai", Some(StoredKey::Plaintext("sk".into())));
        store.put_credential(&c).unwrap();
        let update =
            KeyUpdate { credential_id: c.id.clone(), api_key: StoredKey::Encrypted("t".into()) };
        let gone = KeyUpdate { credential_id: "credential:gone".into(), ..update.clone() };
        assert_eq!(
            store.replace_api_keys(&[update, gone], &[(KEY_CHECK_META, b"check")]).unwrap(),
            1
        );
        let stored = store.credential(&c.id).unwrap().unwrap();
        assert_eq!(stored.api_key, Some(StoredKey::Encrypted("t".into())));
        assert_eq!(store.key_check().unwrap().as_deref(), Some("check"));
    }
}
