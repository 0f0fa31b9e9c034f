//! EPUB books: the chapters in reading (spine) order, title from the package.
//!
//! This module owns the EPUB container rules: `META-INF/container.xml` names
//! the package document (OPF), whose manifest maps ids to files and whose
//! spine lists the reading order. Chapter paths are resolved inside the
//! archive only (no `..` can leave it, since it is just a name lookup), and
//! each chapter's visible text comes from [`super::html::from_xhtml`].

use std::collections::HashMap;

use percent_encoding::percent_decode_str;

use super::archive::Archive;
use super::html;
use super::office::first_title;
use super::xml::{self, Event};
use super::{ExtractError, Raw};

/// The parts of the package document that extraction needs.
#[derive(Default)]
struct Package {
    /// Manifest: item id → (href, media type).
    items: HashMap<String, (String, String)>,
    /// Manifest ids in manifest order, for books without a usable spine.
    item_order: Vec<String>,
    /// Spine: manifest ids in reading order.
    spine: Vec<String>,
}

/// Extracts an EPUB book.
pub(super) fn extract(archive: &mut Archive<'_>) -> Result<Raw, ExtractError> {
    let opf_path = package_path(archive)?;
    let opf = archive.read_text(&opf_path)?.ok_or_else(|| missing("package document"))?;
    let title = first_title(&opf, "package document");
    let package = parse_package(&opf)?;
    let base = opf_path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut text = String::new();
    for href in chapter_hrefs(&package) {
        let path = resolve(base, href);
        if let Some(bytes) = archive.read(&path)? {
            text.push_str(&html::from_xhtml(&super::text::decode(&bytes)).text);
            text.push_str("\n\n");
        }
    }
    Ok(Raw { title, text })
}

fn package_path(archive: &mut Archive<'_>) -> Result<String, ExtractError> {
    if let Some(container) = archive.read_text("META-INF/container.xml")? {
        let mut path = None;
        xml::walk(&container, "container file", |event| {
            if let Event::Open(start) = event
                && path.is_none()
                && xml::local_name(start) == "rootfile"
            {
                path = xml::attr(start, "full-path");
            }
        })?;
        if let Some(path) = path {
            return Ok(path);
        }
    }
    // Some tools omit the container; take the first package document found.
    let names = archive.names();
    names.into_iter().find(|name| name.ends_with(".opf")).ok_or_else(|| missing("package document"))
}

fn parse_package(opf: &str) -> Result<Package, ExtractError> {
    let mut package = Package::default();
    xml::walk(opf, "package document", |event| {
        let Event::Open(start) = event else { return };
        match xml::local_name(start).as_str() {
            "item" => {
                let (Some(id), Some(href)) = (xml::attr(start, "id"), xml::attr(start, "href"))
                else {
                    return;
                };
                let media = xml::attr(start, "media-type").unwrap_or_default();
                package.item_order.push(id.clone());
                package.items.insert(id, (href, media));
            }
            "itemref" => package.spine.extend(xml::attr(start, "idref")),
            _ => {}
        }
    })?;
    Ok(package)
}

/// The chapter files in reading order: the spine, or failing that every
/// XHTML item of the manifest.
fn chapter_hrefs(package: &Package) -> Vec<&str> {
    let from = |ids: &[String], only_html: bool| -> Vec<&str> {
        ids.iter()
            .filter_map(|id| package.items.get(id))
            .filter(|(_, media)| !only_html || media.contains("html"))
            .map(|(href, _)| href.as_str())
            .collect()
    };
    let spine = from(&package.spine, false);
    if spine.is_empty() { from(&package.item_order, true) } else { spine }
}

/// Joins a manifest href to the package document's folder: drops any
/// fragment, decodes percent escapes and folds `.` and `..` segments.
fn resolve(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or_default();
    let href = percent_decode_str(href).decode_utf8_lossy();
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for segment in href.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn missing(what: &str) -> ExtractError {
    ExtractError::Corrupt { reason: format!("its {what} is missing") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_folds_relative_segments() {
        assert_eq!(resolve("OEBPS", "text/ch%201.xhtml#top"), "OEBPS/text/ch 1.xhtml");
        assert_eq!(resolve("OEBPS/a", "../b/c.xhtml"), "OEBPS/b/c.xhtml");
        assert_eq!(resolve("", "../../x.xhtml"), "x.xhtml");
    }
}
