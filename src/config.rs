//! Settings and secrets: where every configurable value comes from.
//!
//! This module owns the precedence rule of the whole product: a command-line flag beats
//! `NAME_FILE`, which beats `NAME`, which beats the `--secrets-file`, which beats the default.
//! `NAME_FILE` is honoured only for secrets, and a configured `NAME_FILE` that cannot be used
//! is an error, never a silent fall-back to something weaker. Secrets are held in [`Secret`],
//! whose `Debug` and `Display` print `***`, so a whole [`Settings`] value is always safe to log.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// The documented development password, used only when no password is configured.
pub const DEFAULT_PASSWORD: &str = "open-notebook-change-me";

/// Variable holding the password that guards the API.
pub const PASSWORD_VAR: &str = "OPEN_NOTEBOOK_PASSWORD";

/// Variable holding the passphrase the API-key encryption key is derived from.
pub const ENCRYPTION_KEY_VAR: &str = "OPEN_NOTEBOOK_ENCRYPTION_KEY";

/// Passwords that are refused by nobody but warned about at every start.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "123456",
    "12345678",
    "123456789",
    "qwerty",
    "letmein",
    "admin",
    "changeme",
    "welcome",
    "secret",
    "open-notebook",
    "opennotebook",
    "notebook",
    "password1",
    "iloveyou",
];

/// A minimum length below which a password gets a start-up warning.
const WEAK_PASSWORD_LEN: usize = 12;

/// A secret string: redacted when printed, wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself; callers must not log or echo it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a resolved value came from, reported by `check` and in warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    File { var: String, path: PathBuf },
    Env(String),
    SecretsFile(PathBuf),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag => f.write_str("command-line flag"),
            Origin::File { var, path } => write!(f, "{var} ({})", path.display()),
            Origin::Env(var) => f.write_str(var),
            Origin::SecretsFile(path) => write!(f, "secrets file {}", path.display()),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// Why the configuration cannot be used; each message names the setting and the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{var} points to {path}, which does not exist; create the file or unset {var}")]
    SecretFileMissing { var: String, path: PathBuf },
    #[error("{var} points to {path}, which cannot be read ({reason}); fix its permissions")]
    SecretFileUnreadable { var: String, path: PathBuf, reason: String },
    #[error("{var} points to {path}, which is empty; put the secret in the file or unset {var}")]
    SecretFileEmpty { var: String, path: PathBuf },
    #[error("secrets file {path} cannot be read ({reason})")]
    SecretsFileUnreadable { path: PathBuf, reason: String },
    #[error("secrets file {path}, line {line}: expected KEY=VALUE")]
    SecretsFileSyntax { path: PathBuf, line: usize },
    #[error("{name} has an invalid value: {reason}")]
    Invalid { name: String, reason: String },
    #[error(
        "refusing to serve {host} with the default password; set {PASSWORD_VAR} (or \
         {PASSWORD_VAR}_FILE pointing at a file that holds it), or pass \
         --allow-default-password if this really is a trusted network"
    )]
    DefaultPasswordOnPublicAddress { host: String },
}

/// Warnings gathered while resolving settings; logged once the logger exists.
#[derive(Debug, Default, Clone)]
pub struct Warnings(pub Vec<String>);

impl Warnings {
    fn push(&mut self, message: impl Into<String>) {
        self.0.push(message.into());
    }
}

/// Values from a dotenv-format file (`KEY=VALUE`, `#` comments, optional quotes).
#[derive(Debug, Default, Clone)]
pub struct SecretsFile {
    path: PathBuf,
    values: HashMap<String, Zeroizing<String>>,
}

impl SecretsFile {
    /// Reads and parses a secrets file, warning when others can read it.
    pub fn load(path: &Path, warnings: &mut Warnings) -> Result<Self, ConfigError> {
        let unreadable = |e: std::io::Error| ConfigError::SecretsFileUnreadable {
            path: path.to_path_buf(),
            reason: e.kind().to_string(),
        };
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(unreadable)?);
        warn_if_shared(path, warnings);
        let values = parse_dotenv(&text)
            .map_err(|line| ConfigError::SecretsFileSyntax { path: path.to_path_buf(), line })?;
        Ok(Self { path: path.to_path_buf(), values })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|v| v.as_str())
    }
}

#[cfg(unix)]
fn warn_if_shared(path: &Path, warnings: &mut Warnings) {
    use std::os::unix::fs::PermissionsExt;

    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        warnings.push(format!(
            "secrets file {} is readable by group or others; run chmod 600 on it",
            path.display()
        ));
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path, _warnings: &mut Warnings) {}

/// Parses dotenv text; on a syntax error returns the 1-based line number.
pub fn parse_dotenv(text: &str) -> Result<HashMap<String, Zeroizing<String>>, usize> {
    let mut values = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err(index + 1);
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(index + 1);
        }
        values.insert(key.to_string(), Zeroizing::new(unquote(value.trim())));
    }
    Ok(values)
}

fn unquote(value: &str) -> String {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return value[1..value.len() - 1].to_string();
        }
    }
    match value.find(" #") {
        Some(comment) => value[..comment].trim_end().to_string(),
        None => value.to_string(),
    }
}

/// Reads settings from the process environment and an optional secrets file.
pub struct Sources<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    secrets_file: Option<SecretsFile>,
}

impl<'a> Sources<'a> {
    /// Builds a reader over `env` (normally `std::env::var`) and a secrets file.
    pub fn new(env: &'a dyn Fn(&str) -> Option<String>, secrets_file: Option<SecretsFile>) -> Self {
        Self { env, secrets_file }
    }

    /// A plain setting: `NAME`, then the secrets file. Empty values count as unset.
    pub fn plain(&self, name: &str) -> Option<(String, Origin)> {
        if let Some(value) = (self.env)(name).filter(|v| !v.is_empty()) {
            return Some((value, Origin::Env(name.to_string())));
        }
        let file = self.secrets_file.as_ref()?;
        let value = file.get(name).filter(|v| !v.is_empty())?;
        Some((value.to_string(), Origin::SecretsFile(file.path.clone())))
    }

    /// A secret: `NAME_FILE` (trimmed, must be usable), then `NAME` verbatim, then the
    /// secrets file (which may itself name a `NAME_FILE`).
    pub fn secret(
        &self,
        name: &str,
        warnings: &mut Warnings,
    ) -> Result<Option<(Secret, Origin)>, ConfigError> {
        let file_var = format!("{name}_FILE");
        let file_path = (self.env)(&file_var)
            .filter(|v| !v.is_empty())
            .or_else(|| self.secrets_file.as_ref()?.get(&file_var).map(str::to_string));
        if let Some(path) = file_path.filter(|p| !p.is_empty()) {
            if self.plain(name).is_some() {
                warnings.push(format!("both {file_var} and {name} are set; using {file_var}"));
            }
            let secret = read_secret_file(&file_var, Path::new(&path))?;
            let origin = Origin::File { var: file_var, path: PathBuf::from(path) };
            return Ok(Some((secret, origin)));
        }
        Ok(self.plain(name).map(|(value, origin)| (Secret::new(value), origin)))
    }
}

/// Reads a `NAME_FILE` secret: trimmed; missing, unreadable or empty files are errors.
pub fn read_secret_file(var: &str, path: &Path) -> Result<Secret, ConfigError> {
    let missing = || ConfigError::SecretFileMissing { var: var.into(), path: path.into() };
    let meta = std::fs::metadata(path).map_err(|_| missing())?;
    if !meta.is_file() {
        return Err(ConfigError::SecretFileUnreadable {
            var: var.into(),
            path: path.into(),
            reason: "not a regular file".into(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::SecretFileUnreadable {
        var: var.into(),
        path: path.into(),
        reason: e.kind().to_string(),
    })?;
    let text = Zeroizing::new(text);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ConfigError::SecretFileEmpty { var: var.into(), path: path.into() });
    }
    Ok(Secret::new(trimmed))
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown log format '{other}'; use text or json")),
        }
    }
}

/// The password that guards the API and whether it is the documented default.
#[derive(Debug, Clone)]
pub struct PasswordSetting {
    pub secret: Secret,
    pub origin: Origin,
    pub is_default: bool,
}

/// Everything the server needs, resolved and validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub host: String,
    pub api_port: u16,
    pub ui_port: u16,
    pub password: PasswordSetting,
    pub encryption_key: Option<(Secret, Origin)>,
    pub allow_default_password: bool,
    pub max_upload_bytes: u64,
    pub cors_origins: CorsOrigins,
    pub log_format: LogFormat,
    pub worker_count: usize,
    /// Peers whose `X-Forwarded-For` / `X-Real-IP` name the real client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Failed authentications allowed per client address before 429s.
    pub auth_failure_burst: u32,
    /// Seconds until one failed authentication is forgiven.
    pub auth_failure_refill_secs: u64,
    /// Lifetime of a session token from `POST /api/auth/login`.
    pub session_ttl: std::time::Duration,
    /// Seconds a connection may stay silent, with no request running, before it is closed.
    pub idle_timeout_secs: u64,
}

/// Allowed CORS origins: everything (`*`) or a fixed list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    List(Vec<String>),
}

impl CorsOrigins {
    /// Parses `CORS_ORIGINS`: `*` or a comma-separated list, items trimmed, empties dropped.
    pub fn parse(raw: Option<&str>) -> Self {
        let Some(raw) = raw else { return Self::Any };
        let items: Vec<String> =
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        if items.is_empty() || items.iter().any(|s| s == "*") {
            Self::Any
        } else {
            Self::List(items)
        }
    }
}

/// Flags given on the command line for `serve` and `check`; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub data_dir: Option<PathBuf>,
    pub host: Option<String>,
    pub api_port: Option<u16>,
    pub ui_port: Option<u16>,
    pub secrets_file: Option<PathBuf>,
    pub allow_default_password: bool,
    pub log_format: Option<LogFormat>,
    pub trusted_proxies: Option<String>,
}

impl Settings {
    /// Resolves every setting from flags, the environment and the secrets file.
    pub fn resolve(
        flags: &Flags,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Self, Warnings), ConfigError> {
        let mut warnings = Warnings::default();
        let secrets_path = flags.secrets_file.clone().or_else(|| {
            env("OPEN_NOTEBOOK_SECRETS_FILE").filter(|v| !v.is_empty()).map(Into::into)
        });
        let secrets_file = match secrets_path {
            Some(path) => Some(SecretsFile::load(&path, &mut warnings)?),
            None => None,
        };
        let sources = Sources::new(env, secrets_file);

        let password = resolve_password(&sources, &mut warnings)?;
        let encryption_key = sources.secret(ENCRYPTION_KEY_VAR, &mut warnings)?;
        let settings = Settings {
            data_dir: flags.data_dir.clone().unwrap_or_else(|| {
                sources
                    .plain("OPEN_NOTEBOOK_DATA_DIR")
                    .map_or("./notebook_data".into(), |v| v.0.into())
            }),
            host: flags.host.clone().unwrap_or_else(|| {
                sources.plain("API_HOST").map_or_else(|| "127.0.0.1".into(), |v| v.0)
            }),
            api_port: port_setting(flags.api_port, &sources, "API_PORT", 5055)?,
            ui_port: port_setting(flags.ui_port, &sources, "OPEN_NOTEBOOK_UI_PORT", 8502)?,
            password,
            encryption_key,
            allow_default_password: flags.allow_default_password
                || bool_setting(&sources, "OPEN_NOTEBOOK_ALLOW_DEFAULT_PASSWORD"),
            max_upload_bytes: upload_limit(&sources, &mut warnings),
            cors_origins: CorsOrigins::parse(sources.plain("CORS_ORIGINS").map(|v| v.0).as_deref()),
            log_format: match flags.log_format {
                Some(format) => format,
                None => log_format_setting(&sources)?,
            },
            worker_count: worker_count(&sources)?,
            trusted_proxies: trusted_proxies(flags, &sources)?,
            auth_failure_burst: number_setting(&sources, "OPEN_NOTEBOOK_AUTH_FAILURE_BURST", 10)?,
            auth_failure_refill_secs: number_setting(
                &sources,
                "OPEN_NOTEBOOK_AUTH_FAILURE_REFILL_SECONDS",
                60,
            )?,
            session_ttl: session_ttl(&sources)?,
            idle_timeout_secs: number_setting(&sources, "OPEN_NOTEBOOK_IDLE_TIMEOUT_SECONDS", 30)?,
        };
        settings.collect_warnings(&sources, &mut warnings);
        Ok((settings, warnings))
    }

    fn collect_warnings(&self, sources: &Sources<'_>, warnings: &mut Warnings) {
        if self.password.is_default {
            warnings.push(format!(
                "no password configured: the default development password is in use; set \
                 {PASSWORD_VAR} or {PASSWORD_VAR}_FILE before exposing this server"
            ));
        } else if is_weak_password(self.password.secret.expose()) {
            warnings.push(format!(
                "{PASSWORD_VAR} is weak (shorter than {WEAK_PASSWORD_LEN} characters or a common \
                 password); choose a long random one, e.g. from `openssl rand -base64 24`"
            ));
        }
        if self.encryption_key.is_none() {
            warnings.push(format!(
                "{ENCRYPTION_KEY_VAR} is not set: AI-provider API keys cannot be stored until it is"
            ));
        }
        if sources.plain("CORS_ORIGINS").is_none() && !is_loopback(&self.host) {
            warnings.push(
                "CORS_ORIGINS is not set: any origin may call the API (without \
                           credentials); set it to your UI's origin to restrict this"
                    .to_string(),
            );
        }
    }

    /// Refuses a public address with the default password unless explicitly allowed.
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
        if self.password.is_default && !self.allow_default_password && !is_loopback(&self.host) {
            return Err(ConfigError::DefaultPasswordOnPublicAddress { host: self.host.clone() });
        }
        Ok(())
    }

    /// The effective settings, one per line, with secrets masked.
    pub fn describe(&self) -> Vec<(String, String)> {
        let Settings {
            data_dir,
            host,
            api_port,
            ui_port,
            password,
            encryption_key,
            allow_default_password,
            max_upload_bytes,
            cors_origins,
            log_format,
            worker_count,
            trusted_proxies,
            auth_failure_burst,
            auth_failure_refill_secs,
            session_ttl,
            idle_timeout_secs,
        } = self;
        let password_line = if password.is_default {
            "*** (default development password)".to_string()
        } else {
            format!("*** (from {})", password.origin)
        };
        let key_line = match encryption_key {
            Some((_, origin)) => format!("*** (from {origin})"),
            None => "not set".to_string(),
        };
        vec![
            ("data_dir".into(), data_dir.display().to_string()),
            ("host".into(), host.clone()),
            ("api_port".into(), api_port.to_string()),
            ("ui_port".into(), if *ui_port == 0 { "off".into() } else { ui_port.to_string() }),
            ("password".into(), password_line),
            ("encryption_key".into(), key_line),
            ("allow_default_password".into(), allow_default_password.to_string()),
            ("max_upload_bytes".into(), max_upload_bytes.to_string()),
            ("cors_origins".into(), format!("{cors_origins:?}")),
            ("log_format".into(), format!("{log_format:?}").to_lowercase()),
            ("workers".into(), worker_count.to_string()),
            ("trusted_proxies".into(), format!("{trusted_proxies:?}")),
            (
                "auth_failure_limit".into(),
                format!("{auth_failure_burst} then 1 per {auth_failure_refill_secs} s"),
            ),
            ("session_ttl".into(), format!("{} s", session_ttl.as_secs())),
            ("idle_timeout".into(), format!("{idle_timeout_secs} s")),
        ]
    }
}

fn resolve_password(
    sources: &Sources<'_>,
    warnings: &mut Warnings,
) -> Result<PasswordSetting, ConfigError> {
    Ok(match sources.secret(PASSWORD_VAR, warnings)? {
        Some((secret, origin)) => {
            // The documented default stays the default however it was set.
            let is_default = secret.expose() == DEFAULT_PASSWORD;
            PasswordSetting { secret, origin, is_default }
        }
        None => PasswordSetting {
            secret: Secret::new(DEFAULT_PASSWORD),
            origin: Origin::Default,
            is_default: true,
        },
    })
}

fn port_setting(
    flag: Option<u16>,
    sources: &Sources<'_>,
    name: &str,
    default: u16,
) -> Result<u16, ConfigError> {
    if let Some(port) = flag {
        return Ok(port);
    }
    match sources.plain(name) {
        Some((raw, _)) => raw.trim().parse().map_err(|_| ConfigError::Invalid {
            name: name.into(),
            reason: format!("'{raw}' is not a port number (0-65535)"),
        }),
        None => Ok(default),
    }
}

fn bool_setting(sources: &Sources<'_>, name: &str) -> bool {
    sources.plain(name).is_some_and(|(v, _)| parse_bool(&v))
}

/// The usual spellings of "yes": `true`, `1`, `yes`, `on` in any case.
pub fn parse_bool(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
}

fn upload_limit(sources: &Sources<'_>, warnings: &mut Warnings) -> u64 {
    const MIB: f64 = 1024.0 * 1024.0;
    let name = "OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB";
    let Some((raw, _)) = sources.plain(name) else { return (100.0 * MIB) as u64 };
    match raw.trim().parse::<f64>() {
        Ok(mb) if mb.is_finite() && mb > 0.0 => (mb * MIB) as u64,
        _ => {
            warnings.push(format!("{name}='{raw}' is not a positive number; using 100"));
            (100.0 * MIB) as u64
        }
    }
}

fn log_format_setting(sources: &Sources<'_>) -> Result<LogFormat, ConfigError> {
    match sources.plain("OPEN_NOTEBOOK_LOG_FORMAT") {
        Some((raw, _)) => raw.parse().map_err(|reason| ConfigError::Invalid {
            name: "OPEN_NOTEBOOK_LOG_FORMAT".into(),
            reason,
        }),
        None => Ok(LogFormat::Text),
    }
}

fn worker_count(sources: &Sources<'_>) -> Result<usize, ConfigError> {
    let name = "OPEN_NOTEBOOK_WORKER_MAX_TASKS";
    match sources.plain(name) {
        Some((raw, _)) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=64).contains(&n) => Ok(n),
            _ => Err(ConfigError::Invalid {
                name: name.into(),
                reason: format!("'{raw}' is not a number from 1 to 64"),
            }),
        },
        None => Ok(2),
    }
}

fn trusted_proxies(flags: &Flags, sources: &Sources<'_>) -> Result<Vec<IpAddr>, ConfigError> {
    let name = "OPEN_NOTEBOOK_TRUSTED_PROXIES";
    let raw = match &flags.trusted_proxies {
        Some(raw) => raw.clone(),
        None => match sources.plain(name) {
            Some((raw, _)) => raw,
            None => return Ok(Vec::new()),
        },
    };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse().map_err(|_| ConfigError::Invalid {
                name: "--trusted-proxies".into(),
                reason: format!(
                    "'{item}' is not an IP address; list proxy addresses separated by commas"
                ),
            })
        })
        .collect()
}

fn session_ttl(sources: &Sources<'_>) -> Result<std::time::Duration, ConfigError> {
    let name = "OPEN_NOTEBOOK_SESSION_TTL";
    match sources.plain(name) {
        Some((raw, _)) => {
            crate::auth::session::parse_ttl(&raw).ok_or_else(|| ConfigError::Invalid {
                name: name.into(),
                reason: format!("'{raw}' is not a lifetime; use e.g. 12h, 30m or 3600"),
            })
        }
        None => Ok(std::time::Duration::from_secs(12 * 3600)),
    }
}

fn number_setting<T: std::str::FromStr + Copy + PartialOrd + From<u8>>(
    sources: &Sources<'_>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match sources.plain(name) {
        Some((raw, _)) => match raw.trim().parse::<T>() {
            Ok(n) if n >= T::from(1) => Ok(n),
            _ => Err(ConfigError::Invalid {
                name: name.into(),
                reason: format!("'{raw}' is not a positive whole number"),
            }),
        },
        None => Ok(default),
    }
}

/// True for passwords that deserve a start-up warning.
pub fn is_weak_password(password: &str) -> bool {
    if password.starts_with("$argon2") {
        return false;
    }
    let lower = password.to_ascii_lowercase();
    password.chars().count() < WEAK_PASSWORD_LEN || COMMON_PASSWORDS.contains(&lower.as_str())
}

/// True when `host` only accepts connections from this machine.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn secret_prints_as_stars() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret} {secret:?}"), "*** ***");
    }

    #[test]
    fn dotenv_handles_comments_quotes_and_export() {
        let text = "# c\nA=1\nexport B=\"two words\"\nC='x=y'\nD=plain # note\n\n";
        let values = parse_dotenv(text).unwrap();
        assert_eq!(values["A"].as_str(), "1");
        assert_eq!(values["B"].as_str(), "two words");
        assert_eq!(values["C"].as_str(), "x=y");
        assert_eq!(values["D"].as_str(), "plain");
        assert_eq!(parse_dotenv("ok=1\nnot a pair\n").unwrap_err(), 2);
    }

    #[test]
    fn file_secret_is_trimmed_and_wins_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "from-file\r\n").unwrap();
        let path_str = path.to_str().unwrap().to_string();
        let env = env_of(&[(PASSWORD_VAR, "from-env"), ("OPEN_NOTEBOOK_PASSWORD_FILE", &path_str)]);
        let (settings, warnings) = Settings::resolve(&Flags::default(), &env).unwrap();
        assert_eq!(settings.password.secret.expose(), "from-file");
        let warning = warnings.0.iter().find(|w| w.contains("both")).unwrap();
        assert!(!warning.contains("from-file") && !warning.contains("from-env"));
    }

    #[test]
    fn plain_env_secret_is_not_trimmed() {
        let env = env_of(&[(PASSWORD_VAR, " spaced ")]);
        let (settings, _) = Settings::resolve(&Flags::default(), &env).unwrap();
        assert_eq!(settings.password.secret.expose(), " spaced ");
    }

    #[test]
    fn unusable_secret_files_are_errors_naming_variable_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, " \n").unwrap();
        let missing = dir.path().join("missing");
        for path in [&empty, &missing] {
            let path_str = path.to_str().unwrap().to_string();
            let env = env_of(&[("OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE", &path_str)]);
            let err = Settings::resolve(&Flags::default(), &env).unwrap_err().to_string();
            assert!(err.contains("OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE"), "{err}");
            assert!(err.contains(&path_str), "{err}");
        }
    }

    #[test]
    fn default_password_refused_on_public_address_only() {
        let env = env_of(&[]);
        let flags = Flags { host: Some("0.0.0.0".into()), ..Flags::default() };
        let (settings, _) = Settings::resolve(&flags, &env).unwrap();
        let message = settings.check_exposure().unwrap_err().to_string();
        assert!(message.contains(PASSWORD_VAR), "{message}");
        let flags = Flags { host: Some("::1".into()), ..Flags::default() };
        assert!(Settings::resolve(&flags, &env).unwrap().0.check_exposure().is_ok());
        let flags = Flags { allow_default_password: true, ..flags };
        assert!(Settings::resolve(&flags, &env).unwrap().0.check_exposure().is_ok());
    }

    #[test]
    fn the_default_password_set_explicitly_is_still_the_default() {
        let env = env_of(&[(PASSWORD_VAR, DEFAULT_PASSWORD)]);
        let flags = Flags { host: Some("0.0.0.0".into()), ..Flags::default() };
        let (settings, _) = Settings::resolve(&flags, &env).unwrap();
        assert!(settings.password.is_default);
        assert!(settings.check_exposure().is_err());
    }

    #[test]
    fn upload_limit_falls_back_on_bad_values() {
        let env = env_of(&[("OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB", "-3")]);
        let (settings, warnings) = Settings::resolve(&Flags::default(), &env).unwrap();
        assert_eq!(settings.max_upload_bytes, 100 * 1024 * 1024);
        assert!(warnings.0.iter().any(|w| w.contains("OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB")));
        let env = env_of(&[("OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB", "0.5")]);
        assert_eq!(Settings::resolve(&Flags::default(), &env).unwrap().0.max_upload_bytes, 524288);
    }

    #[test]
    fn cors_origins_parse() {
        assert_eq!(CorsOrigins::parse(None), CorsOrigins::Any);
        assert_eq!(
            CorsOrigins::parse(Some(" a , ,b")),
            CorsOrigins::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(CorsOrigins::parse(Some("a,*")), CorsOrigins::Any);
    }
}
