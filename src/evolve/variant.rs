//! Variants of an agent set: the agent files that differ from the built-in ones (an overlay, as
//! `.nova/agents/` is), how they are run (`settings.toml`), the rule files their `review` tool
//! runs over the repository's (`rules/*.toml`: what the agents consult, never what judges them),
//! the guard that refuses a variant touching what judges it, and the builtin brain's proposer:
//! small, deterministic changes to agent files chosen by a seed (a hint added to a prompt, a
//! larger budget, a tool given, a description taught the words of failed tasks).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::agents::AgentSet;
use crate::edit::{FileChange, RepoPath};

/// A variant's files, by path relative to its directory (`agents/refactorer.md`).
pub type Files = BTreeMap<String, String>;

/// The files under `dir` (none when it does not exist).
pub fn load(dir: &Path) -> std::io::Result<Files> {
    let mut files = Files::new();
    let settings = dir.join(SETTINGS);
    if settings.is_file() {
        files.insert(String::from(SETTINGS), std::fs::read_to_string(&settings)?);
    }
    for (sub, ext) in [("agents", "md"), (RULES, "toml")] {
        let from = dir.join(sub);
        if !from.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&from)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == ext) && path.is_file() {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.insert(format!("{sub}/{name}"), std::fs::read_to_string(&path)?);
            }
        }
    }
    Ok(files)
}

/// Writes `files` as the whole of `dir` (a fresh directory, written then renamed into place).
pub fn save(dir: &Path, files: &Files) -> std::io::Result<()> {
    let partial = dir.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(partial.join("agents"))?;
    if files.keys().any(|path| path.starts_with("rules/")) {
        std::fs::create_dir_all(partial.join(RULES))?;
    }
    for (path, text) in files {
        std::fs::write(partial.join(path), text)?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::rename(&partial, dir)
}

/// The file of a variant that sets how its agents are run.
pub const SETTINGS: &str = "settings.toml";

/// The directory of a variant's rule files.
pub const RULES: &str = "rules";

/// The directory of the rule files of the variant in `dir`, when it has one: `nova bench run`
/// gives it to the agents' `review` tool (`AskRequest::rule_dir`).
pub fn rule_dir(dir: &Path) -> Option<PathBuf> {
    let rules = dir.join(RULES);
    rules.is_dir().then_some(rules)
}

/// What tells one variant's runs from another's in the results: its agent set, and its settings
/// and rule files.
pub fn fingerprint(agents: &AgentSet, files: &Files) -> String {
    let more = files
        .iter()
        .filter(|(path, _)| !path.starts_with("agents/"))
        .flat_map(|(path, text)| [path.as_bytes(), text.as_bytes()]);
    let running = crate::hash::fnv1a_parts(more);
    let agents = agents.fingerprint();
    if files.keys().all(|path| path.starts_with("agents/")) {
        // As before settings and rules counted: a set's old results stay its own.
        return format!("{agents:016x}");
    }
    format!("{agents:016x}-{running:016x}")
}

/// How a variant's agents are run, over the run's own settings: who routes requests, the repository
/// map's share of a prompt, the most tokens a reply may have.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<crate::config::RouteBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_tokens: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

impl Settings {
    /// A variant's settings: none when it has no `settings.toml`, an error when it does not
    /// parse or has a key not listed here.
    pub fn of(files: &Files) -> Result<Settings, String> {
        match files.get(SETTINGS) {
            Some(text) => toml::from_str(text).map_err(|error| format!("`{SETTINGS}`: {error}")),
            None => Ok(Settings::default()),
        }
    }

    /// `template` with these settings over it.
    pub fn apply(&self, template: &mut crate::orchestrator::AskRequest) {
        if let Some(route) = self.route {
            template.route = route;
        }
        if let Some(tokens) = self.map_tokens {
            template.map_tokens = tokens;
        }
        if let Some(tokens) = self.max_tokens {
            template.max_tokens = tokens;
        }
    }
}

/// How a variant's agents are run beyond their files: its settings, and its rule files.
#[derive(Debug, Clone, Default)]
pub struct Running {
    pub settings: Settings,
    pub rule_dir: Option<PathBuf>,
}

impl Running {
    /// How the variant in `dir`, whose files are `files`, runs; an error when its settings do not
    /// parse.
    pub fn of(dir: &Path, files: &Files) -> Result<Running, String> {
        Ok(Running {
            settings: Settings::of(files)?,
            rule_dir: rule_dir(dir),
        })
    }

    /// `template` run this way.
    pub fn apply(&self, template: &mut crate::orchestrator::AskRequest) {
        self.settings.apply(template);
        template.rule_dir.clone_from(&self.rule_dir);
    }
}

/// The agent set a variant in `dir` runs: the built-in agents with its files over them.
pub fn agent_set(dir: &Path) -> Result<AgentSet, crate::agents::LoadError> {
    let mut set = AgentSet::builtin();
    let agents = dir.join("agents");
    if agents.is_dir() {
        set.overlay(&agents, Path::new("agents"))?;
    }
    Ok(set)
}

/// Every reason to refuse `variant` as a change of `parent`: a file that judges changes (tests,
/// lint tables, CI, rules, pipelines: `edit::guard::protected`), anything but an agent file, and,
/// in an agent file, what loosens how its changes are judged (its `acceptance` commands, what it
/// may silence, add or change).
pub fn guard(parent: &Files, variant: &Files) -> Vec<String> {
    let mut reasons = Vec::new();
    let paths: std::collections::BTreeSet<&String> = parent.keys().chain(variant.keys()).collect();
    for path in paths {
        let (before, after) = (parent.get(path), variant.get(path));
        if before == after {
            continue;
        }
        if path == SETTINGS {
            if let Err(why) = Settings::of(variant) {
                reasons.push(format!(
                    "{why}; a variant may set `route`, `map_tokens` and `max_tokens` only"
                ));
            }
            continue;
        }
        if path.starts_with("rules/") {
            reasons.extend(after.and_then(|text| rule_refused(variant, path, text)));
            continue;
        }
        let is_agent =
            path.starts_with("agents/") && path.ends_with(".md") && path.matches('/').count() == 1;
        if !is_agent {
            let protected = RepoPath::new(path).and_then(|repo_path| {
                crate::edit::guard::protected(&FileChange {
                    path: repo_path,
                    before: before.cloned(),
                    after: after.cloned(),
                })
            });
            reasons.push(format!(
                "`{path}`: {}",
                protected.unwrap_or(
                    "a variant changes agent files (`agents/*.md`), rule files (`rules/*.toml`) \
                     and `settings.toml` only"
                )
            ));
            continue;
        }
        let judged = |text: Option<&String>| text.and_then(|t| judging(t));
        // A new agent is held to an agent's defaults: no acceptance commands, nothing allowed.
        let base = before
            .cloned()
            .or_else(|| builtin_text(path))
            .unwrap_or_else(|| String::from("+++\n+++\n"));
        if judged(Some(&base)) != judged(after) {
            reasons.push(format!(
                "`{path}`: it changes how the agent's changes are judged (`acceptance`, \
                 `may_silence`, `may_add_dependencies`, `may_change_api`)"
            ));
        }
    }
    reasons
}

/// Why each of `variant`'s rule files is refused (see [`guard`]), whatever its parent has.
pub fn rules_refused(variant: &Files) -> Vec<String> {
    variant
        .iter()
        .filter(|(path, _)| path.starts_with("rules/"))
        .filter_map(|(path, text)| rule_refused(variant, path, text))
        .collect()
}

/// Why the rule file at `path` of `variant` is refused, if it is.
fn rule_refused(variant: &Files, path: &str, text: &str) -> Option<String> {
    let name = path.strip_prefix("rules/")?;
    let agent = |owner: &str| {
        variant.contains_key(&format!("agents/{owner}.md"))
            || crate::agents::builtin_agent(&format!("{owner}.md")).is_some()
    };
    rule_problem(name, text, &agent).map(|why| format!("`{path}`: {why}"))
}

/// What is wrong with the rule file `name` of a variant, if anything: it must be a `.toml` file
/// that compiles, owned by an agent the variant has, and its own examples must hold (`nova rules
/// test` on it alone).
fn rule_problem(name: &str, text: &str, agent: &dyn Fn(&str) -> bool) -> Option<String> {
    if !name.ends_with(".toml") || name.contains('/') {
        return Some(String::from(
            "a variant's rule files are `rules/*.toml`, none in a subdirectory",
        ));
    }
    let origin = crate::rules::Origin::File(PathBuf::from(RULES).join(name));
    let rule = match crate::rules::compile(text, origin) {
        Ok(rule) => rule,
        Err(problem) => return Some(format!("the rule does not load: {problem}")),
    };
    if !agent(&rule.file.agent) {
        return Some(format!(
            "its owner `{}` is not one of the variant's agents, so no one would see its findings",
            rule.file.agent
        ));
    }
    let id = rule.file.id.clone();
    let mut set = crate::rules::RuleSet::default();
    set.extend(vec![rule]);
    crate::rules::check(&set.only(&[id.as_str()]))
        .first()
        .map(|problem| format!("the rule fails its own examples: {problem}"))
}

/// The built-in text of the agent file `agents/<name>.md`.
fn builtin_text(path: &str) -> Option<String> {
    crate::agents::builtin_agent(path.trim_start_matches("agents/")).map(str::to_owned)
}

/// What in an agent file judges its changes, as text to compare: its acceptance commands and what
/// it may do that the guard otherwise refuses.
fn judging(text: &str) -> Option<String> {
    let (front, _) = crate::agents::front_matter(text)?;
    let table: toml::Table = front.parse().ok()?;
    let keys = [
        "acceptance",
        "may_silence",
        "may_add_dependencies",
        "may_change_api",
    ];
    Some(
        keys.iter()
            .map(|key| format!("{key}={:?}", table.get(*key)))
            .collect::<Vec<_>>()
            .join(";"),
    )
}

fn with_front_matter(table: &toml::Table, prompt: &str) -> Option<String> {
    let front = toml::to_string(table).ok()?;
    Some(format!("+++\n{front}+++\n{prompt}"))
}

/// Hints the builtin proposer may add to a prompt, in the order it tries them.
pub const HINTS: &[&str] = &[
    "Before you edit, read the failing test's assertion and the function it calls; the bug is \
     usually where the two disagree.",
    "Run the failing tests with `run_checks` before and after your change.",
    "Look for a comparison, a range bound or an operator that is wrong by one step before \
     rewriting any logic.",
    "Make the smallest change that makes the failing tests pass; never change a test.",
];

/// Tools an agent that makes patches may be given.
const TOOLS: &[&str] = &[
    "read_file",
    "search",
    "symbols",
    "repo_map",
    "run_checks",
    "review",
];

/// A variant the builtin proposer made: its files, and what it changed, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub files: Files,
    pub change: String,
}

/// A task the parent did not solve: its statement, and the agent that ended its run.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    pub statement: &'a str,
    pub agent: &'a str,
}

/// A change to `parent` (the files of a variant over `set`, the agent set it gives), chosen by
/// `seed` among what the `failed` tasks suggest: an agent that ended a failed task's run gets a
/// hint in its prompt, a budget half again as large or a tool it lacks; another agent that makes
/// patches gets the failed statements' words in its description, so that such requests are
/// routed to it. With no failure, any agent that makes patches may get any of them. `None` when
/// nothing applies.
pub fn propose(
    parent: &Files,
    set: &AgentSet,
    failed: &[Failure<'_>],
    seed: u64,
) -> Option<Proposal> {
    // The agents requests are routed to (the `ask` pipeline's routed stage) that make patches.
    let routed: Vec<&str> = set
        .pipeline("ask")
        .into_iter()
        .flat_map(|pipeline| &pipeline.stages)
        .filter(|stage| stage.mode == crate::agents::Mode::Route)
        .flat_map(|stage| stage.agents.iter().map(String::as_str))
        .collect();
    let makers: Vec<&str> = set
        .agents()
        .filter(|agent| agent.tools.iter().any(|t| t == "propose_edit"))
        .map(|agent| agent.name.as_str())
        .filter(|name| routed.contains(name))
        .collect();
    let failing: std::collections::BTreeSet<&str> = failed.iter().map(|f| f.agent).collect();
    let statements: Vec<&str> = failed.iter().map(|f| f.statement).collect();
    let mut options = Vec::new();
    for name in &makers {
        let ran_failures = failing.contains(name) || failing.is_empty();
        for operator in 0..4 {
            // Hints, budgets and tools go to who failed; a description, to who might do better.
            let useful = if operator == 3 {
                !failing.contains(name)
            } else {
                ran_failures
            };
            if useful {
                options.push((*name, operator));
            }
        }
    }
    // How the agents are run: the map's share, who routes.
    options.push(("", 4));
    options.push(("", 5));
    for at in crate::rules::mutate::shuffled(options.len(), seed) {
        let (name, operator) = options[at];
        if name.is_empty() {
            if let Some(proposal) = set_up(parent, operator) {
                return Some(proposal);
            }
            continue;
        }
        let path = format!("agents/{name}.md");
        let Some(text) = parent.get(&path).cloned().or_else(|| builtin_text(&path)) else {
            continue;
        };
        let Some((front, prompt)) = crate::agents::front_matter(&text) else {
            continue;
        };
        let Ok(mut table) = front.parse::<toml::Table>() else {
            continue;
        };
        let Some((prompt, change)) = operate(&mut table, prompt, operator, &statements) else {
            continue;
        };
        let Some(new) = with_front_matter(&table, &prompt) else {
            continue;
        };
        let mut files = parent.clone();
        files.insert(path, new);
        return Some(Proposal {
            files,
            change: format!("{name}: {change}"),
        });
    }
    None
}

/// A change to how the parent's agents are run: operator 4 doubles the repository map's share of
/// a prompt (from 4096 tokens, up to 16384), 5 has the model route requests instead of the
/// offline classifier. `None` when it is so already.
fn set_up(parent: &Files, operator: usize) -> Option<Proposal> {
    let mut settings = Settings::of(parent).ok()?;
    let change = if operator == 4 {
        let now = settings.map_tokens.unwrap_or(4096);
        if now >= 16_384 {
            return None;
        }
        settings.map_tokens = Some(now * 2);
        format!(
            "settings: the map's share of a prompt, {now} tokens, becomes {}",
            now * 2
        )
    } else {
        if settings.route == Some(crate::config::RouteBy::Model) {
            return None;
        }
        settings.route = Some(crate::config::RouteBy::Model);
        String::from("settings: the model routes requests (the `router` agent)")
    };
    let mut files = parent.clone();
    files.insert(String::from(SETTINGS), toml::to_string(&settings).ok()?);
    Some(Proposal { files, change })
}

/// Applies `operator` to one agent's front matter and prompt: the new prompt and what changed,
/// or `None` when it does not apply to this agent.
fn operate(
    table: &mut toml::Table,
    prompt: &str,
    operator: usize,
    failed: &[&str],
) -> Option<(String, String)> {
    match operator {
        0 => {
            let hint = HINTS.iter().find(|hint| !prompt.contains(**hint))?;
            Some((
                format!("{}\n\n{hint}\n", prompt.trim_end()),
                format!("a hint: \"{hint}\""),
            ))
        }
        1 => {
            let budget = table.get_mut("budget")?.as_table_mut()?;
            let turns = budget.get("turns")?.as_integer()?;
            let more = (turns * 3 + 1) / 2;
            budget.insert(String::from("turns"), toml::Value::Integer(more));
            if let Some(tokens) = budget.get("tokens").and_then(toml::Value::as_integer) {
                budget.insert(String::from("tokens"), toml::Value::Integer(tokens * 3 / 2));
            }
            Some((prompt.to_owned(), format!("{turns} turns become {more}")))
        }
        2 => {
            let tools = table.get_mut("tools")?.as_array_mut()?;
            let has = |tool: &str| tools.iter().any(|t| t.as_str() == Some(tool));
            let tool = TOOLS.iter().find(|tool| !has(tool))?;
            tools.push(toml::Value::String((*tool).to_owned()));
            Some((prompt.to_owned(), format!("the `{tool}` tool")))
        }
        _ => {
            let description = table.get("description")?.as_str()?.to_owned();
            let words = missing_words(&description, failed);
            if words.is_empty() {
                return None;
            }
            let new = format!("{description}; also {}", words.join(", "));
            table.insert(String::from("description"), toml::Value::String(new));
            Some((
                prompt.to_owned(),
                format!("its description takes {}", words.join(", ")),
            ))
        }
    }
}

/// The words the `failed` statements share most that `description` lacks, as the router compares
/// them (its stems, its common words left out): at most four, the most frequent first, then the
/// longest.
fn missing_words(description: &str, failed: &[&str]) -> Vec<String> {
    use crate::orchestrator::route_stems;
    let have = route_stems(description);
    // Per stem: how many statements use it, and the word it was first seen as.
    let mut counts: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for statement in failed {
        let first = statement.lines().next().unwrap_or_default();
        let mut seen = std::collections::BTreeSet::new();
        for word in first.split(|c: char| !c.is_alphanumeric()) {
            let Some(stem) = route_stems(word).pop() else {
                continue;
            };
            if word.len() >= 3 && !have.contains(&stem) && seen.insert(stem.clone()) {
                counts.entry(stem).or_insert((0, word.to_lowercase())).0 += 1;
            }
        }
    }
    let mut ranked: Vec<(usize, String)> = counts.into_values().collect();
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.len().cmp(&a.1.len()))
            .then(a.1.cmp(&b.1))
    });
    ranked.into_iter().take(4).map(|(_, word)| word).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(name: &str) -> String {
        builtin_text(&format!("agents/{name}.md")).expect("a built-in agent")
    }

    #[test]
    fn proposals_are_valid_agent_sets_and_the_same_for_a_seed() {
        let set = AgentSet::builtin();
        let failed = [Failure {
            statement: "Fix the bug that makes `cargo test` fail on this repository",
            agent: "test-writer",
        }];
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..24 {
            let proposal = propose(&Files::new(), &set, &failed, seed).expect("a proposal");
            assert_eq!(
                Some(&proposal),
                propose(&Files::new(), &set, &failed, seed).as_ref()
            );
            assert!(
                guard(&Files::new(), &proposal.files).is_empty(),
                "{proposal:?}"
            );
            let dir = tempfile::tempdir().expect("dir");
            save(dir.path(), &proposal.files).expect("saved");
            assert_eq!(load(dir.path()).expect("loaded"), proposal.files);
            let variant = agent_set(dir.path()).expect("loads");
            assert!(crate::agents::check(&variant).is_empty(), "{proposal:?}");
            let (agent, change) = proposal.change.split_once(": ").expect("who: what");
            if agent == "settings" {
                assert!(Settings::of(&proposal.files).is_ok(), "{proposal:?}");
            } else if change.starts_with("its description") {
                assert_ne!(agent, "test-writer", "a description routes elsewhere");
            } else {
                assert_eq!(agent, "test-writer", "the agent that failed is changed");
            }
            seen.insert(change.split_whitespace().next().map(str::to_owned));
        }
        assert!(seen.len() >= 4, "the operators vary: {seen:?}");
    }

    #[test]
    fn a_variant_that_touches_what_judges_it_is_refused() {
        let parent = Files::new();
        let loosened = builtin("refactorer").replace(
            "output = \"patch\"",
            "output = \"patch\"\nmay_silence = true",
        );
        let mut variant = parent.clone();
        variant.insert(String::from("agents/refactorer.md"), loosened);
        let reasons = guard(&parent, &variant);
        assert!(
            reasons[0].contains("how the agent's changes are judged"),
            "{reasons:?}"
        );
        let mut variant = parent.clone();
        variant.insert(
            String::from("tests/it.rs"),
            String::from("#[test] fn t() {}"),
        );
        variant.insert(
            String::from("Cargo.toml"),
            String::from("[package]\nname = \"x\"\n\n[lints.rust]\nunsafe_code = \"allow\"\n"),
        );
        variant.insert(String::from("agents/pipelines/ask.toml"), String::new());
        let reasons = guard(&parent, &variant);
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("tests judge every change")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.contains("`[lints]`")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.contains("pipeline")),
            "{reasons:?}"
        );
        // A prompt or a description is the agents' own to change.
        let mut variant = parent.clone();
        variant.insert(
            String::from("agents/refactorer.md"),
            builtin("refactorer").replace("You make one change", "You make exactly one change"),
        );
        assert!(guard(&parent, &variant).is_empty());
    }

    #[test]
    fn settings_are_a_variant_s_to_change_but_only_those_listed() {
        let mut variant = Files::new();
        variant.insert(
            String::from(SETTINGS),
            String::from("route = \"model\"\nmap_tokens = 8192\n"),
        );
        assert!(guard(&Files::new(), &variant).is_empty());
        let settings = Settings::of(&variant).expect("parses");
        assert_eq!(settings.route, Some(crate::config::RouteBy::Model));
        assert_eq!(settings.map_tokens, Some(8192));
        variant.insert(String::from(SETTINGS), String::from("step_timeout = 1\n"));
        let reasons = guard(&Files::new(), &variant);
        assert!(reasons[0].contains("unknown field"), "{reasons:?}");
        let dir = tempfile::tempdir().expect("dir");
        save(dir.path(), &variant).expect("saved");
        assert_eq!(load(dir.path()).expect("loaded"), variant);
    }

    /// A rule of a variant: flags `.len() == 0` (`is_empty` says it), owned by `agent`.
    fn rule(agent: &str, matches: usize) -> String {
        format!(
            "id = \"len-zero\"\nagent = \"{agent}\"\nseverity = \"info\"\n\
             message = \"`.len() == 0`: say `.is_empty()`\"\nwhy = \"It says what it means.\"\n\
             query = '''\n((binary_expression left: (call_expression function: (field_expression \
             field: (field_identifier) @m)) operator: \"==\" right: (integer_literal) @zero) @match\n \
             (#eq? @m \"len\") (#eq? @zero \"0\"))\n'''\n\n[[example]]\nmatches = {matches}\n\
             code = '''\nfn f(v: &[u8]) -> bool {{ v.len() == 0 }}\n'''\n"
        )
    }

    #[test]
    fn a_variant_s_rule_files_are_its_own_when_they_load_and_keep_their_examples() {
        let mut variant = Files::new();
        variant.insert(
            String::from("rules/len-zero.toml"),
            rule("correctness-reviewer", 1),
        );
        assert!(
            guard(&Files::new(), &variant).is_empty(),
            "{:?}",
            guard(&Files::new(), &variant)
        );
        let dir = tempfile::tempdir().expect("dir");
        let at = dir.path().join("v");
        save(&at, &variant).expect("saved");
        assert_eq!(load(&at).expect("loaded"), variant);
        assert_eq!(rule_dir(&at), Some(at.join(RULES)));
        let (rules, problems) = crate::rules::load_dir(&at.join(RULES));
        assert!(problems.is_empty() && rules.len() == 1, "{problems:?}");
        // Its rules tell its runs from the parent's.
        let set = AgentSet::builtin();
        assert_ne!(
            fingerprint(&set, &variant),
            fingerprint(&set, &Files::new())
        );
        assert_eq!(
            fingerprint(&set, &Files::new()),
            format!("{:016x}", set.fingerprint())
        );
        for (text, why) in [
            (rule("correctness-reviewer", 2), "fails its own examples"),
            (
                rule("nobody", 1),
                "`nobody` is not one of the variant's agents",
            ),
            (String::from("id = 1\n"), "does not load"),
        ] {
            variant.insert(String::from("rules/len-zero.toml"), text);
            let reasons = guard(&Files::new(), &variant);
            assert!(
                reasons.len() == 1 && reasons[0].contains(why),
                "{why}: {reasons:?}"
            );
        }
        // A rule owned by an agent the variant adds is the variant's too.
        variant.insert(String::from("rules/len-zero.toml"), rule("nitpicker", 1));
        variant.insert(
            String::from("agents/nitpicker.md"),
            builtin("correctness-reviewer").replace("correctness-reviewer", "nitpicker"),
        );
        assert!(
            guard(&Files::new(), &variant).is_empty(),
            "{:?}",
            guard(&Files::new(), &variant)
        );
        let mut nested = Files::new();
        nested.insert(
            String::from("rules/deep/x.toml"),
            rule("correctness-reviewer", 1),
        );
        assert!(guard(&Files::new(), &nested)[0].contains("none in a subdirectory"));
    }

    #[test]
    fn a_description_learns_the_words_failed_tasks_share() {
        let words = missing_words(
            "Turns one finding into a change",
            &[
                "Fix the bug that makes tests fail",
                "Fix the bug in parsing",
            ],
        );
        assert_eq!(words, ["bug", "fix", "parsing", "makes"]);
    }
}
