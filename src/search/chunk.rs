//! Splitting long text into overlapping chunks for indexing.
//!
//! Chunks end at whitespace where possible and always at a character boundary, so
//! multi-byte text is never cut inside a character.

/// Target chunk length in bytes (about 400 English tokens).
const CHUNK_BYTES: usize = 2000;

/// Bytes repeated at the start of the next chunk so phrases across a cut still match.
const OVERLAP_BYTES: usize = 200;

/// Splits `text` into chunks; empty or blank text gives no chunks.
pub fn split(text: &str) -> Vec<String> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = cut_point(text, start);
        chunks.push(text[start..end].to_string());
        if end >= text.len() {
            break;
        }
        start = next_start(text, start, end);
    }
    chunks
}

fn cut_point(text: &str, start: usize) -> usize {
    let hard_end = floor_boundary(text, (start + CHUNK_BYTES).min(text.len()));
    if hard_end >= text.len() {
        return text.len();
    }
    let window = &text[start..hard_end];
    match window.rfind(char::is_whitespace) {
        Some(space) if space > CHUNK_BYTES / 2 => start + space,
        _ => hard_end.max(ceil_boundary(text, start + 1)),
    }
}

fn next_start(text: &str, start: usize, end: usize) -> usize {
    let back = floor_boundary(text, end.saturating_sub(OVERLAP_BYTES).max(start + 1));
    match text[back..end].find(char::is_whitespace) {
        Some(space) => back + space + 1,
        None => end,
    }
    .max(ceil_boundary(text, start + 1))
}

fn floor_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_boundary(text: &str, mut index: usize) -> usize {
    while index < text.len() && !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_chunk_and_blank_is_none() {
        assert_eq!(split("  hello world "), vec!["hello world".to_string()]);
        assert!(split(" \n ").is_empty());
    }

    #[test]
    fn long_text_covers_everything_with_overlap() {
        let text: String = (0..2000).map(|i| format!("word{i} ")).collect();
        let chunks = split(&text);
        assert!(chunks.len() > 3);
        for i in 0..2000 {
            let word = format!("word{i} ");
            let needle = word.trim_end();
            assert!(chunks.iter().any(|c| c.contains(needle)), "{needle} lost");
        }
        assert!(chunks.iter().all(|c| c.len() <= CHUNK_BYTES));
    }

    #[test]
    fn multibyte_text_without_spaces_never_splits_a_character() {
        let text = "日本語のテキスト🎉".repeat(500);
        let chunks = split(&text);
        assert!(chunks.len() > 1);
        // Each chunk is a piece of the text (a cut inside a character would have panicked or
        // produced text found nowhere), and together they run from its start to its end.
        assert!(chunks.iter().all(|c| !c.is_empty() && text.contains(c.as_str())));
        assert!(text.starts_with(chunks[0].as_str()));
        assert!(text.ends_with(chunks[chunks.len() - 1].as_str()));
        let covered: usize = chunks.iter().map(String::len).sum();
        assert!(covered >= text.len(), "no text is lost between chunks");
    }
}
