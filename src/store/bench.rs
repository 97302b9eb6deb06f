//! `nova bench run`'s results: one row per task an agent set ran, with the hashes of what judged
//! it, so that two agent sets are compared only where the same tasks were judged the same way.

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
