//! `run_checks` and `shell` for an agent at work: its candidate put in the validation worktree
//! at the run's base, then the change path's own proof (build, tests, lints, judged against the
//! base, the agent's acceptance commands included) or one command, in the sandbox, under the
//! repository's lock, off the async threads; the worktree is put back after. Nothing is
//! committed here: what an agent learns is what the change path would say.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ask::AskRequest;
use super::change::{self, AgentPolicy, Author, Candidate, ChangePath, Origin, Target};
use crate::agents::AgentDef;
use crate::edit::Patch;
use crate::git::Oid;
use crate::tools::{Checks, Job, JobFuture, JobResult};
use crate::validate::{Options, Workspace};

/// The longest an agent's `shell` command may run.
pub const SHELL_SECONDS: u64 = 120;

/// The most characters of a `shell` command's output the agent sees (the end is kept).
pub const SHELL_OUTPUT_CHARS: usize = 16_000;

/// Proves candidates of one agent on one repository's base.
#[derive(Clone)]
pub struct Prover {
    root: PathBuf,
    base: Oid,
    options: Options,
    agent: AgentPolicy,
    request: String,
    model: String,
}

impl Prover {
    /// The prover of `agent`'s candidates for `request` on `base` of the repository at `root`;
    /// `None` where nothing can be proved (no sandbox options).
    pub fn new(request: &AskRequest, root: &Path, base: Oid, agent: &AgentDef) -> Option<Prover> {
        Some(Prover {
            root: root.to_owned(),
            base,
            options: request.validation.clone()?,
            agent: AgentPolicy::of(agent),
            request: request.question.clone(),
            model: request.model.clone(),
        })
    }
}

impl Checks for Prover {
    fn run(&self, job: Job) -> JobFuture<'_> {
        let prover = self.clone();
        Box::pin(async move {
            match super::blocking(move || prover.job(job)).await {
                Ok(result) => result,
                Err(problem) => JobResult {
                    ok: false,
                    text: format!("could not run: {problem}"),
                    failing: Vec::new(),
                },
            }
        })
    }
}

impl Prover {
    fn job(self, job: Job) -> Result<JobResult, String> {
        let _lock = crate::state::Lock::acquire(&self.root, crate::state::Wait::Yes(&mut |_| {}))
            .map_err(|e| e.to_string())?;
        match job.command {
            Some(command) => self.shell(job.patch.as_ref(), &command),
            None => self.checks(job.patch),
        }
    }

    fn shell(&self, patch: Option<&Patch>, command: &str) -> Result<JobResult, String> {
        let workspace = Workspace::open(&self.root, self.base, self.options.clone())
            .map_err(|e| e.to_string())?;
        if let Some(patch) = patch {
            workspace.apply(patch).map_err(|e| e.to_string())?;
        }
        let ran = workspace.shell(
            command,
            Duration::from_secs(SHELL_SECONDS),
            SHELL_OUTPUT_CHARS,
        );
        if let Some(patch) = patch {
            workspace
                .apply(&patch.reversed())
                .map_err(|e| e.to_string())?;
        }
        let (step, output) = ran.map_err(|e| e.to_string())?;
        let status = match (&step.stopped, step.ok) {
            (Some(why), _) => format!("stopped: {why}"),
            (None, true) => String::from("exit 0"),
            (None, false) => String::from("failed (non-zero exit)"),
        };
        Ok(JobResult {
            ok: step.ok,
            text: format!("$ {command}\n{output}\n[{status}, {:.1} s]", step.seconds),
            failing: Vec::new(),
        })
    }

    fn checks(&self, patch: Option<Patch>) -> Result<JobResult, String> {
        let target = Target {
            branch: String::new(),
            dry_run: true,
            run: String::from("checks"),
            time: 0,
        };
        let (mut path, base) =
            ChangePath::open(&self.root, self.base, self.options.clone(), target)
                .map_err(|e| e.to_string())?;
        if !change::base_can_judge(&base.report, false) {
            return Ok(JobResult {
                ok: false,
                text: format!(
                    "the last commit itself cannot judge a change: {}",
                    base.report.summary()
                ),
                failing: Vec::new(),
            });
        }
        let Some(patch) = patch else {
            return Ok(JobResult {
                ok: true,
                text: format!("no change yet; the last commit: {}", base.report.summary()),
                failing: Vec::new(),
            });
        };
        let candidate = Candidate {
            patch,
            author: Author::Agent(self.agent.clone()),
            origin: Origin::Request {
                request: self.request.clone(),
                model: self.model.clone(),
                trailers: Vec::new(),
            },
            message: None,
        };
        let proof = path.prove(&candidate).map_err(|e| e.to_string())?;
        if proof.verdict.accepted {
            // `prove` keeps an accepted candidate for a commit that will not come.
            let (_, workspace) = path.parts();
            workspace
                .apply(&candidate.patch.reversed())
                .map_err(|e| e.to_string())?;
        }
        let summary = proof.report.summary();
        Ok(if proof.verdict.accepted {
            JobResult {
                ok: true,
                text: format!("all checks pass: {summary}"),
                failing: Vec::new(),
            }
        } else {
            let reasons = &proof.verdict.reasons;
            let mut text = format!("the change would be rejected ({summary}):\n");
            for reason in reasons {
                text.push_str(&format!("- {reason}\n"));
            }
            for failure in proof.report.build_errors.iter().take(3) {
                text.push_str(&format!("\n{failure}\n"));
            }
            JobResult {
                ok: false,
                text,
                failing: reasons.clone(),
            }
        })
    }
}
