//! The audit trail: every log event of the `audit` target, also kept in the database.
//!
//! Security-relevant code logs with `target: "audit"` (authentication failures, throttling,
//! logins and logouts, credential changes and use, key rotation, start-up warnings). A
//! `tracing` layer copies those events, message and fields, into a bounded channel; once the
//! database is open a task writes them to the capped `audit` table that `GET /api/audit`
//! lists. Events logged before the database opens wait in the channel. Because the table is
//! fed from the log, the two can never disagree, and nothing reaches it that the log would
//! not show: audit events must never carry secrets, exactly like every other log line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};

/// Events waiting to be written; beyond this, new events reach the log only.
const CHANNEL_CAPACITY: usize = 4096;

/// One audit event as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub at: i64,
    pub level: String,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

impl crate::store::Record for AuditEntry {
    const KIND: &'static str = "audit";
    const VERSION: u8 = 1;
}

static SENDER: OnceLock<mpsc::Sender<AuditEntry>> = OnceLock::new();
static RECEIVER: Mutex<Option<mpsc::Receiver<AuditEntry>>> = Mutex::new(None);

/// The layer to install in the subscriber; also creates the channel.
pub fn layer() -> AuditLayer {
    let (sender, receiver) = mpsc::channel(CHANNEL_CAPACITY);
    if SENDER.set(sender).is_ok()
        && let Ok(mut slot) = RECEIVER.lock()
    {
        *slot = Some(receiver);
    }
    AuditLayer
}

/// Takes the receiving end (once), for the task that writes to the database.
pub fn take_receiver() -> Option<mpsc::Receiver<AuditEntry>> {
    RECEIVER.lock().ok()?.take()
}

/// Copies `audit` events into the channel.
pub struct AuditLayer;

impl<S: tracing::Subscriber> Layer<S> for AuditLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if metadata.target() != "audit" {
            return;
        }
        let Some(sender) = SENDER.get() else { return };
        let mut visitor = Collect::default();
        event.record(&mut visitor);
        let entry = AuditEntry {
            at: crate::store::now_micros(),
            level: metadata.level().to_string(),
            message: visitor.message,
            fields: visitor.fields,
        };
        // A full channel drops the copy, never the log line itself.
        let _ = sender.try_send(entry);
    }
}

#[derive(Default)]
struct Collect {
    message: String,
    fields: BTreeMap<String, String>,
}

impl Visit for Collect {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.store(field, text);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.store(field, value.to_string());
    }
}

impl Collect {
    fn store(&mut self, field: &Field, text: String) {
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.insert(field.name().to_string(), text);
        }
    }
}

/// Writes queued audit events to the store until the channel closes.
pub async fn persist(
    store: std::sync::Arc<crate::store::Store>,
    mut receiver: mpsc::Receiver<AuditEntry>,
) {
    let mut batch = Vec::new();
    while receiver.recv_many(&mut batch, 256).await > 0 {
        let entries = std::mem::take(&mut batch);
        let store = std::sync::Arc::clone(&store);
        let written = tokio::task::spawn_blocking(move || store.append_audit(&entries)).await;
        if !matches!(written, Ok(Ok(()))) {
            // Logged on another target so a failing table cannot feed itself.
            tracing::error!("could not write audit events to the database");
        }
    }
}

/// Writes whatever is queued right now (for commands that run without the async writer).
pub fn flush_pending(store: &crate::store::Store) {
    let Some(mut receiver) = take_receiver() else { return };
    let mut entries = Vec::new();
    while let Ok(entry) = receiver.try_recv() {
        entries.push(entry);
    }
    if !entries.is_empty() && store.append_audit(&entries).is_err() {
        tracing::error!("could not write audit events to the database");
    }
}
