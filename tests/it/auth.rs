//! The password gate, header rule by header rule, and the public routes.

use serde_json::json;

use crate::harness::{PASSWORD, Server, request};

#[test]
fn every_authorization_header_case_of_the_original() {
    let server = Server::start();
    let wrong = "Bearer not-the-password".to_string();
    let two_spaces = format!("Bearer  {PASSWORD}");
    let lower = format!("bearer {PASSWORD}");
    let correct = format!("Bearer {PASSWORD}");
    let cases: Vec<(Option<&str>, u16, Option<&str>)> = vec![
        (None, 401, Some("Missing authorization header")),
        (Some(""), 401, Some("Missing authorization header")),
        (Some("Bearer"), 401, Some("Invalid authorization header format")),
        (Some("Basic x"), 401, Some("Invalid authorization header format")),
        (Some(&wrong), 401, Some("Invalid password")),
        (Some(&two_spaces), 401, Some("Invalid password")),
        (Some(&lower), 200, None),
        (Some(&correct), 200, None),
    ];
    for (header, status, detail) in cases {
        let response = server.get("/api/notebooks", header);
        assert_eq!(response.status, status, "header {header:?}: {}", response.text());
        if let Some(detail) = detail {
            assert_eq!(response.json(), json!({ "detail": detail }), "header {header:?}");
            assert_eq!(response.header("www-authenticate"), Some("Bearer"));
        } else {
            assert_eq!(response.json(), json!([]));
        }
    }
}

#[test]
fn public_routes_answer_without_a_password_and_only_exactly() {
    let server = Server::start();
    assert_eq!(server.get("/", None).json(), json!({ "message": "Open Notebook API is running" }));
    assert_eq!(server.get("/health", None).json(), json!({ "status": "healthy" }));
    assert_eq!(
        server.get("/api/auth/status", None).json(),
        json!({ "auth_enabled": true, "message": "Authentication is required" })
    );
    let config = server.get("/api/config", None).json();
    assert_eq!(config["dbStatus"], "online");
    assert_eq!(config["hasUpdate"], false);
    let openapi = server.get("/openapi.json", None).json();
    assert!(openapi["paths"]["/api/notebooks"]["get"].is_object());
    let docs = server.get("/docs", None);
    assert_eq!(docs.status, 200);
    assert!(docs.text().contains("/api/notebooks"));

    for near_miss in ["/health/", "/api/auth/status/", "/api/config/x", "/docs.json"] {
        assert_eq!(server.get(near_miss, None).status, 401, "{near_miss} must not be public");
    }
}

#[test]
fn ambiguous_paths_are_refused_before_routing() {
    let server = Server::start();
    for path in [
        "/api/../api/notebooks",
        "/health/../api/notebooks",
        "/api//notebooks",
        "/api/%2e%2e/api/notebooks",
        "/api%2Fnotebooks",
        "/health%00",
        "/api/./notebooks",
    ] {
        let response = server.get(path, None);
        assert_eq!(response.status, 400, "{path}: {}", response.text());
        assert!(response.json()["detail"].as_str().unwrap().contains("Invalid request path"));
    }
}

#[test]
fn unknown_routes_and_methods_are_json_errors() {
    let server = Server::start();
    let missing = server.call("GET", "/api/nothing-here", None);
    assert_eq!((missing.status, missing.json()), (404, json!({ "detail": "Not Found" })));
    let wrong_method = server.call("PATCH", "/api/notebooks", None);
    assert_eq!(
        (wrong_method.status, wrong_method.json()),
        (405, json!({ "detail": "Method Not Allowed" }))
    );
}

#[test]
fn every_response_carries_security_headers() {
    let server = Server::start();
    let response = server.call("GET", "/api/notebooks", None);
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
    assert_eq!(response.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert!(response.header("content-security-policy").unwrap().contains("default-src 'self'"));
}

#[test]
fn cors_preflight_skips_auth_and_lists_are_enforced() {
    let server = Server::start_with(
        crate::harness::Options::default().env("CORS_ORIGINS", "http://ui.example"),
    );
    let preflight = |origin: &str| {
        request(
            server.port,
            "OPTIONS",
            "/api/notebooks",
            &[("Origin", origin), ("Access-Control-Request-Method", "GET")],
            None,
        )
    };
    let allowed = preflight("http://ui.example");
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("access-control-allow-origin"), Some("http://ui.example"));
    assert_eq!(allowed.header("access-control-allow-credentials"), Some("true"));
    let refused = preflight("http://evil.example");
    assert_eq!(refused.status, 400);
    assert_eq!(refused.header("access-control-allow-origin"), None);
}

#[test]
fn argon2_password_hash_from_hash_password_works_as_the_password() {
    let output = std::process::Command::new(crate::harness::binary())
        .arg("hash-password")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"a long passphrase for argon2\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(output.status.success());
    let hash = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    let server = Server::start_with(
        crate::harness::Options::without_password().env("OPEN_NOTEBOOK_PASSWORD", &hash),
    );
    let good = server.get("/api/notebooks", Some("Bearer a long passphrase for argon2"));
    assert_eq!(good.status, 200);
    let hash_as_password = format!("Bearer {hash}");
    assert_eq!(server.get("/api/notebooks", Some(&hash_as_password)).status, 401);
}

#[test]
fn failed_authentications_are_throttled_per_client_address() {
    let server = Server::start_with(
        crate::harness::Options::default()
            .env("OPEN_NOTEBOOK_AUTH_FAILURE_BURST", "3")
            .arg("--trusted-proxies")
            .arg("127.0.0.1"),
    );
    let from = |client: &str, authorization: &str| {
        request(
            server.port,
            "GET",
            "/api/notebooks",
            &[("X-Forwarded-For", client), ("Authorization", authorization)],
            None,
        )
    };
    let correct = format!("Bearer {PASSWORD}");
    for _ in 0..5 {
        assert_eq!(from("203.0.113.5", &correct).status, 200, "successes cost nothing");
    }
    for _ in 0..3 {
        assert_eq!(from("203.0.113.5", "Bearer guess").status, 401);
    }
    let throttled = from("203.0.113.5", &correct);
    assert_eq!(throttled.status, 429, "checked before the password: {}", throttled.text());
    let wait: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    assert!(throttled.json()["detail"].as_str().unwrap().contains("Too many failed"));
    assert_eq!(from("203.0.113.6", &correct).status, 200, "other addresses are unaffected");
    assert!(server.log().contains("authentication throttled"));
}

#[test]
fn login_issues_a_session_token_that_logout_and_password_changes_end() {
    let mut server = Server::start();
    let login = |server: &Server, password: &str| {
        let body = serde_json::to_vec(&json!({ "password": password })).unwrap();
        request(
            server.port,
            "POST",
            "/api/auth/login",
            &[("Content-Type", "application/json")],
            Some(&body),
        )
    };
    let refused = login(&server, "wrong");
    assert_eq!((refused.status, refused.json()), (401, json!({ "detail": "Invalid password" })));

    let issued = login(&server, PASSWORD).json();
    assert_eq!(issued["token_type"], "bearer");
    assert!(issued["expires_in"].as_i64().unwrap() > 11 * 3600);
    let bearer = format!("Bearer {}", issued["token"].as_str().unwrap());
    assert_eq!(server.get("/api/notebooks", Some(&bearer)).status, 200);
    server.restart();
    assert_eq!(server.get("/api/notebooks", Some(&bearer)).status, 200, "survives a restart");

    let out = request(server.port, "POST", "/api/auth/logout", &[("Authorization", &bearer)], None);
    assert_eq!(out.status, 200);
    assert_eq!(server.get("/api/notebooks", Some(&bearer)).status, 401, "logout ends it");
    server.restart();
    assert_eq!(server.get("/api/notebooks", Some(&bearer)).status, 401, "revocation persists");

    let second = format!("Bearer {}", login(&server, PASSWORD).json()["token"].as_str().unwrap());
    server.options = crate::harness::Options::without_password()
        .env("OPEN_NOTEBOOK_PASSWORD", "a different password entirely");
    server.restart();
    assert_eq!(server.get("/api/notebooks", Some(&second)).status, 401, "password change ends it");
    assert!(!server.log().contains(&second[7..]), "tokens are never logged");
}

#[test]
fn security_events_are_kept_in_the_audit_table() {
    let mut server = Server::start();
    server.get("/api/notebooks", Some("Bearer wrong-guess"));
    let body = serde_json::to_vec(&json!({ "password": PASSWORD })).unwrap();
    request(
        server.port,
        "POST",
        "/api/auth/login",
        &[("Content-Type", "application/json")],
        Some(&body),
    );
    fn events(server: &Server) -> Vec<String> {
        let list = server.call("GET", "/api/audit?limit=50", None).json();
        list.as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !events(&server).contains(&"login".to_string()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let seen = events(&server);
    assert!(seen.contains(&"authentication failed".to_string()), "{seen:?}");
    assert!(seen.contains(&"login".to_string()), "{seen:?}");
    assert!(seen.iter().any(|e| e.contains("weak") || e.contains("ENCRYPTION_KEY")), "{seen:?}");
    server.restart();
    assert!(events(&server).contains(&"login".to_string()), "kept across restarts");
    let raw = server.call("GET", "/api/audit", None).text();
    assert!(!raw.contains(PASSWORD) && !raw.contains("wrong-guess"), "no secrets in the audit");
}

#[test]
fn silent_connections_are_closed_and_public_routes_read_no_big_bodies() {
    use std::io::{Read, Write};
    let server = Server::start_with(
        crate::harness::Options::default().env("OPEN_NOTEBOOK_IDLE_TIMEOUT_SECONDS", "1"),
    );
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    silent.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let started = std::time::Instant::now();
    let mut buffer = [0u8; 16];
    let read = silent.read(&mut buffer).unwrap_or(0);
    assert_eq!(read, 0, "the server closes a connection that never speaks");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));

    let mut public = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let head = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 1000000\r\nConnection: close\r\n\r\n";
    public.write_all(head.as_bytes()).unwrap();
    let _ = public.write_all(&vec![b' '; 200_000]);
    let mut answer = String::new();
    let _ = public.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(server.get("/health", None).status, 200);
}

#[test]
fn head_is_answered_like_get_without_a_body() {
    let server = Server::start();
    let auth = format!("Bearer {PASSWORD}");
    let head = request(server.port, "HEAD", "/api/notebooks", &[("Authorization", &auth)], None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let refused = request(server.port, "HEAD", "/api/notebooks", &[], None);
    assert_eq!(refused.status, 401, "HEAD goes through the same gate");
}
