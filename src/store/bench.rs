//! `nova bench run`'s results: one row per task an agent set ran, with the hashes of what judged
//! it, so that two agent sets are compared only where the same tasks were judged the same way;
//! and `nova evolve`'s archive of variants with their lineage, per evaluator.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// One task's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    /// The bench run's id.
    pub run: String,
    /// The agent set's name, and the hash of its files.
    pub agents: String,
    pub agents_hash: String,
    /// The task set's hash, and the frozen evaluator's.
    pub task_set: String,
    pub evaluator: String,
    pub task: String,
    pub split: String,
    pub solved: bool,
    pub turns: u32,
    pub tokens: u64,
    pub cost_usd: Option<f64>,
    pub seconds: f64,
    /// The score and what the agents did, as JSON.
    pub detail: String,
}

impl Store {
    /// Keeps one task's result of bench run `run` (its sequence number).
    pub fn bench_result(&self, run: i64, row: &BenchRow) -> Result<(), StoreError> {
        self.wrap(self.conn.execute(
            "INSERT OR REPLACE INTO bench_results (run, agents, agents_hash, task_set, evaluator,
             task, split, solved, turns, tokens, cost_usd, seconds, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                run,
                row.agents,
                row.agents_hash,
                row.task_set,
                row.evaluator,
                row.task,
                row.split,
                row.solved,
                row.turns,
                i64::try_from(row.tokens).unwrap_or(i64::MAX),
                row.cost_usd,
                row.seconds,
                row.detail
            ],
        ))?;
        Ok(())
    }

    /// Every bench result, oldest run first, in the order each run recorded them.
    pub fn bench_results(&self) -> Result<Vec<BenchRow>, StoreError> {
        let mut statement = self.wrap(self.conn.prepare(
            "SELECT r.id, b.agents, b.agents_hash, b.task_set, b.evaluator, b.task, b.split,
                    b.solved, b.turns, b.tokens, b.cost_usd, b.seconds, b.detail
             FROM bench_results b JOIN runs r ON r.seq = b.run
             ORDER BY b.run, b.rowid",
        ))?;
        let rows = self.wrap(statement.query_map([], |r| {
            Ok(BenchRow {
                run: r.get(0)?,
                agents: r.get(1)?,
                agents_hash: r.get(2)?,
                task_set: r.get(3)?,
                evaluator: r.get(4)?,
                task: r.get(5)?,
                split: r.get(6)?,
                solved: r.get(7)?,
                turns: r.get(8)?,
                tokens: u64::try_from(r.get::<_, i64>(9)?).unwrap_or(0),
                cost_usd: r.get(10)?,
                seconds: r.get(11)?,
                detail: r.get(12)?,
            })
        }))?;
        self.wrap(rows.collect())
    }
}

/// One variant in `nova evolve`'s archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantRow {
    pub evaluator: String,
    pub id: String,
    pub parent: Option<String>,
    pub generation: u32,
    /// What it changed in its parent, in one line.
    pub change: String,
    /// `root`, `evaluating`, `accepted`, `rejected` or `refused`.
    pub status: String,
    /// Its solved share of the training tasks it ran.
    pub score: Option<f64>,
    pub tasks: u32,
    /// The comparison with its parent (JSON), or why it was refused.
    pub decision: Option<String>,
    pub created: i64,
}

impl Store {
    /// Adds `row` to the archive, or replaces the row with its evaluator and id.
    pub fn put_variant(&self, row: &VariantRow) -> Result<(), StoreError> {
        self.wrap(self.conn.execute(
            "INSERT OR REPLACE INTO evolve_variants (evaluator, id, parent, generation, change,
             status, score, tasks, decision, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                row.evaluator,
                row.id,
                row.parent,
                row.generation,
                row.change,
                row.status,
                row.score,
                row.tasks,
                row.decision,
                row.created
            ],
        ))?;
        Ok(())
    }

    /// The archive of one evaluator, by generation.
    pub fn variants(&self, evaluator: &str) -> Result<Vec<VariantRow>, StoreError> {
        let mut statement = self.wrap(self.conn.prepare(
            "SELECT evaluator, id, parent, generation, change, status, score, tasks, decision,
                    created
             FROM evolve_variants WHERE evaluator = ?1 ORDER BY generation, rowid",
        ))?;
        let rows = self.wrap(statement.query_map(params![evaluator], |r| {
            Ok(VariantRow {
                evaluator: r.get(0)?,
                id: r.get(1)?,
                parent: r.get(2)?,
                generation: r.get(3)?,
                change: r.get(4)?,
                status: r.get(5)?,
                score: r.get(6)?,
                tasks: r.get(7)?,
                decision: r.get(8)?,
                created: r.get(9)?,
            })
        }))?;
        self.wrap(rows.collect())
    }

    /// The evaluators that have an archive, the one used last first.
    pub fn evolve_evaluators(&self) -> Result<Vec<String>, StoreError> {
        let mut statement = self.wrap(self.conn.prepare(
            "SELECT evaluator FROM evolve_variants GROUP BY evaluator ORDER BY MAX(rowid) DESC",
        ))?;
        let rows = self.wrap(statement.query_map([], |r| r.get(0)))?;
        self.wrap(rows.collect())
    }
}
