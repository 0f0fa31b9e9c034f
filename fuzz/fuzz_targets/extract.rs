//! Any bytes under any name: extraction returns text or an error, never panics or hangs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &[u8])| {
    let (name, bytes) = input;
    let _ = open_notebook::ingest::extract::detect(bytes, name);
    if let Ok(extracted) = open_notebook::ingest::extract::extract(bytes, name) {
        assert!(!extracted.text.trim().is_empty());
    }
});
