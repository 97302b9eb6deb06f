//! The review's findings cache, `.nova/review/findings.bin`: per file, what the rules found in it
//! as it was (its content hash) and as the files that decide where rules apply in it were (the
//! parents that declare it a module, hashed too), made by this rule set and this build of Nova. A
//! review where nothing changed reads and hashes every file and takes its findings from here.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::findings::Finding;
use crate::rules::RuleSet;

/// Where the cache is, under the repository root.
pub const CACHE: &str = ".nova/review/findings.bin";

const MAGIC: &[u8; 8] = b"NOVAREV\0";
/// Bump when the layout or the meaning of an entry changes.
const FORMAT: u32 = 1;

/// The findings of the files reviewed, with what made them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Cache {
    /// The rule set and the build of Nova: another key, another cache.
    key: u64,
    files: BTreeMap<String, Entry>,
    #[serde(skip)]
    changed: bool,
}

/// One file's findings, and what they depend on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub hash: u64,
    /// The other files read to decide where rules apply, with their hashes (`None`: missing).
    pub read: Vec<(String, Option<u64>)>,
    pub findings: Vec<Finding>,
}

impl Cache {
    /// The cache at `path` if it was made with `key`; else an empty one.
    pub fn load(path: &Path, key: u64) -> Cache {
        crate::cachefile::read::<Cache>(path, MAGIC, FORMAT)
            .filter(|cache| cache.key == key)
            .unwrap_or(Cache {
                key,
                files: BTreeMap::new(),
                changed: true,
            })
    }

    /// The findings of `path` as cached, if its content hash is `hash` and every file they
    /// depended on still hashes the same (`hash_of` gives a file's hash now).
    pub fn get(
        &self,
        path: &str,
        hash: u64,
        hash_of: &dyn Fn(&str) -> Option<u64>,
    ) -> Option<&[Finding]> {
        let entry = self.files.get(path)?;
        let fresh = entry.hash == hash && entry.read.iter().all(|(p, h)| hash_of(p) == *h);
        fresh.then_some(entry.findings.as_slice())
    }

    pub fn put(&mut self, path: &str, entry: Entry) {
        self.files.insert(path.to_owned(), entry);
        self.changed = true;
    }

    /// Forgets every file not in `kept` (files deleted since).
    pub fn keep_only(&mut self, kept: &std::collections::BTreeSet<&str>) {
        let before = self.files.len();
        self.files.retain(|path, _| kept.contains(path.as_str()));
        self.changed |= self.files.len() != before;
    }

    /// Writes the cache if anything in it changed; a cache that cannot be written is only slower.
    pub fn save(&self, path: &Path) {
        if self.changed {
            // nova:allow(ignored-result): without its cache the next review is only slower
            let _ = crate::cachefile::write(path, MAGIC, FORMAT, self);
        }
    }
}

/// The cache key: the rules (each one's file, as loaded) and the running build of Nova (its
/// executable's size and time), so that neither a changed rule nor a new matcher reads findings
/// made by another.
pub fn key(rules: &RuleSet) -> u64 {
    let build = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{modified}", m.len())
        })
        .unwrap_or_default();
    crate::hash::fnv1a_parts([
        env!("CARGO_PKG_VERSION").as_bytes(),
        build.as_bytes(),
        &rules.fingerprint().to_le_bytes(),
    ])
}
