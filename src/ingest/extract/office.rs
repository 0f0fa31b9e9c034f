//! Office documents: Word (DOCX), PowerPoint (PPTX), Excel (XLSX) and
//! OpenDocument (ODT, and ODS/ODP through the same reader).
//!
//! This module owns which XML parts of each package hold the reader's text
//! and how their markup maps to paragraphs. It reads parts only through
//! [`Archive`], so the decompression budget covers everything, including the
//! spreadsheet reader, which is handed the bytes only after every entry has
//! been inflated once within budget.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx, XlsxError};

use super::archive::Archive;
use super::text::clean_title;
use super::xml::{self, Event};
use super::{ExtractError, Raw};

/// Word: the main document, then footnotes and endnotes.
pub(super) fn docx(archive: &mut Archive<'_>) -> Result<Raw, ExtractError> {
    let mut text = String::new();
    for part in ["word/document.xml", "word/footnotes.xml", "word/endnotes.xml"] {
        if let Some(xml) = archive.read_text(part)? {
            text.push_str(&ooxml_text(&xml, "main document")?);
            text.push_str("\n\n");
        }
    }
    with_properties(archive, text)
}

/// PowerPoint: the slides in the order of their part numbers.
// TODO: follow presentation.xml's slide list for the shown order; part numbers
// match it for files saved by PowerPoint and LibreOffice, not after reordering
// by some other tools.
pub(super) fn pptx(archive: &mut Archive<'_>) -> Result<Raw, ExtractError> {
    let mut slides: Vec<(u32, String)> =
        archive.names().into_iter().filter_map(|name| Some((slide_number(&name)?, name))).collect();
    slides.sort();
    let mut text = String::new();
    for (_, part) in slides {
        if let Some(xml) = archive.read_text(&part)? {
            text.push_str(&ooxml_text(&xml, "slide")?);
            text.push_str("\n\n");
        }
    }
    with_properties(archive, text)
}

/// Excel: every sheet's cells, tab-separated, one row per line.
pub(super) fn xlsx(archive: &mut Archive<'_>, bytes: &[u8]) -> Result<Raw, ExtractError> {
    archive.check_all()?;
    let title = core_title(archive)?;
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let mut text = String::new();
    for sheet in book.sheet_names() {
        text.push_str(&sheet);
        text.push_str("\n\n");
        let mut cells = book.worksheet_cells_reader(&sheet).map_err(xlsx_error)?;
        let mut row = None;
        while let Some(cell) = cells.next_cell().map_err(xlsx_error)? {
            let (this_row, _) = cell.get_position();
            if row.is_some_and(|r| r != this_row) {
                text.push('\n');
            }
            row = Some(this_row);
            push_cell(&mut text, cell.get_value());
        }
        text.push_str("\n\n");
    }
    Ok(Raw { title, text })
}

/// OpenDocument: the body of `content.xml`, title from `meta.xml`.
pub(super) fn odf(archive: &mut Archive<'_>) -> Result<Raw, ExtractError> {
    let xml = archive.read_text("content.xml")?.ok_or_else(|| ExtractError::Corrupt {
        reason: "its content part (content.xml) is missing".to_owned(),
    })?;
    let text = odf_text(&xml)?;
    let title = match archive.read_text("meta.xml")? {
        Some(meta) => first_title(&meta, "metadata"),
        None => None,
    };
    Ok(Raw { title, text })
}

// WordprocessingML and DrawingML keep visible text only inside `t` elements;
// everything else between tags is layout data. `mc:Fallback` repeats the
// content of its `mc:Choice` for older readers, so it is skipped.
fn ooxml_text(xml: &str, what: &str) -> Result<String, ExtractError> {
    let mut out = String::new();
    let mut in_text = 0usize;
    let mut skipped = 0usize;
    xml::walk(xml, what, |event| match event {
        Event::Open(start) => match xml::local_name(start).as_str() {
            "t" => in_text += 1,
            "Fallback" => skipped += 1,
            "tab" if skipped == 0 => out.push('\t'),
            "br" | "cr" if skipped == 0 => out.push('\n'),
            _ => {}
        },
        Event::Close(name) => match name {
            "t" => in_text = in_text.saturating_sub(1),
            "Fallback" => skipped = skipped.saturating_sub(1),
            _ if skipped > 0 => {}
            "p" => out.push_str("\n\n"),
            "tc" => out.push('\t'),
            "tr" => out.push('\n'),
            _ => {}
        },
        Event::Text(text) if in_text > 0 && skipped == 0 => out.push_str(text),
        Event::Text(_) => {}
    })?;
    Ok(out)
}

// ODF text sits directly in `text:p`/`text:h` and their spans, inside
// `office:body`. Tracked deletions and comments are not part of the document
// as shown, so they are skipped.
fn odf_text(xml: &str) -> Result<String, ExtractError> {
    let mut out = String::new();
    let mut in_body = 0usize;
    let mut skipped = 0usize;
    xml::walk(xml, "content part", |event| match event {
        Event::Open(start) => match xml::local_name(start).as_str() {
            "body" => in_body += 1,
            "tracked-changes" | "annotation" => skipped += 1,
            _ if skipped > 0 => {}
            "s" => out.push(' '),
            "tab" => out.push('\t'),
            "line-break" => out.push('\n'),
            _ => {}
        },
        Event::Close(name) => match name {
            "body" => in_body = in_body.saturating_sub(1),
            "tracked-changes" | "annotation" => skipped = skipped.saturating_sub(1),
            _ if skipped > 0 => {}
            "p" | "h" => out.push_str("\n\n"),
            "table-cell" => out.push('\t'),
            "table-row" => out.push('\n'),
            _ => {}
        },
        Event::Text(text) if in_body > 0 && skipped == 0 => out.push_str(text),
        Event::Text(_) => {}
    })?;
    Ok(out)
}

fn core_title(archive: &mut Archive<'_>) -> Result<Option<String>, ExtractError> {
    match archive.read_text("docProps/core.xml")? {
        Some(xml) => Ok(first_title(&xml, "document properties")),
        None => Ok(None),
    }
}

/// Adds the title from the document properties; when the body has no words,
/// the descriptive properties (title, subject, keywords, description, category)
/// stand in for it, so a document that only carries metadata stays findable.
fn with_properties(archive: &mut Archive<'_>, text: String) -> Result<Raw, ExtractError> {
    let Some(xml) = archive.read_text("docProps/core.xml")? else {
        return Ok(Raw { title: None, text });
    };
    let title = first_title(&xml, "document properties");
    if text.chars().any(char::is_alphanumeric) {
        return Ok(Raw { title, text });
    }
    let mut described = String::new();
    for field in ["title", "subject", "keywords", "description", "category"] {
        for value in xml::texts_of(&xml, "document properties", field).unwrap_or_default() {
            described.push_str(&value);
            described.push_str("\n\n");
        }
    }
    Ok(Raw { title, text: described })
}

/// The first non-empty `title` element (Dublin Core `dc:title`) of a part.
pub(super) fn first_title(xml: &str, what: &str) -> Option<String> {
    // A broken metadata part should not cost the user the whole document.
    let titles = xml::texts_of(xml, what, "title").unwrap_or_default();
    titles.iter().find_map(|t| clean_title(t))
}

fn slide_number(name: &str) -> Option<u32> {
    name.strip_prefix("ppt/slides/slide")?.strip_suffix(".xml")?.parse().ok()
}

fn push_cell(text: &mut String, value: &DataRef<'_>) {
    let shown = match value {
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(x) => x.to_string(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.to_string(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(_) | DataRef::Empty => return,
    };
    text.push_str(&shown);
    text.push('\t');
}

fn xlsx_error(error: XlsxError) -> ExtractError {
    match error {
        XlsxError::Password => ExtractError::Encrypted,
        _ => ExtractError::Corrupt { reason: "its spreadsheet data could not be read".to_owned() },
    }
}
