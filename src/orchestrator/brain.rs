//! The stages an agent's brain does in `nova improve`, as traits: a [`Reviewer`] reads the tip and
//! returns findings, a [`Refactorer`] turns one finding into a [`Candidate`]. The builtin brain
//! (`engine`: the compiler's and clippy's suggestions, rustfmt) is one implementation of each; a
//! model-driven reviewer or refactorer is another, chosen by the agent's brain, and goes through
//! the same run, the same guard, validation and commit.

mod by_part;
mod model;

pub use by_part::ByPart;
pub use model::{ModelBrain, ModelRefactorer, ModelReviewer, ModelRuns};

use std::collections::BTreeMap;

use super::change::{AgentPolicy, Author, Candidate, ChangePath, Origin};
use super::events::Event;
use crate::agents::AgentDef;
use crate::edit::{Rebase, RepoPath};
use crate::engine::{self, NoPatch, RUSTFMT, Review};
use crate::findings::{Finding, Fix, Severity};
use crate::git::Oid;
use crate::index::Index;
use crate::rules::RuleSet;
use crate::validate::{CargoOutput, ValidateError, ValidationReport, Workspace};

/// What a stage sees of the tip of the review branch: its commit, the worktree that holds it,
/// what linting it found, and the index of its files.
pub struct TipView<'a> {
    pub commit: Oid,
    pub workspace: &'a mut Workspace,
    pub lint: &'a CargoOutput,
    pub index: &'a Index,
}

impl<'a> TipView<'a> {
    /// The tip `path` holds, with the index of its files.
    pub fn of(path: &'a mut ChangePath, index: &'a Index) -> Self {
        let (tip, workspace) = path.parts();
        TipView {
            commit: tip.commit,
            workspace,
            lint: &tip.lint,
            index,
        }
    }
}

/// Why a brain could not do its part.
#[derive(Debug, thiserror::Error)]
pub enum BrainError {
    #[error(transparent)]
    Validate(#[from] ValidateError),
    /// The model could not be asked (unreachable, refused the key, a configuration mistake):
    /// the run stops, since every later finding would meet the same.
    #[error("the model could not do its part: {0}")]
    Model(String),
}

/// Finds what could be better at the tip.
pub trait Reviewer {
    /// The findings at the tip, sorted by path, position and rule; formatting drift only when
    /// `formatting` (it costs a `cargo fmt` run).
    fn review(&mut self, tip: &mut TipView<'_>, formatting: bool) -> Result<Review, BrainError>;

    /// Whether it reports formatting drift (a reviewer owns `rustfmt`).
    fn formats(&self) -> bool {
        false
    }
}

/// What a refactorer made of a finding.
#[derive(Debug)]
pub enum Proposal {
    Candidate(Box<Candidate>),
    /// No change: why, and whether the finding may be tried again on a later pass (its fix
    /// collided with a change accepted in this one).
    Nothing {
        reason: String,
        later: bool,
    },
    /// The finding needs more than one change: a plan of steps, each proposed (with
    /// [`Refactorer::propose_step`]), proved and committed on its own, in order.
    Plan {
        goal: String,
        steps: Vec<String>,
    },
}

/// Turns findings into candidate changes, one at a time, each against the current tip.
pub trait Refactorer {
    /// The agent's name, for reports.
    fn name(&self) -> &str;

    /// Whether this refactorer takes findings of `finding`'s rule at all.
    fn fixes(&self, finding: &Finding) -> bool;

    /// Whether it formats (its agent owns `rustfmt`): then the files a machine fix touches are
    /// formatted with the fix, where they were formatted before it.
    fn formats(&self) -> bool {
        false
    }

    /// A change that resolves `finding` at the tip.
    fn propose(&mut self, finding: &Finding, tip: &mut TipView<'_>)
    -> Result<Proposal, BrainError>;

    /// A change that does step `n` (1-based) of `plan` for `finding` at the tip.
    fn propose_step(
        &mut self,
        _finding: &Finding,
        _plan: &[String],
        _n: usize,
        _tip: &mut TipView<'_>,
    ) -> Result<Proposal, BrainError> {
        Ok(Proposal::Nothing {
            reason: String::from("this refactorer does not work from plans"),
            later: false,
        })
    }

    /// How many times a refused candidate of this refactorer may be repaired.
    fn attempts(&self) -> u32 {
        0
    }

    /// `candidate`, refused at the tip for `reasons`, repaired; `None` when there is no repair.
    fn repair(
        &mut self,
        _candidate: &Candidate,
        _reasons: &[String],
        _tip: &mut TipView<'_>,
    ) -> Result<Option<Candidate>, BrainError> {
        Ok(None)
    }

    /// The commit message for `candidate`, which `report` proved on the tip `tip` (checked out
    /// at `files`, the candidate applied); `None` for the builtin one.
    fn describe(
        &mut self,
        _candidate: &Candidate,
        _report: &ValidationReport,
        _tip: (Oid, &std::path::Path),
    ) -> Result<Option<String>, BrainError> {
        Ok(None)
    }

    /// What the refactorer's agents did since the last call (their turns, tool calls, hand
    /// offs), for the run's record.
    fn take_events(&mut self) -> Vec<Event> {
        Vec::new()
    }

    /// Why the refactorer may spend no more (the run's budget of tokens, cost or seconds for
    /// its model ran out); the run then stops as it does at its time cap.
    fn exhausted(&self) -> Option<String> {
        None
    }

    /// `candidate` was committed, or is in the group being proved: later proposals of this pass
    /// start from it.
    fn accepted(&mut self, candidate: &Candidate);

    /// `candidate`, given to [`Refactorer::accepted`] as a member of a group, did not land (the
    /// group was refused and bisection dropped it, or the run stopped first).
    fn dropped(&mut self, candidate: &Candidate);

    /// A new pass starts from a fresh lint of the tip.
    fn next_pass(&mut self);
}

/// The builtin reviewers: the diagnostics and formatting drift their `builtin` selectors own, and
/// what their rule packs find that a rule's fix template can rewrite (`nova review` lists the
/// rest).
pub struct BuiltinReviewer<'a> {
    agents: Vec<&'a AgentDef>,
    formats: bool,
    /// The rules the agents own.
    rules: RuleSet,
    /// Also the rules' findings without a fix template, at least warnings: a model fixes them.
    unfixed: bool,
}

impl<'a> BuiltinReviewer<'a> {
    pub fn new(agents: Vec<&'a AgentDef>, rules: RuleSet) -> Self {
        let formats = agents
            .iter()
            .any(|agent| engine::owner(&[*agent], RUSTFMT, None).is_some());
        let names: Vec<String> = agents.iter().map(|a| a.name.clone()).collect();
        BuiltinReviewer {
            agents,
            formats,
            rules: rules.owned_by(&names),
            unfixed: false,
        }
    }

    /// Also returns the rules' findings that have no fix template (warnings and errors), for a
    /// refactorer that works with a model.
    pub fn with_unfixed(self) -> Self {
        BuiltinReviewer {
            unfixed: true,
            ..self
        }
    }
}

impl Reviewer for BuiltinReviewer<'_> {
    fn formats(&self) -> bool {
        self.formats
    }

    fn review(&mut self, tip: &mut TipView<'_>, formatting: bool) -> Result<Review, BrainError> {
        let drift = if formatting && self.formats {
            tip.workspace.format_drift()?
        } else {
            Vec::new()
        };
        let source = WorktreeSource {
            workspace: tip.workspace,
            index: tip.index,
        };
        let mut review = engine::review(&tip.lint.diagnostics, &drift, &self.agents, &source);
        let root = tip.workspace.path();
        let (_, found) = super::review::scan_tree(root, &self.rules, None, None);
        // A fix in code no build validation runs compiles could not be proved: `nova review`
        // reports it.
        let read = |path: &str| std::fs::read_to_string(root.join(path)).ok();
        let mut files = BTreeMap::new();
        let compiled_here = |finding: &Finding| {
            let path = finding.path.as_str();
            let (attributes, package) = files.entry(path.to_owned()).or_insert_with(|| {
                let attributes = read(path)
                    .and_then(|text| crate::index::attributes::for_file(path, &text, &read));
                (attributes, crate::index::package::of(path, &read))
            });
            let line = finding.span.line_start;
            attributes.as_ref().is_none_or(|a| {
                crate::validate::never_compiled(a, package.as_ref(), &(line..=line)).is_none()
            })
        };
        let unfixed = self.unfixed;
        let fixable: Vec<Finding> = found
            .into_iter()
            .filter(|f| f.fix.is_some() || (unfixed && f.severity >= Severity::Warning))
            .filter(compiled_here)
            .collect();
        review.findings.extend(fixable);
        in_file_order(&mut review.findings);
        Ok(review)
    }
}

/// Sorts findings by path, position and rule, as [`Reviewer::review`] returns them.
fn in_file_order(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.span.line_start, a.span.column_start, &a.rule).cmp(&(
            &b.path,
            b.span.line_start,
            b.span.column_start,
            &b.rule,
        ))
    });
}

/// The builtin refactorer: the machine-applicable fix of a finding, moved onto the tip, or the
/// file as rustfmt writes it at the tip.
pub struct BuiltinRefactorer<'a> {
    agent: &'a AgentDef,
    policy: AgentPolicy,
    /// The fixes accepted in this pass, which later fixes in the same files move around.
    rebase: Rebase,
    /// rustfmt's text of every file it would change, computed at the first formatting finding.
    formatted: Option<BTreeMap<RepoPath, String>>,
}

impl<'a> BuiltinRefactorer<'a> {
    pub fn new(agent: &'a AgentDef) -> Self {
        BuiltinRefactorer {
            agent,
            policy: AgentPolicy::of(agent),
            rebase: Rebase::default(),
            formatted: None,
        }
    }
}

impl Refactorer for BuiltinRefactorer<'_> {
    fn name(&self) -> &str {
        &self.agent.name
    }

    fn fixes(&self, finding: &Finding) -> bool {
        finding.fix.is_some() && engine::fixes(self.agent, finding)
    }

    fn formats(&self) -> bool {
        engine::owner(&[self.agent], RUSTFMT, None).is_some()
    }

    fn propose(
        &mut self,
        finding: &Finding,
        tip: &mut TipView<'_>,
    ) -> Result<Proposal, BrainError> {
        let current = tip.workspace.read(&finding.path).unwrap_or_default();
        if matches!(finding.fix, Some(Fix::Format)) && self.formatted.is_none() {
            let drift = tip.workspace.format_drift()?;
            self.formatted = Some(drift.into_iter().map(|d| (d.path, d.after)).collect());
        }
        let formatted = self
            .formatted
            .as_ref()
            .and_then(|f| f.get(&finding.path))
            .map(String::as_str);
        Ok(
            match engine::propose(finding, &current, &self.rebase, formatted) {
                Ok(patch) => Proposal::Candidate(Box::new(Candidate {
                    patch,
                    author: Author::Agent(self.policy.clone()),
                    origin: Origin::Finding(Box::new(finding.clone())),
                    message: None,
                })),
                Err(why) => Proposal::Nothing {
                    later: matches!(why, NoPatch::Overlaps | NoPatch::Stale(_)),
                    reason: why.to_string(),
                },
            },
        )
    }

    fn accepted(&mut self, candidate: &Candidate) {
        let Origin::Finding(finding) = &candidate.origin else {
            return;
        };
        match &finding.fix {
            Some(Fix::Replace(replacements)) => self.rebase.record(&finding.path, replacements),
            Some(Fix::Format) | None => self.rebase.record_rewrite(&finding.path),
        }
    }

    fn dropped(&mut self, candidate: &Candidate) {
        let Origin::Finding(finding) = &candidate.origin else {
            return;
        };
        match &finding.fix {
            Some(Fix::Replace(replacements)) => self.rebase.forget(&finding.path, replacements),
            Some(Fix::Format) | None => self.rebase.forget_rewrite(&finding.path),
        }
    }

    fn next_pass(&mut self) {
        self.rebase = Rebase::default();
        self.formatted = None;
    }
}

/// The worktree's files, where the linter read them, and the index of the worktree.
struct WorktreeSource<'a> {
    workspace: &'a Workspace,
    index: &'a Index,
}

impl engine::Source for WorktreeSource<'_> {
    fn text(&self, path: &RepoPath) -> Option<String> {
        self.workspace.read(path)
    }

    fn symbol(&self, path: &RepoPath, line: usize) -> Option<String> {
        let line = u32::try_from(line).ok()?;
        let def = self.index.enclosing(path.as_str(), line, line)?;
        Some(match &def.scope {
            Some(scope) if def.kind != crate::index::Kind::Impl => format!("{scope}::{}", def.name),
            _ => def.name.clone(),
        })
    }
}
