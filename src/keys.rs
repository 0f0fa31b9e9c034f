//! The policy for stored API keys: when they are encrypted, how they are read back, what is
//! checked at start-up, and how every key moves from one encryption key to another.
//!
//! This module sits between `crypto` (Fernet, which knows nothing of records) and `store`
//! (which keeps whatever [`StoredKey`] it is given). A [`KeyRing`] holds the cipher derived
//! from `OPEN_NOTEBOOK_ENCRYPTION_KEY`, or nothing when the variable is unset; nothing new is
//! ever stored in plaintext. [`startup_check`] stores the key-check value on first use, reports
//! a changed key with the count of unreadable keys and the command that fixes it, and encrypts
//! legacy plaintext keys. [`plan_rotation`] and [`apply_rotation`] implement `rotate-key`.
//!
//! Invariant: no API key, passphrase or token is ever logged or put in an error; logs carry
//! counts and credential ids only.

use std::path::Path;

use crate::config::Secret;
use crate::crypto::Cipher;
use crate::store::{
    Credential, KEY_CHECK_META, KEY_ROTATED_META, KeyUpdate, Store, StoreError, StoredKey,
};

/// The original's 400 detail when a key must be stored but no encryption key is configured.
pub const NO_KEY_DETAIL: &str = "Encryption key not configured. Set \
OPEN_NOTEBOOK_ENCRYPTION_KEY to enable storing API keys.";

/// The original's marker on a credential whose key cannot be decrypted.
pub const DECRYPTION_ERROR: &str =
    "Failed to decrypt API key. The encryption key may have changed.";

/// Why a stored key cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No encryption key is configured, so nothing can be encrypted or decrypted.
    #[error("{NO_KEY_DETAIL}")]
    NotConfigured,
    /// The token was made under another key (or is damaged).
    #[error("{DECRYPTION_ERROR}")]
    Undecryptable,
}

/// The cipher for stored API keys, if an encryption key is configured.
#[derive(Debug, Default)]
pub struct KeyRing {
    cipher: Option<Cipher>,
}

impl KeyRing {
    /// A key ring for the configured passphrase (or none).
    pub fn new(passphrase: Option<&Secret>) -> Self {
        Self { cipher: passphrase.map(|p| Cipher::from_passphrase(p.expose())) }
    }

    /// Whether an encryption key is configured.
    pub fn is_configured(&self) -> bool {
        self.cipher.is_some()
    }

    /// Encrypts a new API key for storage; refuses when no key is configured.
    pub fn seal(&self, plaintext: &str) -> Result<StoredKey, KeyError> {
        let cipher = self.cipher.as_ref().ok_or(KeyError::NotConfigured)?;
        Ok(StoredKey::Encrypted(cipher.encrypt(plaintext)))
    }

    /// The usable API key. Legacy plaintext works with or without a configured key.
    pub fn open(&self, stored: &StoredKey) -> Result<Secret, KeyError> {
        match stored {
            StoredKey::Plaintext(value) => Ok(Secret::new(value.as_str())),
            StoredKey::Encrypted(token) => {
                let cipher = self.cipher.as_ref().ok_or(KeyError::NotConfigured)?;
                cipher.decrypt(token).map(Secret::new).map_err(|_| KeyError::Undecryptable)
            }
        }
    }

    /// Whether a credential's key (if any) can be read with this ring.
    pub fn can_read(&self, credential: &Credential) -> bool {
        credential.api_key.as_ref().is_none_or(|key| self.open(key).is_ok())
    }
}

/// What the start-up check found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartupReport {
    /// Stored keys the configured key cannot decrypt (all encrypted ones when none is set).
    pub unreadable: usize,
    /// Whether the key differs from the one the key-check value was made with.
    pub key_changed: bool,
    /// Legacy plaintext keys encrypted by this start-up.
    pub encrypted_legacy: usize,
    /// Whether this start-up stored the key-check value.
    pub stored_key_check: bool,
}

/// The command that moves every stored key to the current encryption key.
pub fn rotate_command(data_dir: &Path) -> String {
    format!(
        "open-notebook rotate-key --data-dir '{}' --old-key-file OLD_KEY_FILE \
         --new-key-file NEW_KEY_FILE",
        data_dir.display().to_string().replace('\'', r"'\''")
    )
}

/// Checks the stored keys against the configured key and reports problems in the log.
///
/// With no key configured, only counts the keys that cannot be used. With a key: stores the
/// key-check value on first use; reports a changed key at once with the number of unreadable
/// keys and the `rotate-key` command; and, when the key is the right one, encrypts every
/// legacy plaintext key in one transaction. Never fails because of a wrong key: the server
/// still starts and marks the affected credentials.
pub fn startup_check(
    store: &Store,
    ring: &KeyRing,
    data_dir: &Path,
) -> Result<StartupReport, StoreError> {
    let credentials = store.credentials()?;
    let mut report = StartupReport {
        unreadable: credentials.iter().filter(|c| !ring.can_read(c)).count(),
        ..StartupReport::default()
    };
    let Some(cipher) = ring.cipher.as_ref() else {
        if report.unreadable > 0 {
            tracing::warn!(
                target: "audit",
                unreadable = report.unreadable,
                "stored API keys are encrypted but OPEN_NOTEBOOK_ENCRYPTION_KEY is not set; \
                 those credentials cannot be used until the key is set again"
            );
        }
        return Ok(report);
    };
    let check = store.key_check()?;
    report.key_changed = check.as_deref().is_some_and(|token| !cipher.verifies_key_check(token));
    if report.key_changed || report.unreadable > 0 {
        warn_changed_key(&report, data_dir);
    }
    if report.key_changed || (check.is_none() && report.unreadable > 0) {
        // Encrypting plaintext now would mix keys; rotate-key encrypts it with the rest.
        return Ok(report);
    }
    // TODO: the rewritten rows leave their plaintext in pages redb has freed until it reuses
    // them; a compaction (which needs exclusive access to the database) would scrub them.
    let updates = legacy_updates(&credentials, cipher);
    let new_check = check.is_none().then(|| cipher.key_check_token());
    if !updates.is_empty() || new_check.is_some() {
        let meta: Vec<(&str, &[u8])> =
            new_check.iter().map(|t| (KEY_CHECK_META, t.as_bytes())).collect();
        store.replace_api_keys(&updates, &meta)?;
    }
    report.encrypted_legacy = updates.len();
    report.stored_key_check = new_check.is_some();
    if report.encrypted_legacy > 0 {
        tracing::info!(
            target: "audit",
            count = report.encrypted_legacy,
            "encrypted legacy plaintext API keys with the configured key"
        );
    }
    Ok(report)
}

fn warn_changed_key(report: &StartupReport, data_dir: &Path) {
    let what = if report.key_changed {
        "OPEN_NOTEBOOK_ENCRYPTION_KEY is not the key this database was last used with"
    } else {
        "some stored API keys cannot be decrypted with OPEN_NOTEBOOK_ENCRYPTION_KEY"
    };
    tracing::warn!(
        target: "audit",
        unreadable = report.unreadable,
        "{what}: {} stored API keys cannot be decrypted. Either start again with the previous \
         key, or stop the server, put the previous key in OLD_KEY_FILE and the current one in \
         NEW_KEY_FILE, and run: {}",
        report.unreadable,
        rotate_command(&std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.into()))
    );
}

fn legacy_updates(credentials: &[Credential], cipher: &Cipher) -> Vec<KeyUpdate> {
    credentials
        .iter()
        .filter_map(|c| match &c.api_key {
            Some(StoredKey::Plaintext(plain)) => Some(KeyUpdate {
                credential_id: c.id.clone(),
                api_key: StoredKey::Encrypted(cipher.encrypt(plain)),
            }),
            _ => None,
        })
        .collect()
}

/// Why a rotation cannot proceed; nothing has been written when one of these is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotationError {
    /// Some keys decrypt under neither the old nor the new key.
    #[error(
        "{} stored API keys cannot be decrypted with the old key ({}); nothing was changed. \
         Check that --old-key-file holds the key the keys were stored with",
        ids.len(),
        ids.join(", ")
    )]
    Unreadable { ids: Vec<String> },
    /// The key-check value matches neither key, so the old key is not the one in use.
    #[error(
        "the old key is not the key this database was last used with; nothing was changed. \
         Check that --old-key-file holds the previous OPEN_NOTEBOOK_ENCRYPTION_KEY"
    )]
    WrongOldKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every key re-encrypted under the new key, computed before anything is written.
#[derive(Debug, Default)]
pub struct RotationPlan {
    updates: Vec<KeyUpdate>,
    /// Keys decrypted with the old key and re-encrypted.
    pub reencrypted: usize,
    /// Keys that already decrypt with the new key and are left alone.
    pub already_new: usize,
    /// Legacy plaintext keys that will be encrypted.
    pub plaintext: usize,
}

/// Decrypts every stored key with the old key (a key already under the new key is accepted
/// as is) and prepares its re-encryption. Fails, having written nothing, if any key is
/// unreadable or the key-check value belongs to neither key.
///
/// The caller must hold the database exclusively between this and [`apply_rotation`]; the
/// `rotate-key` command does, because it refuses to run while a server has the file open.
pub fn plan_rotation(
    store: &Store,
    old: &Cipher,
    new: &Cipher,
) -> Result<RotationPlan, RotationError> {
    if let Some(token) = store.key_check()?
        && !old.verifies_key_check(&token)
        && !new.verifies_key_check(&token)
    {
        return Err(RotationError::WrongOldKey);
    }
    let mut plan = RotationPlan::default();
    let mut unreadable = Vec::new();
    for credential in store.credentials()? {
        let plain = match &credential.api_key {
            None => continue,
            Some(StoredKey::Plaintext(plain)) => {
                plan.plaintext += 1;
                Secret::new(plain.as_str())
            }
            Some(StoredKey::Encrypted(token)) => match old.decrypt(token) {
                Ok(plain) => {
                    plan.reencrypted += 1;
                    Secret::new(plain)
                }
                Err(_) if new.decrypt(token).is_ok() => {
                    plan.already_new += 1;
                    continue;
                }
                Err(_) => {
                    unreadable.push(credential.id.clone());
                    continue;
                }
            },
        };
        let api_key = StoredKey::Encrypted(new.encrypt(plain.expose()));
        plan.updates.push(KeyUpdate { credential_id: credential.id, api_key });
    }
    if !unreadable.is_empty() {
        return Err(RotationError::Unreadable { ids: unreadable });
    }
    Ok(plan)
}

/// Writes a plan's keys, the new key-check value and the rotation time in one transaction,
/// then records the rotation in the audit log. Returns how many keys were written.
pub fn apply_rotation(
    store: &Store,
    plan: &RotationPlan,
    new: &Cipher,
) -> Result<usize, StoreError> {
    let check = new.key_check_token();
    let when = crate::store::now_micros().to_le_bytes();
    let meta: [(&str, &[u8]); 2] =
        [(KEY_CHECK_META, check.as_bytes()), (KEY_ROTATED_META, when.as_slice())];
    let written = store.replace_api_keys(&plan.updates, &meta)?;
    tracing::info!(
        target: "audit",
        reencrypted = plan.reencrypted,
        plaintext = plan.plaintext,
        already_new = plan.already_new,
        "rotated the encryption key of stored API keys"
    );
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Endpoints, new_id, now_micros};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.redb")).unwrap();
        (dir, store)
    }

    fn add(store: &Store, key: Option<StoredKey>) -> String {
        let credential = Credential {
            id: new_id("credential"),
            name: "n".into(),
            provider: "openai".into(),
            modalities: vec![],
            api_key: key,
            endpoints: Endpoints::default(),
            num_ctx: None,
            created: now_micros(),
            updated: now_micros(),
        };
        store.put_credential(&credential).unwrap();
        credential.id
    }

    fn ring(passphrase: &str) -> KeyRing {
        KeyRing::new(Some(&Secret::new(passphrase)))
    }

    fn key_of(store: &Store, id: &str) -> StoredKey {
        store.credential(id).unwrap().unwrap().api_key.unwrap()
    }

    #[test]
    fn sealing_needs_a_key_and_plaintext_always_opens() {
        assert_eq!(KeyRing::new(None).seal("sk"), Err(KeyError::NotConfigured));
        let plain = StoredKey::Plaintext("sk-legacy".into());
        assert_eq!(KeyRing::new(None).open(&plain).unwrap().expose(), "sk-legacy");
        let sealed = ring("a").seal("sk-new").unwrap();
        assert_eq!(ring("a").open(&sealed).unwrap().expose(), "sk-new");
        assert_eq!(ring("b").open(&sealed).err(), Some(KeyError::Undecryptable));
        assert_eq!(KeyRing::new(None).open(&sealed).err(), Some(KeyError::NotConfigured));
    }

    #[test]
    fn first_start_stores_the_check_and_encrypts_legacy_keys() {
        let (dir, store) = store();
        let id = add(&store, Some(StoredKey::Plaintext("sk-legacy".into())));
        let report = startup_check(&store, &ring("k1"), dir.path()).unwrap();
        assert_eq!(report.encrypted_legacy, 1);
        assert!(report.stored_key_check && !report.key_changed);
        assert!(matches!(key_of(&store, &id), StoredKey::Encrypted(_)));
        assert_eq!(ring("k1").open(&key_of(&store, &id)).unwrap().expose(), "sk-legacy");
        let again = startup_check(&store, &ring("k1"), dir.path()).unwrap();
        assert_eq!(again, StartupReport::default());
    }

    #[test]
    fn a_changed_key_is_reported_and_nothing_is_rewritten() {
        let (dir, store) = store();
        let sealed = add(&store, Some(ring("k1").seal("sk-1").unwrap()));
        startup_check(&store, &ring("k1"), dir.path()).unwrap();
        let legacy = add(&store, Some(StoredKey::Plaintext("sk-2".into())));
        let report = startup_check(&store, &ring("k2"), dir.path()).unwrap();
        assert!(report.key_changed);
        assert_eq!(report.unreadable, 1);
        assert_eq!(report.encrypted_legacy, 0);
        assert_eq!(key_of(&store, &legacy), StoredKey::Plaintext("sk-2".into()));
        assert_eq!(ring("k1").open(&key_of(&store, &sealed)).unwrap().expose(), "sk-1");
    }

    #[test]
    fn rotation_with_a_wrong_old_key_changes_nothing_then_works() {
        let (dir, store) = store();
        let a = add(&store, Some(ring("k1").seal("sk-a").unwrap()));
        startup_check(&store, &ring("k1"), dir.path()).unwrap();
        let b = add(&store, Some(StoredKey::Plaintext("sk-b".into())));
        let c = add(&store, Some(ring("k2").seal("sk-c").unwrap()));
        let (k1, k2, wrong) = (
            Cipher::from_passphrase("k1"),
            Cipher::from_passphrase("k2"),
            Cipher::from_passphrase("x"),
        );
        assert!(matches!(plan_rotation(&store, &wrong, &k2), Err(RotationError::WrongOldKey)));
        let plan = plan_rotation(&store, &k1, &k2).unwrap();
        assert_eq!((plan.reencrypted, plan.plaintext, plan.already_new), (1, 1, 1));
        assert_eq!(apply_rotation(&store, &plan, &k2).unwrap(), 2);
        for (id, plain) in [(a, "sk-a"), (b, "sk-b"), (c, "sk-c")] {
            assert_eq!(ring("k2").open(&key_of(&store, &id)).unwrap().expose(), plain);
        }
        let report = startup_check(&store, &ring("k2"), dir.path()).unwrap();
        assert_eq!(report, StartupReport::default());
    }

    #[test]
    fn rotation_refuses_keys_readable_by_neither_key() {
        let (_dir, store) = store();
        let id = add(&store, Some(ring("other").seal("sk").unwrap()));
        let (k1, k2) = (Cipher::from_passphrase("k1"), Cipher::from_passphrase("k2"));
        match plan_rotation(&store, &k1, &k2) {
            Err(RotationError::Unreadable { ids }) => assert_eq!(ids, vec![id.clone()]),
            other => panic!("{other:?}"),
        }
        assert!(ring("other").open(&key_of(&store, &id)).is_ok());
    }

    #[test]
    fn the_fix_command_names_the_data_folder() {
        assert_eq!(
            rotate_command(Path::new("/srv/it's")),
            "open-notebook rotate-key --data-dir '/srv/it'\\''s' --old-key-file OLD_KEY_FILE \
             --new-key-file NEW_KEY_FILE"
        );
    }
}
