//! The password gate's cost per request: parsing the header and checking the bearer value,
//! for a plain password, a cached Argon2 hash, a session token, and the throttle lookup.

use std::collections::HashMap;
use std::hint::black_box;
use std::net::IpAddr;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use open_notebook::auth::PasswordCheck;
use open_notebook::auth::ratelimit::{FailureThrottle, RateLimit};
use open_notebook::auth::session::{Sessions, new_server_secret};
use open_notebook::config::Secret;

fn gate(c: &mut Criterion) {
    let plain = PasswordCheck::new(&Secret::new("correct-horse-battery-st")).unwrap();
    let header = b"Bearer correct-horse-battery-st".as_slice();
    c.bench_function("auth/plain_password", |b| {
        b.iter(|| plain.check_header(black_box(Some(header))))
    });
    c.bench_function("auth/plain_wrong_password", |b| {
        b.iter(|| plain.check_header(black_box(Some(b"Bearer wrong-horse-battery-st".as_slice()))))
    });

    let hash = open_notebook::auth::hash_password("correct-horse-battery-st").unwrap();
    let argon = PasswordCheck::new(&Secret::new(hash)).unwrap();
    assert!(argon.verify(b"correct-horse-battery-st"));
    c.bench_function("auth/argon2_cached", |b| {
        b.iter(|| argon.check_header(black_box(Some(header))))
    });

    let password = Secret::new("correct-horse-battery-st");
    let sessions =
        Sessions::new(&new_server_secret(), &password, Duration::from_secs(3600), HashMap::new())
            .unwrap();
    let token = sessions.issue(0).token;
    c.bench_function("auth/session_token", |b| {
        b.iter(|| sessions.verify(black_box(token.as_bytes()), 1))
    });

    let throttle = FailureThrottle::new(RateLimit::default());
    let client: IpAddr = [203, 0, 113, 9].into();
    c.bench_function("auth/throttle_lookup", |b| {
        b.iter(|| throttle.blocked_for(black_box(client)))
    });
}

criterion_group!(benches, gate);
criterion_main!(benches);
