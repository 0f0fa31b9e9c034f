//! Bounded reading of ZIP containers (DOCX, ODT, EPUB, PPTX, XLSX).
//!
//! This module owns the zip-bomb guard: every byte read out of an archive is
//! counted against one budget per document, measured on the actual inflated
//! stream rather than on the sizes the archive declares, and archives with too
//! many entries are refused before anything is inflated. Callers never touch
//! the `zip` crate directly, so no path around the budget exists.

use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use super::{ExtractError, Limits};

/// A ZIP archive read from memory, with a decompression budget.
pub(super) struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    /// Bytes that may still be inflated.
    left: u64,
}

impl<'a> Archive<'a> {
    /// Reads the archive's directory; refuses unreadable or over-full archives.
    pub(super) fn open(bytes: &'a [u8], limits: &Limits) -> Result<Self, ExtractError> {
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|_| corrupt())?;
        if zip.len() > limits.max_entries {
            return Err(ExtractError::TooLarge);
        }
        Ok(Archive { zip, left: limits.max_unpacked })
    }

    /// Whether an entry with exactly this name exists.
    pub(super) fn contains(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// The names of all entries, in archive order (unreadable names skipped).
    pub(super) fn names(&self) -> Vec<String> {
        self.zip.file_names().flatten().map(|name| name.into_owned()).collect()
    }

    /// The inflated bytes of an entry, `None` when the entry does not exist.
    pub(super) fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, ExtractError> {
        let Some(index) = self.zip.index_for_name(name) else {
            return Ok(None);
        };
        self.read_index(index).map(Some)
    }

    /// The entry decoded as text (BOM-aware, see [`super::text::decode`]).
    pub(super) fn read_text(&mut self, name: &str) -> Result<Option<String>, ExtractError> {
        Ok(self.read(name)?.map(|bytes| super::text::decode(&bytes)))
    }

    /// Inflates every entry once without keeping it, so that a third-party
    /// reader given the same bytes afterwards stays within the budget.
    pub(super) fn check_all(&mut self) -> Result<(), ExtractError> {
        for index in 0..self.zip.len() {
            let cap = self.left.saturating_add(1);
            let mut entry = self.zip.by_index(index).map_err(entry_error)?;
            if entry.encrypted() {
                return Err(ExtractError::Encrypted);
            }
            let read = std::io::copy(&mut (&mut entry).take(cap), &mut std::io::sink())
                .map_err(|_| corrupt())?;
            drop(entry);
            self.charge(read)?;
        }
        Ok(())
    }

    fn read_index(&mut self, index: usize) -> Result<Vec<u8>, ExtractError> {
        let cap = self.left.saturating_add(1);
        let entry = self.zip.by_index(index).map_err(entry_error)?;
        if entry.encrypted() {
            return Err(ExtractError::Encrypted);
        }
        let mut bytes = Vec::new();
        entry.take(cap).read_to_end(&mut bytes).map_err(|_| corrupt())?;
        self.charge(bytes.len() as u64)?;
        Ok(bytes)
    }

    fn charge(&mut self, used: u64) -> Result<(), ExtractError> {
        self.left = self.left.checked_sub(used).ok_or(ExtractError::TooLarge)?;
        Ok(())
    }
}

fn entry_error(error: ZipError) -> ExtractError {
    match error {
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) => ExtractError::Encrypted,
        _ => corrupt(),
    }
}

fn corrupt() -> ExtractError {
    ExtractError::Corrupt { reason: "its ZIP container is truncated or damaged".to_owned() }
}
