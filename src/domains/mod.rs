//! Domain agents: agents scoped to one part of a repository (a crate, or a large crate's
//! top-level module) rather than to one job.
//!
//! Owns: deriving a repository's parts from its own structure ([`parts`]), writing and updating
//! their agent files ([`scaffold`]), who owns which path ([`Owners`]), the uses that cross from
//! one owner's files to another's ([`crossings`]), and routing a task to the owner of the part it
//! is about ([`route`]).
//! Never: runs an agent, or writes anywhere but the repository's domain agent directory.

pub mod calibrate;
pub mod parts;
pub mod route;
pub mod scaffold;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::agents::{AgentDef, AgentSet, Origin};
use crate::edit::RepoPath;
use crate::edit::guard::Scope;
use crate::index::Index;

/// The agents that own paths, with their compiled write scopes.
pub struct Owners<'s> {
    owners: Vec<(&'s AgentDef, Scope)>,
}

impl std::fmt::Debug for Owners<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.owners.iter().map(|(a, _)| &a.name))
            .finish()
    }
}

impl<'s> Owners<'s> {
    /// The repository's own agents that may write (the built-in ones are scoped by job, not by
    /// part): who `nova agents boundaries` holds to account.
    pub fn of_repo(set: &'s AgentSet) -> Self {
        Self::from(
            set.agents()
                .filter(|a| matches!(a.origin, Origin::File(_)) && !a.scope.write.is_empty()),
        )
    }

    /// The enabled domain agents (those with a `part`): who routing and handoffs choose among.
    pub fn domains(set: &'s AgentSet, disabled: &[String]) -> Self {
        Self::from(
            set.agents()
                .filter(|a| a.part.is_some() && !disabled.contains(&a.name)),
        )
    }

    fn from(agents: impl Iterator<Item = &'s AgentDef>) -> Self {
        Owners {
            owners: agents.map(|a| (a, Scope::new(&a.scope.write))).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    pub fn agents(&self) -> impl Iterator<Item = &'s AgentDef> + '_ {
        self.owners.iter().map(|(agent, _)| *agent)
    }

    /// Every agent that may write `path`.
    pub fn owners_of(&self, path: &str) -> Vec<&'s AgentDef> {
        let Some(path) = RepoPath::new(path) else {
            return Vec::new();
        };
        self.owners
            .iter()
            .filter(|(_, scope)| scope.contains(&path))
            .map(|(agent, _)| *agent)
            .collect()
    }

    /// The one agent that may write `path`, if exactly one may.
    pub fn owner_of(&self, path: &str) -> Option<&'s AgentDef> {
        match self.owners_of(path).as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// The uses from one owner's files of names that another owner's files define.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Crossing {
    pub from: String,
    pub to: String,
    /// How many uses.
    pub uses: u32,
    /// The names used most, most first (at most [`NAMES_SHOWN`]).
    pub names: Vec<String>,
}

/// How many of a crossing's names it keeps.
pub const NAMES_SHOWN: usize = 8;

/// Names a part may define that every Rust file uses from the standard library.
const PRELUDE: &[&str] = &[
    "Box", "Clone", "Default", "Err", "None", "Ok", "Option", "Result", "Some", "String", "Vec",
];

/// The crossings between owners, `owner_of` giving each owned file's owner. A name counts only
/// where exactly one owner's files define it as a public item of a module (not a method): `new`
/// or `run`, defined everywhere, say nothing about who depends on whom.
pub fn crossings(index: &Index, owner_of: &BTreeMap<String, String>) -> Vec<Crossing> {
    let mut defined: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for (path, owner) in owner_of {
        let exported = index
            .outline(path)
            .unwrap_or_default()
            .iter()
            .filter(|d| d.public && d.scope.is_none() && d.kind != crate::index::Kind::Impl)
            .filter(|d| !PRELUDE.contains(&d.name.as_str()));
        for def in exported {
            defined
                .entry(def.name.as_str())
                .or_default()
                .insert(owner.as_str());
        }
    }
    let mut edges: BTreeMap<(&str, &str), BTreeMap<&str, u32>> = BTreeMap::new();
    for (path, from) in owner_of {
        for (name, count) in index.refs_of(path) {
            let Some(owners) = defined.get(name.as_str()) else {
                continue;
            };
            if let [to] = owners.iter().collect::<Vec<_>>().as_slice()
                && **to != from.as_str()
            {
                *edges
                    .entry((from.as_str(), to))
                    .or_default()
                    .entry(name.as_str())
                    .or_default() += count;
            }
        }
    }
    edges
        .into_iter()
        .map(|((from, to), names)| {
            let mut by_use: Vec<(&str, u32)> = names.into_iter().collect();
            by_use.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            Crossing {
                from: from.to_owned(),
                to: to.to_owned(),
                uses: by_use.iter().map(|(_, n)| n).sum(),
                names: by_use
                    .iter()
                    .take(NAMES_SHOWN)
                    .map(|(n, _)| (*n).to_owned())
                    .collect(),
            }
        })
        .collect()
}

/// The repository map a domain agent works with: its part in depth, the files its part uses or
/// is used by only by their public items (`Index::map_scoped`), the task's focus ranking both.
pub fn map_for(
    index: &Index,
    agent: &AgentDef,
    focus: &crate::index::Focus,
    budget: usize,
) -> crate::index::RepoMap {
    let scope = Scope::new(&agent.scope.write);
    let own = |path: &str| RepoPath::new(path).is_some_and(|p| scope.contains(&p));
    index.map_scoped(focus, budget, &own)
}
