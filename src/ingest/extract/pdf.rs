//! PDF text through `pdf-extract` (layout-aware), with `lopdf`'s simpler
//! text walk as a fallback.
//!
//! This module owns the PDF error mapping (password → `Encrypted`, anything
//! unreadable → `Corrupt`) and the panic fence: `pdf-extract` panics on many
//! malformed or unusual fonts, so every call into it, and into `lopdf`, runs
//! under `catch_unwind` and a panic counts as a failed attempt. That fence
//! only holds in builds that unwind; with `panic = "abort"` a panic in either
//! crate ends the process.

use std::panic::{AssertUnwindSafe, catch_unwind};

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
use pdf_extract::{Document, Object, PlainTextOutput};

use super::text::clean_title;
use super::{ExtractError, Raw};

/// Extracts the text of a PDF document.
pub(super) fn extract(bytes: &[u8]) -> Result<Raw, ExtractError> {
    let mut doc = fenced(|| Document::load_mem(bytes))
        .ok_or_else(|| corrupt("its structure could not be read"))?
        .map_err(load_error)?;
    if doc.is_encrypted() {
        // An empty user password still lets anyone open the file; try it.
        fenced(|| doc.decrypt("")).and_then(Result::ok).ok_or(ExtractError::Encrypted)?;
    }
    let title = fenced(|| info_title(&doc)).flatten();
    let text = layout_text(&doc).or_else(|| simple_text(&doc)).unwrap_or_default();
    Ok(Raw { title, text: join_hyphenated(&text) })
}

/// Runs third-party parsing code, turning a panic into `None`.
fn fenced<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

fn layout_text(doc: &Document) -> Option<String> {
    let mut text = String::new();
    let done = fenced(|| {
        let mut output = PlainTextOutput::new(&mut text);
        pdf_extract::output_doc(doc, &mut output)
    });
    let has_words = text.chars().any(char::is_alphanumeric);
    (matches!(done, Some(Ok(()))) && has_words).then_some(text)
}

fn simple_text(doc: &Document) -> Option<String> {
    fenced(|| {
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        let chunks = doc.extract_text_chunks(&pages);
        let text: Vec<String> = chunks.into_iter().flatten().collect();
        text.join("\n")
    })
}

/// Rejoins words that typesetting split at a line end ("con-\nsectetuer").
///
/// Only a hyphen between two lowercase letters counts, so "Jean-\nPaul" and
/// list dashes stay; a compound split exactly at its own hyphen loses it.
fn join_hyphenated(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("-\n") {
        let (head, tail) = rest.split_at(at);
        let before = head.chars().next_back().is_some_and(char::is_lowercase);
        let after = tail[2..].chars().next().is_some_and(char::is_lowercase);
        out.push_str(head);
        out.push_str(if before && after { "" } else { "-\n" });
        rest = &tail[2..];
    }
    out.push_str(rest);
    out
}

fn info_title(doc: &Document) -> Option<String> {
    let info = match doc.trailer.get(b"Info").ok()? {
        Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        Object::Dictionary(dict) => dict,
        _ => return None,
    };
    let title = match info.get(b"Title").ok()? {
        Object::Reference(id) => doc.get_object(*id).ok()?,
        other => other,
    };
    match title {
        Object::String(bytes, _) => clean_title(&pdf_string(bytes)),
        _ => None,
    }
}

// PDF text strings are UTF-16 with a byte-order mark or PDFDocEncoding,
// which matches Windows-1252 for every printable character that matters here.
fn pdf_string(bytes: &[u8]) -> String {
    let decoded = match bytes {
        [0xfe, 0xff, rest @ ..] => UTF_16BE.decode_without_bom_handling(rest).0,
        [0xff, 0xfe, rest @ ..] => UTF_16LE.decode_without_bom_handling(rest).0,
        [0xef, 0xbb, 0xbf, rest @ ..] => String::from_utf8_lossy(rest),
        _ => WINDOWS_1252.decode_without_bom_handling(bytes).0,
    };
    decoded.into_owned()
}

fn load_error(error: pdf_extract::Error) -> ExtractError {
    use pdf_extract::Error;
    match error {
        Error::Decryption(_) | Error::InvalidPassword | Error::AlreadyEncrypted => {
            ExtractError::Encrypted
        }
        _ => corrupt("its structure could not be read"),
    }
}

fn corrupt(reason: &str) -> ExtractError {
    ExtractError::Corrupt { reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenated_line_ends_are_rejoined_between_lowercase_letters() {
        assert_eq!(
            join_hyphenated("con-\nsectetuer Jean-\nPaul x-\n"),
            "consectetuer Jean-\nPaul x-\n"
        );
    }
}
