//! Code variants (`nova evolve --code`, in a checkout of Nova): a variant is a commit of Nova's
//! own code. The root is the commit the run starts at; a child is a change an agent of this build
//! proposes to its parent's code, told the tasks the parent's build failed, and proved through
//! the change path like any change Nova makes (the repository's own build, tests and lints, the
//! guard that keeps tests, benches, CI and lint tables out of reach), then committed with no
//! branch. Each variant is run as another build of Nova: `cargo build --bin nova` of its commit
//! in the sandbox, run by [`Build`] on the tasks, while this build stays the evaluator.

use std::path::{Path, PathBuf};

use super::generation::{EvolveError, EvolveProgress, ROOT};
use super::lineage::{Archive, Child, Kind};
use super::propose::{Failure, failures_md};
use super::worker::{Build, Worker};
use crate::agents::AgentSet;
use crate::git::{self, CommitSpec, Oid};
use crate::orchestrator::{self, AgentsMd, AskError, AskRequest, OnTip};
use crate::store::VariantRow;

/// Commits of Nova's code as variants.
#[derive(Debug)]
pub struct Code {
    /// The root variant's commit.
    pub root: Oid,
    /// How every variant's build runs (its program set per variant): the model, the sandbox.
    pub build: Build,
    /// The built-in agent that proposes changes to the code.
    pub agent: String,
}

/// The file under a variant's directory that names its commit.
const COMMIT: &str = "commit";

fn commit_of(at: Archive<'_>, id: &str) -> Result<Oid, EvolveError> {
    let path = at.dir(id).join(COMMIT);
    let text = std::fs::read_to_string(&path).map_err(|error| EvolveError::Files {
        path: path.clone(),
        error,
    })?;
    Oid::from_str(text.trim()).map_err(|_| EvolveError::Files {
        path,
        error: std::io::Error::other("not a commit id"),
    })
}

fn save_commit(at: Archive<'_>, id: &str, commit: Oid) -> Result<(), EvolveError> {
    let dir = at.dir(id);
    let path = dir.join(COMMIT);
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, format!("{commit}\n")))
        .map_err(|error| EvolveError::Files { path, error })
}

/// Where the build of `commit` is kept: `.nova/bench/builds/<commit>/nova` (`nova bench run
/// --nova-rev` keeps its builds there too).
pub fn build_path(repo_root: &Path, commit: Oid) -> PathBuf {
    repo_root
        .join(crate::state::STATE_DIR)
        .join("bench")
        .join("builds")
        .join(commit.to_string())
        .join("nova")
}

/// The executable of `nova` at `commit` of the repository at `repo_root`: the one kept from an
/// earlier build, else built now in the sandbox with `options` and kept ([`build_path`]).
/// `Ok(Err(why))` when it does not build.
pub fn build(
    repo_root: &Path,
    commit: Oid,
    options: crate::validate::Options,
) -> Result<Result<PathBuf, String>, crate::validate::ValidateError> {
    let program = build_path(repo_root, commit);
    if program.is_file() {
        return Ok(Ok(program));
    }
    let mut workspace = crate::validate::Workspace::open(repo_root, commit, options)?;
    Ok(workspace
        .build_program(commit, "nova", &program)?
        .map(|()| program))
}

impl Kind for Code {
    fn lineage(&self, evaluator: &str) -> String {
        format!("{evaluator}-code")
    }

    fn label(&self, id: &str) -> String {
        format!("evolve-code/{id}")
    }

    fn root_change(&self) -> String {
        format!("Nova at {}", &self.root.to_string()[..10])
    }

    fn plant_root(&self, at: Archive<'_>) -> Result<(), EvolveError> {
        save_commit(at, ROOT, self.root)
    }

    fn worker<'w>(
        &'w self,
        at: Archive<'w>,
        id: &str,
    ) -> Result<(Box<dyn Worker + 'w>, String), EvolveError> {
        let commit = commit_of(at, id)?;
        let program = build(&at.request.repo_root, commit, at.request.validation.clone())?
            .map_err(|why| EvolveError::Build {
                id: id.to_owned(),
                why,
            })?;
        let bytes = std::fs::read(&program).map_err(|error| EvolveError::Files {
            path: program.clone(),
            error,
        })?;
        let fingerprint = format!("nova-build-{:016x}", crate::hash::fnv1a(&bytes));
        let mut build = self.build.clone();
        build.build.program = program;
        Ok((Box::new(build), fingerprint))
    }

    fn propose(
        &self,
        at: Archive<'_>,
        (parent, id): (&str, &str),
        failures: &[Failure],
        (_, known): (u64, &[VariantRow]),
        _: &mut dyn FnMut(EvolveProgress<'_>),
    ) -> Result<Option<Child>, EvolveError> {
        if failures.is_empty() {
            // Its build solved every training task: nothing to tell the agent.
            return Ok(None);
        }
        let from = commit_of(at, parent)?;
        let Some(patch) = self.proposal(at, from, failures)? else {
            return Ok(None);
        };
        let summary = patch.summary.lines().next().unwrap_or_default().trim();
        let change = format!(
            "{}: {}",
            self.agent,
            if summary.is_empty() {
                "a change to the code"
            } else {
                summary
            }
        );
        let root = &at.request.repo_root;
        let message = format!("{change}\n\nNova-Variant: {id}\nNova-Parent: {parent}\n");
        let spec = CommitSpec {
            parent: from,
            message: &message,
            time: at.request.time,
        };
        // Made before it is proved (no reference holds it yet), so that a tree the archive has
        // already is known without proving it again.
        let (made, tree) = git::commit_patch(root, &spec, &patch)?;
        for row in known {
            if let Ok(commit) = commit_of(at, &row.id)
                && git::tree_of(root, commit).ok() == Some(tree)
            {
                return Ok(None);
            }
        }
        // Proved as any change to the repository is: its build, tests and lints, and the guard.
        let (mut path, base) = super::prover(root, from, at.request.validation.clone())?;
        let refused = if base.can_judge() {
            let proof = path.prove(&super::to_prove(patch))?;
            proof.verdict.reasons
        } else {
            vec![format!(
                "the parent's commit cannot judge a change: {}",
                base.summary()
            )]
        };
        drop(path);
        // Refused or not, the variant is what was proposed (a refused one never runs), so that
        // the same proposal made again is known.
        save_commit(at, id, made)?;
        Ok(Some(Child { change, refused }))
    }

    fn keep(
        &self,
        at: Archive<'_>,
        id: &str,
        parent: Option<Oid>,
        spec: (&str, i64),
        reference: &str,
    ) -> Result<(), EvolveError> {
        let commit = commit_of(at, id)?;
        git::commit_tree_to_ref(&at.request.repo_root, commit, parent, spec, reference)?;
        Ok(())
    }
}

impl Code {
    /// The agent's change to Nova's code at `from`, told `failures`: worked out in a scratch
    /// repository holding that tree, unproved; `None` when it proposed nothing.
    fn proposal(
        &self,
        at: Archive<'_>,
        from: Oid,
        failures: &[Failure],
    ) -> Result<Option<crate::edit::Patch>, EvolveError> {
        let scratch = at.request.scratch.with_extension("code");
        git::scratch::prepare(&scratch).map_err(super::propose::ProposeError::from)?;
        let start = git::scratch::put_task(
            &scratch,
            &at.request.repo_root,
            from,
            &[],
            "Nova's code, as the parent has it\n",
        )
        .map_err(super::propose::ProposeError::from)?;
        let request = AskRequest {
            question: format!(
                "Nova's agents did not solve the {} tasks below, each a request a user made of \
                 them in another repository. Change Nova's code in this repository so that its \
                 agents solve more of them. Its tests, benches, CI and lint tables judge the \
                 change: leave them as they are.\n\n{}",
                failures.len(),
                failures_md(failures)
            ),
            repo_root: Some(scratch.clone()),
            agent: Some(self.agent.clone()),
            validation: None,
            branch: None,
            agents_md: AgentsMd::read(&scratch),
            works_on: None,
            resume: None,
            explain_route: false,
            on_tip: Some(OnTip {
                commit: start,
                seed: None,
                files: scratch.clone(),
                file: None,
            }),
            ..at.request.template.clone()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(super::propose::ProposeError::Runtime)?;
        let agents = AgentSet::builtin();
        let asked = runtime.block_on(orchestrator::ask(
            &request,
            &agents,
            at.provider,
            &mut |_| {},
        ));
        let outcome = match asked {
            Ok(outcome) => outcome,
            Err(AskError::Stopped { .. } | AskError::OutOfTime { .. }) => return Ok(None),
            Err(error) => return Err(super::propose::ProposeError::from(error).into()),
        };
        Ok(outcome.proposal.filter(|p| !p.changes.is_empty()))
    }
}
