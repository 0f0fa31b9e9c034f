//! API keys encrypted at rest, over real HTTP: the four key scenarios with restarts between
//! keys, `rotate-key`, presence-based updates, environment migration, connection tests and
//! model discovery against a model server started here on 127.0.0.1, plus models, defaults,
//! settings and the provider registry.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;

use open_notebook::crypto::Cipher;
use open_notebook::store::{Credential, Endpoints, Store, StoredKey};
use serde_json::{Value, json};

use crate::harness::{Options, PASSWORD, Server, run};

const KEY_VAR: &str = "OPEN_NOTEBOOK_ENCRYPTION_KEY";
const K1: &str = "first-passphrase-for-the-key-tests";
const K2: &str = "second-passphrase-for-the-key-tests";
const API_KEY: &str = "sk-test-PLAINTEXT-7f3a9c2e1b-do-not-store";
const NO_KEY: &str = "Encryption key not configured. Set OPEN_NOTEBOOK_ENCRYPTION_KEY to \
enable storing API keys.";
const DECRYPTION_ERROR: &str = "Failed to decrypt API key. The encryption key may have changed.";

fn with_key(key: &str) -> Options {
    Options::default().env(KEY_VAR, key)
}

/// Restarts the server with another encryption key (or none).
fn restart_with_key(server: &mut Server, key: Option<&str>) {
    server.options.env.retain(|(name, _)| name != KEY_VAR);
    if let Some(key) = key {
        server.options.env.push((KEY_VAR.into(), key.into()));
    }
    server.restart();
}

fn db_path(server: &Server) -> std::path::PathBuf {
    server.data_dir().join("open-notebook.redb")
}

/// The stored credentials, read through the library while the server is stopped.
fn stored_credentials(server: &Server) -> Vec<Credential> {
    Store::open(&db_path(server)).unwrap().credentials().unwrap()
}

fn token_of(credential: &Credential) -> String {
    match &credential.api_key {
        Some(StoredKey::Encrypted(token)) => token.clone(),
        other => panic!("expected an encrypted key, found {other:?}"),
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn assert_absent_from_files(dir: &Path, needle: &str) {
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap();
        let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert!(!found, "{} holds a secret in plaintext", file.display());
    }
}

fn assert_no_secrets(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "a secret leaked into: {text}");
    }
}

/// A minimal OpenAI-compatible model server on 127.0.0.1 that accepts one bearer key.
fn model_server(accepted_key: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut authorized = false;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("authorization:")
                    && line.trim_end().ends_with(&format!("Bearer {accepted_key}"))
                {
                    authorized = true;
                }
                line.clear();
            }
            let (status, body) = if authorized {
                ("200 OK", r#"{"object":"list","data":[{"id":"model-b"},{"id":"model-a"}]}"#)
            } else {
                ("401 Unauthorized", r#"{"error":"bad key"}"#)
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = reader.get_mut().write_all(reply.as_bytes());
        }
    });
    port
}

fn create_credential(server: &Server, body: &Value) -> Value {
    let response = server.call("POST", "/api/credentials", Some(body));
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()
}

fn compatible(name: &str, port: u16, key: &str) -> Value {
    json!({
        "name": name,
        "provider": "openai_compatible",
        "api_key": key,
        "base_url": format!("http://127.0.0.1:{port}/v1"),
    })
}

#[test]
fn a_configured_key_encrypts_api_keys_at_rest_and_never_returns_them() {
    let mut server = Server::start_with(with_key(K1));
    let created = create_credential(&server, &compatible("Local", 9, API_KEY));
    assert_eq!(created["has_api_key"], true);
    assert_eq!(created["decryption_error"], Value::Null);
    assert_eq!(created["provider"], "openai_compatible");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("credential:"));
    let read = server.call("GET", &format!("/api/credentials/{id}"), None);
    assert_eq!(read.status, 200);
    let listed = server.call("GET", "/api/credentials", None);
    assert_eq!(listed.json().as_array().unwrap().len(), 1);
    for response in [read.text(), listed.text(), created.to_string()] {
        assert_no_secrets(&response, &[API_KEY, K1]);
    }

    assert!(server.stop());
    assert_absent_from_files(&server.data_dir(), API_KEY);
    let stored = stored_credentials(&server);
    let token = token_of(&stored[0]);
    assert!(open_notebook::crypto::looks_like_fernet_token(&token));
    assert_eq!(Cipher::from_passphrase(K1).decrypt(&token).unwrap(), API_KEY);
    assert!(Cipher::from_passphrase(K2).decrypt(&token).is_err());
    assert_no_secrets(&server.log(), &[API_KEY, K1, PASSWORD]);
}

#[test]
fn without_a_key_storing_one_is_refused_and_nothing_is_written() {
    let mut server = Server::start();
    let status = server.call("GET", "/api/credentials/status", None).json();
    assert_eq!(status["encryption_configured"], false);
    let refused = server.call("POST", "/api/credentials", Some(&compatible("x", 9, API_KEY)));
    assert_eq!((refused.status, refused.json()), (400, json!({ "detail": NO_KEY })));
    let update = server.call("PUT", "/api/credentials/credential:abc", Some(&json!({})));
    assert_eq!((update.status, update.json()), (400, json!({ "detail": NO_KEY })));
    let migrate = server.call("POST", "/api/credentials/migrate-from-env", None);
    assert_eq!((migrate.status, migrate.json()), (400, json!({ "detail": NO_KEY })));
    assert_eq!(server.call("GET", "/api/credentials", None).json(), json!([]));

    assert!(server.stop());
    assert!(stored_credentials(&server).is_empty());
    assert_absent_from_files(&server.data_dir(), API_KEY);
}

#[test]
fn a_changed_key_flags_rows_keeps_serving_and_still_deletes() {
    let port = model_server(API_KEY);
    let mut server = Server::start_with(with_key(K1));
    let first = create_credential(&server, &compatible("First", port, API_KEY));
    let second = create_credential(&server, &compatible("Second", port, API_KEY));
    let (first, second) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());

    restart_with_key(&mut server, Some(K2));
    let log = server.log();
    assert!(log.contains("2 stored API keys cannot be decrypted"), "{log}");
    assert!(log.contains("open-notebook rotate-key --data-dir"), "{log}");

    let listed = server.call("GET", "/api/credentials", None);
    assert_eq!(listed.status, 200);
    for row in listed.json().as_array().unwrap() {
        assert_eq!(row["decryption_error"], DECRYPTION_ERROR);
        assert_eq!(row["has_api_key"], true);
        assert_eq!(row["base_url"], Value::Null);
    }
    let by_provider = server.call("GET", "/api/credentials/by-provider/openai_compatible", None);
    assert_eq!(by_provider.json(), json!([]));
    let read = server.call("GET", &format!("/api/credentials/{first}"), None);
    assert_eq!((read.status, read.json()), (404, json!({ "detail": "Credential not found" })));
    let rename =
        server.call("PUT", &format!("/api/credentials/{first}"), Some(&json!({"name": "n"})));
    assert_eq!(rename.status, 409, "{}", rename.text());
    let tested = server.call("POST", &format!("/api/credentials/{first}/test"), None).json();
    assert_eq!(tested["success"], false);

    // Sending the key again repairs a row; deleting works without decrypting anything.
    let rekey = json!({ "api_key": API_KEY });
    let repaired = server.call("PUT", &format!("/api/credentials/{first}"), Some(&rekey));
    assert_eq!(repaired.status, 200, "{}", repaired.text());
    assert_eq!(repaired.json()["decryption_error"], Value::Null);
    let tested = server.call("POST", &format!("/api/credentials/{first}/test"), None).json();
    assert_eq!(tested["message"], "Connection successful", "{tested}");
    let deleted = server.call("DELETE", &format!("/api/credentials/{second}"), None);
    assert_eq!(
        (deleted.status, deleted.json()),
        (200, json!({ "message": "Credential deleted successfully", "deleted_models": 0 }))
    );
    assert_eq!(server.call("GET", "/api/credentials", None).json().as_array().unwrap().len(), 1);
    assert_no_secrets(&server.log(), &[API_KEY, K1, K2, PASSWORD]);
}

#[test]
fn legacy_plaintext_keys_work_and_are_encrypted_at_startup() {
    let port = model_server(API_KEY);
    let mut server = Server::start();
    assert!(server.stop());
    let legacy = Credential {
        id: "credential:legacy1".into(),
        name: "Imported".into(),
        provider: "openai_compatible".into(),
        modalities: vec!["language".into()],
        api_key: Some(StoredKey::from_imported(API_KEY)),
        endpoints: Endpoints {
            base_url: Some(format!("http://127.0.0.1:{port}/v1")),
            ..Endpoints::default()
        },
        num_ctx: None,
        created: 1_751_371_200_000_000,
        updated: 1_751_371_200_000_000,
    };
    Store::open(&db_path(&server)).unwrap().put_credential(&legacy).unwrap();

    server.restart();
    let row = server.call("GET", "/api/credentials/credential:legacy1", None).json();
    assert_eq!(
        (row["has_api_key"].clone(), row["decryption_error"].clone()),
        (json!(true), Value::Null)
    );
    let tested = server.call("POST", "/api/credentials/credential:legacy1/test", None).json();
    assert_eq!(tested["success"], true, "{tested}");

    restart_with_key(&mut server, Some(K1));
    assert!(server.log().contains("encrypted legacy plaintext API keys"), "{}", server.log());
    let tested = server.call("POST", "/api/credentials/credential:legacy1/test", None).json();
    assert_eq!(tested["message"], "Connection successful", "{tested}");
    assert!(server.stop());
    let token = token_of(&stored_credentials(&server)[0]);
    assert_eq!(Cipher::from_passphrase(K1).decrypt(&token).unwrap(), API_KEY);
    assert_no_secrets(&server.log(), &[API_KEY, K1, PASSWORD]);
    // redb does not promise to overwrite the page the plaintext row was freed from; today it
    // does for this small file. If this starts failing, see the TODO in `keys::startup_check`.
    assert_absent_from_files(&server.data_dir(), API_KEY);
}

fn write_key(dir: &Path, name: &str, key: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{key}\n")).unwrap();
    path.display().to_string()
}

#[test]
fn rotate_key_changes_nothing_with_a_wrong_old_key_then_moves_every_key() {
    let port = model_server(API_KEY);
    let mut server = Server::start_with(with_key(K1));
    let id = create_credential(&server, &compatible("Local", port, API_KEY))["id"].clone();
    let data = server.data_dir().display().to_string();
    let old = write_key(server.dir.path(), "old.key", K1);
    let new = write_key(server.dir.path(), "new.key", K2);
    let wrong = write_key(server.dir.path(), "wrong.key", "not-the-key");
    let rotate = |old: &str, extra: &[&str]| {
        let mut args = vec!["rotate-key", "--data-dir", &data, "--old-key-file", old];
        args.extend(["--new-key-file", &new]);
        args.extend(extra);
        run(&Options::default(), &args)
    };

    let busy = rotate(&old, &[]);
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use by a running server"));
    assert!(server.stop());
    let before = token_of(&stored_credentials(&server)[0]);

    let refused = rotate(&wrong, &[]);
    assert!(!refused.status.success());
    let dry = rotate(&old, &["--dry-run"]);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert_eq!(token_of(&stored_credentials(&server)[0]), before, "nothing may change");

    let done = rotate(&old, &[]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let after = token_of(&stored_credentials(&server)[0]);
    assert_eq!(Cipher::from_passphrase(K2).decrypt(&after).unwrap(), API_KEY);
    for output in [&busy, &refused, &dry, &done] {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_no_secrets(&text, &[API_KEY, K1, K2, "not-the-key"]);
    }

    restart_with_key(&mut server, Some(K2));
    assert!(!server.log().contains("cannot be decrypted"), "{}", server.log());
    let path = format!("/api/credentials/{}", id.as_str().unwrap());
    assert_eq!(server.call("GET", &path, None).status, 200);
    let tested = server.call("POST", &format!("{path}/test"), None).json();
    assert_eq!(tested["message"], "Connection successful", "{tested}");
}

#[test]
fn updates_are_presence_based() {
    let server = Server::start_with(with_key(K1));
    let created = create_credential(
        &server,
        &json!({
            "name": "Ollama", "provider": "ollama", "api_key": API_KEY,
            "base_url": "http://127.0.0.1:11434", "endpoint": "http://127.0.0.1:1/e",
            "project": "p", "num_ctx": 8192, "modalities": ["language"],
        }),
    );
    let path = format!("/api/credentials/{}", created["id"].as_str().unwrap());
    let put = |body: Value| {
        let response = server.call("PUT", &path, Some(&body));
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    };
    let same = put(json!({}));
    for field in ["name", "base_url", "endpoint", "project", "num_ctx", "modalities", "has_api_key"]
    {
        assert_eq!(same[field], created[field], "{field}");
    }
    let cleared = put(json!({ "base_url": null, "endpoint": "", "name": null, "api_key": null }));
    assert_eq!(cleared["base_url"], Value::Null);
    assert_eq!(cleared["endpoint"], Value::Null);
    assert_eq!(cleared["project"], "p");
    assert_eq!(cleared["name"], "Ollama");
    assert_eq!(cleared["has_api_key"], true);
    assert_eq!(put(json!({ "num_ctx": 0 }))["num_ctx"], Value::Null);
    assert_eq!(put(json!({ "num_ctx": 2048, "name": "Renamed" }))["num_ctx"], 2048);
    assert_eq!(put(json!({ "num_ctx": null }))["num_ctx"], Value::Null);

    let unsafe_url =
        server.call("PUT", &path, Some(&json!({ "base_url": "http://169.254.169.254/" })));
    assert_eq!(unsafe_url.status, 400);
    assert!(unsafe_url.json()["detail"].as_str().unwrap().starts_with("Link-local addresses"));
    let missing = server.call("PUT", "/api/credentials/credential:nope", Some(&json!({})));
    assert_eq!(
        (missing.status, missing.json()),
        (404, json!({ "detail": "Credential not found" }))
    );
}

#[test]
fn create_validates_provider_urls_and_the_anthropic_compatible_rule() {
    let server = Server::start_with(with_key(K1));
    let unknown =
        server.call("POST", "/api/credentials", Some(&json!({"name": "x", "provider": "acme"})));
    assert_eq!(unknown.status, 422);
    let body = json!({"name": "x", "provider": "anthropic_compatible", "api_key": "k"});
    let rule = server.call("POST", "/api/credentials", Some(&body));
    assert_eq!(rule.status, 422);
    assert!(rule.text().contains("Anthropic-compatible credentials require a base URL"));
    let scheme = json!({"name": "x", "provider": "openai", "base_url": "file:///etc/passwd"});
    let refused = server.call("POST", "/api/credentials", Some(&scheme));
    assert_eq!(
        (refused.status, refused.json()),
        (400, json!({ "detail": "Invalid URL scheme: 'file'. Only http and https are allowed." }))
    );
    assert_eq!(server.call("GET", "/api/credentials", None).json(), json!([]));
}

#[test]
fn env_variables_migrate_to_encrypted_credentials_and_link_models() {
    let options = with_key(K1)
        .env("OPENAI_API_KEY", API_KEY)
        .env("OLLAMA_API_BASE", "http://127.0.0.1:11434")
        .env("AZURE_OPENAI_API_KEY", "only-one-of-three");
    let mut server = Server::start_with(options);
    let env = server.call("GET", "/api/credentials/env-status", None).json();
    assert_eq!(
        (env["openai"].clone(), env["ollama"].clone(), env["azure"].clone()),
        (json!(true), json!(true), json!(false))
    );
    let model = json!({"name": "gpt-4o", "provider": "openai", "type": "language"});
    assert_eq!(server.call("POST", "/api/models", Some(&model)).status, 200);

    let migrated = server.call("POST", "/api/credentials/migrate-from-env", None);
    assert_eq!(migrated.status, 200, "{}", migrated.text());
    let migrated = migrated.json();
    assert_eq!(migrated["message"], "Migration complete. Migrated 2 providers.");
    assert_eq!(migrated["migrated"], json!(["openai", "ollama"]));
    assert!(migrated["not_configured"].as_array().unwrap().contains(&json!("azure")));
    let again = server.call("POST", "/api/credentials/migrate-from-env", None).json();
    assert_eq!(again["skipped"], json!(["openai", "ollama"]));

    let openai = server.call("GET", "/api/credentials/by-provider/openai", None).json();
    assert_eq!(openai[0]["name"], "Default (Migrated from env)");
    assert_eq!(openai[0]["model_count"], 1);
    let status = server.call("GET", "/api/credentials/status", None).json();
    assert_eq!(status["source"]["openai"], "database");
    assert_eq!(status["encryption_configured"], true);
    assert!(server.stop());
    assert_absent_from_files(&server.data_dir(), API_KEY);
}

#[test]
fn test_discover_and_register_against_a_local_model_server() {
    let port = model_server(API_KEY);
    let server = Server::start_with(with_key(K1));
    let good = create_credential(&server, &compatible("Good", port, API_KEY));
    let bad = create_credential(&server, &compatible("Bad", port, "sk-wrong"));
    let (good, bad) = (good["id"].as_str().unwrap(), bad["id"].as_str().unwrap());
    let call = |method: &str, path: String, body: Option<&Value>| {
        let response = server.call(method, &path, body);
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        response.json()
    };

    let ok = call("POST", format!("/api/credentials/{good}/test"), None);
    assert_eq!(
        ok,
        json!({
            "provider": "openai_compatible",
            "success": true,
            "message": "Connection successful",
        })
    );
    let refused = call("POST", format!("/api/credentials/{bad}/test"), None);
    assert_eq!(refused["message"], "Invalid API key");
    let found = call("POST", format!("/api/credentials/{good}/discover"), None);
    assert_eq!(found["credential_id"], good);
    let names: Vec<&str> = found["discovered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["model-a", "model-b"]);

    let choice = json!({"models": [
        {"name": "model-a", "provider": "openai_compatible", "model_type": "language"},
        {"name": "model-b", "provider": "openai_compatible", "model_type": "embedding"},
    ]});
    let first = call("POST", format!("/api/credentials/{good}/register-models"), Some(&choice));
    assert_eq!(first, json!({"created": 2, "existing": 0}));
    let second = call("POST", format!("/api/credentials/{good}/register-models"), Some(&choice));
    assert_eq!(second, json!({"created": 0, "existing": 2}));
    assert_eq!(call("GET", format!("/api/credentials/{good}"), None)["model_count"], 2);

    let moved = call("DELETE", format!("/api/credentials/{good}?migrate_to={bad}"), None);
    assert_eq!(moved["deleted_models"], 0);
    assert_eq!(call("GET", format!("/api/credentials/{bad}"), None)["model_count"], 2);
    let gone = call("DELETE", format!("/api/credentials/{bad}"), None);
    assert_eq!(gone["deleted_models"], 2);
    assert_eq!(call("GET", "/api/models".into(), None), json!([]));
    assert_no_secrets(&server.log(), &[API_KEY, "sk-wrong", K1]);
}

#[test]
fn models_defaults_settings_and_providers() {
    let server = Server::start_with(with_key(K1));
    let create = |body: Value| server.call("POST", "/api/models", Some(&body));
    let chat = create(json!({"name": "GPT-4o", "provider": "openai", "type": "language"}));
    assert_eq!(chat.status, 200, "{}", chat.text());
    let chat_id = chat.json()["id"].as_str().unwrap().to_string();
    let twin = create(json!({"name": "gpt-4O", "provider": "OpenAI", "type": "language"}));
    assert_eq!(
        twin.json(),
        json!({
            "detail": "Model 'GPT-4o' already exists for provider 'openai' with type 'language'",
        })
    );
    let bad_type = create(json!({"name": "x", "provider": "openai", "type": "vision"}));
    assert_eq!(bad_type.status, 400);
    let embed = create(json!({"name": "emb", "provider": "openai", "type": "embedding"}));
    let embed_id = embed.json()["id"].as_str().unwrap().to_string();
    let only = server.call("GET", "/api/models?type=embedding", None).json();
    assert_eq!(only.as_array().unwrap().len(), 1);

    let defaults = json!({"default_chat_model": chat_id, "default_embedding_model": embed_id});
    let set = server.call("PUT", "/api/models/defaults", Some(&defaults)).json();
    assert_eq!(set["default_chat_model"], chat_id.as_str());
    let clear =
        server.call("PUT", "/api/models/defaults", Some(&json!({"default_chat_model": null})));
    assert_eq!(
        (clear.status, clear.json()),
        (
            400,
            json!({
                "detail": "default_chat_model is required and cannot be cleared, only reassigned",
            })
        )
    );
    let kept = server.call("GET", "/api/models/defaults", None).json();
    assert_eq!(kept["default_embedding_model"], embed_id.as_str());
    assert_eq!(kept["default_tools_model"], Value::Null);

    let deleted = server.call("DELETE", &format!("/api/models/{embed_id}"), None);
    assert_eq!(deleted.json(), json!({"message": "Model deleted successfully"}));
    let again = server.call("DELETE", &format!("/api/models/{embed_id}"), None);
    assert_eq!((again.status, again.json()), (404, json!({"detail": "Model not found"})));

    let settings = server.call("GET", "/api/settings", None).json();
    assert_eq!(settings["default_embedding_option"], "ask");
    assert_eq!(settings["youtube_preferred_languages"][0], "en");
    let changed = json!({"auto_delete_files": "no", "docling_ocr": null});
    let updated = server.call("PUT", "/api/settings", Some(&changed)).json();
    assert_eq!(
        (updated["auto_delete_files"].clone(), updated["docling_ocr"].clone()),
        (json!("no"), json!(true))
    );

    let providers = server.call("GET", "/api/providers", None).json();
    assert_eq!(providers.as_array().unwrap().len(), 22);
    assert_eq!(providers[0]["name"], "openai");
    let availability = server.call("GET", "/api/models/providers", None).json();
    assert!(availability["unavailable"].as_array().unwrap().contains(&json!("openai")));
}
