//! The tag cache at `.nova/index/tags.bin`: tags per file, keyed by path, size, modification time
//! and content hash. A cache that cannot be read, or was written by another format version, is
//! rebuilt, never trusted.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::lang::Lang;
use super::tags::FileTags;

/// Bump when the cache's layout or the meaning of its tags changes.
const FORMAT: u32 = 2;
const MAGIC: &[u8; 8] = b"NOVAIDX\0";

/// One file as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    pub lang: Lang,
    pub size: u64,
    pub mtime: i64,
    pub hash: u64,
    pub tags: FileTags,
}

/// Reads a file written by [`write`]; `None` if it is missing, corrupt or of another format.
fn read<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    let body = bytes.strip_prefix(MAGIC)?;
    let (format, value): (u32, T) = postcard::from_bytes(body).ok()?;
    (format == FORMAT).then_some(value)
}

/// Writes `value` atomically (a temp file, then a rename), behind the magic and the format.
fn write<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let body = postcard::to_allocvec(&(FORMAT, value))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut bytes = Vec::with_capacity(MAGIC.len() + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&body);
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}

/// Reads the tag cache; `None` if it is missing, corrupt or of another format.
pub fn load(path: &Path) -> Option<BTreeMap<String, Cached>> {
    read(path)
}

/// Writes the tag cache.
pub fn save(path: &Path, files: &BTreeMap<String, Cached>) -> std::io::Result<()> {
    write(path, files)
}

/// The last map made, keyed by everything it depends on: the files' contents, the focus and the
/// budget. A repeated request with nothing changed is answered from here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MapEntry {
    pub key: u64,
    pub text: String,
    pub tokens: usize,
    pub shown: usize,
    pub ranked: usize,
    pub files: usize,
}

pub fn load_map(path: &Path, key: u64) -> Option<MapEntry> {
    read::<MapEntry>(path).filter(|entry| entry.key == key)
}

pub fn save_map(path: &Path, entry: &MapEntry) -> std::io::Result<()> {
    write(path, entry)
}
