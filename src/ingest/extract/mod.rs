//! Text extraction from uploaded documents: pure, synchronous, total.
//!
//! This module owns turning a file's bytes into a title and clean text, and
//! deciding what kind of file it is from its content first and its name
//! second. It does no I/O, keeps no state and knows nothing of jobs, storage
//! or HTTP; callers run it off the async threads and impose time limits.
//!
//! Invariant: [`extract`] never panics, ZIP-based formats never inflate more
//! than [`MAX_UNPACKED_BYTES`], and every failure is an [`ExtractError`]
//! whose message is safe to show to the user (it never quotes file content).
//! Parsers that are known to panic are fenced in the submodule that calls
//! them; a last fence around the whole extraction catches the rest, except
//! under `cfg(fuzzing)`, where panics must surface. Both fences need an
//! unwinding build.
// TODO: PDF streams are inflated by lopdf without a cap, so a PDF "flate bomb"
// can use far more memory than its size; bounding it needs a lopdf hook or a
// pre-scan of stream lengths, and until then callers must cap memory per job.

mod archive;
mod epub;
mod html;
mod office;
mod pdf;
mod text;
mod xml;

use archive::Archive;

/// Largest input accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 256 << 20;
/// Most bytes inflated out of one ZIP-based document (the zip-bomb guard).
pub const MAX_UNPACKED_BYTES: u64 = 256 << 20;
/// Most entries a ZIP-based document may hold.
pub const MAX_ZIP_ENTRIES: usize = 10_000;

/// The text and metadata taken out of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The document's own title (metadata, `<title>`, first heading), if any.
    pub title: Option<String>,
    /// Normalised text: single spaces, `\n` line breaks, `\n\n` paragraph
    /// breaks, no control characters; never empty.
    pub text: String,
    /// The MIME type the content was detected as.
    pub mime: &'static str,
}

/// The kinds of file this module tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Plain text in UTF-8, UTF-16 (with a BOM) or Latin-1.
    Text,
    /// Markdown (text named `.md`, `.markdown`, ...).
    Markdown,
    /// HTML or XHTML.
    Html,
    /// PDF.
    Pdf,
    /// Word 2007+ (Office Open XML).
    Docx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// OpenDocument presentation.
    Odp,
    /// EPUB 2 or 3.
    Epub,
    /// PowerPoint 2007+.
    Pptx,
    /// Excel 2007+.
    Xlsx,
    /// Anything else; [`Detected::mime`] says what, when known.
    Other,
}

impl Format {
    /// The MIME type of this format (`application/octet-stream` for `Other`).
    pub fn mime(self) -> &'static str {
        match self {
            Format::Text => "text/plain",
            Format::Markdown => "text/markdown",
            Format::Html => "text/html",
            Format::Pdf => "application/pdf",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Odt => "application/vnd.oasis.opendocument.text",
            Format::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Format::Odp => "application/vnd.oasis.opendocument.presentation",
            Format::Epub => "application/epub+zip",
            Format::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Other => OCTET_STREAM,
        }
    }

    fn from_name(file_name: &str) -> Option<Format> {
        let ext = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "txt" | "text" | "log" | "csv" | "tsv" => Format::Text,
            "md" | "markdown" | "mdown" | "mkd" | "mkdn" => Format::Markdown,
            "html" | "htm" | "xhtml" => Format::Html,
            "pdf" => Format::Pdf,
            "docx" => Format::Docx,
            "odt" => Format::Odt,
            "ods" => Format::Ods,
            "odp" => Format::Odp,
            "epub" => Format::Epub,
            "pptx" => Format::Pptx,
            "xlsx" => Format::Xlsx,
            _ => return None,
        })
    }

    fn is_zip_based(self) -> bool {
        matches!(
            self,
            Format::Docx
                | Format::Odt
                | Format::Ods
                | Format::Odp
                | Format::Epub
                | Format::Pptx
                | Format::Xlsx
        )
    }
}

/// What [`detect`] found: a format and the MIME type to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// The format, `Other` for anything this module cannot extract.
    pub format: Format,
    /// The MIME type; for `Other`, the best guess from the content.
    pub mime: &'static str,
}

impl From<Format> for Detected {
    fn from(format: Format) -> Self {
        Detected { format, mime: format.mime() }
    }
}

/// Why a document yielded no text. The messages are written for the person
/// who uploaded the file and never include its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The content is of a type with no extractor.
    #[error(
        "Files of type {mime} cannot be added as sources. Upload a PDF, Word (.docx), \
         OpenDocument (.odt), EPUB, PowerPoint (.pptx), Excel (.xlsx), HTML, Markdown or \
         plain-text file instead."
    )]
    Unsupported {
        /// The detected MIME type.
        mime: String,
    },
    /// The document needs a password to open.
    #[error(
        "This document is password-protected. Save a copy without the password (or print it \
         to a new PDF) and upload that instead."
    )]
    Encrypted,
    /// The file is damaged or truncated.
    #[error(
        "This file could not be read because {reason}. Check that it opens on your computer, \
         then export or save it again and upload the new copy."
    )]
    Corrupt {
        /// A short description of the damage, without any file content.
        reason: String,
    },
    /// The document holds no text.
    #[error(
        "No text was found in this document. If it is a scan or holds only images, run it \
         through OCR first, or paste its text as a text source."
    )]
    Empty,
    /// The document is, or unpacks to, more than the limits allow.
    #[error(
        "This document is too large to process (over 256 MiB, or over 256 MiB once \
         unpacked). Split it into smaller files and upload them separately."
    )]
    TooLarge,
}

/// Detects the type of a document from its bytes, using the name only where
/// the bytes leave a choice (Markdown vs. plain text, a damaged ZIP file).
pub fn detect(bytes: &[u8], file_name: &str) -> Detected {
    let by_name = Format::from_name(file_name);
    if is_pdf(bytes) {
        return Format::Pdf.into();
    }
    if is_zip(bytes) {
        return detect_zip(bytes).unwrap_or_else(|| match by_name {
            Some(format) if format.is_zip_based() => format.into(),
            _ => Detected { format: Format::Other, mime: ZIP },
        });
    }
    if bytes.is_empty() {
        return by_name
            .filter(|f| !f.is_zip_based() && *f != Format::Pdf)
            .unwrap_or(Format::Text)
            .into();
    }
    if let Some(kind) = infer::get(bytes).filter(|k| k.matcher_type() != infer::MatcherType::Text) {
        return Detected { format: Format::Other, mime: kind.mime_type() };
    }
    if !looks_like_text(bytes) {
        return Format::Other.into();
    }
    match by_name {
        Some(Format::Markdown) => Format::Markdown.into(),
        Some(Format::Html) => Format::Html.into(),
        _ if looks_like_html(bytes) => Format::Html.into(),
        _ => Format::Text.into(),
    }
}

/// Extracts the title and text of a document.
///
/// Total: any input gives `Ok` with non-empty text or an [`ExtractError`].
pub fn extract(bytes: &[u8], file_name: &str) -> Result<Extracted, ExtractError> {
    extract_with(bytes, file_name, &Limits::DEFAULT)
}

/// Resource limits for one extraction; tests shrink them.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_input: usize,
    pub(crate) max_unpacked: u64,
    pub(crate) max_entries: usize,
}

impl Limits {
    const DEFAULT: Limits = Limits {
        max_input: MAX_INPUT_BYTES,
        max_unpacked: MAX_UNPACKED_BYTES,
        max_entries: MAX_ZIP_ENTRIES,
    };
}

/// What a format extractor returns before normalisation.
struct Raw {
    title: Option<String>,
    text: String,
}

const OCTET_STREAM: &str = "application/octet-stream";
const ZIP: &str = "application/zip";

fn extract_with(bytes: &[u8], name: &str, limits: &Limits) -> Result<Extracted, ExtractError> {
    if bytes.len() > limits.max_input {
        return Err(ExtractError::TooLarge);
    }
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    let detected = detect(bytes, name);
    let raw = fenced_dispatch(bytes, detected, limits)?;
    let text = text::normalize(&raw.text);
    if !text.chars().any(char::is_alphanumeric) {
        return Err(ExtractError::Empty);
    }
    let title = raw.title.as_deref().and_then(text::clean_title);
    Ok(Extracted { title, text, mime: detected.mime })
}

#[cfg(not(fuzzing))]
fn fenced_dispatch(bytes: &[u8], detected: Detected, limits: &Limits) -> Result<Raw, ExtractError> {
    std::panic::catch_unwind(|| dispatch(bytes, detected, limits)).unwrap_or_else(|_| {
        Err(ExtractError::Corrupt { reason: "its content could not be parsed".to_owned() })
    })
}

#[cfg(fuzzing)]
fn fenced_dispatch(bytes: &[u8], detected: Detected, limits: &Limits) -> Result<Raw, ExtractError> {
    dispatch(bytes, detected, limits)
}

fn dispatch(bytes: &[u8], detected: Detected, limits: &Limits) -> Result<Raw, ExtractError> {
    match detected.format {
        Format::Text => Ok(text::plain(bytes)),
        Format::Markdown => Ok(text::markdown(bytes)),
        Format::Html => Ok(html::extract(bytes)),
        Format::Pdf => pdf::extract(bytes),
        Format::Docx => office::docx(&mut Archive::open(bytes, limits)?),
        Format::Pptx => office::pptx(&mut Archive::open(bytes, limits)?),
        Format::Xlsx => office::xlsx(&mut Archive::open(bytes, limits)?, bytes),
        Format::Odt | Format::Ods | Format::Odp => office::odf(&mut Archive::open(bytes, limits)?),
        Format::Epub => epub::extract(&mut Archive::open(bytes, limits)?),
        Format::Other => Err(unsupported(bytes, detected, limits)),
    }
}

fn unsupported(bytes: &[u8], detected: Detected, limits: &Limits) -> ExtractError {
    if is_zip(bytes)
        && let Err(error) = Archive::open(bytes, limits)
    {
        return error;
    }
    if is_encrypted_office(bytes) {
        return ExtractError::Encrypted;
    }
    ExtractError::Unsupported { mime: detected.mime.to_owned() }
}

// Readers accept a PDF header anywhere in the first kilobyte, but a text file
// may also mention "%PDF-"; require it to start a line.
fn is_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5)
        .enumerate()
        .any(|(i, w)| w == b"%PDF-" && (i == 0 || matches!(head[i - 1], b'\n' | b'\r')))
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

// Password-protected Office files are not ZIP at all but an OLE compound file
// holding an "EncryptedPackage" stream (its name is stored in UTF-16LE).
fn is_encrypted_office(bytes: &[u8]) -> bool {
    const OLE: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
    let marker: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.starts_with(OLE) && bytes.windows(marker.len()).any(|w| w == marker.as_slice())
}

/// Tells ZIP-based formats apart by their entries; `None` when the archive
/// cannot be read.
fn detect_zip(bytes: &[u8]) -> Option<Detected> {
    let limits = Limits { max_unpacked: 256, ..Limits::DEFAULT };
    let mut archive = Archive::open(bytes, &limits).ok()?;
    let declared = archive.read("mimetype").ok().flatten().map(|m| text::decode(&m));
    let format = match declared.as_deref().map(str::trim) {
        Some("application/epub+zip") => Format::Epub,
        Some(m) if m == Format::Odt.mime() => Format::Odt,
        Some(m) if m == Format::Ods.mime() => Format::Ods,
        Some(m) if m == Format::Odp.mime() => Format::Odp,
        _ if archive.contains("word/document.xml") => Format::Docx,
        _ if archive.contains("ppt/presentation.xml") => Format::Pptx,
        _ if archive.contains("xl/workbook.xml") => Format::Xlsx,
        _ if archive.contains("META-INF/container.xml") => Format::Epub,
        _ => return Some(Detected { format: Format::Other, mime: ZIP }),
    };
    Some(format.into())
}

// Text has no NUL and hardly any other control character in its first 8 KiB;
// a UTF-16 byte-order mark vouches for text on its own.
fn looks_like_text(bytes: &[u8]) -> bool {
    if encoding_rs::Encoding::for_bom(bytes).is_some() {
        return true;
    }
    let sample = &bytes[..bytes.len().min(8192)];
    let is_control =
        |b: &u8| (*b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)) || *b == 0x7f;
    !sample.contains(&0) && sample.iter().filter(|b| is_control(b)).count() * 100 <= sample.len()
}

fn looks_like_html(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let start = head.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || (start.starts_with('<') && (head.contains("<html") || head.contains("<body")))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use zip::write::SimpleFileOptions;

    use super::*;

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

    fn corpus(path: &str) -> Vec<u8> {
        let full = Path::new(CORPUS).join(path);
        std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
    }

    fn corpus_text(path: &str) -> Extracted {
        let name = path.rsplit('/').next().unwrap();
        extract(&corpus(path), name).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn corpus_files() -> Vec<PathBuf> {
        let mut files = Vec::new();
        for folder in ["pdf", "docx", "markdown", "converted"] {
            for entry in std::fs::read_dir(Path::new(CORPUS).join(folder)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.starts_with("LICENSE")
                    || name.starts_with("README")
                    || name.ends_with(".tex")
                {
                    continue;
                }
                files.push(path);
            }
        }
        files.sort();
        files
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, content) in entries {
            writer.start_file(*name, SimpleFileOptions::default()).unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    /// Deterministic noise (xorshift), so failures reproduce.
    fn noise(len: usize) -> Vec<u8> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn every_corpus_file_yields_text_except_the_locked_and_the_blank_one() {
        for path in corpus_files() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap();
            let started = Instant::now();
            let result = extract(&bytes, &name);
            let elapsed = started.elapsed();
            if name == "libreoffice-writer-password.pdf" {
                assert_eq!(result, Err(ExtractError::Encrypted));
                continue;
            }
            // python-docx's blank template: an empty paragraph, empty title,
            // subject and keywords. Nothing in it is the user's text.
            if name == "doc-default.docx" {
                assert_eq!(result, Err(ExtractError::Empty));
                continue;
            }
            let doc = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let words = doc.text.split_whitespace().count();
            assert!(words > 0, "{name}: no words");
            assert!(!doc.text.contains('\0'), "{name}: NUL left");
            assert!(!doc.text.contains("\n\n\n") && !doc.text.contains("  "), "{name}");
            eprintln!(
                "{name}\t{}\t{} bytes\t{} chars\t{words} words\t{elapsed:.1?}\t{:?}",
                doc.mime,
                bytes.len(),
                doc.text.chars().count(),
                doc.title
            );
        }
    }

    #[test]
    fn converted_chapters_hold_their_topic_words() {
        for ext in ["docx", "html"] {
            let doc = corpus_text(&format!("converted/ch04-02-references-and-borrowing.{ext}"));
            assert!(doc.text.contains("borrowing"), "{ext}");
            assert!(doc.text.contains("dangling reference"), "{ext}");
        }
        let strings = corpus_text("converted/ch08-02-strings.docx");
        assert!(strings.text.contains("UTF-8"));
        let epub = corpus_text("converted/ch03-common-concepts.epub");
        assert_eq!(epub.mime, "application/epub+zip");
        assert_eq!(epub.title.as_deref(), Some("Common Programming Concepts"));
        assert!(epub.text.contains("Shadowing") && epub.text.contains("mutability"));
        let odt = corpus_text("converted/ch06-01-defining-an-enum.odt");
        assert_eq!(odt.mime, "application/vnd.oasis.opendocument.text");
        assert!(odt.text.contains("IpAddrKind") && odt.text.contains("Option<T>"));
    }

    #[test]
    fn epub_chapters_come_in_spine_order() {
        let epub = corpus_text("converted/ch03-common-concepts.epub");
        let variables = epub.text.find("Variables and Mutability").unwrap();
        let control_flow = epub.text.find("Control Flow").unwrap();
        assert!(variables < control_flow);
    }

    #[test]
    fn pdfs_hold_their_own_words() {
        let crazy = corpus_text("pdf/crazyones-pdfa.pdf");
        assert!(crazy.text.contains("crazy ones") && crazy.text.contains("misfits"));
        let minimal = corpus_text("pdf/minimal-document.pdf");
        assert!(minimal.text.contains("consetetur sadipscing"));
        let pages = corpus_text("pdf/pdflatex-4-pages.pdf");
        assert!(pages.text.contains("without a meaning"), "{}", pages.text);
        let columns = corpus_text("pdf/multicolumn.pdf");
        assert!(columns.text.contains("Lorem ipsum") && columns.text.contains("Vienna"));
        let arabic = corpus_text("pdf/habibi.pdf");
        assert!(arabic.text.chars().any(|c| ('\u{600}'..='\u{6ff}').contains(&c)), "{arabic:?}");
        let google = corpus_text("pdf/google-doc-document.pdf");
        assert_eq!(google.title.as_deref(), Some("PDF Example Document"));
    }

    #[test]
    fn kerned_pdf_text_keeps_its_words_whole() {
        let google = corpus_text("pdf/google-doc-document.pdf");
        for phrase in ["Example document", "Beautiful is better than ugly", "Readability counts"] {
            assert!(google.text.contains(phrase), "{phrase} missing from {}", google.text);
        }
    }

    #[test]
    fn password_protected_pdf_is_encrypted() {
        let bytes = corpus("pdf/libreoffice-writer-password.pdf");
        assert_eq!(extract(&bytes, "secret.pdf"), Err(ExtractError::Encrypted));
    }

    #[test]
    fn docx_test_files_hold_their_paragraphs() {
        let tables = corpus_text("docx/blk-paras-and-tables.docx");
        assert!(tables.text.split_whitespace().count() > 5, "{}", tables.text);
        let links = corpus_text("docx/par-hyperlinks.docx");
        assert!(!links.text.is_empty());
    }

    #[test]
    fn markdown_keeps_text_and_takes_the_first_heading_as_title() {
        let doc = corpus_text("markdown/ch04-02-references-and-borrowing.md");
        assert_eq!(doc.mime, "text/markdown");
        assert_eq!(doc.title.as_deref(), Some("References and Borrowing"));
        assert!(doc.text.contains("borrowing"));
    }

    #[test]
    fn corpus_html_never_leaks_script_or_style() {
        for path in corpus_files().iter().filter(|p| p.extension().is_some_and(|e| e == "html")) {
            let source = std::fs::read_to_string(path).unwrap();
            let doc = extract(source.as_bytes(), "page.html").unwrap();
            for tag in ["script", "style"] {
                for block in source.split(&format!("<{tag}")).skip(1) {
                    let body = block.split_once('>').unwrap().1;
                    let body = body.split(&format!("</{tag}>")).next().unwrap();
                    for line in body.lines().map(str::trim).filter(|l| l.len() > 12) {
                        assert!(!doc.text.contains(line), "{}: {line}", path.display());
                    }
                }
            }
        }
    }

    #[test]
    fn detection_trusts_bytes_over_names() {
        let pdf = corpus("pdf/minimal-document.pdf");
        assert_eq!(detect(&pdf, "notes.txt").format, Format::Pdf);
        assert_eq!(extract(&pdf, "notes.txt").unwrap().mime, "application/pdf");
        let docx = corpus("converted/ch08-02-strings.docx");
        assert_eq!(detect(&docx, "upload.bin").format, Format::Docx);
        assert!(extract(&docx, "upload.bin").unwrap().text.contains("String"));
        let odt = corpus("converted/ch06-01-defining-an-enum.odt");
        assert_eq!(detect(&odt, "x.docx").format, Format::Odt);
        let epub = corpus("converted/ch03-common-concepts.epub");
        assert_eq!(detect(&epub, "x.zip").format, Format::Epub);
        let html = corpus("converted/ch10-02-traits.html");
        assert_eq!(detect(&html, "traits").format, Format::Html);
        assert_eq!(detect(b"# Title\n", "README.md").format, Format::Markdown);
        assert_eq!(detect(b"plain words", "a.bin").format, Format::Text);
    }

    #[test]
    fn random_and_foreign_bytes_are_unsupported() {
        let random = noise(4096);
        assert_eq!(detect(&random, "r.txt").mime, "application/octet-stream");
        let err = extract(&random, "r.txt").unwrap_err();
        assert_eq!(err, ExtractError::Unsupported { mime: "application/octet-stream".into() });
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";
        let err = extract(png, "photo.pdf").unwrap_err();
        assert_eq!(err, ExtractError::Unsupported { mime: "image/png".into() });
        assert!(err.to_string().contains("image/png"));
        let other_zip = zip_of(&[("data.bin", b"\x01\x02")]);
        let err = extract(&other_zip, "x.zip").unwrap_err();
        assert_eq!(err, ExtractError::Unsupported { mime: "application/zip".into() });
    }

    #[test]
    fn truncated_documents_are_corrupt_without_quoting_them() {
        let pdf = corpus("pdf/pdflatex-4-pages.pdf");
        let err = extract(&pdf[..pdf.len() / 3], "cut.pdf").unwrap_err();
        assert!(matches!(err, ExtractError::Corrupt { .. } | ExtractError::Empty), "{err:?}");
        let garbage = b"%PDF-1.7\nsecret-marker garbage without any objects";
        let err = extract(garbage, "g.pdf").unwrap_err();
        assert!(matches!(err, ExtractError::Corrupt { .. }), "{err:?}");
        assert!(!err.to_string().contains("secret-marker"));
        let docx = corpus("converted/ch08-02-strings.docx");
        for cut in [docx.len() / 2, docx.len() - 30] {
            let err = extract(&docx[..cut], "cut.docx").unwrap_err();
            assert!(matches!(err, ExtractError::Corrupt { .. }), "{err:?}");
        }
        let bad_xml = zip_of(&[("word/document.xml", b"<w:document><w:body><w:p")]);
        let err = extract(&bad_xml, "bad.docx").unwrap_err();
        assert!(matches!(err, ExtractError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn empty_inputs_are_empty() {
        assert_eq!(extract(b"", "empty.txt"), Err(ExtractError::Empty));
        assert_eq!(extract(b"  \n\t\r\n ", "blank.txt"), Err(ExtractError::Empty));
        assert_eq!(
            extract(b"<html><script>x()</script></html>", "a.html"),
            Err(ExtractError::Empty)
        );
        let empty_docx = zip_of(&[("word/document.xml", b"<w:document/>")]);
        assert_eq!(extract(&empty_docx, "e.docx"), Err(ExtractError::Empty));
    }

    #[test]
    fn zip_bombs_are_refused() {
        let zeros = vec![b'a'; 4 << 20];
        let bomb = zip_of(&[("word/document.xml", &zeros)]);
        assert!(bomb.len() < 64 << 10, "compressed to {}", bomb.len());
        let small = Limits { max_unpacked: 1 << 20, ..Limits::DEFAULT };
        assert_eq!(extract_with(&bomb, "b.docx", &small), Err(ExtractError::TooLarge));
        let many: Vec<(String, &[u8])> = (0..20).map(|i| (format!("f{i}"), &b""[..])).collect();
        let many: Vec<(&str, &[u8])> = many.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        let crowded = zip_of(&many);
        let few = Limits { max_entries: 10, ..Limits::DEFAULT };
        assert_eq!(extract_with(&crowded, "c.docx", &few), Err(ExtractError::TooLarge));
        let tiny = Limits { max_input: 10, ..Limits::DEFAULT };
        assert_eq!(
            extract_with(b"more than ten bytes", "t.txt", &tiny),
            Err(ExtractError::TooLarge)
        );
    }

    #[test]
    fn text_encodings_are_decoded() {
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("Grüße aus Köln".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(extract(&utf16, "a.txt").unwrap().text, "Grüße aus Köln");
        assert_eq!(extract(b"na\xefve caf\xe9", "a.txt").unwrap().text, "naïve café");
    }

    #[test]
    fn pptx_slides_come_in_order() {
        let slide = |t: &str| {
            format!(
                r#"<p:sld xmlns:a="a" xmlns:p="p"><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:sld>"#
            )
        };
        let (one, two, ten) = (slide("first slide"), slide("second slide"), slide("tenth"));
        let deck = zip_of(&[
            ("ppt/presentation.xml", b"<p:presentation/>"),
            ("ppt/slides/slide10.xml", ten.as_bytes()),
            ("ppt/slides/slide2.xml", two.as_bytes()),
            ("ppt/slides/slide1.xml", one.as_bytes()),
        ]);
        let doc = extract(&deck, "deck.pptx").unwrap();
        assert_eq!(doc.text, "first slide\n\nsecond slide\n\ntenth");
    }

    /// The smallest workbook Excel's readers accept: one sheet, two rows.
    fn tiny_workbook() -> Vec<u8> {
        const OOXML: &str = "http://schemas.openxmlformats.org";
        let rel = |id: &str, kind: &str, target: &str| {
            format!(
                r#"<Relationships xmlns="{OOXML}/package/2006/relationships">
                <Relationship Id="{id}" Target="{target}"
                 Type="{OOXML}/officeDocument/2006/relationships/{kind}"/></Relationships>"#
            )
        };
        let types = format!(
            r#"<Types xmlns="{OOXML}/package/2006/content-types">
            <Default Extension="xml" ContentType="application/xml"/></Types>"#
        );
        let workbook = format!(
            r#"<workbook xmlns="{OOXML}/spreadsheetml/2006/main"
             xmlns:r="{OOXML}/officeDocument/2006/relationships">
             <sheets><sheet name="Budget" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        );
        let cell = |at: &str, text: &str| {
            format!(r#"<c r="{at}" t="inlineStr"><is><t>{text}</t></is></c>"#)
        };
        let sheet = format!(
            r#"<worksheet xmlns="{OOXML}/spreadsheetml/2006/main"><sheetData>
            <row r="1">{}{}</row><row r="2">{}<c r="B2"><v>4.5</v></c></row>
            </sheetData></worksheet>"#,
            cell("A1", "Item"),
            cell("B1", "Cost"),
            cell("A2", "Coffee"),
        );
        let root_rels = rel("rId1", "officeDocument", "xl/workbook.xml");
        let book_rels = rel("rId1", "worksheet", "worksheets/sheet1.xml");
        zip_of(&[
            ("[Content_Types].xml", types.as_bytes()),
            ("_rels/.rels", root_rels.as_bytes()),
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", book_rels.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ])
    }

    #[test]
    fn xlsx_cells_become_rows() {
        let doc = extract(&tiny_workbook(), "budget.xlsx").unwrap();
        assert_eq!(doc.mime, Format::Xlsx.mime());
        assert_eq!(doc.text, "Budget\n\nItem Cost\nCoffee 4.5");
    }

    #[test]
    fn errors_read_as_advice() {
        let errors = [
            ExtractError::Unsupported { mime: "image/png".into() },
            ExtractError::Encrypted,
            ExtractError::Corrupt { reason: "its ZIP container is truncated or damaged".into() },
            ExtractError::Empty,
            ExtractError::TooLarge,
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.ends_with('.') && message.len() > 60, "{message}");
        }
    }

    #[test]
    fn arbitrary_mutations_never_panic() {
        let seeds = [
            corpus("pdf/minimal-document.pdf"),
            corpus("converted/ch08-02-strings.docx"),
            corpus("converted/ch03-common-concepts.epub"),
            corpus("converted/ch06-01-defining-an-enum.odt"),
        ];
        let flips = noise(4096);
        for seed in &seeds {
            for round in 0..64 {
                let mut bytes = seed.clone();
                for k in 0..8 {
                    let at =
                        (usize::from(flips[round * 8 + k]) * 7919 + round * 104_729) % bytes.len();
                    bytes[at] ^= flips[(round * 8 + k + 1) % flips.len()] | 1;
                }
                let _ = extract(&bytes, "mutated");
                let _ = extract(&bytes[..bytes.len() * round / 64], "truncated");
            }
        }
    }
}
