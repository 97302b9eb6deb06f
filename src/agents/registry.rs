//! Loading an agent set: the built-in files, then the repository's `.nova/agents/` (or a path
//! given to `nova agents check`) on top, overriding by name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::builtin;
use super::definition::{AgentDef, Origin, parse_agent};
use super::pipeline::{Pipeline, parse_pipeline};
use crate::diag::Problem;

/// Where a repository keeps its own agents, relative to its root. Pipelines go in `pipelines/`
/// under it.
pub const REPO_AGENTS_DIR: &str = ".nova/agents";
/// The subdirectory of an agent directory where domain agents live (`nova agents scaffold`).
pub const DOMAINS_DIR: &str = "domains";

/// A set of agents and pipelines, with every problem met while reading it.
#[derive(Debug, Clone, Default)]
pub struct AgentSet {
    agents: BTreeMap<String, AgentDef>,
    pipelines: BTreeMap<String, Pipeline>,
    problems: Vec<Problem>,
}

/// Why an agent directory could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{}` is neither an agent file (`.md`), a pipeline (`.toml`) nor a directory of them",
        .0.display()
    )]
    NotAgents(PathBuf),
}

impl AgentSet {
    /// The agents and pipelines embedded in Nova.
    pub fn builtin() -> Self {
        let mut set = AgentSet::default();
        let mut layer = Layer::default();
        for (path, text) in builtin::AGENTS {
            let path = Path::new(path);
            set.add_agent(&mut layer, path, text, Origin::Builtin(path.to_owned()));
        }
        for (path, text) in builtin::PIPELINES {
            let path = Path::new(path);
            set.add_pipeline(&mut layer, path, text, Origin::Builtin(path.to_owned()));
        }
        set
    }

    /// The built-in set with the repository's own agents on top, if it has any.
    pub fn for_repo(repo_root: Option<&Path>) -> Result<Self, LoadError> {
        let mut set = Self::builtin();
        if let Some(root) = repo_root {
            let dir = root.join(REPO_AGENTS_DIR);
            if dir.is_dir() {
                set.overlay(&dir, Path::new(REPO_AGENTS_DIR))?;
            }
        }
        Ok(set)
    }

    /// Reads `path` (a directory of `*.md` agents with `pipelines/*.toml`, or one such file) on top
    /// of this set. `shown` is how the path appears in messages.
    pub fn overlay(&mut self, path: &Path, shown: &Path) -> Result<(), LoadError> {
        let mut layer = Layer::default();
        if path.is_dir() {
            for file in sorted_files(path, "md")? {
                let name = file.file_name().map(PathBuf::from).unwrap_or_default();
                self.read_file(&mut layer, Kind::Agent, &file, &shown.join(name))?;
            }
            // Domain agents, as `nova agents scaffold` writes them, are agents like the others.
            let domains = path.join(DOMAINS_DIR);
            if domains.is_dir() {
                for file in sorted_files(&domains, "md")? {
                    let name = file.file_name().map(PathBuf::from).unwrap_or_default();
                    let shown = shown.join(DOMAINS_DIR).join(name);
                    self.read_file(&mut layer, Kind::Agent, &file, &shown)?;
                }
            }
            let pipelines = path.join("pipelines");
            if pipelines.is_dir() {
                for file in sorted_files(&pipelines, "toml")? {
                    let name = file.file_name().map(PathBuf::from).unwrap_or_default();
                    let shown = shown.join("pipelines").join(name);
                    self.read_file(&mut layer, Kind::Pipeline, &file, &shown)?;
                }
            }
            return Ok(());
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("md") => self.read_file(&mut layer, Kind::Agent, path, shown),
            Some("toml") => self.read_file(&mut layer, Kind::Pipeline, path, shown),
            _ => Err(LoadError::NotAgents(path.to_owned())),
        }
    }

    /// A hash of every agent and pipeline as loaded: two sets with the same fingerprint behave
    /// the same (`nova bench` tells agent sets apart by it).
    pub fn fingerprint(&self) -> u64 {
        let agents = self
            .agents
            .values()
            .map(|agent| serde_json::to_string(agent).unwrap_or_default());
        let pipelines = self
            .pipelines
            .values()
            .map(|pipeline| serde_json::to_string(pipeline).unwrap_or_default());
        let texts: Vec<String> = agents.chain(pipelines).collect();
        crate::hash::fnv1a_parts(texts.iter().map(String::as_bytes))
    }

    pub fn agents(&self) -> impl Iterator<Item = &AgentDef> {
        self.agents.values()
    }

    pub fn agent(&self, name: &str) -> Option<&AgentDef> {
        self.agents.get(name)
    }

    pub fn pipelines(&self) -> impl Iterator<Item = &Pipeline> {
        self.pipelines.values()
    }

    pub fn pipeline(&self, name: &str) -> Option<&Pipeline> {
        self.pipelines.get(name)
    }

    /// Problems met while reading files; [`super::check`] adds those across files.
    pub(super) fn read_problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Reads one file from disk into the set as an agent or a pipeline.
    fn read_file(
        &mut self,
        layer: &mut Layer,
        kind: Kind,
        path: &Path,
        shown: &Path,
    ) -> Result<(), LoadError> {
        let text = read(path)?;
        let origin = Origin::File(shown.to_owned());
        match kind {
            Kind::Agent => self.add_agent(layer, shown, &text, origin),
            Kind::Pipeline => self.add_pipeline(layer, shown, &text, origin),
        }
        Ok(())
    }

    fn add_agent(&mut self, layer: &mut Layer, shown: &Path, text: &str, origin: Origin) {
        let (def, problems) = parse_agent(shown, text, origin);
        self.problems.extend(problems);
        let Some(mut def) = def else { return };
        if let Some(first) = layer.agents.insert(def.name.clone(), shown.to_owned()) {
            let message = format!(
                "agent `{}` is also defined in `{}`",
                def.name,
                first.display()
            );
            self.problems
                .push(Problem::new(shown, Some(def.lines.name), message));
            return;
        }
        if let Some(previous) = self.agents.remove(&def.name) {
            def.overrides = Some(previous.origin);
        }
        self.agents.insert(def.name.clone(), def);
    }

    fn add_pipeline(&mut self, layer: &mut Layer, shown: &Path, text: &str, origin: Origin) {
        let (pipeline, problems) = parse_pipeline(shown, text, origin);
        self.problems.extend(problems);
        let Some(mut pipeline) = pipeline else { return };
        if let Some(first) = layer
            .pipelines
            .insert(pipeline.name.clone(), shown.to_owned())
        {
            let message = format!(
                "pipeline `{}` is also defined in `{}`",
                pipeline.name,
                first.display()
            );
            self.problems.push(Problem::new(shown, Some(1), message));
            return;
        }
        if let Some(previous) = self.pipelines.remove(&pipeline.name) {
            pipeline.overrides = Some(previous.origin);
        }
        self.pipelines.insert(pipeline.name.clone(), pipeline);
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Agent,
    Pipeline,
}

/// Names defined by the files of one layer, to catch a name defined twice in the same place.
#[derive(Default)]
struct Layer {
    agents: BTreeMap<String, PathBuf>,
    pipelines: BTreeMap<String, PathBuf>,
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The files of `dir` with extension `ext`, sorted by name so loading is deterministic.
fn sorted_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Read {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|e| e == ext) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
