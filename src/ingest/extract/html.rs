//! Visible text of HTML and XHTML documents.
//!
//! This module owns the rule for what a reader would see: text inside
//! `script`, `style`, `noscript`, `template`, `head` and similar containers,
//! and inside elements marked `hidden` or styled `display:none`, never reaches
//! the output. Block elements become paragraph breaks. HTML goes through the
//! html5ever parser (as browsers do); EPUB chapters, which are XHTML, are read
//! as XML first and fall back to the HTML parser when they are not well-formed.
//! The tree is walked iteratively, so nesting depth cannot overflow the stack.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

use super::text::{clean_title, decode};
use super::xml::{self, Event};
use super::{ExtractError, Raw};

/// Elements whose content is never shown to a reader.
const HIDDEN: &[&str] = &[
    "head", "script", "style", "noscript", "template", "iframe", "object", "embed", "applet",
    "frameset", "noembed", "noframes",
];

/// Elements that start a new paragraph.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "ul",
];

/// Elements whose whitespace is shown as written.
const PREFORMATTED: &[&str] = &["pre", "textarea", "listing", "plaintext", "xmp"];

/// Extracts an HTML document given as bytes.
pub(super) fn extract(bytes: &[u8]) -> Raw {
    from_html(&decode(bytes))
}

/// Extracts an HTML document with the browsers' forgiving parser.
pub(super) fn from_html(source: &str) -> Raw {
    let document = Html::parse_document(source);
    let mut sink = VisibleText::default();
    for edge in document.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => sink.open(el.name(), is_hidden(|k| el.attr(k))),
                Node::Text(text) => sink.text(text),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(el) = node.value() {
                    sink.close(el.name(), is_hidden(|k| el.attr(k)));
                }
            }
        }
    }
    sink.finish()
}

/// Extracts an XHTML document (an EPUB chapter), falling back to the HTML
/// parser when it is not well-formed XML.
pub(super) fn from_xhtml(source: &str) -> Raw {
    match walk_xhtml(source) {
        Ok(raw) => raw,
        Err(ExtractError::Corrupt { .. }) | Err(_) => from_html(source),
    }
}

fn walk_xhtml(source: &str) -> Result<Raw, ExtractError> {
    let mut sink = VisibleText::default();
    // Close events carry no attributes, so remember which open elements hid.
    let mut hid: Vec<bool> = Vec::new();
    xml::walk(source, "chapter", |event| match event {
        Event::Open(start) => {
            let hidden = is_hidden(|k| xml::attr(start, k));
            hid.push(hidden);
            sink.open(&xml::local_name(start).to_ascii_lowercase(), hidden);
        }
        Event::Close(name) => {
            let hidden = hid.pop().unwrap_or(false);
            sink.close(&name.to_ascii_lowercase(), hidden);
        }
        Event::Text(text) => sink.text(text),
    })?;
    Ok(sink.finish())
}

fn is_hidden<S: AsRef<str>>(attr: impl Fn(&str) -> Option<S>) -> bool {
    if attr("hidden").is_some() {
        return true;
    }
    attr("style").is_some_and(|style| {
        let style: String =
            style.as_ref().chars().filter(|c| !c.is_whitespace()).collect::<String>();
        let style = style.to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

/// Accumulates what a reader would see, one parser event at a time.
#[derive(Default)]
struct VisibleText {
    out: String,
    /// How many enclosing elements hide their content.
    hidden: usize,
    /// How many enclosing elements keep whitespace as written.
    preformatted: usize,
    title: Option<String>,
    heading: Option<String>,
    /// Text of the `<title>` or first `<h1>` being read, if any.
    capture: Option<(Capture, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    Title,
    Heading,
}

impl VisibleText {
    fn open(&mut self, name: &str, hidden_attr: bool) {
        if name == "title" && self.title.is_none() && self.capture.is_none() {
            self.capture = Some((Capture::Title, String::new()));
        }
        if name == "h1" && self.heading.is_none() && self.capture.is_none() && self.hidden == 0 {
            self.capture = Some((Capture::Heading, String::new()));
        }
        if hidden_attr || HIDDEN.contains(&name) {
            self.hidden += 1;
            return;
        }
        if self.hidden > 0 {
            return;
        }
        if PREFORMATTED.contains(&name) {
            self.preformatted += 1;
        }
        self.boundary(name);
    }

    fn close(&mut self, name: &str, hidden_attr: bool) {
        if name == "title" || name == "h1" {
            self.end_capture();
        }
        if hidden_attr || HIDDEN.contains(&name) {
            self.hidden = self.hidden.saturating_sub(1);
            return;
        }
        if self.hidden > 0 {
            return;
        }
        if PREFORMATTED.contains(&name) {
            self.preformatted = self.preformatted.saturating_sub(1);
        }
        match name {
            "td" | "th" => self.out.push('\t'),
            "tr" => self.out.push('\n'),
            _ if BLOCKS.contains(&name) => self.out.push_str("\n\n"),
            _ => {}
        }
    }

    fn boundary(&mut self, name: &str) {
        match name {
            "br" | "li" | "tr" => self.out.push('\n'),
            _ if BLOCKS.contains(&name) => self.out.push_str("\n\n"),
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        if let Some((_, buffer)) = self.capture.as_mut() {
            buffer.push_str(text);
        }
        if self.hidden > 0 {
            return;
        }
        if self.preformatted > 0 {
            self.out.push_str(text);
            return;
        }
        // Outside preformatted text, source line breaks are just spaces.
        self.out.extend(text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }));
    }

    fn end_capture(&mut self) {
        match self.capture.take() {
            Some((Capture::Title, text)) => self.title = clean_title(&text),
            Some((Capture::Heading, text)) => self.heading = clean_title(&text),
            None => {}
        }
    }

    fn finish(mut self) -> Raw {
        self.end_capture();
        Raw { title: self.title.or(self.heading), text: self.out }
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::normalize;
    use super::*;

    const PAGE: &str = r#"<!DOCTYPE html><html><head><title> My
        Page </title><style>body { color: red }</style>
        <script>var secret = "leaked-script";</script></head>
        <body><noscript>leaked-noscript</noscript>
        <h1>Heading</h1><p>First   paragraph
        continues.</p><p>Second<br>line</p>
        <div hidden>leaked-hidden</div><span style="display: none">leaked-style</span>
        <template><p>leaked-template</p></template>
        <script type="module">import("leaked-module")</script>
        <table><tr><td>a</td><td>b</td></tr></table>
        <pre>keep
  this</pre></body></html>"#;

    #[test]
    fn html_keeps_visible_text_and_paragraphs() {
        let raw = from_html(PAGE);
        assert_eq!(raw.title.as_deref(), Some("My Page"));
        let text = normalize(&raw.text);
        assert!(!text.contains("leaked"), "{text}");
        assert!(!text.contains("color"), "{text}");
        assert!(text.contains("Heading\n\nFirst paragraph continues.\n\nSecond\nline"), "{text}");
        assert!(text.contains("a b"), "{text}");
        assert!(text.contains("keep\nthis"), "{text}");
    }

    #[test]
    fn xhtml_path_hides_the_same_things() {
        let xhtml = r#"<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">
            <head><title>Chapter</title><style>p{}</style></head>
            <body><script>leaked()</script><p>Shown&nbsp;text</p></body></html>"#;
        let raw = from_xhtml(xhtml);
        assert_eq!(raw.title.as_deref(), Some("Chapter"));
        assert_eq!(normalize(&raw.text), "Shown text");
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let deep = format!("{}deep{}", "<div><span>".repeat(2_000), "</span></div>".repeat(2_000));
        assert!(normalize(&from_html(&deep).text).contains("deep"));
        assert!(normalize(&from_xhtml(&deep).text).contains("deep"));
    }

    #[test]
    fn title_falls_back_to_the_first_heading() {
        let raw = from_html("<h1>Only <em>heading</em></h1><p>x</p>");
        assert_eq!(raw.title.as_deref(), Some("Only heading"));
    }
}
