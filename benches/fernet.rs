//! Fernet costs on a 51-byte API key, mirroring `shared/bench-anchors/py_fernet.py` case by
//! case so the two can be compared in one run.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use open_notebook::crypto::{Cipher, derive_key};

const PASSPHRASE: &str = "open-notebook-encryption-passphrase";
const SECRET: &str = "sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKl";

fn fernet(c: &mut Criterion) {
    assert_eq!(SECRET.len(), 51);
    let cipher = Cipher::from_passphrase(PASSPHRASE);
    let token = cipher.encrypt(SECRET);

    c.bench_function("encrypt_51B", |b| b.iter(|| cipher.encrypt(black_box(SECRET))));
    c.bench_function("decrypt_51B", |b| b.iter(|| cipher.decrypt(black_box(&token))));
    // The original builds its Fernet from the passphrase on every call.
    c.bench_function("derive+decrypt_51B", |b| {
        b.iter(|| Cipher::from_passphrase(black_box(PASSPHRASE)).decrypt(black_box(&token)))
    });
    c.bench_function("derive+encrypt_51B", |b| {
        b.iter(|| Cipher::from_passphrase(black_box(PASSPHRASE)).encrypt(black_box(SECRET)))
    });
    c.bench_function("derive_key_only", |b| b.iter(|| derive_key(black_box(PASSPHRASE))));
}

criterion_group!(benches, fernet);
criterion_main!(benches);
