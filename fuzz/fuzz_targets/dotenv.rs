//! Any secrets-file text parses or reports a line number, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(line) = open_notebook::config::parse_dotenv(text) {
        assert!(line >= 1 && line <= text.lines().count());
    }
});
