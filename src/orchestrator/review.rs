//! `review`: findings only. The rule packs of the `review` pipeline's enabled reviewers run over
//! every Rust file of the repository (gitignore-aware), each file parsed once; what they find
//! becomes typed `Finding`s, fingerprinted from rule, path, enclosing symbol and the code itself
//! (so a finding keeps its identity when lines move), sorted by severity, then place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::agents::AgentSet;
use crate::edit::RepoPath;
use crate::findings::{Finding, Span, fingerprint};
use crate::rules::{Hit, RuleSet};

/// The pipeline `nova review` runs.
pub const REVIEW_PIPELINE: &str = "review";

/// What to review.
#[derive(Debug, Clone)]
pub struct ReviewRequest {
    pub repo_root: PathBuf,
    /// Agents that must not run (`[agents] disabled`).
    pub disabled: Vec<String>,
}

/// What a review found.
#[derive(Debug, Clone)]
pub struct ReviewOutcome {
    pub findings: Vec<Finding>,
    /// Rust files read.
    pub files: usize,
    /// Rules that ran, and the reviewers that own them.
    pub rules: usize,
    pub reviewers: Vec<String>,
    pub seconds: f64,
}

/// Why a review could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "there is no `{REVIEW_PIPELINE}` pipeline: restore `agents/pipelines/{REVIEW_PIPELINE}.toml` \
         or remove the override in `.nova/agents/pipelines/`"
    )]
    NoPipeline,
    #[error("the rules have problems; the first: {0}. `nova rules test` lists them all")]
    Rules(String),
}

/// Reviews the repository with the rule packs of the `review` pipeline's enabled reviewers.
pub fn review(request: &ReviewRequest, set: &AgentSet) -> Result<ReviewOutcome, ReviewError> {
    let started = Instant::now();
    let pipeline = set
        .pipeline(REVIEW_PIPELINE)
        .ok_or(ReviewError::NoPipeline)?;
    let reviewers: Vec<String> = pipeline
        .stages
        .iter()
        .flat_map(|stage| stage.agents.iter())
        .filter(|name| !request.disabled.contains(name) && set.agent(name).is_some())
        .cloned()
        .collect();
    let (rules, problems) = RuleSet::for_repo(Some(&request.repo_root));
    if let Some(first) = problems.first() {
        return Err(ReviewError::Rules(first.to_string()));
    }
    let rules = rules.owned_by(&reviewers);
    let root = &request.repo_root;
    let mut skipped = BTreeMap::new();
    let files: Vec<_> = crate::index::walk(root, &mut skipped)
        .into_iter()
        .filter(|found| found.path.ends_with(".rs"))
        .collect();
    let read = |path: &str| std::fs::read_to_string(root.join(path)).ok();
    let mut findings = Vec::new();
    for file in &files {
        let Some(text) = read(&file.path) else {
            continue;
        };
        for hit in rules.scan(&file.path, &text, &read) {
            if let Some(finding) = finding(&file.path, &text, hit) {
                findings.push(finding);
            }
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.span.cmp(&b.span))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    Ok(ReviewOutcome {
        findings,
        files: files.len(),
        rules: rules.rules.len(),
        reviewers,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A rule's hit as a finding: located, with its symbol and a fingerprint from the code at it.
fn finding(path: &str, text: &str, hit: Hit) -> Option<Finding> {
    let path = RepoPath::new(path)?;
    let code = text.get(hit.bytes.clone()).unwrap_or("");
    // The code, whitespace collapsed: reformatting does not change a finding's identity.
    let normalised: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(Finding {
        fingerprint: fingerprint(&hit.rule, &path, hit.symbol.as_deref(), &normalised),
        rule: hit.rule,
        group: None,
        agent: hit.agent,
        path,
        span: Span {
            line_start: hit.line,
            column_start: hit.column,
            line_end: hit.end_line,
            column_end: hit.end_column,
            byte_start: hit.bytes.start,
            byte_end: hit.bytes.end,
        },
        symbol: hit.symbol,
        severity: hit.severity,
        message: hit.message,
        fix: None,
    })
}

/// The line of `text` a finding starts on, for showing it.
pub fn line_at(root: &Path, finding: &Finding) -> Option<String> {
    let text = std::fs::read_to_string(root.join(finding.path.as_str())).ok()?;
    text.lines()
        .nth(finding.span.line_start.checked_sub(1)?)
        .map(str::to_owned)
}
