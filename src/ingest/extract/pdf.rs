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
use pdf_extract::{Document, MediaBox, Object, OutputDev, OutputError, Transform};

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
    let mut output = SpacedText::default();
    let done = fenced(|| pdf_extract::output_doc(doc, &mut output));
    let text = output.text;
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

/// Gap between two glyph runs, in ems, above which they are separate words (the same
/// tenth of an em `pdf-extract`'s own plain-text writer uses).
const WORD_GAP_EM: f64 = 0.1;

/// Plain text from positioned glyphs: a space between runs that are a word gap apart, a
/// line break when the baseline moves by more than a line.
///
/// Unlike `pdf-extract`'s own writer, a gap after a glyph whose font gives no width is not
/// a word break: such fonts (Google Docs exports embed them) would otherwise have a space
/// after every such letter ("B ea utiful"). Those documents carry their own space glyphs.
#[derive(Default)]
struct SpacedText {
    text: String,
    page_height: f64,
    /// Where the previous glyph ended on its line (`None` when its width is unknown), and
    /// that line's baseline.
    last_end: Option<f64>,
    last_y: f64,
    /// Set when a new run of glyphs starts; only run starts may take a space or a break.
    run_start: bool,
}

impl OutputDev for SpacedText {
    fn begin_page(
        &mut self,
        _page: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.page_height = media_box.ury - media_box.lly;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.text.push('\n');
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        glyphs: &str,
    ) -> Result<(), OutputError> {
        // The text matrix scales the font; its area factor gives the size on the page.
        let scale_x = font_size * (trm.m11 + trm.m21);
        let scale_y = font_size * (trm.m12 + trm.m22);
        let size = (scale_x * scale_y).abs().sqrt();
        let (x, y) = (trm.m31, self.page_height - trm.m32);
        if self.run_start && !self.text.is_empty() {
            let moved_down = (y - self.last_y).abs();
            let went_back = self.last_end.is_none_or(|end| x < end);
            let gap = self.last_end.is_some_and(|end| x > end + size * WORD_GAP_EM);
            if moved_down > size * 1.5 || (went_back && moved_down > size * 0.5) {
                self.text.push('\n');
            } else if gap && !glyphs.starts_with(char::is_whitespace) {
                self.text.push(' ');
            }
        }
        self.text.push_str(glyphs);
        self.run_start = false;
        self.last_y = y;
        self.last_end = (width > 0.0).then_some(x + width * size);
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.run_start = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
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
