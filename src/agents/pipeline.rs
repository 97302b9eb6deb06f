//! Pipelines: named stages, each a set of agents (or one of Nova's own steps), and the typed work
//! that flows from one stage to the next.
//!
//! A stage runs when its `input` has been produced by an earlier stage (the first stage reads the
//! `task`). Agent stages run their agents in parallel, in sequence, or `route` to the one agent the
//! previous stage's plan names.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::definition::{Origin, Output, is_kebab};
use crate::diag::{self, Problem};

/// What passes between stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// The user's request, or the repository itself for `improve` and `review`.
    Task,
    Findings,
    Patches,
    /// Validation reports.
    Reports,
    Plan,
    Answer,
    Message,
    Commits,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Task => "task",
            Flow::Findings => "findings",
            Flow::Patches => "patches",
            Flow::Reports => "reports",
            Flow::Plan => "plan",
            Flow::Answer => "answer",
            Flow::Message => "message",
            Flow::Commits => "commits",
        }
    }

    /// The flow an agent's output becomes.
    pub fn of(output: Output) -> Flow {
        match output {
            Output::Findings => Flow::Findings,
            Output::Patch => Flow::Patches,
            Output::Answer => Flow::Answer,
            Output::Plan => Flow::Plan,
            Output::Message => Flow::Message,
        }
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the agents of a stage run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Parallel,
    #[default]
    Sequence,
    /// Only the agent the incoming plan names runs.
    Route,
}

/// Nova's own steps, which a stage may run instead of agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Build, test and lint each patch in the sandbox.
    Validate,
    /// Commit validated patches on the review branch.
    Commit,
}

impl Step {
    /// The flows the step consumes and produces.
    pub fn signature(self) -> (Flow, Flow) {
        match self {
            Step::Validate => (Flow::Patches, Flow::Reports),
            Step::Commit => (Flow::Message, Flow::Commits),
        }
    }
}

/// One stage of a pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub name: String,
    pub agents: Vec<String>,
    pub step: Option<Step>,
    pub mode: Mode,
    pub input: Flow,
    pub output: Vec<Flow>,
    /// For a `validate` step: the fixer that gets failing reports, and how many tries it has.
    pub repair: Option<String>,
    pub attempts: u32,
    #[serde(skip)]
    pub(super) lines: StageLines,
}

#[derive(Debug, Clone, Default)]
pub(super) struct StageLines {
    pub agents: Vec<usize>,
    pub repair: Option<usize>,
}

/// A named sequence of stages.
#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub name: String,
    pub description: String,
    pub stages: Vec<Stage>,
    pub origin: Origin,
    pub overrides: Option<Origin>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    name: Spanned<String>,
    description: String,
    #[serde(default)]
    stage: Vec<Spanned<RawStage>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    name: String,
    #[serde(default)]
    agents: Vec<Spanned<String>>,
    step: Option<Step>,
    #[serde(default)]
    mode: Mode,
    input: Flow,
    output: Vec<Flow>,
    repair: Option<Spanned<String>>,
    attempts: Option<u32>,
}

/// The most repair attempts a validate step may allow.
pub const MAX_ATTEMPTS: u32 = 5;

/// Parses a pipeline file, checking what one file can check on its own.
pub fn parse_pipeline(
    shown: &Path,
    text: &str,
    origin: Origin,
) -> (Option<Pipeline>, Vec<Problem>) {
    let raw: RawPipeline = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => return (None, vec![diag::toml_problem(shown, text, 1, &error)]),
    };
    let mut problems = Vec::new();
    let at = |offset: usize| diag::line_of(text, offset);
    let mut problem = |offset: usize, message: String| {
        problems.push(Problem::new(shown, Some(at(offset)), message));
    };

    let name = raw.name.get_ref();
    let name_at = raw.name.span().start;
    if !is_kebab(name) {
        problem(
            name_at,
            format!("pipeline name `{name}` must be kebab-case"),
        );
    } else if let Some(stem) = shown.file_stem().and_then(|s| s.to_str())
        && stem != name
    {
        problem(
            name_at,
            format!("pipeline `{name}` is in `{stem}.toml`; name the file `{name}.toml`"),
        );
    }
    if raw.stage.is_empty() {
        problem(
            name_at,
            String::from("a pipeline needs at least one `[[stage]]`"),
        );
    }

    let mut produced = vec![Flow::Task];
    let mut stage_names: Vec<&str> = Vec::new();
    for spanned in &raw.stage {
        let stage = spanned.get_ref();
        let stage_at = spanned.span().start;
        if stage_names.contains(&stage.name.as_str()) {
            problem(stage_at, format!("stage `{}` is defined twice", stage.name));
        }
        stage_names.push(&stage.name);
        check_stage(stage, &produced, &mut |message| problem(stage_at, message));
        produced.extend(&stage.output);
    }

    let stages = raw
        .stage
        .into_iter()
        .map(|spanned| {
            let stage = spanned.into_inner();
            let lines = StageLines {
                agents: stage.agents.iter().map(|a| at(a.span().start)).collect(),
                repair: stage.repair.as_ref().map(|r| at(r.span().start)),
            };
            Stage {
                name: stage.name,
                agents: stage.agents.into_iter().map(Spanned::into_inner).collect(),
                step: stage.step,
                mode: stage.mode,
                input: stage.input,
                output: stage.output,
                attempts: stage
                    .attempts
                    .unwrap_or(if stage.repair.is_some() { 2 } else { 0 }),
                repair: stage.repair.map(Spanned::into_inner),
                lines,
            }
        })
        .collect();
    let pipeline = Pipeline {
        name: raw.name.into_inner(),
        description: raw.description.trim().to_owned(),
        stages,
        origin,
        overrides: None,
    };
    (Some(pipeline), problems)
}

/// What one stage must be: it reads a flow an earlier stage produced, produces something, is
/// either agents or one of Nova's steps (with that step's signature), and takes a repair agent and
/// attempts only as a validate step.
fn check_stage(stage: &RawStage, produced: &[Flow], problem: &mut dyn FnMut(String)) {
    if !produced.contains(&stage.input) {
        let message = format!(
            "stage `{}` reads `{}`, which no earlier stage produces",
            stage.name, stage.input
        );
        problem(message);
    }
    if stage.output.is_empty() {
        problem(format!("stage `{}` has an empty `output`", stage.name));
    }
    match (stage.step, stage.agents.is_empty()) {
        (Some(_), false) => {
            let message = format!(
                "stage `{}` names a `step` and `agents`; give it one of the two",
                stage.name
            );
            problem(message);
        }
        (None, true) => {
            let message = format!("stage `{}` names no `agents` and no `step`", stage.name);
            problem(message);
        }
        (Some(step), true) => {
            let (input, output) = step.signature();
            if stage.input != input || stage.output != [output] {
                let message = format!(
                    "stage `{}`: the `{step:?}` step reads `{input}` and produces [`{output}`]",
                    stage.name
                )
                .to_lowercase();
                problem(message);
            }
        }
        (None, false) => {}
    }
    if stage.repair.is_some() && stage.step != Some(Step::Validate) {
        let message = format!(
            "stage `{}`: only a `validate` step takes a `repair` agent",
            stage.name
        );
        problem(message);
    }
    if let Some(attempts) = stage.attempts
        && (attempts == 0 || attempts > MAX_ATTEMPTS)
    {
        let message = format!(
            "stage `{}`: `attempts` must be between 1 and {MAX_ATTEMPTS}",
            stage.name
        );
        problem(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let origin = Origin::File("p.toml".into());
        let (_, found) = parse_pipeline(Path::new("p.toml"), text, origin);
        found.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn stages_must_read_what_earlier_stages_produce() {
        let text = "name = \"p\"\ndescription = \"d\"\n\n[[stage]]\nname = \"fix\"\nagents = [\"refactorer\"]\ninput = \"findings\"\noutput = [\"patches\"]\n";
        assert_eq!(
            problems(text),
            ["p.toml:4: stage `fix` reads `findings`, which no earlier stage produces"]
        );
    }

    #[test]
    fn steps_have_fixed_signatures() {
        let text = "name = \"p\"\ndescription = \"d\"\n[[stage]]\nname = \"v\"\nstep = \"validate\"\ninput = \"task\"\noutput = [\"reports\"]\n";
        assert_eq!(
            problems(text),
            ["p.toml:3: stage `v`: the `validate` step reads `patches` and produces [`reports`]"]
        );
    }

    #[test]
    fn unknown_flow_gets_a_suggestion() {
        let text = "name = \"p\"\ndescription = \"d\"\n[[stage]]\nname = \"v\"\nagents = [\"a\"]\ninput = \"task\"\noutput = [\"finding\"]\n";
        assert_eq!(
            problems(text),
            ["p.toml:7: unknown value `finding`; did you mean `findings`?"]
        );
    }
}
