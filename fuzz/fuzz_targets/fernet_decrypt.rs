//! Any token string is decrypted or refused, never panics; the heuristic never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|token: &str| {
    let cipher = open_notebook::crypto::Cipher::from_passphrase("fuzzing passphrase");
    let _ = cipher.decrypt(token);
    let _ = open_notebook::crypto::looks_like_fernet_token(token);
});
