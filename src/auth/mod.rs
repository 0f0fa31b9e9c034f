//! The password gate: parsing `Authorization` headers and checking the bearer secret.
//!
//! The header rules are the original's to the letter: split at the first space, scheme
//! `bearer` in any case, credential taken verbatim. A plain password is compared as a
//! SHA-256 digest with `subtle`, so timing reveals neither content nor length; an Argon2 PHC
//! hash (`$argon2...`) is verified with argon2, and presentations that verified are
//! remembered by digest so the hot path does not pay for Argon2 on every request.

pub mod ratelimit;
pub mod session;

use std::collections::HashSet;
use std::sync::RwLock;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Secret;

/// The outcome of checking one request's `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    Allowed,
    MissingHeader,
    BadFormat,
    WrongPassword,
}

impl AuthOutcome {
    /// The original's `detail` text for a refusal.
    pub fn detail(self) -> &'static str {
        match self {
            AuthOutcome::Allowed => "",
            AuthOutcome::MissingHeader => "Missing authorization header",
            AuthOutcome::BadFormat => "Invalid authorization header format",
            AuthOutcome::WrongPassword => "Invalid password",
        }
    }
}

/// Why a configured password cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error(
        "OPEN_NOTEBOOK_PASSWORD starts with $argon2 but is not a valid Argon2 PHC string; \
         make one with `open-notebook hash-password`"
    )]
    BadHash,
    #[error("could not hash the password: {0}")]
    Hashing(String),
}

enum Expected {
    Plain([u8; 32]),
    Argon2 { phc: Secret, verified: RwLock<HashSet<[u8; 32]>> },
}

/// Checks presented passwords against the configured one.
pub struct PasswordCheck {
    expected: Expected,
}

impl std::fmt::Debug for PasswordCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordCheck(***)")
    }
}

/// The most verified Argon2 presentations remembered (only correct ones are cached).
const VERIFIED_CACHE_LIMIT: usize = 16;

impl PasswordCheck {
    /// Prepares a check for the configured password (plain or Argon2 PHC).
    pub fn new(password: &Secret) -> Result<Self, AuthError> {
        let value = password.expose();
        let expected = if value.starts_with("$argon2") {
            let parsed = PasswordHash::new(value).map_err(|_| AuthError::BadHash)?;
            if parsed.hash.is_none() || parsed.salt.is_none() {
                return Err(AuthError::BadHash);
            }
            Expected::Argon2 { phc: password.clone(), verified: RwLock::new(HashSet::new()) }
        } else {
            Expected::Plain(digest(value.as_bytes()))
        };
        Ok(Self { expected })
    }

    /// True when `presented` is the password.
    pub fn verify(&self, presented: &[u8]) -> bool {
        let presented_digest = digest(presented);
        match &self.expected {
            Expected::Plain(expected) => bool::from(expected.ct_eq(&presented_digest)),
            Expected::Argon2 { phc, verified } => {
                let cached = verified.read().map(|set| set.contains(&presented_digest));
                if cached.unwrap_or(false) {
                    return true;
                }
                let ok = verify_argon2(phc, presented);
                if ok && let Ok(mut set) = verified.write() {
                    if set.len() >= VERIFIED_CACHE_LIMIT {
                        set.clear();
                    }
                    set.insert(presented_digest);
                }
                ok
            }
        }
    }

    /// Applies the original's header rules to one request (password only).
    pub fn check_header(&self, header: Option<&[u8]>) -> AuthOutcome {
        match bearer_credential(header) {
            Ok(credential) if self.verify(credential) => AuthOutcome::Allowed,
            Ok(_) => AuthOutcome::WrongPassword,
            Err(refused) => refused,
        }
    }
}

/// The credential of a `Bearer` header, or why the header is refused.
pub fn bearer_credential(header: Option<&[u8]>) -> Result<&[u8], AuthOutcome> {
    let Some(header) = header.filter(|h| !h.is_empty()) else {
        return Err(AuthOutcome::MissingHeader);
    };
    let Some(space) = header.iter().position(|b| *b == b' ') else {
        return Err(AuthOutcome::BadFormat);
    };
    let (scheme, credential) = (&header[..space], &header[space + 1..]);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(AuthOutcome::BadFormat);
    }
    Ok(credential)
}

fn verify_argon2(phc: &Secret, presented: &[u8]) -> bool {
    match PasswordHash::new(phc.expose()) {
        Ok(hash) => Argon2::default().verify_password(presented, &hash).is_ok(),
        Err(_) => false,
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Hashes a password as an Argon2id PHC string with a random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt_bytes = [0u8; 16];
    getrandom::getrandom(&mut salt_bytes).map_err(|e| AuthError::Hashing(e.to_string()))?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| AuthError::Hashing(e.to_string()))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AuthError::Hashing(e.to_string()))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(password: &str) -> PasswordCheck {
        PasswordCheck::new(&Secret::new(password)).unwrap()
    }

    #[test]
    fn header_rules_follow_the_original() {
        let gate = check("pw");
        let cases: &[(Option<&[u8]>, AuthOutcome)] = &[
            (None, AuthOutcome::MissingHeader),
            (Some(b""), AuthOutcome::MissingHeader),
            (Some(b"Bearer"), AuthOutcome::BadFormat),
            (Some(b"Basic x"), AuthOutcome::BadFormat),
            (Some(b"Bearer wrong"), AuthOutcome::WrongPassword),
            (Some(b"Bearer  pw"), AuthOutcome::WrongPassword),
            (Some(b"Bearer pw "), AuthOutcome::WrongPassword),
            (Some(b"bearer pw"), AuthOutcome::Allowed),
            (Some(b"BEARER pw"), AuthOutcome::Allowed),
            (Some(b"Bearer pw"), AuthOutcome::Allowed),
        ];
        for (header, expected) in cases {
            assert_eq!(gate.check_header(*header), *expected, "{header:?}");
        }
    }

    #[test]
    fn argon2_hashes_verify_and_cache_only_successes() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        let gate = check(&phc);
        assert!(gate.verify(b"correct horse"));
        assert!(gate.verify(b"correct horse"));
        assert!(!gate.verify(b"wrong"));
        assert!(!gate.verify(phc.as_bytes()), "the hash itself is not the password");
    }

    #[test]
    fn malformed_argon2_string_is_refused() {
        assert!(PasswordCheck::new(&Secret::new("$argon2id$nonsense")).is_err());
    }
}
