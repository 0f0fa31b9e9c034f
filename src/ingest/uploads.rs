//! Stored upload files: safe names, atomic creation, collision suffixes.
//!
//! A file is first written under a temporary name in the uploads folder, then hard-linked to
//! its final name, which fails if that name exists; the next suffix (` (1)`, ` (2)`, ...) is
//! then tried. Two concurrent uploads of one name therefore both survive, and a reader never
//! sees a half-written file under a real name.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Longest stored file name, in bytes.
const MAX_NAME_BYTES: usize = 200;

/// Most collision suffixes tried before giving up.
const MAX_SUFFIX: u32 = 10_000;

/// Reduces a client-supplied file name to a safe base name.
pub fn safe_file_name(client_name: &str) -> String {
    let base = client_name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        return "upload".to_string();
    }
    truncate_name(&cleaned)
}

fn truncate_name(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_string();
    }
    let (stem, ext) = split_extension(name);
    let keep = MAX_NAME_BYTES.saturating_sub(ext.len());
    let mut end = keep.min(stem.len());
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ext}", &stem[..end])
}

/// Splits `report.final.pdf` into (`report.final`, `.pdf`).
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 => (&name[..dot], &name[dot..]),
        _ => (name, ""),
    }
}

/// The name to try for the `n`th collision (`0` is the name itself).
fn candidate(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_string();
    }
    let (stem, ext) = split_extension(name);
    format!("{stem} ({n}){ext}")
}

/// Writes `bytes` into `dir` under `client_name` (made safe), never overwriting a file.
pub fn store_upload(dir: &Path, client_name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let name = safe_file_name(client_name);
    let temp = write_temp(dir, bytes)?;
    let result = link_under_free_name(dir, &name, &temp);
    let _ = std::fs::remove_file(&temp);
    result
}

fn write_temp(dir: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let mut suffix = [0u8; 8];
    getrandom::getrandom(&mut suffix).map_err(|e| std::io::Error::other(e.to_string()))?;
    let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let temp = dir.join(format!(".upload-{hex}.part"));
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(temp)
}

fn link_under_free_name(dir: &Path, name: &str, temp: &Path) -> std::io::Result<PathBuf> {
    for n in 0..MAX_SUFFIX {
        let target = dir.join(candidate(name, n));
        match std::fs::hard_link(temp, &target) {
            Ok(()) => return Ok(target),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "too many files with this name"))
}

/// Removes temporary files left by uploads a crash interrupted; returns how many.
pub fn remove_interrupted(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(".upload-") && name.ends_with(".part")
        })
        .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_directories_and_control_characters() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(safe_file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(safe_file_name(".."), "upload");
        assert_eq!(safe_file_name(""), "upload");
        assert_eq!(safe_file_name(".hidden"), "hidden");
        let long = format!("{}.pdf", "é".repeat(300));
        let safe = safe_file_name(&long);
        assert!(safe.len() <= MAX_NAME_BYTES && safe.ends_with(".pdf"));
    }

    #[test]
    fn collisions_get_numbered_suffixes_before_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        let first = store_upload(dir.path(), "paper.pdf", b"1").unwrap();
        let second = store_upload(dir.path(), "paper.pdf", b"2").unwrap();
        let third = store_upload(dir.path(), "sub/paper.pdf", b"3").unwrap();
        let names: Vec<_> =
            [&first, &second, &third].iter().map(|p| p.file_name().unwrap().to_owned()).collect();
        assert_eq!(names, ["paper.pdf", "paper (1).pdf", "paper (2).pdf"]);
        assert_eq!(std::fs::read(&second).unwrap(), b"2");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 3, "no temporary files remain");
    }

    #[test]
    fn interrupted_temporary_files_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".upload-0011223344556677.part"), b"half").unwrap();
        std::fs::write(dir.path().join("kept.pdf"), b"whole").unwrap();
        assert_eq!(remove_interrupted(dir.path()), 1);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].file_name(), "kept.pdf");
    }

    #[test]
    fn concurrent_uploads_of_one_name_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let dir = dir.path().to_path_buf();
                std::thread::spawn(move || store_upload(&dir, "same.txt", &[i]).unwrap())
            })
            .collect();
        let mut paths: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), 8);
    }
}
