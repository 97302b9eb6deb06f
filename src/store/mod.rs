//! The run archive: every run, finding, candidate, verdict and validation report, written as it
//! happens to SQLite at `.nova/runs.sqlite`.
//!
//! Owns: the archive's schema and every read and write of it.
//! Never: loses a record on a crash. Each write is its own transaction, so a run killed halfway
//! leaves a readable archive that says how far it got.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

mod bench;

pub use bench::{BenchRow, VariantRow};

/// The archive's file, relative to the repository root.
pub const ARCHIVE: &str = ".nova/runs.sqlite";

/// Why the archive could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the run archive `{}` cannot be used: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// An open archive.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Where an unreadable archive found at `path` was moved before this one was started.
    recovered: Option<PathBuf>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    command     TEXT NOT NULL,
    base        TEXT,
    branch      TEXT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT NOT NULL,
    summary     TEXT
);
CREATE INDEX IF NOT EXISTS runs_id ON runs(id);
CREATE TABLE IF NOT EXISTS checkpoints (
    run     INTEGER PRIMARY KEY REFERENCES runs(seq),
    data    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    run     INTEGER NOT NULL REFERENCES runs(seq),
    seq     INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (run, seq)
);
CREATE TABLE IF NOT EXISTS findings (
    run         INTEGER NOT NULL REFERENCES runs(seq),
    idx         INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    rule        TEXT NOT NULL,
    agent       TEXT NOT NULL,
    path        TEXT NOT NULL,
    line        INTEGER NOT NULL,
    symbol      TEXT,
    severity    TEXT NOT NULL,
    message     TEXT NOT NULL,
    fixable     INTEGER NOT NULL,
    PRIMARY KEY (run, idx)
);
CREATE TABLE IF NOT EXISTS candidates (
    run         INTEGER NOT NULL REFERENCES runs(seq),
    idx         INTEGER NOT NULL,
    finding     INTEGER NOT NULL,
    summary     TEXT NOT NULL,
    diff        TEXT,
    verdict     TEXT NOT NULL,
    reasons     TEXT NOT NULL,
    commit_id   TEXT,
    seconds     REAL NOT NULL,
    PRIMARY KEY (run, idx)
);
CREATE TABLE IF NOT EXISTS validations (
    run         INTEGER NOT NULL REFERENCES runs(seq),
    candidate   INTEGER,
    report      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bench_results (
    run         INTEGER NOT NULL REFERENCES runs(seq),
    agents      TEXT NOT NULL,
    agents_hash TEXT NOT NULL,
    task_set    TEXT NOT NULL,
    evaluator   TEXT NOT NULL,
    task        TEXT NOT NULL,
    split       TEXT NOT NULL,
    solved      INTEGER NOT NULL,
    turns       INTEGER NOT NULL,
    tokens      INTEGER NOT NULL,
    cost_usd    REAL,
    seconds     REAL NOT NULL,
    detail      TEXT NOT NULL,
    PRIMARY KEY (run, agents, task)
);
CREATE TABLE IF NOT EXISTS evolve_variants (
    evaluator   TEXT NOT NULL,
    id          TEXT NOT NULL,
    parent      TEXT,
    generation  INTEGER NOT NULL,
    change      TEXT NOT NULL,
    status      TEXT NOT NULL,
    score       REAL,
    tasks       INTEGER NOT NULL,
    decision    TEXT,
    created     INTEGER NOT NULL,
    PRIMARY KEY (evaluator, id)
);
CREATE TABLE IF NOT EXISTS flaky_tests (
    test        TEXT PRIMARY KEY,
    times       INTEGER NOT NULL,
    first_run   TEXT NOT NULL,
    last_run    TEXT NOT NULL,
    last_seen   INTEGER NOT NULL
);
";

/// One run, as `nova runs list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub seq: i64,
    pub id: String,
    pub command: String,
    pub base: Option<String>,
    pub branch: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: String,
    pub summary: Option<String>,
}

/// One finding of a run.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub idx: i64,
    pub rule: String,
    pub agent: String,
    pub path: String,
    pub line: i64,
    pub symbol: Option<String>,
    pub severity: String,
    pub message: String,
    pub fixable: bool,
}

/// One candidate of a run and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateRow {
    pub idx: i64,
    pub finding: i64,
    pub summary: String,
    pub verdict: String,
    pub reasons: Vec<String>,
    pub commit: Option<String>,
    pub seconds: f64,
    pub diff: Option<String>,
}

/// A test some run saw flaky: its result differed between runs of the same tree.
#[derive(Debug, Clone, Serialize)]
pub struct FlakyRow {
    /// `package (target) name`.
    pub test: String,
    /// How many runs saw it flaky.
    pub times: i64,
    pub first_run: String,
    pub last_run: String,
    pub last_seen: i64,
}

/// A candidate as recorded.
#[derive(Debug, Clone)]
pub struct CandidateRecord<'a> {
    pub idx: usize,
    pub finding: usize,
    pub summary: &'a str,
    pub diff: Option<&'a str>,
    /// `accepted`, `rejected` or `skipped`.
    pub verdict: &'a str,
    pub reasons: &'a [String],
    pub commit: Option<&'a str>,
    pub seconds: f64,
}

impl Store {
    /// Opens (creating if needed) the archive of the repository at `repo_root`. An archive that
    /// is not a database or is corrupt is moved aside, kept as `runs.sqlite.unreadable-<unix
    /// time>`, and a new one is started: [`Store::recovered`] says where the old one went.
    pub fn open(repo_root: &Path) -> Result<Self, StoreError> {
        let path = repo_root.join(ARCHIVE);
        crate::state::prepare(repo_root)
            .map_err(|(path, source)| StoreError::Io { path, source })?;
        match Self::open_at(&path) {
            Err(StoreError::Sqlite { source, .. }) if unreadable(&source) => {
                let seconds = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let kept = path.with_file_name(format!("runs.sqlite.unreadable-{seconds}"));
                std::fs::rename(&path, &kept).map_err(|source| StoreError::Io {
                    path: kept.clone(),
                    source,
                })?;
                // Its journal belongs to it, not to the new archive.
                for suffix in ["-wal", "-shm"] {
                    let journal = PathBuf::from(format!("{}{suffix}", path.display()));
                    if journal.exists() {
                        // nova:allow(ignored-result): a journal left behind belongs to neither archive
                        let _ = std::fs::rename(&journal, format!("{}{suffix}", kept.display()));
                    }
                }
                let mut store = Self::open_at(&path)?;
                store.recovered = Some(kept);
                Ok(store)
            }
            other => other,
        }
    }

    fn open_at(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        })?;
        let store = Store {
            conn,
            path: path.to_owned(),
            recovered: None,
        };
        store.wrap(store.conn.busy_timeout(std::time::Duration::from_secs(5)))?;
        store.wrap(store.conn.pragma_update(None, "journal_mode", "WAL"))?;
        store.wrap(store.conn.pragma_update(None, "synchronous", "NORMAL"))?;
        // A truncated archive opens; its pages are missing only when read.
        let check: String = store.wrap(
            store
                .conn
                .query_row("PRAGMA quick_check(1)", [], |r| r.get(0)),
        )?;
        if check != "ok" {
            return Err(StoreError::Sqlite {
                path: path.to_owned(),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                    Some(check),
                ),
            });
        }
        store.wrap(store.conn.execute_batch(SCHEMA))?;
        Ok(store)
    }

    /// Where an unreadable archive was moved before this one was started, if one was.
    pub fn recovered(&self) -> Option<&Path> {
        self.recovered.as_deref()
    }

    /// Opens the archive only if it exists.
    pub fn open_existing(repo_root: &Path) -> Result<Option<Self>, StoreError> {
        if repo_root.join(ARCHIVE).is_file() {
            Self::open(repo_root).map(Some)
        } else {
            Ok(None)
        }
    }

    fn wrap<T>(&self, result: rusqlite::Result<T>) -> Result<T, StoreError> {
        result.map_err(|source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        })
    }

    /// Records the start of a run; returns its sequence number.
    pub fn start_run(
        &self,
        id: &str,
        command: &str,
        base: &str,
        branch: Option<&str>,
        started_at: i64,
    ) -> Result<i64, StoreError> {
        self.wrap(self.conn.execute(
            "INSERT INTO runs (id, command, base, branch, started_at, status) VALUES (?1, ?2, ?3, ?4, ?5, 'running')",
            params![id, command, base, branch, started_at],
        ))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Keeps what resuming `run` needs, in place of what was kept before.
    pub fn save_checkpoint(&self, run: i64, data: &str) -> Result<(), StoreError> {
        self.wrap(self.conn.execute(
            "INSERT OR REPLACE INTO checkpoints (run, data) VALUES (?1, ?2)",
            params![run, data],
        ))?;
        Ok(())
    }

    /// What resuming `run` needs, if it got that far.
    pub fn checkpoint(&self, run: i64) -> Result<Option<String>, StoreError> {
        self.wrap(
            self.conn
                .query_row("SELECT data FROM checkpoints WHERE run = ?1", [run], |r| {
                    r.get(0)
                })
                .optional(),
        )
    }

    /// Marks `run` running again (it is being resumed); the sequence number its next event takes.
    pub fn reopen_run(&self, run: i64) -> Result<usize, StoreError> {
        self.wrap(self.conn.execute(
            "UPDATE runs SET status = 'running', finished_at = NULL WHERE seq = ?1",
            [run],
        ))?;
        let next: i64 = self.wrap(self.conn.query_row(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM events WHERE run = ?1",
            [run],
            |r| r.get(0),
        ))?;
        Ok(usize::try_from(next).unwrap_or(0))
    }

    pub fn event(&self, run: i64, seq: usize, kind: &str, data: &str) -> Result<(), StoreError> {
        self.wrap(self.conn.execute(
            "INSERT INTO events (run, seq, kind, data) VALUES (?1, ?2, ?3, ?4)",
            params![run, seq as i64, kind, data],
        ))?;
        Ok(())
    }

    pub fn finding(
        &self,
        run: i64,
        idx: usize,
        f: &crate::findings::Finding,
    ) -> Result<(), StoreError> {
        self.wrap(self.conn.execute(
            "INSERT INTO findings (run, idx, fingerprint, rule, agent, path, line, symbol, severity, message, fixable)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                run,
                idx as i64,
                &f.fingerprint,
                f.rule,
                f.agent,
                f.path.as_str(),
                f.span.line_start as i64,
                f.symbol,
                f.severity.as_str(),
                f.message,
                f.fix.is_some()
            ],
        ))?;
        Ok(())
    }

    pub fn candidate(&self, run: i64, c: &CandidateRecord<'_>) -> Result<(), StoreError> {
        let reasons = serde_json::to_string(c.reasons).unwrap_or_default();
        self.wrap(self.conn.execute(
            "INSERT INTO candidates (run, idx, finding, summary, diff, verdict, reasons, commit_id, seconds)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![run, c.idx as i64, c.finding as i64, c.summary, c.diff, c.verdict, reasons, c.commit, c.seconds],
        ))?;
        Ok(())
    }

    pub fn validation(
        &self,
        run: i64,
        candidate: Option<usize>,
        report_json: &str,
    ) -> Result<(), StoreError> {
        self.wrap(self.conn.execute(
            "INSERT INTO validations (run, candidate, report) VALUES (?1, ?2, ?3)",
            params![run, candidate.map(|c| c as i64), report_json],
        ))?;
        Ok(())
    }

    pub fn finish_run(
        &self,
        run: i64,
        status: &str,
        summary: &str,
        finished_at: i64,
    ) -> Result<(), StoreError> {
        self.wrap(self.conn.execute(
            "UPDATE runs SET status = ?2, summary = ?3, finished_at = ?4 WHERE seq = ?1",
            params![run, status, summary, finished_at],
        ))?;
        Ok(())
    }

    /// Every run, newest first.
    pub fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let mut statement = self.wrap(self.conn.prepare(
            "SELECT seq, id, command, base, branch, started_at, finished_at, status, summary FROM runs ORDER BY seq DESC",
        ))?;
        let rows = self.wrap(statement.query_map([], run_row))?;
        self.wrap(rows.collect())
    }

    /// The newest run with this id (or sequence number).
    pub fn run(&self, id: &str) -> Result<Option<RunRow>, StoreError> {
        let by_seq: Option<i64> = id.parse().ok();
        self.wrap(
            self.conn
                .query_row(
                    "SELECT seq, id, command, base, branch, started_at, finished_at, status, summary FROM runs
                     WHERE id = ?1 OR seq = ?2 ORDER BY seq DESC LIMIT 1",
                    params![id, by_seq],
                    run_row,
                )
                .optional(),
        )
    }

    pub fn findings(&self, run: i64) -> Result<Vec<FindingRow>, StoreError> {
        let mut statement = self.wrap(self.conn.prepare(
            "SELECT idx, rule, agent, path, line, symbol, severity, message, fixable FROM findings WHERE run = ?1 ORDER BY idx",
        ))?;
        let rows = self.wrap(statement.query_map([run], |r| {
            Ok(FindingRow {
                idx: r.get(0)?,
                rule: r.get(1)?,
                agent: r.get(2)?,
                path: r.get(3)?,
                line: r.get(4)?,
                symbol: r.get(5)?,
                severity: r.get(6)?,
                message: r.get(7)?,
                fixable: r.get(8)?,
            })
        }))?;
        self.wrap(rows.collect())
    }

    pub fn candidates(&self, run: i64) -> Result<Vec<CandidateRow>, StoreError> {
        let mut statement = self.wrap(self.conn.prepare(
            "SELECT idx, finding, summary, verdict, reasons, commit_id, seconds, diff FROM candidates WHERE run = ?1 ORDER BY idx",
        ))?;
        let rows = self.wrap(statement.query_map([run], |r| {
            let reasons: String = r.get(4)?;
            Ok(CandidateRow {
                idx: r.get(0)?,
                finding: r.get(1)?,
                summary: r.get(2)?,
                verdict: r.get(3)?,
                reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                commit: r.get(5)?,
                seconds: r.get(6)?,
                diff: r.get(7)?,
            })
        }))?;
        self.wrap(rows.collect())
    }

    /// The report of the base of run `run`, as JSON, if it was validated.
    pub fn base_report(&self, run: i64) -> Result<Option<String>, StoreError> {
        self.wrap(
            self.conn
                .query_row(
                    "SELECT report FROM validations WHERE run = ?1 AND candidate IS NULL LIMIT 1",
                    [run],
                    |r| r.get(0),
                )
                .optional(),
        )
    }

    /// Records that run `run` saw `test` flaky.
    pub fn flaky_test(&self, test: &str, run: &str, at: i64) -> Result<(), StoreError> {
        self.wrap(self.conn.execute(
            "INSERT INTO flaky_tests (test, times, first_run, last_run, last_seen) VALUES (?1, 1, ?2, ?2, ?3)
             ON CONFLICT(test) DO UPDATE SET times = times + 1, last_run = ?2, last_seen = ?3",
            params![test, run, at],
        ))?;
        Ok(())
    }

    /// Every test a run of this repository saw flaky, most recently seen first.
    pub fn flaky_tests(&self) -> Result<Vec<FlakyRow>, StoreError> {
        let mut statement = self.wrap(self.conn.prepare(
            "SELECT test, times, first_run, last_run, last_seen FROM flaky_tests ORDER BY last_seen DESC, test",
        ))?;
        let rows = self.wrap(statement.query_map([], |r| {
            Ok(FlakyRow {
                test: r.get(0)?,
                times: r.get(1)?,
                first_run: r.get(2)?,
                last_run: r.get(3)?,
                last_seen: r.get(4)?,
            })
        }))?;
        self.wrap(rows.collect())
    }

    /// Fingerprints of candidates rejected in earlier runs, to skip them.
    pub fn rejected_fingerprints(&self) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let mut statement = self.wrap(self.conn.prepare(
            "SELECT DISTINCT f.fingerprint FROM candidates c JOIN findings f ON f.run = c.run AND f.idx = c.finding
             WHERE c.verdict = 'rejected'",
        ))?;
        let rows = self.wrap(statement.query_map([], |r| r.get::<_, String>(0)))?;
        self.wrap(rows.collect())
    }
}

/// Whether SQLite says the file is not an archive it can read at all.
fn unreadable(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        command: r.get(2)?,
        base: r.get(3)?,
        branch: r.get(4)?,
        started_at: r.get(5)?,
        finished_at: r.get(6)?,
        status: r.get(7)?,
        summary: r.get(8)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_archive_is_kept_aside_and_a_new_one_started() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        for n in 0..200 {
            let id = format!("2026010{}-00000{}", n % 9, n % 10);
            store
                .start_run(&id, "improve", "abc", None, n)
                .expect("run");
        }
        drop(store);
        let archive = dir.path().join(ARCHIVE);
        let real = std::fs::read(&archive).expect("archive");
        for broken in [
            b"not a database, just text\n".repeat(100),
            real[..real.len() / 2].to_vec(),
        ] {
            std::fs::write(&archive, &broken).expect("write");
            let store = Store::open(dir.path()).expect("a new archive");
            let kept = store.recovered().expect("the old one kept").to_owned();
            assert_eq!(std::fs::read(&kept).expect("kept"), broken);
            assert!(store.runs().expect("runs").is_empty());
            drop(store);
            std::fs::remove_file(kept).expect("remove");
            assert!(
                Store::open(dir.path())
                    .expect("reopen")
                    .recovered()
                    .is_none()
            );
        }
    }

    #[test]
    fn a_run_survives_being_cut_short() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let run = store
            .start_run("20260101-000000", "improve", "abc", Some("nova/x"), 1)
            .expect("start");
        store.event(run, 0, "run_started", "{}").expect("event");
        drop(store);
        // Nothing finished the run: it is still readable, and says so.
        let store = Store::open(dir.path()).expect("reopen");
        let row = store
            .run("20260101-000000")
            .expect("query")
            .expect("the run");
        assert_eq!(row.status, "running");
        assert_eq!(row.finished_at, None);
        store.finish_run(run, "done", "ok", 2).expect("finish");
        store
            .flaky_test("a (lib) t", "20260101-000000", 1)
            .expect("flaky");
        store
            .flaky_test("a (lib) t", "20260102-000000", 3)
            .expect("flaky again");
        let flaky = store.flaky_tests().expect("flaky tests");
        assert_eq!(flaky.len(), 1);
        assert_eq!(
            (flaky[0].times, flaky[0].last_run.as_str()),
            (2, "20260102-000000")
        );
        assert_eq!(store.runs().expect("runs")[0].status, "done");
        assert_eq!(
            store
                .run(&run.to_string())
                .expect("query")
                .expect("by seq")
                .seq,
            run
        );
    }
}
