//! Character decoding and whitespace normalisation shared by every format.
//!
//! This module owns the last step before text leaves the extractor: whatever a
//! format parser produced goes through [`normalize`], so no NUL or control
//! character, no run of spaces and no more than one blank line survives. It
//! also owns the text-like formats that need no parser (plain text, Markdown).

use encoding_rs::{Encoding, WINDOWS_1252};

use super::Raw;

/// Longest title kept, in characters; longer ones are cut at a word.
const MAX_TITLE_CHARS: usize = 300;

/// Decodes bytes that are meant to be text.
///
/// A byte-order mark (UTF-8 or UTF-16) wins; otherwise valid UTF-8 is taken
/// as is, and anything else is read as Windows-1252, the superset of Latin-1
/// that browsers use for "latin1", so every byte maps to some character.
pub(super) fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let body = bytes.get(bom_len..).unwrap_or_default();
        return encoding.decode_without_bom_handling(body).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// Collapses whitespace while keeping line and paragraph breaks.
///
/// Runs of spaces and tabs become one space, lines are trimmed, three or
/// more line breaks become one blank line, control characters (NUL
/// included) and byte-order marks are dropped. Form feeds and the Unicode
/// paragraph separator count as paragraph breaks.
pub(super) fn normalize(input: &str) -> String {
    let mut out = String::with_capacity(input.len().min(1 << 20));
    let mut newlines = 0usize;
    let mut space = false;
    let mut after_cr = false;
    for ch in input.chars() {
        let was_cr = std::mem::replace(&mut after_cr, ch == '\r');
        match ch {
            '\n' if was_cr => {}
            '\n' | '\r' | '\u{2028}' | '\u{85}' => newlines += 1,
            '\u{0c}' | '\u{2029}' => newlines += 2,
            '\u{feff}' | '\u{ad}' | '\u{200b}' => {}
            // Typographic ligatures (PDF fonts love them) would hide words.
            '\u{fb00}'..='\u{fb06}' => {
                flush(&mut out, &mut newlines, &mut space);
                out.push_str(ligature(ch));
            }
            c if c.is_whitespace() => space = true,
            c if c.is_control() => {}
            c => {
                flush(&mut out, &mut newlines, &mut space);
                out.push(c);
            }
        }
    }
    out
}

// Writes the break or space owed before the next visible character.
fn flush(out: &mut String, newlines: &mut usize, space: &mut bool) {
    if !out.is_empty() {
        if *newlines > 0 {
            out.push_str(if *newlines > 1 { "\n\n" } else { "\n" });
        } else if *space {
            out.push(' ');
        }
    }
    *newlines = 0;
    *space = false;
}

fn ligature(ch: char) -> &'static str {
    match ch {
        '\u{fb00}' => "ff",
        '\u{fb01}' => "fi",
        '\u{fb02}' => "fl",
        '\u{fb03}' => "ffi",
        '\u{fb04}' => "ffl",
        _ => "st",
    }
}

/// Turns a candidate title into one clean line, or `None` when nothing is left.
pub(super) fn clean_title(raw: &str) -> Option<String> {
    let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let line: String = line.chars().filter(|c| !c.is_control()).collect();
    if line.is_empty() {
        return None;
    }
    if line.chars().count() <= MAX_TITLE_CHARS {
        return Some(line);
    }
    let cut: String = line.chars().take(MAX_TITLE_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    Some(format!("{cut}…"))
}

/// Plain text: decoded, no title.
pub(super) fn plain(bytes: &[u8]) -> Raw {
    Raw { title: None, text: decode(bytes) }
}

/// Markdown: kept as written (its markup reads well and searches fine), with
/// the first of the highest-level headings outside code blocks as the title.
pub(super) fn markdown(bytes: &[u8]) -> Raw {
    let text = decode(bytes);
    Raw { title: markdown_title(&text), text }
}

fn markdown_title(text: &str) -> Option<String> {
    let mut in_fence = false;
    let mut best: Option<(usize, &str)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || line.len() - trimmed.len() > 3 {
            continue;
        }
        let level = trimmed.bytes().take_while(|b| *b == b'#').count();
        let Some(rest) = trimmed.get(level..).and_then(|r| r.strip_prefix(' ')) else {
            continue;
        };
        if (1..=6).contains(&level) && best.is_none_or(|(top, _)| level < top) {
            best = Some((level, rest));
        }
    }
    clean_title(best?.1.trim_end().trim_end_matches('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_collapses_spaces_and_keeps_paragraphs() {
        assert_eq!(normalize("ﬁsh \u{fb03}"), "fish ffi");
        let input = "  Hello \t  world \r\n next\u{0}line\n\n\n\n  Para  two \u{0c}three ";
        assert_eq!(normalize(input), "Hello world\nnextline\n\nPara two\n\nthree");
    }

    #[test]
    fn decode_handles_boms_and_latin1() {
        assert_eq!(decode(b"\xef\xbb\xbfcaf\xc3\xa9"), "café");
        assert_eq!(decode(b"\xff\xfec\x00a\x00f\x00\xe9\x00"), "café");
        assert_eq!(decode(b"\xfe\xff\x00c\x00a\x00f\x00\xe9"), "café");
        assert_eq!(decode(b"caf\xe9 cr\xe8me"), "café crème");
    }

    #[test]
    fn markdown_title_skips_code_fences() {
        let md = b"## Sub\n```\n# not a title\n```\n\n# The Real Title #\n\nBody";
        assert_eq!(markdown(md).title.as_deref(), Some("The Real Title"));
        assert_eq!(markdown(b"#tag\n## Only h2").title.as_deref(), Some("Only h2"));
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        let long = "word ".repeat(200);
        let title = clean_title(&long).unwrap();
        assert!(title.chars().count() <= MAX_TITLE_CHARS + 1);
        assert!(title.ends_with("word…"));
    }
}
