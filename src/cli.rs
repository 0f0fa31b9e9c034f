//! The command line: `serve` (the default), `check`, `hash-password`, `reindex` and
//! `rotate-key`.
//!
//! Each command resolves settings through `config`, so flags, `NAME_FILE`, `NAME` and the
//! secrets file mean the same thing everywhere. Errors are printed as one line naming what
//! is wrong and how to fix it, and the process exits non-zero.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use argh::FromArgs;

use tracing_subscriber::Layer as _;

use crate::config::{Flags, LogFormat, Settings};

const ENV_NOTE: &str = "Environment variables (a flag wins over NAME_FILE, which wins over \
NAME, which wins over --secrets-file): OPEN_NOTEBOOK_PASSWORD or OPEN_NOTEBOOK_PASSWORD_FILE \
(API password or an Argon2 PHC hash from `hash-password`; default: the development password, \
refused on non-loopback addresses), OPEN_NOTEBOOK_ENCRYPTION_KEY or \
OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE (passphrase for stored API keys), OPEN_NOTEBOOK_DATA_DIR, \
API_HOST, API_PORT, OPEN_NOTEBOOK_UI_PORT, \
OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB (default 100), CORS_ORIGINS (default *), \
OPEN_NOTEBOOK_LOG_FORMAT, OPEN_NOTEBOOK_WORKER_MAX_TASKS (default 2), \
OPEN_NOTEBOOK_ALLOW_DEFAULT_PASSWORD, OPEN_NOTEBOOK_SECRETS_FILE, OPEN_NOTEBOOK_TRUSTED_PROXIES, \
OPEN_NOTEBOOK_AUTH_FAILURE_BURST (default 10), OPEN_NOTEBOOK_AUTH_FAILURE_REFILL_SECONDS \
(default 60), OPEN_NOTEBOOK_SESSION_TTL (default 12h), OPEN_NOTEBOOK_IDLE_TIMEOUT_SECONDS \
(default 30), RUST_LOG (log filter).";

/// open-notebook: a private notebook server for your documents, in one binary.
#[derive(FromArgs)]
struct Cli {
    #[argh(subcommand)]
    command: Command,
}

#[derive(FromArgs)]
#[argh(subcommand)]
enum Command {
    Serve(ServeArgs),
    Check(CheckArgs),
    HashPassword(HashPasswordArgs),
    Reindex(ReindexArgs),
    ExtractWorker(ExtractWorkerArgs),
    RotateKey(RotateKeyArgs),
}

/// Serve the API and the web UI (the default command).
#[derive(FromArgs)]
#[argh(subcommand, name = "serve", note = "{ENV_NOTE}")]
struct ServeArgs {
    #[argh(option)]
    /// data folder holding the database, search index and uploads (default ./notebook_data)
    data_dir: Option<PathBuf>,
    #[argh(option)]
    /// address to listen on (default 127.0.0.1; env API_HOST)
    host: Option<String>,
    #[argh(option)]
    /// API port (default 5055; env API_PORT)
    api_port: Option<u16>,
    #[argh(option)]
    /// web UI port (default 8502; 0 turns the UI listener off)
    ui_port: Option<u16>,
    #[argh(option)]
    /// dotenv-format file (KEY=VALUE lines) with settings and secrets
    secrets_file: Option<PathBuf>,
    #[argh(switch)]
    /// allow the default password on a non-loopback address (trusted networks only)
    allow_default_password: bool,
    #[argh(option)]
    /// log format: text (default) or json
    log_format: Option<LogFormat>,
    #[argh(option)]
    /// reverse-proxy addresses (comma-separated) whose X-Forwarded-For is trusted
    trusted_proxies: Option<String>,
}

/// Validate the configuration and data folder and print the effective settings.
#[derive(FromArgs)]
#[argh(subcommand, name = "check", note = "{ENV_NOTE}")]
struct CheckArgs {
    #[argh(option)]
    /// data folder to check (default ./notebook_data)
    data_dir: Option<PathBuf>,
    #[argh(option)]
    /// address the server would listen on
    host: Option<String>,
    #[argh(option)]
    /// dotenv-format file with settings and secrets
    secrets_file: Option<PathBuf>,
    #[argh(switch)]
    /// accept the default password on a non-loopback address
    allow_default_password: bool,
    #[argh(option)]
    /// API port the server would use
    api_port: Option<u16>,
    #[argh(option)]
    /// UI port the server would use (0 = off)
    ui_port: Option<u16>,
    #[argh(option)]
    /// reverse-proxy addresses whose X-Forwarded-For is trusted
    trusted_proxies: Option<String>,
}

/// Read a password from standard input and print its Argon2id PHC hash.
#[derive(FromArgs)]
#[argh(
    subcommand,
    name = "hash-password",
    note = "Put the printed $argon2id$... string in OPEN_NOTEBOOK_PASSWORD (or its _FILE); \
            clients keep sending the plain password as the bearer token."
)]
struct HashPasswordArgs {}

/// Rebuild the search index from the database, with a progress bar.
#[derive(FromArgs)]
#[argh(
    subcommand,
    name = "reindex",
    note = "Stop the server first: the database is locked while it runs."
)]
struct ReindexArgs {
    #[argh(option)]
    /// data folder (default ./notebook_data)
    data_dir: Option<PathBuf>,
}

/// Re-encrypt every stored API key from an old encryption key to a new one.
#[derive(FromArgs)]
#[argh(
    subcommand,
    name = "rotate-key",
    note = "Stop the server first: the database is locked while it runs. Every key is decrypted \
            with the old key before anything is written; then all are re-encrypted in one \
            transaction. Key files are trimmed like OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE. Start \
            the server with the new key afterwards."
)]
struct RotateKeyArgs {
    #[argh(option)]
    /// data folder (default ./notebook_data)
    data_dir: Option<PathBuf>,
    #[argh(option)]
    /// file holding the passphrase the keys are encrypted with now
    old_key_file: PathBuf,
    #[argh(option)]
    /// file holding the new passphrase
    new_key_file: PathBuf,
    #[argh(switch)]
    /// check that every key decrypts and report what would change, writing nothing
    dry_run: bool,
}

/// (Internal) extract one document from stdin in a resource-limited child process.
#[derive(FromArgs)]
#[argh(
    subcommand,
    name = "extract-worker",
    note = "Started by the server for every document; not meant to be run by hand."
)]
struct ExtractWorkerArgs {
    #[argh(option)]
    /// the document's file name (a type hint)
    name: String,
}

/// Parses the process arguments and runs the chosen command.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let args = with_default_command(args);
    let program = args.first().map_or("open-notebook", String::as_str);
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let cli = match Cli::from_args(&[program], &rest) {
        Ok(cli) => cli,
        Err(early) => {
            return match early.status {
                Ok(()) => {
                    println!("{}", early.output);
                    ExitCode::SUCCESS
                }
                Err(()) => {
                    eprintln!("{}", early.output);
                    ExitCode::from(2)
                }
            };
        }
    };
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Check(args) => check(args),
        Command::HashPassword(_) => hash_password(),
        Command::Reindex(args) => reindex(args),
        Command::ExtractWorker(args) => crate::ingest::sandbox::worker_main(&args.name),
        Command::RotateKey(args) => rotate_key(args),
    }
}

/// `open-notebook [flags]` means `open-notebook serve [flags]`.
fn with_default_command(mut args: Vec<String>) -> Vec<String> {
    const COMMANDS: &[&str] =
        &["serve", "check", "hash-password", "reindex", "rotate-key", "extract-worker", "help"];
    let first = args.get(1).map(String::as_str);
    let needs_serve = match first {
        None => true,
        Some("--help" | "-h") => false,
        Some(arg) => !COMMANDS.contains(&arg),
    };
    if needs_serve {
        args.insert(1.min(args.len()), "serve".to_string());
    }
    args
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

fn serve(args: ServeArgs) -> ExitCode {
    let flags = Flags {
        data_dir: args.data_dir,
        host: args.host,
        api_port: args.api_port,
        ui_port: args.ui_port,
        secrets_file: args.secrets_file,
        allow_default_password: args.allow_default_password,
        log_format: args.log_format,
        trusted_proxies: args.trusted_proxies,
    };
    let (settings, warnings) = match Settings::resolve(&flags, &env_var) {
        Ok(resolved) => resolved,
        Err(e) => return fail(e),
    };
    init_logging(settings.log_format);
    for warning in &warnings.0 {
        tracing::warn!(target: "audit", "{warning}");
    }
    if let Err(e) = settings.check_exposure() {
        return fail(e);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        let app = crate::http::App::open(settings)?;
        crate::http::serve(app).await
    });
    // Nothing long-running is left on the blocking pool (extraction runs in child processes),
    // but never let a stuck task keep a stopped server alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let registry = tracing_subscriber::registry().with(crate::audit::layer());
    let _ = match format {
        LogFormat::Json => registry.with(fmt.json().with_filter(filter)).try_init(),
        LogFormat::Text => registry.with(fmt.with_filter(filter)).try_init(),
    };
}

fn check(args: CheckArgs) -> ExitCode {
    let flags = Flags {
        data_dir: args.data_dir,
        host: args.host,
        secrets_file: args.secrets_file,
        allow_default_password: args.allow_default_password,
        api_port: args.api_port,
        ui_port: args.ui_port,
        trusted_proxies: args.trusted_proxies,
        log_format: None,
    };
    let (settings, warnings) = match Settings::resolve(&flags, &env_var) {
        Ok(resolved) => resolved,
        Err(e) => return fail(e),
    };
    for (name, value) in settings.describe() {
        println!("{name:24} {value}");
    }
    for warning in &warnings.0 {
        println!("warning: {warning}");
    }
    let mut ok = true;
    if let Err(e) = settings.check_exposure() {
        eprintln!("error: {e}");
        ok = false;
    }
    if let Err(e) = crate::auth::PasswordCheck::new(&settings.password.secret) {
        eprintln!("error: {e}");
        ok = false;
    }
    match check_data_dir(&settings) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("error: {e}");
            ok = false;
        }
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn check_data_dir(settings: &Settings) -> Result<String, String> {
    let dir = &settings.data_dir;
    if !dir.exists() {
        return Ok(format!("data folder {} does not exist yet; serve creates it", dir.display()));
    }
    let db = dir.join("open-notebook.redb");
    if !db.exists() {
        return Ok(format!("data folder {} has no database yet", dir.display()));
    }
    match crate::store::Store::open(&db) {
        Ok(_) => Ok(format!("database {} opens and is up to date", db.display())),
        Err(crate::store::StoreError::Locked) => {
            Ok(format!("database {} is in use by a running server", db.display()))
        }
        Err(e) => Err(format!("database {}: {e}", db.display())),
    }
}

fn hash_password() -> ExitCode {
    if std::io::stdin().is_terminal() {
        eprintln!("Type the password and press Enter (it will be visible):");
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        return fail(format!("cannot read the password from standard input: {e}"));
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.trim().is_empty() {
        return fail("the password is empty or blank; pipe or type a real password");
    }
    match crate::auth::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn default_data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(|| {
        env_var("OPEN_NOTEBOOK_DATA_DIR")
            .filter(|v| !v.is_empty())
            .map_or("./notebook_data".into(), PathBuf::from)
    })
}

fn reindex(args: ReindexArgs) -> ExitCode {
    init_logging(LogFormat::Text);
    let data_dir = default_data_dir(args.data_dir);
    let db_path = data_dir.join("open-notebook.redb");
    if !db_path.is_file() {
        return fail(format!(
            "no database at {}; pass the server's folder with --data-dir",
            db_path.display()
        ));
    }
    let store = match crate::store::Store::open(&db_path) {
        Ok(store) => store,
        Err(e) => return fail(format!("{}: {e}", db_path.display())),
    };
    let index = match crate::search::SearchIndex::open(&data_dir.join("search-index")) {
        Ok(index) => index,
        Err(e) => return fail(e),
    };
    let result = (|| {
        index.clear()?;
        let total = store.queue_full_reindex()?;
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        index.drain_observed(&store, |n| bar.inc(n as u64))?;
        bar.finish();
        Ok::<_, crate::search::SearchError>((total, index.document_count()))
    })();
    match result {
        Ok((records, documents)) => {
            println!("reindexed {records} sources and notes into {documents} search documents");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// Opens the database for a command that must be its only user (no server running).
fn open_exclusively(data_dir: &std::path::Path) -> Result<crate::store::Store, String> {
    let db = data_dir.join("open-notebook.redb");
    if !db.exists() {
        return Err(format!("there is no database at {}; check --data-dir", db.display()));
    }
    crate::store::Store::open(&db).map_err(|e| match e {
        crate::store::StoreError::Locked => format!(
            "the database {} is in use by a running server; stop the server, run this command \
             again, then start the server",
            db.display()
        ),
        other => other.to_string(),
    })
}

fn rotate_key(args: RotateKeyArgs) -> ExitCode {
    init_logging(LogFormat::Text);
    let data_dir = default_data_dir(args.data_dir);
    let read = |flag: &str, path: &std::path::Path| {
        crate::config::read_secret_file(flag, path)
            .map(|secret| crate::crypto::Cipher::from_passphrase(secret.expose()))
    };
    let (old, new) = match (
        read("--old-key-file", &args.old_key_file),
        read("--new-key-file", &args.new_key_file),
    ) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let store = match open_exclusively(&data_dir) {
        Ok(store) => store,
        Err(message) => return fail(message),
    };
    let plan = match crate::keys::plan_rotation(&store, &old, &new) {
        Ok(plan) => plan,
        Err(e) => return fail(e),
    };
    let summary = format!(
        "keys under the old key: {}, legacy plaintext keys: {}, already under the new key: {}",
        plan.reencrypted, plan.plaintext, plan.already_new
    );
    if args.dry_run {
        println!("dry run: every stored key decrypts ({summary}); nothing was written");
        return ExitCode::SUCCESS;
    }
    let outcome = crate::keys::apply_rotation(&store, &plan, &new);
    crate::audit::flush_pending(&store);
    match outcome {
        Ok(_) => {
            println!(
                "rotated every stored key to the new key ({summary}). Start the server with \
                 the new OPEN_NOTEBOOK_ENCRYPTION_KEY."
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("nothing was changed: {e}")),
    }
}
