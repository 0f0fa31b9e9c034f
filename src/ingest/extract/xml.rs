//! A flat, streaming view of an XML document for the format extractors.
//!
//! It owns the quick-xml details (self-closing elements, entity and character
//! references, local names without prefixes) and hands each extractor three
//! kinds of event. It never recurses and never builds a tree, so deeply nested
//! or huge documents cost only the memory of their text.

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart, Event as XmlEvent};
use quick_xml::{Reader, XmlVersion};

use super::ExtractError;

/// One step through a document, with namespace prefixes already stripped.
pub(super) enum Event<'a> {
    /// An element opens (self-closing ones are followed by a `Close`).
    Open(&'a BytesStart<'a>),
    /// An element closes; the local name.
    Close(&'a str),
    /// Character data, with references already resolved.
    Text(&'a str),
}

/// Feeds every event of `xml` to `on`; a malformed document is `Corrupt`.
pub(super) fn walk(
    xml: &str,
    what: &str,
    mut on: impl FnMut(Event<'_>),
) -> Result<(), ExtractError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    loop {
        let event = reader.read_event().map_err(|_| malformed(what))?;
        match event {
            XmlEvent::Start(start) => on(Event::Open(&start)),
            XmlEvent::Empty(start) => {
                on(Event::Open(&start));
                on(Event::Close(&local_name(&start)));
            }
            XmlEvent::End(end) => {
                let name = end.local_name();
                on(Event::Close(name.as_ref()));
            }
            XmlEvent::Text(text) => on(Event::Text(&text.xml10_content())),
            XmlEvent::CData(data) => {
                on(Event::Text(&data.into_inner()));
            }
            XmlEvent::GeneralRef(reference) => {
                if let Some(text) = resolve(&reference) {
                    on(Event::Text(&text));
                }
            }
            XmlEvent::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// The element's name without its namespace prefix.
pub(super) fn local_name(start: &BytesStart<'_>) -> String {
    start.local_name().as_ref().to_owned()
}

/// The value of the attribute whose local name is `key`, unescaped.
pub(super) fn attr(start: &BytesStart<'_>, key: &str) -> Option<String> {
    let found = start.attributes().flatten().find(|a| a.key.local_name().as_ref() == key)?;
    let value = found.normalized_value(XmlVersion::Implicit1_0).map(Cow::into_owned);
    Some(value.unwrap_or_else(|_| found.value.into_owned()))
}

/// Collects the text of every element whose local name is `element`, in
/// order, one per entry.
pub(super) fn texts_of(xml: &str, what: &str, element: &str) -> Result<Vec<String>, ExtractError> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    walk(xml, what, |event| match event {
        Event::Open(start) if current.is_none() && local_name(start) == element => {
            current = Some(String::new());
        }
        Event::Close(name) if name == element => found.extend(current.take()),
        Event::Text(text) => {
            if let Some(buffer) = current.as_mut() {
                buffer.push_str(text);
            }
        }
        _ => {}
    })?;
    Ok(found)
}

// XML has five predefined entities; XHTML files in the wild also use a few of
// HTML's, of which only the space-like ones change what is searchable.
fn resolve(reference: &BytesRef<'_>) -> Option<String> {
    if let Ok(Some(ch)) = reference.resolve_char_ref() {
        return Some(ch.to_string());
    }
    let text = match reference.xml10_content().as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" | "ensp" | "emsp" | "thinsp" => " ",
        "mdash" => "—",
        "ndash" => "–",
        _ => return None,
    };
    Some(text.to_owned())
}

fn malformed(what: &str) -> ExtractError {
    ExtractError::Corrupt { reason: format!("its {what} is not well-formed XML") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_resolves_references_and_self_closing_elements() {
        let xml = r#"<a:p x:id="1">Tom &amp; Jerry &#233;<a:br/>]]<![CDATA[<raw>]]></a:p>"#;
        let mut seen = Vec::new();
        walk(xml, "test part", |event| match event {
            Event::Open(start) => seen.push(format!("<{}>", local_name(start))),
            Event::Close(name) => seen.push(format!("</{name}>")),
            Event::Text(text) => seen.push(text.to_owned()),
        })
        .unwrap();
        assert_eq!(seen.concat(), "<p>Tom & Jerry é<br></br>]]<raw></p>");
    }

    #[test]
    fn malformed_xml_is_corrupt_and_names_the_part() {
        let err = walk("<a><b></a", "main document", |_| {}).unwrap_err();
        assert!(
            matches!(err, ExtractError::Corrupt { reason } if reason.contains("main document"))
        );
    }
}
