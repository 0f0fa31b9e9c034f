//! Extraction in a child process, so no document can take the server down.
//!
//! Parsers of untrusted documents can recurse without bound, inflate small files into huge
//! buffers or spin for minutes; a stack overflow cannot be caught and a thread cannot be
//! stopped. So the server runs each extraction in a short-lived copy of itself
//! (`open-notebook extract-worker`) that reads the document on stdin, caps its own address
//! space and CPU time with `setrlimit`, and writes one JSON answer on stdout. When the time
//! limit passes, the child is killed; when it crashes or runs out of memory, the upload is
//! refused with a clear message and the server carries on.

use std::io::{Read, Write};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::extract::{self, ExtractError, Extracted, Format};

/// Address space a child may use.
pub const MEMORY_LIMIT_BYTES: u64 = 2 << 30;

/// CPU seconds a child may use (the wall-clock limit is enforced by the parent too).
pub const CPU_LIMIT_SECS: u64 = 300;

/// Stack of the thread that runs the parsers: deep enough for any sane document.
const PARSER_STACK_BYTES: usize = 256 << 20;

/// The subcommand name the parent runs.
pub const WORKER_COMMAND: &str = "extract-worker";

/// What the child answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Ok { title: Option<String>, text: String, mime: String },
    Unsupported { mime: String },
    Encrypted,
    Corrupt { reason: String },
    Empty,
    TooLarge,
}

/// Why isolated extraction produced no text.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("timed out")]
    Timeout,
    #[error("the extractor process failed: {0}")]
    Crashed(String),
}

/// Extracts `bytes` in a child process under the memory, CPU and wall-clock limits.
pub async fn extract_isolated(
    bytes: Vec<u8>,
    name: &str,
    timeout: Duration,
) -> Result<Extracted, SandboxError> {
    let exe = std::env::current_exe().map_err(|e| SandboxError::Crashed(e.to_string()))?;
    let mut child = tokio::process::Command::new(exe)
        .arg(WORKER_COMMAND)
        .arg("--name")
        .arg(name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| SandboxError::Crashed(e.to_string()))?;
    let mut stdin = child.stdin.take().ok_or_else(|| SandboxError::Crashed("no stdin".into()))?;
    let run = async move {
        // A child that stops reading early (it crashed) shows up in its exit status below.
        let _ = stdin.write_all(&bytes).await;
        drop(stdin);
        child.wait_with_output().await
    };
    let output = match tokio::time::timeout(timeout, run).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(SandboxError::Crashed(e.to_string())),
        Err(_) => return Err(SandboxError::Timeout),
    };
    match serde_json::from_slice::<Answer>(&output.stdout) {
        Ok(answer) => into_result(answer),
        Err(_) => Err(SandboxError::Crashed(format!("exit status {}", output.status))),
    }
}

fn into_result(answer: Answer) -> Result<Extracted, SandboxError> {
    Ok(match answer {
        Answer::Ok { title, text, mime } => Extracted { title, text, mime: known_mime(&mime) },
        Answer::Unsupported { mime } => return Err(ExtractError::Unsupported { mime }.into()),
        Answer::Encrypted => return Err(ExtractError::Encrypted.into()),
        Answer::Corrupt { reason } => return Err(ExtractError::Corrupt { reason }.into()),
        Answer::Empty => return Err(ExtractError::Empty.into()),
        Answer::TooLarge => return Err(ExtractError::TooLarge.into()),
    })
}

/// Maps a MIME string from the child back to the extractor's static names.
fn known_mime(mime: &str) -> &'static str {
    const FORMATS: [Format; 11] = [
        Format::Text,
        Format::Markdown,
        Format::Html,
        Format::Pdf,
        Format::Docx,
        Format::Odt,
        Format::Ods,
        Format::Odp,
        Format::Epub,
        Format::Pptx,
        Format::Xlsx,
    ];
    FORMATS.iter().map(|f| f.mime()).find(|m| *m == mime).unwrap_or("application/octet-stream")
}

/// The child's whole life: limit itself, read stdin, extract, answer on stdout.
pub fn worker_main(name: &str) -> ExitCode {
    limit_self();
    let mut bytes = Vec::new();
    if std::io::stdin().lock().read_to_end(&mut bytes).is_err() {
        return ExitCode::from(3);
    }
    let name = name.to_string();
    let parser = std::thread::Builder::new()
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || extract::extract(&bytes, &name));
    let result = match parser.map(|handle| handle.join()) {
        Ok(Ok(result)) => result,
        _ => return ExitCode::from(4),
    };
    let answer = match result {
        Ok(e) => Answer::Ok { title: e.title, text: e.text, mime: e.mime.to_string() },
        Err(ExtractError::Unsupported { mime }) => Answer::Unsupported { mime },
        Err(ExtractError::Encrypted) => Answer::Encrypted,
        Err(ExtractError::Corrupt { reason }) => Answer::Corrupt { reason },
        Err(ExtractError::Empty) => Answer::Empty,
        Err(ExtractError::TooLarge) => Answer::TooLarge,
    };
    let Ok(json) = serde_json::to_vec(&answer) else { return ExitCode::from(5) };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(&json).and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(6);
    }
    ExitCode::SUCCESS
}

fn limit_self() {
    // Best effort: where limits cannot be set, the parent's wall-clock limit still applies.
    let _ = rlimit::setrlimit(rlimit::Resource::AS, MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES);
    let _ = rlimit::setrlimit(rlimit::Resource::CPU, CPU_LIMIT_SECS, CPU_LIMIT_SECS);
    let _ = rlimit::setrlimit(rlimit::Resource::CORE, 0, 0);
}
