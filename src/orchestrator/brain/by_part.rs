//! The refactorer of a repository with domain agents: each finding goes to the refactorer of the
//! agent that owns its file, and a file no domain agent owns to the pipeline's refactorer. It is
//! one more [`Refactorer`]: the run, the guard (which holds each owner to its write scope),
//! validation and commit are the same.

use super::{BrainError, Proposal, Refactorer, TipView};
use crate::domains::Owners;
use crate::edit::RepoPath;
use crate::findings::Finding;
use crate::git::Oid;
use crate::orchestrator::change::{Candidate, Origin};
use crate::orchestrator::events::Event;
use crate::validate::ValidationReport;

/// Refactorers by part, and the one for files no part's owner writes.
pub struct ByPart<'a> {
    owners: Owners<'a>,
    /// One per domain agent, in `owners`' order.
    parts: Vec<Box<dyn Refactorer + 'a>>,
    rest: Box<dyn Refactorer + 'a>,
}

impl<'a> ByPart<'a> {
    /// `make` builds each domain agent's refactorer the way `rest` was built (builtin, or with
    /// the run's model).
    pub fn new(
        owners: Owners<'a>,
        rest: Box<dyn Refactorer + 'a>,
        make: impl Fn(&'a crate::agents::AgentDef) -> Box<dyn Refactorer + 'a>,
    ) -> Self {
        let parts = owners.agents().map(make).collect();
        ByPart {
            owners,
            parts,
            rest,
        }
    }

    fn index_of(&self, path: &RepoPath) -> Option<usize> {
        let owner = self.owners.owner_of(path.as_str())?;
        self.owners.agents().position(|a| a.name == owner.name)
    }

    fn for_path(&mut self, path: &RepoPath) -> &mut (dyn Refactorer + 'a) {
        match self.index_of(path) {
            Some(i) => self.parts[i].as_mut(),
            None => self.rest.as_mut(),
        }
    }

    /// The refactorer that proposed `candidate`: its finding's file's owner's, or its first
    /// changed file's.
    fn for_candidate(&mut self, candidate: &Candidate) -> &mut (dyn Refactorer + 'a) {
        let path = match &candidate.origin {
            Origin::Finding(finding) => Some(finding.path.clone()),
            Origin::Findings(findings) => findings.first().map(|f| f.path.clone()),
            Origin::Reply | Origin::Request { .. } => None,
        }
        .or_else(|| candidate.patch.changes.first().map(|c| c.path.clone()));
        match path {
            Some(path) => self.for_path(&path),
            None => self.rest.as_mut(),
        }
    }

    fn all(&mut self) -> impl Iterator<Item = &mut Box<dyn Refactorer + 'a>> {
        self.parts.iter_mut().chain(std::iter::once(&mut self.rest))
    }
}

impl Refactorer for ByPart<'_> {
    fn name(&self) -> &str {
        self.rest.name()
    }

    fn fixes(&self, finding: &Finding) -> bool {
        match self.index_of(&finding.path) {
            Some(i) => self.parts[i].fixes(finding),
            None => self.rest.fixes(finding),
        }
    }

    fn formats(&self) -> bool {
        self.rest.formats() && self.parts.iter().all(|p| p.formats())
    }

    fn propose(
        &mut self,
        finding: &Finding,
        tip: &mut TipView<'_>,
    ) -> Result<Proposal, BrainError> {
        self.for_path(&finding.path).propose(finding, tip)
    }

    fn propose_step(
        &mut self,
        finding: &Finding,
        plan: &[String],
        n: usize,
        tip: &mut TipView<'_>,
    ) -> Result<Proposal, BrainError> {
        self.for_path(&finding.path)
            .propose_step(finding, plan, n, tip)
    }

    fn attempts(&self) -> u32 {
        self.rest.attempts()
    }

    fn repair(
        &mut self,
        candidate: &Candidate,
        reasons: &[String],
        tip: &mut TipView<'_>,
    ) -> Result<Option<Candidate>, BrainError> {
        self.for_candidate(candidate)
            .repair(candidate, reasons, tip)
    }

    fn describe(
        &mut self,
        candidate: &Candidate,
        report: &ValidationReport,
        tip: (Oid, &std::path::Path),
    ) -> Result<Option<String>, BrainError> {
        self.for_candidate(candidate)
            .describe(candidate, report, tip)
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.all().flat_map(|p| p.take_events()).collect()
    }

    fn exhausted(&self) -> Option<String> {
        self.parts
            .iter()
            .chain(std::iter::once(&self.rest))
            .find_map(|p| p.exhausted())
    }

    fn accepted(&mut self, candidate: &Candidate) {
        self.for_candidate(candidate).accepted(candidate);
    }

    fn dropped(&mut self, candidate: &Candidate) {
        self.for_candidate(candidate).dropped(candidate);
    }

    fn next_pass(&mut self) {
        for part in self.all() {
            part.next_pass();
        }
    }
}
