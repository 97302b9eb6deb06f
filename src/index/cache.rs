//! The tag cache at `.nova/index/tags.bin`: tags per file, keyed by path, size, modification time
//! and content hash. A cache that cannot be read, or was written by another format version, is
//! rebuilt, never trusted.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::lang::Lang;
use super::tags::FileTags;

/// Bump when the cache's layout or the meaning of its tags changes.
const FORMAT: u32 = 1;
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

#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    files: BTreeMap<String, Cached>,
}

/// Reads the cache; `None` if it is missing, corrupt or of another format.
pub fn load(path: &Path) -> Option<BTreeMap<String, Cached>> {
    let bytes = std::fs::read(path).ok()?;
    let body = bytes.strip_prefix(MAGIC)?;
    let file: CacheFile = postcard::from_bytes(body).ok()?;
    (file.format == FORMAT).then_some(file.files)
}

/// Writes the cache atomically (a temp file, then a rename).
pub fn save(path: &Path, files: &BTreeMap<String, Cached>) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct CacheRef<'a> {
        format: u32,
        files: &'a BTreeMap<String, Cached>,
    }
    let body = postcard::to_allocvec(&CacheRef {
        format: FORMAT,
        files,
    })
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
    let bytes = std::fs::read(path).ok()?;
    let body = bytes.strip_prefix(MAGIC)?;
    let (format, entry): (u32, MapEntry) = postcard::from_bytes(body).ok()?;
    (format == FORMAT && entry.key == key).then_some(entry)
}

pub fn save_map(path: &Path, entry: &MapEntry) -> std::io::Result<()> {
    let body = postcard::to_allocvec(&(FORMAT, entry))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut bytes = Vec::with_capacity(MAGIC.len() + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&body);
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}
