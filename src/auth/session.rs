//! Session tokens: `POST /api/auth/login` trades the password for a token with an expiry.
//!
//! A token is a Fernet token under a random server secret kept in the database, carrying a
//! session id, its expiry and a tag derived from the current password. Changing the password
//! therefore ends every session at the next start; logging out records the session id as
//! revoked (persisted until the token would have expired anyway). Tokens are checked only
//! after the password itself did not match, and the UI keeps them instead of the password.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Secret;
use crate::crypto::Cipher;

/// Format marker at the start of every token's plaintext.
const VERSION: &str = "s1";

/// A session that was issued: its token and when it ends.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub session_id: String,
    pub expires_at: i64,
}

/// Issues and verifies session tokens.
pub struct Sessions {
    cipher: Cipher,
    password_tag: String,
    ttl: Duration,
    revoked: RwLock<HashMap<String, i64>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

/// A new random server secret, as a Fernet key string.
pub fn new_server_secret() -> Secret {
    let mut bytes = [0u8; 32];
    // Without OS randomness no secure token can be made; a zero key would be guessable, so
    // the caller refuses to start in that case (the key is checked by `Sessions::new`).
    if getrandom::getrandom(&mut bytes).is_err() {
        return Secret::new("");
    }
    Secret::new(base64::engine::general_purpose::URL_SAFE.encode(bytes))
}

impl Sessions {
    /// Sessions under `server_secret` (a Fernet key string), bound to `password`.
    pub fn new(
        server_secret: &Secret,
        password: &Secret,
        ttl: Duration,
        revoked: HashMap<String, i64>,
    ) -> Option<Self> {
        let cipher = Cipher::from_key_string(server_secret.expose()).ok()?;
        Some(Self { cipher, password_tag: tag(password), ttl, revoked: RwLock::new(revoked) })
    }

    /// Issues a token valid for the configured lifetime from `now` (Unix seconds).
    pub fn issue(&self, now: i64) -> Issued {
        let session_id = random_id();
        let expires_at = now.saturating_add(self.ttl.as_secs() as i64);
        let payload = format!("{VERSION}|{session_id}|{expires_at}|{}", self.password_tag);
        Issued { token: self.cipher.encrypt(&payload), session_id, expires_at }
    }

    /// The session id of a valid, unexpired, unrevoked token.
    pub fn verify(&self, token: &[u8], now: i64) -> Option<String> {
        let token = std::str::from_utf8(token).ok()?;
        if !crate::crypto::looks_like_fernet_token(token) {
            return None;
        }
        let payload = self.cipher.decrypt(token).ok()?;
        let mut parts = payload.split('|');
        let (version, id, expiry, password_tag) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let same_password: bool =
            password_tag.as_bytes().ct_eq(self.password_tag.as_bytes()).into();
        let expires_at: i64 = expiry.parse().ok()?;
        if version != VERSION || !same_password || expires_at <= now || self.is_revoked(id) {
            return None;
        }
        Some(id.to_string())
    }

    fn is_revoked(&self, id: &str) -> bool {
        self.revoked.read().map(|set| set.contains_key(id)).unwrap_or(true)
    }

    /// Revokes a session until `expires_at`; returns the revocation list to persist.
    pub fn revoke(&self, id: &str, expires_at: i64, now: i64) -> HashMap<String, i64> {
        let mut set = self.revoked.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        set.retain(|_, until| *until > now);
        set.insert(id.to_string(), expires_at);
        set.clone()
    }

    /// The expiry carried by a token this server issued, if it decrypts.
    pub fn expiry_of(&self, token: &[u8]) -> Option<i64> {
        let payload = self.cipher.decrypt(std::str::from_utf8(token).ok()?).ok()?;
        payload.split('|').nth(2)?.parse().ok()
    }
}

fn tag(password: &Secret) -> String {
    let digest = Sha256::new()
        .chain_update(b"open-notebook session binding\0")
        .chain_update(password.expose().as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::getrandom(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses a lifetime like `12h`, `30m`, `45s` or a plain number of seconds.
pub fn parse_ttl(raw: &str) -> Option<Duration> {
    let raw = raw.trim().to_ascii_lowercase();
    let (digits, unit) = match raw.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => raw.split_at(at),
        None => (raw.as_str(), "s"),
    };
    let value: u64 = digits.parse().ok().filter(|v| *v > 0)?;
    let seconds = match unit {
        "s" => value,
        "m" => value.checked_mul(60)?,
        "h" => value.checked_mul(3600)?,
        "d" => value.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(password: &str) -> (Secret, Sessions) {
        let secret = new_server_secret();
        let sessions =
            Sessions::new(&secret, &Secret::new(password), Duration::from_secs(60), HashMap::new())
                .unwrap();
        (secret, sessions)
    }

    #[test]
    fn tokens_verify_until_expiry_or_revocation() {
        let (_, sessions) = sessions("pw");
        let issued = sessions.issue(1_000);
        let id = sessions.verify(issued.token.as_bytes(), 1_030).expect("valid");
        assert_eq!(id, issued.session_id);
        assert!(sessions.verify(issued.token.as_bytes(), 1_060).is_none(), "expired");
        sessions.revoke(&id, issued.expires_at, 1_001);
        assert!(sessions.verify(issued.token.as_bytes(), 1_002).is_none(), "revoked");
    }

    #[test]
    fn a_password_change_ends_every_session() {
        let (secret, old) = sessions("old password");
        let token = old.issue(0).token;
        let new = Sessions::new(
            &secret,
            &Secret::new("new password"),
            Duration::from_secs(60),
            HashMap::new(),
        )
        .unwrap();
        assert!(new.verify(token.as_bytes(), 1).is_none());
    }

    #[test]
    fn garbage_and_foreign_tokens_are_refused() {
        let (_, sessions) = sessions("pw");
        let (_, other) = self::sessions("pw");
        assert!(sessions.verify(other.issue(0).token.as_bytes(), 1).is_none());
        assert!(sessions.verify(b"not a token", 1).is_none());
        assert!(sessions.verify(&[0xff, 0xfe], 1).is_none());
    }

    #[test]
    fn ttl_spellings() {
        assert_eq!(parse_ttl("12h"), Some(Duration::from_secs(43_200)));
        assert_eq!(parse_ttl("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_ttl("30m"), Some(Duration::from_secs(1_800)));
        assert_eq!(parse_ttl("0"), None);
        assert_eq!(parse_ttl("12 parsecs"), None);
    }
}
