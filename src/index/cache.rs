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
const FORMAT: u32 = 3;
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

fn read<T: DeserializeOwned>(path: &Path) -> Option<T> {
    crate::cachefile::read(path, MAGIC, FORMAT)
}

fn write<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    crate::cachefile::write(path, MAGIC, FORMAT, value)
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
    pub paths: Vec<String>,
}

pub fn load_map(path: &Path, key: u64) -> Option<MapEntry> {
    read::<MapEntry>(path).filter(|entry| entry.key == key)
}

pub fn save_map(path: &Path, entry: &MapEntry) -> std::io::Result<()> {
    write(path, entry)
}
