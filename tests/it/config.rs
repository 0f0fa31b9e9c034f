//! Settings and secrets as a user configures them: `_FILE` rules, the secrets file, the
//! default-password refusal, and logs that never contain a secret.

use crate::harness::{Options, Server, run};

const FILE_PASSWORD: &str = "password-from-a-docker-secret";

fn secret_file(dir: &std::path::Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn password_file_with_trailing_newline_is_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(dir.path(), "pw", &format!("{FILE_PASSWORD}\n"));
    let server =
        Server::start_with(Options::without_password().env("OPEN_NOTEBOOK_PASSWORD_FILE", &path));
    assert_eq!(server.get("/health", None).status, 200);
    let missing = server.get("/api/notebooks", None);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.text(), r#"{"detail":"Missing authorization header"}"#);
    let with_newline = format!("Bearer {FILE_PASSWORD}\n");
    assert_ne!(server.get("/api/notebooks", Some(with_newline.trim_end())).status, 401);
    assert_eq!(server.get("/api/notebooks", Some(&format!("Bearer {FILE_PASSWORD}"))).status, 200);
}

#[test]
fn password_file_wins_over_the_plain_variable_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(dir.path(), "pw", FILE_PASSWORD);
    let server = Server::start_with(
        Options::without_password()
            .env("OPEN_NOTEBOOK_PASSWORD", "the-plain-variable-value")
            .env("OPEN_NOTEBOOK_PASSWORD_FILE", &path),
    );
    assert_eq!(server.get("/api/notebooks", Some(&format!("Bearer {FILE_PASSWORD}"))).status, 200);
    assert_eq!(server.get("/api/notebooks", Some("Bearer the-plain-variable-value")).status, 401);
    let log = server.log();
    assert!(log.contains("OPEN_NOTEBOOK_PASSWORD_FILE") && log.contains("both"), "{log}");
    assert!(!log.contains(FILE_PASSWORD) && !log.contains("the-plain-variable-value"));
}

#[test]
fn missing_or_empty_secret_files_stop_start_up_naming_variable_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let empty = secret_file(dir.path(), "empty", "  \n");
    let missing = dir.path().join("nope").to_str().unwrap().to_string();
    for variable in ["OPEN_NOTEBOOK_PASSWORD_FILE", "OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE"] {
        for path in [&empty, &missing] {
            let options = Options::default().env(variable, path);
            let output = run(&options, &["serve", "--api-port", "0", "--ui-port", "0"]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{variable}={path} must fail");
            assert!(stderr.contains(variable) && stderr.contains(path.as_str()), "{stderr}");
        }
    }
}

#[test]
fn secrets_file_supplies_the_password_and_flags_its_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(
        dir.path(),
        "docker.env",
        &format!("# settings\nOPEN_NOTEBOOK_PASSWORD=\"{FILE_PASSWORD}\"\nCORS_ORIGINS=*\n"),
    );
    let server = Server::start_with(Options::without_password().arg("--secrets-file").arg(&path));
    assert_eq!(server.get("/api/notebooks", Some(&format!("Bearer {FILE_PASSWORD}"))).status, 200);
    assert!(server.log().contains("chmod 600"), "a world-readable secrets file is flagged");
}

#[test]
fn default_password_is_refused_on_a_public_address() {
    let output =
        run(&Options::without_password(), &["serve", "--host", "0.0.0.0", "--api-port", "0"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("OPEN_NOTEBOOK_PASSWORD"), "{stderr}");
    assert!(stderr.contains("--allow-default-password"), "{stderr}");
}

#[test]
fn default_password_works_on_loopback_with_a_warning() {
    let server = Server::start_with(Options::without_password());
    assert_eq!(server.get("/api/notebooks", Some("Bearer open-notebook-change-me")).status, 200);
    assert!(server.log().contains("default development password"));
}

#[test]
fn logs_never_contain_secrets() {
    let key = "encryption-passphrase-that-must-stay-hidden";
    let mut server =
        Server::start_with(Options::default().env("OPEN_NOTEBOOK_ENCRYPTION_KEY", key));
    server.get("/api/notebooks", Some("Bearer wrong-guess-value"));
    server.call("POST", "/api/notebooks", Some(&serde_json::json!({ "name": "n" })));
    server.restart();
    let log = server.log();
    assert!(log.contains("request"), "requests are logged: {log}");
    for secret in [crate::harness::PASSWORD, key, "wrong-guess-value"] {
        assert!(!log.contains(secret), "log leaks {secret}");
    }
    assert!(!log.to_ascii_lowercase().contains("authorization:"));
}

#[test]
fn check_prints_settings_with_secrets_masked() {
    let key = "check-command-passphrase";
    let options = Options::default().env("OPEN_NOTEBOOK_ENCRYPTION_KEY", key);
    let output = run(&options, &["check"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("password") && stdout.contains("***"), "{stdout}");
    assert!(!stdout.contains(key) && !stdout.contains(crate::harness::PASSWORD));
}

#[test]
fn help_explains_flags_and_environment() {
    let output = run(&Options::default(), &["serve", "--help"]);
    let text = String::from_utf8_lossy(&output.stdout);
    for needle in ["--data-dir", "--api-port", "--ui-port", "OPEN_NOTEBOOK_PASSWORD_FILE"] {
        assert!(text.contains(needle), "help lacks {needle}: {text}");
    }
}
