//! Nova's binary caches under `.nova/` (the index's tags, the review's findings): a value behind
//! a magic and a format number, written atomically. A file that cannot be read, or was written
//! with another magic or format, reads as nothing: a cache is rebuilt, never trusted.
//!
//! Owns: the cache file layout and postcard.
//! Never: decides what a cache holds or when it is stale; its owner does.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Reads a file written by [`write()`] with the same `magic` and `format`; `None` if it is missing,
/// corrupt, or another cache's or format's.
pub fn read<T: DeserializeOwned>(path: &Path, magic: &[u8; 8], format: u32) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    let body = bytes.strip_prefix(magic)?;
    let (found, value): (u32, T) = postcard::from_bytes(body).ok()?;
    (found == format).then_some(value)
}

/// Writes `value` atomically (a temp file, then a rename), behind `magic` and `format`.
pub fn write<T: Serialize>(
    path: &Path,
    magic: &[u8; 8],
    format: u32,
    value: &T,
) -> std::io::Result<()> {
    let body = postcard::to_allocvec(&(format, value))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut bytes = Vec::with_capacity(magic.len() + body.len());
    bytes.extend_from_slice(magic);
    bytes.extend_from_slice(&body);
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}
