//! The record of an ask run: every event to the command line's sink and into the run archive
//! as it happens, the checkpoint of the last turn, and the run's end. A failure to archive is
//! kept and reported at the end: it never cuts an answer short.

use super::agent::{Conversation, Observer};
use super::ask::AskRequest;
use super::clock::stamp;
use super::events::Event;
use super::memory::TaskMemory;
use super::resume::Checkpoint;
use crate::llm::Delta;
use crate::store::{Store, StoreError};
use crate::tools::Toolbox;

/// The run's record in the repository's archive.
pub(super) struct Archive {
    store: Store,
    run: i64,
    pub(super) id: String,
}

impl Archive {
    fn open(root: &std::path::Path, time: i64) -> Result<Archive, StoreError> {
        let store = Store::open(root)?;
        let base = crate::git::head_commit(root)
            .map(|oid| oid.to_string())
            .unwrap_or_default();
        let id = stamp(time);
        let run = store.start_run(&id, "ask", &base, None, time)?;
        Ok(Archive { store, run, id })
    }
}

impl Observer for Recorder<'_> {
    fn event(&mut self, event: Event) {
        self.emit(event);
    }

    /// Agents outside the chain (a fixer, a committer) keep no checkpoint of their own.
    fn turn_done(&mut self, _: &Conversation, _: &TaskMemory, _: &Toolbox<'_>) {}
}

/// Sends events to the sink and keeps them in the archive. A failure to archive is kept and
/// reported at the end: it must not cut the answer short.
pub(super) struct Recorder<'s> {
    sink: &'s mut (dyn FnMut(&Event) + Send),
    pub(super) archive: Option<Archive>,
    seq: usize,
    pub(super) failed: Option<StoreError>,
}

impl<'s> Recorder<'s> {
    /// Opens the repository's archive for the run, if there is a repository, saying when an
    /// unreadable one was kept aside.
    pub(super) fn open(
        sink: &'s mut (dyn FnMut(&Event) + Send),
        request: &AskRequest,
        resumed: Option<(i64, String)>,
    ) -> Result<Self, StoreError> {
        let (archive, seq) = match (&request.repo_root, resumed) {
            (Some(root), Some((run, id))) => {
                let store = Store::open(root)?;
                let seq = store.reopen_run(run)?;
                (Some(Archive { store, run, id }), seq)
            }
            (Some(root), None) => (Some(Archive::open(root, request.time)?), 0),
            (None, _) => (None, 0),
        };
        let mut rec = Recorder {
            sink,
            archive,
            seq,
            failed: None,
        };
        if let Some(kept) = rec.archive.as_ref().and_then(|a| a.store.recovered()) {
            let kept = kept.display().to_string();
            rec.emit(Event::ArchiveRecovered { kept });
        }
        Ok(rec)
    }

    /// Keeps what resuming the run needs, replacing what was kept after the last turn.
    pub(super) fn checkpoint(&mut self, checkpoint: &Checkpoint) {
        if let Some(archive) = &self.archive {
            let data = serde_json::to_string(checkpoint).unwrap_or_default();
            if let Err(error) = archive.store.save_checkpoint(archive.run, &data) {
                self.failed.get_or_insert(error);
            }
        }
    }

    pub(super) fn emit(&mut self, event: Event) {
        // The archive keeps the answer once, whole, in `ask_finished`.
        if let Some(archive) = &self.archive
            && !matches!(event, Event::AnswerDelta { .. })
        {
            let data = serde_json::to_string(&event).unwrap_or_default();
            if let Err(error) = archive
                .store
                .event(archive.run, self.seq, event.kind(), &data)
            {
                self.failed.get_or_insert(error);
            }
            self.seq += 1;
        }
        (self.sink)(&event);
    }

    /// A piece of a streamed reply, as an event.
    pub(super) fn delta(&mut self, delta: &Delta) {
        match delta {
            Delta::Text { text } => self.emit(Event::AnswerDelta { text: text.clone() }),
            Delta::Retrying {
                attempt,
                reason,
                delay_ms,
            } => self.emit(Event::Retrying {
                attempt: *attempt,
                reason: reason.clone(),
                delay_ms: *delay_ms,
            }),
            Delta::ToolCall { .. } => {}
        }
    }

    pub(super) fn finish(&mut self, status: &str, summary: &str, time: i64) {
        if let Some(archive) = &self.archive
            && let Err(error) = archive.store.finish_run(archive.run, status, summary, time)
        {
            self.failed.get_or_insert(error);
        }
    }
}
