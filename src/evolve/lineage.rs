//! What `nova evolve`'s variants are made of, and so how each is planted, run, proposed and
//! kept: a [`Kind`]. Agent files over this build's agents ([`AgentFiles`]: the agent files,
//! rule files and settings the proposers change), or a commit of Nova's own code
//! ([`super::code::Code`]: proved by the change path, built, and run as another build). The
//! generations, the staged runs and the paired decision (`generation`) are the same for both.

use std::path::PathBuf;

use super::generation::{EvolveError, EvolveProgress, EvolveRequest, Proposer};
use super::propose::{self, Failure};
use super::variant::{self, Files};
use super::worker::{Agents, Worker};
use crate::git::Oid;
use crate::llm::Provider;
use crate::store::VariantRow;

/// Where a kind works: the run's request, its model, and the archive's directory per variant.
#[derive(Clone, Copy)]
pub struct Archive<'a> {
    pub request: &'a EvolveRequest<'a>,
    pub provider: &'a dyn Provider,
}

impl std::fmt::Debug for Archive<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive").finish_non_exhaustive()
    }
}

impl Archive<'_> {
    /// The directory that holds variant `id`: `.nova/evolve/<evaluator>/<id>`.
    pub fn dir(&self, id: &str) -> PathBuf {
        self.request.archive.join(id)
    }
}

/// A child a kind proposed, its material saved under its id.
#[derive(Debug)]
pub struct Child {
    /// What it changed in its parent, in one line.
    pub change: String,
    /// Why it may not run (it touches what judges it); empty when it may.
    pub refused: Vec<String>,
}

/// What variants are made of.
pub trait Kind {
    /// What variants of this kind are kept under, for an evaluator's hash: in the archive, its
    /// directory, and the references of their lineage.
    fn lineage(&self, evaluator: &str) -> String {
        evaluator.to_owned()
    }
    /// The name variant `id`'s results have in the archive.
    fn label(&self, id: &str) -> String {
        format!("evolve/{id}")
    }
    /// The root, as the archive says it.
    fn root_change(&self) -> String;
    /// Readies the root's material, the first time.
    fn plant_root(&self, at: Archive<'_>) -> Result<(), EvolveError>;
    /// The worker that runs variant `id`, and the fingerprint of what it runs.
    fn worker<'w>(
        &'w self,
        at: Archive<'w>,
        id: &str,
    ) -> Result<(Box<dyn Worker + 'w>, String), EvolveError>;
    /// A child of `parent`, which failed the training tasks `failures`, saved as variant `id`;
    /// `None` when nothing new comes. `known`: the archive's variants, proposed before.
    fn propose(
        &self,
        at: Archive<'_>,
        parent_and_id: (&str, &str),
        failures: &[Failure],
        seed_and_known: (u64, &[VariantRow]),
        progress: &mut dyn FnMut(EvolveProgress<'_>),
    ) -> Result<Option<Child>, EvolveError>;
    /// Keeps variant `id` as a commit with `message` (at `time`) on `parent` under `reference`.
    fn keep(
        &self,
        at: Archive<'_>,
        id: &str,
        parent: Option<Oid>,
        message_at: (&str, i64),
        reference: &str,
    ) -> Result<(), EvolveError>;
}

/// Agent files (and rule files and settings) over this build's agents: the root is the
/// repository's own `.nova/` files.
#[derive(Debug)]
pub struct AgentFiles {
    pub root: Files,
    pub proposer: Proposer,
}

fn files(at: Archive<'_>, id: &str) -> Result<Files, EvolveError> {
    let path = at.dir(id);
    variant::load(&path).map_err(|error| EvolveError::Files { path, error })
}

fn agent_set(at: Archive<'_>, id: &str) -> Result<crate::agents::AgentSet, EvolveError> {
    variant::agent_set(&at.dir(id)).map_err(|error| EvolveError::Load {
        id: id.to_owned(),
        error,
    })
}

impl Kind for AgentFiles {
    fn root_change(&self) -> String {
        String::from("the agent set as it is")
    }

    fn plant_root(&self, at: Archive<'_>) -> Result<(), EvolveError> {
        let path = at.dir(super::generation::ROOT);
        variant::save(&path, &self.root).map_err(|error| EvolveError::Files { path, error })
    }

    fn worker<'w>(
        &'w self,
        at: Archive<'w>,
        id: &str,
    ) -> Result<(Box<dyn Worker + 'w>, String), EvolveError> {
        let agents = agent_set(at, id)?;
        let files = files(at, id)?;
        let fingerprint = variant::fingerprint(&agents, &files);
        let mut template = at.request.template.clone();
        variant::Running::of(&at.dir(id), &files)
            .map_err(|why| EvolveError::Settings {
                id: id.to_owned(),
                why,
            })?
            .apply(&mut template);
        let worker = Agents::new(agents, template, at.request.validation.clone(), at.provider)?;
        Ok((Box::new(worker), fingerprint))
    }

    fn propose(
        &self,
        at: Archive<'_>,
        (parent, id): (&str, &str),
        failures: &[Failure],
        (seed, known): (u64, &[VariantRow]),
        progress: &mut dyn FnMut(EvolveProgress<'_>),
    ) -> Result<Option<Child>, EvolveError> {
        let parent_files = files(at, parent)?;
        let parent_set = agent_set(at, parent)?;
        // A proposal identical to one already in the archive is not tried again.
        let known: Vec<Files> = known
            .iter()
            .filter_map(|row| files(at, &row.id).ok())
            .collect();
        let mut proposal = None;
        if self.proposer == Proposer::Model {
            let scratch = at.request.scratch.with_extension("evolver");
            proposal = propose::by_model(
                &at.request.template,
                at.provider,
                &scratch,
                &parent_files,
                &parent_set,
                failures,
            )?
            .filter(|p| !known.contains(&p.files));
            if proposal.is_none() {
                progress(EvolveProgress::Fallback);
            }
        }
        let simple: Vec<variant::Failure<'_>> = failures
            .iter()
            .filter_map(|f| {
                Some(variant::Failure {
                    statement: &f.statement,
                    agent: f.agent.as_deref()?,
                })
            })
            .collect();
        let proposal = proposal.or_else(|| {
            (0..64).find_map(|attempt| {
                variant::propose(
                    &parent_files,
                    &parent_set,
                    &simple,
                    seed.wrapping_add(attempt),
                )
                .filter(|p| !known.contains(&p.files))
            })
        });
        let Some(proposal) = proposal else {
            return Ok(None);
        };
        let path = at.dir(id);
        variant::save(&path, &proposal.files)
            .map_err(|error| EvolveError::Files { path, error })?;
        Ok(Some(Child {
            refused: variant::guard(&parent_files, &proposal.files),
            change: proposal.change,
        }))
    }

    fn keep(
        &self,
        at: Archive<'_>,
        id: &str,
        parent: Option<Oid>,
        spec: (&str, i64),
        reference: &str,
    ) -> Result<(), EvolveError> {
        let files = files(at, id)?;
        let paths: Vec<(crate::edit::RepoPath, &str)> = files
            .iter()
            .filter_map(|(path, text)| Some((crate::edit::RepoPath::new(path)?, text.as_str())))
            .collect();
        let files: Vec<(&crate::edit::RepoPath, &str)> =
            paths.iter().map(|(path, text)| (path, *text)).collect();
        crate::git::commit_files_to_ref(&at.request.repo_root, &files, parent, spec, reference)?;
        Ok(())
    }
}
