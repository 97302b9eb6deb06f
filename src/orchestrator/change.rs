//! One path from a proposed change to a commit, for every caller: a reply given to `nova apply`, a
//! fix `nova improve`'s refactorer proposes and, next, an agent's `propose_edit` tool. A
//! [`Candidate`] (a patch, who proposed it, why) goes through one guard, one validation and one
//! commit step, against the tip of the review branch.

use std::path::{Path, PathBuf};

use super::message::{
    MadeBy, commit_message, described_message, group_message, reply_message, request_message,
};
use crate::agents::AgentDef;
use crate::edit::Patch;
use crate::edit::guard::{self, Rejection, Scope};
use crate::findings::Finding;
use crate::git::{self, BranchError, CommitSpec, Oid};
use crate::validate::{
    CargoOutput, Options, Step, ValidateError, ValidationReport, Verdict, Workspace, judge,
    record_lint_delta,
};

/// A change on its way to a commit.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub patch: Patch,
    pub author: Author,
    pub origin: Origin,
    /// The commit message a committer agent wrote for it, used instead of the builtin one;
    /// Nova's trailers follow it.
    pub message: Option<String>,
}

/// Who proposed a change: what they may touch, and what else proves it.
#[derive(Debug, Clone)]
pub enum Author {
    /// A person's reply (`nova apply`): any file that does not judge the change; silencing a
    /// lint and adding a dependency are noted, not refused.
    Person {
        /// A whole-file rewrite was asked for: shrinking files is expected.
        rewrite: bool,
    },
    /// An agent, held to its file.
    Agent(AgentPolicy),
}

/// What an agent's file allows its changes.
#[derive(Debug, Clone)]
pub struct AgentPolicy {
    /// The agent's name; several agents' joint change names them all, `, ` between.
    pub name: String,
    pub scope: Scope,
    /// The globs `scope` was compiled from.
    pub write: Vec<String>,
    pub may_silence: bool,
    pub may_add_dependencies: bool,
    pub may_change_api: bool,
    /// Commands that must also pass in the sandbox (`acceptance`).
    pub acceptance: Vec<String>,
}

impl AgentPolicy {
    pub fn of(agent: &AgentDef) -> Self {
        AgentPolicy {
            name: agent.name.clone(),
            scope: Scope::new(&agent.scope.write),
            write: agent.scope.write.clone(),
            may_silence: agent.may_silence,
            may_add_dependencies: agent.may_add_dependencies,
            may_change_api: agent.may_change_api,
            acceptance: agent.acceptance.clone(),
        }
    }

    /// Several agents' changes proved and committed as one: a file may be written where one of
    /// them may write it, a change may silence a lint, add a dependency or change the API only
    /// where all of them may, every one's acceptance commands run, and the commit names them all.
    /// One policy is itself.
    pub fn joint(policies: &[&AgentPolicy]) -> Option<AgentPolicy> {
        let (first, rest) = policies.split_first()?;
        if rest.is_empty() {
            return Some((*first).clone());
        }
        let mut write: Vec<String> = Vec::new();
        let mut acceptance: Vec<String> = Vec::new();
        for policy in policies {
            for glob in &policy.write {
                if !write.contains(glob) {
                    write.push(glob.clone());
                }
            }
            for command in &policy.acceptance {
                if !acceptance.contains(command) {
                    acceptance.push(command.clone());
                }
            }
        }
        Some(AgentPolicy {
            name: policies
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            scope: Scope::new(&write),
            write,
            may_silence: policies.iter().all(|p| p.may_silence),
            may_add_dependencies: policies.iter().all(|p| p.may_add_dependencies),
            may_change_api: policies.iter().all(|p| p.may_change_api),
            acceptance,
        })
    }
}

/// Why a change was proposed: what its commit message tells.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A reviewer's finding, and the fix for it.
    Finding(Box<Finding>),
    /// Findings of one rule whose fixes are proved and committed together (`nova improve`'s
    /// groups), in the order they were proposed.
    Findings(Vec<Finding>),
    /// A reply given to `nova apply`.
    Reply,
    /// A request given to `nova ask`, and the model the agent ran on.
    Request {
        request: String,
        model: String,
        /// Trailers the caller adds after Nova's own.
        trailers: Vec<String>,
    },
}

impl Author {
    /// The name the commit's `Nova-Agent` trailer gives: the agent's, or `apply` for a person.
    fn name(&self) -> &str {
        match self {
            Author::Agent(agent) => &agent.name,
            Author::Person { .. } => "apply",
        }
    }
}

impl Candidate {
    /// Who proposed it: the agent's name, or `apply` for a person.
    pub fn author_name(&self) -> &str {
        self.author.name()
    }

    /// The commit message, once `report` proved the change in run `run`.
    fn message(&self, run: &str, report: &ValidationReport) -> String {
        let agent = self.author.name();
        if let Some(text) = &self.message {
            return described_message(text, agent, run, report);
        }
        match &self.origin {
            Origin::Finding(finding) => {
                commit_message(finding, &self.patch.summary, agent, run, report)
            }
            Origin::Findings(findings) => {
                group_message(findings, &self.patch.summary, agent, run, report)
            }
            Origin::Reply => reply_message(&self.patch, run, report),
            Origin::Request {
                request,
                model,
                trailers,
            } => {
                let made = MadeBy {
                    agent,
                    model,
                    run,
                    trailers,
                };
                request_message(&self.patch, request, &made, report)
            }
        }
    }
}

/// `candidate` and its proof as the user's hooks are told of them.
pub fn proved(candidate: &Candidate, proof: &Proof) -> crate::hooks::Proved {
    crate::hooks::Proved {
        agent: candidate.author_name().to_owned(),
        summary: candidate.patch.summary.clone(),
        files: candidate
            .patch
            .changes
            .iter()
            .map(|c| c.path.as_str().to_owned())
            .collect(),
        accepted: proof.verdict.accepted,
        validation: proof.report.summary(),
        reasons: proof.verdict.reasons.clone(),
    }
}

/// Every reason to refuse `candidate` before anything runs, judged against the tree of commit
/// `at` in the repository at `root` (its files and its symbolic links).
pub fn guard(root: &Path, at: Oid, candidate: &Candidate) -> Vec<Rejection> {
    let read = |path: &str| -> Option<String> {
        String::from_utf8(git::read_blob(root, at, path).ok()??).ok()
    };
    let symlink = |path: &str| git::under_symlink(root, at, path).ok().flatten();
    let policy = match &candidate.author {
        Author::Person { rewrite } => guard::Policy {
            scope: None,
            may_silence: true,
            may_add_dependencies: true,
            may_change_api: true,
            rewrite: *rewrite,
            read: &read,
            symlink: &symlink,
        },
        Author::Agent(agent) => guard::Policy {
            scope: Some(&agent.scope),
            may_silence: agent.may_silence,
            may_add_dependencies: agent.may_add_dependencies,
            may_change_api: agent.may_change_api,
            rewrite: false,
            read: &read,
            symlink: &symlink,
        },
    };
    guard::review(&candidate.patch, &policy)
}

/// Where accepted changes are committed.
#[derive(Debug, Clone)]
pub struct Target {
    pub branch: String,
    /// Make the commits (so that later candidates start from them) but not the branch.
    pub dry_run: bool,
    /// The run's id, for the commit trailers.
    pub run: String,
    /// The commits' time, seconds since the epoch.
    pub time: i64,
}

/// The tip of the review branch: its commit, and what validating it found.
#[derive(Debug, Clone)]
pub struct Tip {
    pub commit: Oid,
    pub report: ValidationReport,
    pub lint: CargoOutput,
}

/// A candidate's validation and the verdict on it.
#[derive(Debug, Clone)]
pub struct Proof {
    pub report: ValidationReport,
    pub lint: CargoOutput,
    pub verdict: Verdict,
}

/// A commit an accepted candidate made.
#[derive(Debug, Clone)]
pub struct Committed {
    pub commit: Oid,
    pub tree: Oid,
    /// The branch moved to it; `None` in a dry run.
    pub branch: Option<String>,
}

/// Why a commit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error(transparent)]
    Branch(#[from] BranchError),
    #[error(transparent)]
    Validate(#[from] ValidateError),
}

/// The validation worktree and the tip candidates are proved against and committed onto.
#[derive(Debug)]
pub struct ChangePath {
    root: PathBuf,
    workspace: Workspace,
    /// Worktrees beside `workspace` for candidates proved side by side, opened when first needed.
    spares: Vec<Workspace>,
    /// How many candidates may be proved side by side (`--jobs`).
    jobs: usize,
    tip: Tip,
    target: Target,
}

/// What proving the base gave: the fetch and the base's own validation.
#[derive(Debug)]
pub struct Base {
    pub fetch: Step,
    pub report: ValidationReport,
}

impl ChangePath {
    /// Makes the validation worktree at `base`, fetches the dependencies and proves the base
    /// (or takes the proof from the cache): the first tip.
    pub fn open(
        root: &Path,
        base: Oid,
        options: Options,
        target: Target,
    ) -> Result<(ChangePath, Base), ValidateError> {
        let mut workspace = Workspace::open(root, base, options)?;
        let fetch = workspace.fetch()?;
        let (report, lint) = workspace.validate_base()?;
        let path = ChangePath {
            root: root.to_owned(),
            workspace,
            spares: Vec::new(),
            jobs: 1,
            tip: Tip {
                commit: base,
                report: report.clone(),
                lint,
            },
            target,
        };
        Ok((path, Base { fetch, report }))
    }

    pub fn tip(&self) -> &Tip {
        &self.tip
    }

    /// Lets up to `jobs` candidates be proved side by side ([`ChangePath::prove_beside`]).
    pub fn set_jobs(&mut self, jobs: usize) {
        self.jobs = jobs.max(1);
    }

    /// How many candidates may be proved side by side.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// The tip, and the worktree that holds it, to read and format.
    pub fn parts(&mut self) -> (&Tip, &mut Workspace) {
        (&self.tip, &mut self.workspace)
    }

    /// `candidate` with the files it changes formatted, but those in `skip`, and the files in
    /// `also` formatted too (`Workspace::format_patch`): what a person runs after `cargo clippy
    /// --fix`.
    pub fn formatted(
        &mut self,
        candidate: &Candidate,
        skip: &std::collections::BTreeSet<String>,
        also: &std::collections::BTreeSet<crate::edit::RepoPath>,
    ) -> Result<Candidate, ValidateError> {
        Ok(
            match self.workspace.format_patch(&candidate.patch, skip, also)? {
                Some(patch) => Candidate {
                    patch,
                    ..candidate.clone()
                },
                None => candidate.clone(),
            },
        )
    }

    /// Every reason to refuse `candidate` at the tip, before anything runs.
    pub fn guard(&self, candidate: &Candidate) -> Vec<Rejection> {
        guard(&self.root, self.tip.commit, candidate)
    }

    /// Applies `candidate` in the worktree, validates it there against the tip (with its
    /// author's acceptance commands), and judges it. A rejected candidate's files are put back;
    /// an accepted one stays for [`ChangePath::commit`].
    pub fn prove(&mut self, candidate: &Candidate) -> Result<Proof, ValidateError> {
        let mut proofs = self.prove_beside(&[candidate])?;
        Ok(proofs.remove(0))
    }

    /// Proves `candidates` side by side, each against the tip in a worktree of its own (the first
    /// in the main one, the others in spares, opened on first use), as [`ChangePath::prove`]
    /// proves one; at most [`ChangePath::jobs`] of them, the rest are not tried. The main worktree
    /// keeps the first candidate when it was accepted, for [`ChangePath::commit`]; the spares go
    /// back to the tip whatever their verdicts (a commit is made from the patch, not a worktree).
    pub fn prove_beside(&mut self, candidates: &[&Candidate]) -> Result<Vec<Proof>, ValidateError> {
        let candidates = &candidates[..candidates.len().min(self.jobs)];
        while self.spares.len() + 1 < candidates.len() {
            let spare = self.workspace.spare(self.spares.len() + 1)?;
            self.spares.push(spare);
        }
        let tip = self.tip.commit;
        for spare in &mut self.spares {
            if spare.head() != tip {
                spare.checkout(tip)?;
            }
        }
        let worktrees: Vec<&Workspace> = std::iter::once(&self.workspace)
            .chain(&self.spares)
            .collect();
        for (worktree, candidate) in worktrees.iter().zip(candidates) {
            worktree.apply(&candidate.patch)?;
        }
        let tip = &self.tip;
        let validated: Vec<Result<Proof, ValidateError>> = match candidates {
            [one] => vec![validate(worktrees[0], tip, one)],
            _ => std::thread::scope(|scope| {
                let running: Vec<_> = worktrees
                    .iter()
                    .zip(candidates)
                    .map(|(&worktree, &candidate)| {
                        scope.spawn(move || validate(worktree, tip, candidate))
                    })
                    .collect();
                running
                    .into_iter()
                    .map(|run| {
                        run.join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect()
            }),
        };
        let mut proofs = Vec::new();
        let mut failed = None;
        for (at, (validated, candidate)) in validated.into_iter().zip(candidates).enumerate() {
            let worktree = if at == 0 {
                &self.workspace
            } else {
                &self.spares[at - 1]
            };
            let keep = at == 0 && validated.as_ref().is_ok_and(|p| p.verdict.accepted);
            if !keep {
                // nova:allow(ignored-result): whatever failed, the worktree goes back to the tip
                let _ = worktree.apply(&candidate.patch.reversed());
            }
            match validated {
                Ok(proof) => proofs.push(proof),
                Err(error) => failed = failed.or(Some(error)),
            }
        }
        if let Some(error) = failed {
            if proofs.first().is_some_and(|p| p.verdict.accepted) {
                // nova:allow(ignored-result): nothing is committed after an error
                let _ = self.workspace.apply(&candidates[0].patch.reversed());
            }
            return Err(error);
        }
        // A test found flaky on the tip while judging a candidate is flaky on the tip, whatever
        // the verdict: the next candidates run it again as one.
        for proof in &proofs {
            let baseline = &proof.report.baseline;
            for key in &baseline.found {
                if let Some(why) = baseline.flaky.get(key) {
                    let tip = &mut self.tip.report.baseline;
                    tip.flaky.entry(key.clone()).or_insert_with(|| why.clone());
                    tip.found.insert(key.clone());
                }
            }
        }
        Ok(proofs)
    }

    /// Takes an accepted `candidate` that will not be committed back out of the worktree, which
    /// holds the tip again (`nova bench make` proves defects, never commits them).
    pub fn put_back(&mut self, candidate: &Candidate) -> Result<(), ValidateError> {
        self.workspace.apply(&candidate.patch.reversed())
    }

    /// Keeps candidate `n` (1-based) of the run under its private ref (`refs/nova/runs/<run>/<n>`):
    /// `accepted`, the commit it landed as; else a commit of it on the tip it was proved
    /// against, its message saying why it was refused. No branch moves.
    pub fn checkpoint(
        &self,
        candidate: &Candidate,
        n: usize,
        accepted: Option<git::Oid>,
        reasons: &[String],
    ) -> Result<(), CommitError> {
        let commit = match accepted {
            Some(commit) => commit,
            None => {
                let mut message = format!("Refused: {}\n", candidate.patch.summary.trim());
                if !reasons.is_empty() {
                    message.push('\n');
                    for reason in reasons {
                        message.push_str(&format!("- {}\n", reason.trim()));
                    }
                }
                message.push_str(&format!("\nNova-Run: {}\n", self.target.run));
                let spec = CommitSpec {
                    parent: self.tip.commit,
                    message: &message,
                    time: self.target.time,
                };
                git::commit_patch(&self.root, &spec, &candidate.patch)?.0
            }
        };
        git::set_checkpoint(&self.root, &self.target.run, n, commit)?;
        Ok(())
    }

    /// Commits an accepted `candidate` on the tip (the tree the worktree validated), moves the
    /// review branch to it unless this is a dry run, and makes it the new tip.
    pub fn commit(
        &mut self,
        candidate: &Candidate,
        proof: Proof,
    ) -> Result<Committed, CommitError> {
        debug_assert!(
            proof.verdict.accepted,
            "only an accepted candidate is committed"
        );
        let message = candidate.message(&self.target.run, &proof.report);
        let spec = CommitSpec {
            parent: self.tip.commit,
            message: &message,
            time: self.target.time,
        };
        let (commit, tree) = git::commit_patch(&self.root, &spec, &candidate.patch)?;
        self.workspace.checkout(commit)?;
        let branch = if self.target.dry_run {
            None
        } else {
            git::set_branch(&self.root, &self.target.branch, commit)?;
            Some(self.target.branch.clone())
        };
        self.tip = Tip {
            commit,
            report: proof.report,
            lint: proof.lint,
        };
        Ok(Committed {
            commit,
            tree,
            branch,
        })
    }
}

/// Validates `candidate`, applied in `worktree`, against `tip` (with its author's acceptance
/// commands), and judges it.
fn validate(
    worktree: &Workspace,
    tip: &Tip,
    candidate: &Candidate,
) -> Result<Proof, ValidateError> {
    let (mut report, lint) = worktree.validate_patch(&candidate.patch, &tip.report)?;
    if let Author::Agent(agent) = &candidate.author
        && report.build_ok
        && !agent.acceptance.is_empty()
    {
        report.acceptance = worktree.acceptance(&agent.acceptance)?;
    }
    record_lint_delta(&tip.report, &mut report);
    let verdict = judge(&tip.report, &report);
    Ok(Proof {
        report,
        lint,
        verdict,
    })
}

/// Whether a base can judge candidates: it builds and its tests run to the end, and, when a green
/// base is required (`--require-green`), no test failed or flaked.
pub fn base_can_judge(report: &ValidationReport, require_green: bool) -> bool {
    let red = !report.is_green() || !report.baseline.flaky.is_empty();
    report.can_judge() && !(require_green && red)
}

/// What landing one candidate did: the base's report, the candidate's proof (none when the base
/// could not judge it), and its commit (none when rejected, or in a dry run).
#[derive(Debug)]
pub struct Landing {
    pub base: ValidationReport,
    pub sandbox: String,
    pub proof: Option<Proof>,
    pub committed: Option<Committed>,
}

/// The whole change path for one candidate made on `base`: prove the base, prove the candidate
/// against it, commit it if accepted.
pub fn land(
    root: &Path,
    base: Oid,
    candidate: &Candidate,
    options: Options,
    target: Target,
    require_green: bool,
) -> Result<Landing, CommitError> {
    let (mut path, proved) = ChangePath::open(root, base, options, target)?;
    let mut landing = Landing {
        sandbox: path.workspace().sandbox().to_owned(),
        base: proved.report,
        proof: None,
        committed: None,
    };
    if !base_can_judge(&landing.base, require_green) {
        return Ok(landing);
    }
    let proof = path.prove(candidate)?;
    if proof.verdict.accepted {
        landing.committed = Some(path.commit(candidate, proof.clone())?);
    }
    landing.proof = Some(proof);
    Ok(landing)
}
