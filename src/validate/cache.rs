//! Base results per commit, in `.nova/base/<commit>.json`: the report and the linter's messages
//! of a green base, with the key of everything else they depend on. A file that does not parse,
//! or whose key differs, is ignored and overwritten.

use std::path::{Path, PathBuf};

use crate::git::Oid;
use serde::{Deserialize, Serialize};

use super::report::ValidationReport;

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    report: ValidationReport,
    lint_json: String,
}

pub struct BaseCache {
    dir: PathBuf,
}

impl BaseCache {
    pub fn new(dir: &Path) -> Self {
        BaseCache {
            dir: dir.to_owned(),
        }
    }

    fn path(&self, commit: Oid) -> PathBuf {
        self.dir.join(format!("{commit}.json"))
    }

    pub fn load(&self, commit: Oid, key: &str) -> Option<(ValidationReport, String)> {
        let bytes = std::fs::read(self.path(commit)).ok()?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        (entry.key == key).then_some((entry.report, entry.lint_json))
    }

    /// Best effort: a cache that cannot be written only costs the next run a validation.
    pub fn store(&self, commit: Oid, key: &str, report: &ValidationReport, lint_json: &str) {
        let entry = Entry {
            key: key.to_owned(),
            report: report.clone(),
            lint_json: lint_json.to_owned(),
        };
        let Ok(bytes) = serde_json::to_vec(&entry) else {
            return;
        };
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let path = self.path(commit);
        let partial = path.with_extension("json.partial");
        if std::fs::write(&partial, bytes).is_ok() {
            // nova:allow(ignored-result): a result that cannot be cached is worked out again next time
            let _ = std::fs::rename(partial, path);
        }
    }
}
