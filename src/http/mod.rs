//! The HTTP server: listeners, the per-request pipeline and the shared application state.
//!
//! Every request goes through the same steps in [`dispatch`]: strict path decoding, CORS
//! preflight, the declared-size check (413 before anything else is read), the password gate
//! for non-public paths, routing, reading the body under the size limit, the handler, and
//! finally the CORS and security headers and one log line. Handlers live in one file per
//! resource and only translate between HTTP and the store, index and ingest layers.

mod auth;
mod commands;
mod credentials;
mod discovery;
mod guard;
mod idle;
mod models;
mod notebooks;
mod notes;
mod openapi;
mod reply;
mod request;
mod router;
mod search;
mod settings;
mod sources;
mod system;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

pub use reply::{ApiError, ApiResult, Reply, bytes_reply};
pub use request::Ctx;
use router::{Routed, Router};

use crate::auth::ratelimit::{FailureThrottle, RateLimit};
use crate::auth::session::Sessions;
use crate::auth::{AuthOutcome, PasswordCheck, bearer_credential};
use crate::config::Settings;
use crate::ingest::process::Workers;
use crate::search::SearchIndex;
use crate::store::{Store, StoreResult};

/// The original's 413 text.
const TOO_LARGE: &str = "Request body exceeds the maximum allowed upload size";

/// Most connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 1024;

/// Time allowed for a client to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Time allowed between two pieces of a request body.
const BODY_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest body read for a public route (the login form is the only one that has one).
const PUBLIC_BODY_LIMIT: u64 = 64 * 1024;

/// Time allowed for in-flight requests to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// A start-up or serving failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error("cannot open the database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("cannot open the search index: {0}")]
    Search(#[from] crate::search::SearchError),
    #[error("cannot use the data folder {path}: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error("the session secret in the database is unusable; stop the server and run reindex")]
    SessionSecret,
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
}

/// State shared by every request.
pub struct App {
    pub settings: Settings,
    pub store: Arc<Store>,
    pub index: Arc<SearchIndex>,
    pub password: PasswordCheck,
    pub throttle: FailureThrottle,
    pub sessions: Sessions,
    /// The cipher for stored API keys, if an encryption key is configured.
    pub keys: Arc<crate::keys::KeyRing>,
    pub uploads_dir: PathBuf,
    index_wake: Arc<Notify>,
    job_wake: Arc<Notify>,
    router: Router,
}

impl App {
    /// Opens the data folder (database, index, uploads) for `settings`.
    pub fn open(settings: Settings) -> Result<Arc<Self>, ServeError> {
        let data_dir = settings.data_dir.clone();
        let uploads_dir = data_dir.join("uploads");
        std::fs::create_dir_all(&uploads_dir)
            .map_err(|e| ServeError::DataDir { path: data_dir.clone(), reason: e.to_string() })?;
        restrict_to_owner(&data_dir);
        let interrupted = crate::ingest::uploads::remove_interrupted(&uploads_dir);
        if interrupted > 0 {
            tracing::info!(interrupted, "removed temporary files of interrupted uploads");
        }
        let store = Arc::new(Store::open(&data_dir.join("open-notebook.redb"))?);
        let index = Arc::new(SearchIndex::open(&data_dir.join("search-index"))?);
        if index.needs_rebuild() {
            let queued = store.queue_full_reindex()?;
            tracing::warn!(queued, "search index format changed; rebuilding it from the database");
        }
        let applied = index.drain(&store)?;
        if applied > 0 {
            tracing::info!(applied, "applied pending search-index updates from the last run");
        }
        let (requeued, failed) = store.recover_jobs()?;
        if requeued + failed > 0 {
            tracing::info!(requeued, failed, "recovered processing jobs interrupted by a stop");
        }
        let password = PasswordCheck::new(&settings.password.secret)?;
        let throttle = FailureThrottle::new(RateLimit {
            burst: settings.auth_failure_burst,
            refill_every: Duration::from_secs(settings.auth_failure_refill_secs),
        });
        let sessions = open_sessions(&store, &settings)?;
        let keys = crate::keys::KeyRing::new(settings.encryption_key.as_ref().map(|(k, _)| k));
        crate::keys::startup_check(&store, &keys, &data_dir)?;
        Ok(Arc::new(Self {
            settings,
            store,
            index,
            password,
            throttle,
            sessions,
            keys: Arc::new(keys),
            uploads_dir,
            index_wake: Arc::new(Notify::new()),
            job_wake: Arc::new(Notify::new()),
            router: routes(),
        }))
    }

    /// Runs a store operation on the blocking pool.
    pub async fn db<T, F>(self: &Arc<Self>, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> StoreResult<T> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        Ok(tokio::task::spawn_blocking(move || f(&store)).await??)
    }

    /// Applies pending index updates now, so the caller's changes are searchable on return.
    pub async fn sync_index(self: &Arc<Self>) -> Result<(), ApiError> {
        let (store, index) = (Arc::clone(&self.store), Arc::clone(&self.index));
        tokio::task::spawn_blocking(move || {
            let last = store.last_index_task()?;
            index.drain_through(&store, last, |_| {})
        })
        .await??;
        Ok(())
    }

    /// Asks the background index task to apply pending updates soon.
    pub fn wake_indexer(&self) {
        self.index_wake.notify_one();
    }

    /// Tells the processing workers a job is waiting.
    pub fn wake_workers(&self) {
        self.job_wake.notify_waiters();
        self.job_wake.notify_one();
    }

    fn workers(&self) -> Workers {
        Workers {
            store: Arc::clone(&self.store),
            jobs_ready: Arc::clone(&self.job_wake),
            index_ready: Arc::clone(&self.index_wake),
        }
    }
}

/// Makes the data folder private to the server's user (documents, notes and keys live
/// there); a failure is logged, not fatal, for folders the user manages differently.
fn restrict_to_owner(data_dir: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let private = std::fs::Permissions::from_mode(0o700);
        if let Err(e) = std::fs::set_permissions(data_dir, private) {
            tracing::warn!(target: "audit", path = %data_dir.display(), error = %e,
                "could not make the data folder private (chmod 700)");
        }
    }
}

/// Meta keys of the session secret and the revocation list.
const SESSION_SECRET_KEY: &str = "session_secret";
pub(crate) const REVOKED_SESSIONS_KEY: &str = "revoked_sessions";

fn open_sessions(store: &Store, settings: &Settings) -> Result<Sessions, ServeError> {
    let secret = match store.meta(SESSION_SECRET_KEY)? {
        Some(bytes) => crate::config::Secret::new(String::from_utf8_lossy(&bytes).into_owned()),
        None => {
            let secret = crate::auth::session::new_server_secret();
            store.set_meta(SESSION_SECRET_KEY, secret.expose().as_bytes())?;
            secret
        }
    };
    let revoked = store
        .meta(REVOKED_SESSIONS_KEY)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    Sessions::new(&secret, &settings.password.secret, settings.session_ttl, revoked)
        .ok_or(ServeError::SessionSecret)
}

fn routes() -> Router {
    let builder = router::RouterBuilder::default();
    let builder = system::routes(builder);
    let builder = auth::routes(builder);
    let builder = notebooks::routes(builder);
    let builder = sources::routes(builder);
    let builder = notes::routes(builder);
    let builder = search::routes(builder);
    let builder = credentials::routes(builder);
    let builder = models::routes(builder);
    let builder = settings::routes(builder);
    let builder = commands::routes(builder);
    builder.build()
}

/// Which listener a connection arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Api,
    Ui,
}

/// Serves the API (and UI) listeners until SIGTERM or SIGINT.
pub async fn serve(app: Arc<App>) -> Result<(), ServeError> {
    let mut listeners =
        vec![(bind(&app.settings.host, app.settings.api_port).await?, Listener::Api)];
    if app.settings.ui_port != 0 {
        listeners.push((bind(&app.settings.host, app.settings.ui_port).await?, Listener::Ui));
    }
    for (listener, kind) in &listeners {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, listener = ?kind, "listening");
        }
    }
    let indexer = tokio::spawn(run_indexer(Arc::clone(&app)));
    if let Some(receiver) = crate::audit::take_receiver() {
        tokio::spawn(crate::audit::persist(Arc::clone(&app.store), receiver));
    }
    app.workers().spawn(app.settings.worker_count);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);

    let (first, second) = split_listeners(listeners);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&first) => accepted,
            accepted = accept_optional(second.as_ref()) => accepted,
        };
        let Some((stream, peer, kind)) = accepted else { continue };
        let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
            // At the cap: close at once rather than let the accept queue fill up.
            tracing::warn!(client = %peer.ip(), "connection limit reached; refusing a connection");
            drop(stream);
            continue;
        };
        serve_connection(&app, &graceful, stream, peer, kind, permit);
    }

    tracing::info!("shutting down: finishing in-flight requests");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("some requests did not finish in time and were dropped");
    }
    indexer.abort();
    let (store, index) = (Arc::clone(&app.store), Arc::clone(&app.index));
    match tokio::task::spawn_blocking(move || index.drain(&store)).await {
        Ok(Ok(_)) => tracing::info!("search index flushed; database closed"),
        Ok(Err(e)) => tracing::error!(error = %e, "could not flush the search index"),
        Err(e) => tracing::error!(error = %e, "index flush task failed"),
    }
    Ok(())
}

type Bound = (TcpListener, Listener);

fn split_listeners(mut listeners: Vec<Bound>) -> (Bound, Option<Bound>) {
    let second = if listeners.len() > 1 { listeners.pop() } else { None };
    let first = listeners.remove(0);
    (first, second)
}

async fn accept(bound: &Bound) -> Option<(tokio::net::TcpStream, SocketAddr, Listener)> {
    match bound.0.accept().await {
        Ok((stream, peer)) => Some((stream, peer, bound.1)),
        Err(e) => {
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            None
        }
    }
}

async fn accept_optional(
    bound: Option<&Bound>,
) -> Option<(tokio::net::TcpStream, SocketAddr, Listener)> {
    match bound {
        Some(bound) => accept(bound).await,
        None => std::future::pending().await,
    }
}

async fn bind(host: &str, port: u16) -> Result<TcpListener, ServeError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addr =
        if bare.contains(':') { format!("[{bare}]:{port}") } else { format!("{bare}:{port}") };
    TcpListener::bind(&addr).await.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            "; another program uses this port: pick a free one with --api-port / --ui-port"
        } else {
            ""
        };
        ServeError::Bind { addr, reason: format!("{e}{hint}") }
    })
}

fn serve_connection(
    app: &Arc<App>,
    graceful: &hyper_util::server::graceful::GracefulShutdown,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    kind: Listener,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let activity = idle::Activity::new();
    let idle_limit = Duration::from_secs(app.settings.idle_timeout_secs);
    let app = Arc::clone(app);
    let requests = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |req| {
        let (app, in_flight) = (Arc::clone(&app), requests.request());
        async move {
            let reply = dispatch(app, req, peer, kind).await;
            drop(in_flight);
            Ok::<_, std::convert::Infallible>(reply)
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(idle_limit))
        .keep_alive_timeout(HEADER_TIMEOUT);
    let io = TokioIo::new(idle::Tracked::new(stream, Arc::clone(&activity)));
    let connection = graceful.watch(builder.serve_connection(io, service).into_owned());
    tokio::spawn(async move {
        tokio::select! {
            ended = connection => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
            }
            () = activity.idle_timeout(idle_limit) => {
                tracing::debug!(client = %peer.ip(), "closed an idle connection");
            }
        }
        drop(permit);
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn run_indexer(app: Arc<App>) {
    loop {
        tokio::select! {
            () = app.index_wake.notified() => {},
            () = tokio::time::sleep(Duration::from_secs(2)) => {},
        }
        let (store, index) = (Arc::clone(&app.store), Arc::clone(&app.index));
        match tokio::task::spawn_blocking(move || index.drain(&store)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "search index update failed; will retry"),
            Err(e) => tracing::error!(error = %e, "search index task panicked; will retry"),
        }
    }
}

/// Runs one request through the whole pipeline; never fails.
pub async fn dispatch(
    app: Arc<App>,
    req: Request<Incoming>,
    peer: SocketAddr,
    kind: Listener,
) -> Reply {
    let started = Instant::now();
    let method = req.method().clone();
    let raw_path = req.uri().path().to_string();
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut reply = match pipeline(&app, req, peer, kind).await {
        Ok(reply) => reply,
        Err(error) => error.into_reply(),
    };
    if method == Method::HEAD {
        *reply.body_mut() = http_body_util::Full::new(Bytes::new());
    }
    let headers = reply.headers_mut();
    guard::add_cors(&app.settings.cors_origins, origin.as_ref(), headers);
    guard::add_security_headers(&raw_path, headers);
    tracing::info!(
        target: "http",
        method = %method,
        path = %raw_path,
        status = reply.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        client = %peer.ip(),
        "request"
    );
    reply
}

async fn pipeline(
    app: &Arc<App>,
    req: Request<Incoming>,
    peer: SocketAddr,
    kind: Listener,
) -> ApiResult {
    let path = guard::decode_path(req.uri().path())?;
    if req.method() == Method::OPTIONS
        && let Some(reply) = guard::preflight(&app.settings.cors_origins, req.headers())
    {
        return Ok(reply);
    }
    check_declared_length(req.headers(), app.settings.max_upload_bytes)?;
    let service_route = matches!(path.as_str(), "/health" | "/docs" | "/openapi.json");
    if kind == Listener::Ui && !path.starts_with("/api/") && path != "/api" && !service_route {
        return Ok(crate::assets::serve(req.method(), &path));
    }
    let client = client_address(&app.settings.trusted_proxies, peer, req.headers());
    if !guard::is_public(&path) && req.method() != Method::OPTIONS {
        authorize(app, req.headers(), client)?;
    }
    let (handler, params) = match app.router.find(req.method(), &path) {
        Routed::Found(handler, params) => (handler, params),
        Routed::MethodNotAllowed => {
            return Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"));
        }
        Routed::NotFound => return Err(ApiError::not_found("Not Found")),
    };
    let (parts, body) = req.into_parts();
    let body = match body_limit(&parts.method, &path, app.settings.max_upload_bytes) {
        Some(limit) => read_body(body, limit).await?,
        None => Bytes::new(),
    };
    let ctx = Ctx {
        method: parts.method,
        path,
        params,
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers,
        body,
        client: client.to_string(),
    };
    handler(Arc::clone(app), ctx).await
}

/// The 429 for an address that used up its failed attempts, with `Retry-After`.
pub(crate) fn throttled(client: IpAddr, wait: Duration) -> ApiError {
    tracing::warn!(target: "audit", %client, "authentication throttled");
    let seconds = wait.as_secs().max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("Too many failed authentication attempts; try again in {seconds} seconds"),
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
}

/// The password, or else a live session token, in a `Bearer` header.
fn check_credentials(app: &App, header: Option<&[u8]>) -> AuthOutcome {
    let credential = match bearer_credential(header) {
        Ok(credential) => credential,
        Err(refused) => return refused,
    };
    if app.password.verify(credential) {
        return AuthOutcome::Allowed;
    }
    let now = chrono::Utc::now().timestamp();
    match app.sessions.verify(credential, now) {
        Some(_) => AuthOutcome::Allowed,
        None => AuthOutcome::WrongPassword,
    }
}

/// The client's address: the socket peer, or the forwarded address when the peer is a
/// trusted proxy (the right-most untrusted hop of `X-Forwarded-For`, else `X-Real-IP`).
pub(crate) fn client_address(
    trusted: &[IpAddr],
    peer: SocketAddr,
    headers: &http::HeaderMap,
) -> IpAddr {
    let peer_ip = peer.ip();
    if !trusted.contains(&peer_ip) {
        return peer_ip;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    if let Some(client) = forwarded.iter().rev().find(|ip| !trusted.contains(ip)) {
        return *client;
    }
    headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer_ip)
}

pub(crate) fn authorize(
    app: &App,
    headers: &http::HeaderMap,
    client: IpAddr,
) -> Result<(), ApiError> {
    if let Some(wait) = app.throttle.blocked_for(client) {
        return Err(throttled(client, wait));
    }
    let header = headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    match check_credentials(app, header) {
        AuthOutcome::Allowed => Ok(()),
        refused => {
            if refused != AuthOutcome::MissingHeader {
                app.throttle.record_failure(client);
            }
            let reason = refused.detail();
            tracing::warn!(target: "audit", %client, reason, "authentication failed");
            Err(ApiError::new(StatusCode::UNAUTHORIZED, refused.detail())
                .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")))
        }
    }
}

fn check_declared_length(headers: &http::HeaderMap, limit: u64) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > limit => Err(too_large()),
        _ => Ok(()),
    }
}

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE)
}

// TODO: uploads are buffered whole (up to the limit) before multipart parsing; streaming
// the file part straight into the temporary upload file would bound memory per request to a
// small buffer, but needs handlers that own the body stream instead of a `Bytes` value.
/// How much body a request may have; `None` for methods whose handlers never read one.
fn body_limit(method: &Method, path: &str, configured: u64) -> Option<u64> {
    if matches!(*method, Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS) {
        return None;
    }
    Some(if guard::is_public(path) { configured.min(PUBLIC_BODY_LIMIT) } else { configured })
}

async fn read_body(mut body: Incoming, limit: u64) -> Result<Bytes, ApiError> {
    let mut buffer = BytesMut::new();
    loop {
        let Ok(next) = tokio::time::timeout(BODY_STALL_TIMEOUT, body.frame()).await else {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "The request body stopped arriving; send it again",
            ));
        };
        let Some(frame) = next else { break };
        let frame = frame.map_err(|e| {
            ApiError::bad_request(format!("The request body could not be read: {e}"))
        })?;
        if let Some(data) = frame.data_ref() {
            if (buffer.len() + data.len()) as u64 > limit {
                return Err(too_large());
            }
            buffer.extend_from_slice(data);
        }
    }
    Ok(buffer.freeze())
}

/// Deletes a stored upload after its record is gone; only files inside the uploads folder.
pub(crate) async fn remove_upload(app: &App, file_path: &str) {
    let path = std::path::Path::new(file_path);
    let inside = match (path.canonicalize(), app.uploads_dir.canonicalize()) {
        (Ok(file), Ok(dir)) => file.starts_with(dir),
        _ => false,
    };
    if !inside {
        tracing::warn!(file = %file_path, "not removing a file outside the uploads folder");
        return;
    }
    if let Err(e) = tokio::fs::remove_file(path).await {
        tracing::warn!(file = %file_path, error = %e, "could not remove a deleted source's file");
    }
}
