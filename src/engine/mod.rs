//! The builtin brain: offline, deterministic reviewers and refactorers built from the compiler,
//! clippy and rustfmt.
//!
//! Owns: turning cargo's diagnostics and rustfmt's drift into `Finding`s owned by the reviewer
//! agents whose `builtin` rules select them, and turning fixable findings into `Patch`es.
//! Never: uses the network or spawns processes. `validate` runs the tools; this module reads
//! what they printed.

use std::collections::BTreeMap;

use crate::agents::AgentDef;
use crate::edit::{FileChange, Patch, Rebase, RepoPath, apply_replacements};
use crate::findings::{Finding, Fix, Severity, Span, fingerprint};
use crate::validate::{Diagnostic, FormatDrift};

/// The rule name of formatting drift.
pub const RUSTFMT: &str = "rustfmt";

/// How closely a selector matches a rule: the most specific selector wins ownership.
fn specificity(selector: &str, rule: &str, group: Option<&str>) -> Option<u8> {
    if selector == rule {
        return Some(3);
    }
    if Some(selector) == group {
        return Some(2);
    }
    if selector == "clippy::all"
        && rule.starts_with("clippy::")
        && group.is_some_and(|g| {
            [
                "clippy::correctness",
                "clippy::suspicious",
                "clippy::style",
                "clippy::complexity",
                "clippy::perf",
            ]
            .contains(&g)
        })
    {
        return Some(2);
    }
    // `rules::*` selects every one of Nova's own rules (their ids have no `::`).
    if selector == "rules::*" && !rule.contains("::") && rule != RUSTFMT {
        return Some(1);
    }
    let (source, name) = selector.split_once("::")?;
    (name == "*" && rule.starts_with(source) && rule[source.len()..].starts_with("::")).then_some(1)
}

/// The agent among `agents` whose `builtin` list selects `rule` most specifically; on a tie, the
/// first in name order.
pub fn owner<'a>(agents: &[&'a AgentDef], rule: &str, group: Option<&str>) -> Option<&'a AgentDef> {
    let mut best: Option<(u8, &AgentDef)> = None;
    for agent in agents {
        let score = agent
            .builtin
            .iter()
            .filter_map(|selector| specificity(selector, rule, group))
            .max();
        if let Some(score) = score {
            let better = match best {
                None => true,
                Some((top, holder)) => score > top || (score == top && agent.name < holder.name),
            };
            if better {
                best = Some((score, agent));
            }
        }
    }
    best.map(|(_, agent)| agent)
}

/// What the builtin reviewers found.
#[derive(Debug, Clone, Default)]
pub struct Review {
    /// Owned findings, sorted by path, position and rule.
    pub findings: Vec<Finding>,
    /// Diagnostics no reviewer owns (not reported), by rule.
    pub unowned: BTreeMap<String, usize>,
}

/// Where a finding is: the base text of a repository file (`None` for files outside it, or
/// generated), and the name of the symbol that encloses a line of it (from the index).
pub trait Source {
    fn text(&self, path: &RepoPath) -> Option<String>;
    fn symbol(&self, path: &RepoPath, line: usize) -> Option<String>;
}

/// Turns diagnostics and formatting drift into findings of the `reviewers` that own them.
/// Diagnostics in files `source` cannot give are dropped.
pub fn review(
    diagnostics: &[Diagnostic],
    drift: &[FormatDrift],
    reviewers: &[&AgentDef],
    source: &dyn Source,
) -> Review {
    let mut out = Review::default();
    let mut texts: BTreeMap<RepoPath, Option<String>> = BTreeMap::new();
    for d in diagnostics {
        if d.severity != Severity::Warning {
            continue; // errors stop the build; they are not improvements to make
        }
        let Some(agent) = owner(reviewers, &d.rule, d.group.as_deref()) else {
            *out.unowned.entry(d.rule.clone()).or_default() += 1;
            continue;
        };
        let Some(path) = RepoPath::new(&d.file) else {
            continue;
        };
        let text = texts
            .entry(path.clone())
            .or_insert_with(|| source.text(&path));
        let Some(text) = text.as_deref() else {
            continue;
        };
        let fix = d.replacements.as_ref().and_then(|replacements| {
            let filled: Option<Vec<_>> = replacements
                .iter()
                .map(|r| {
                    let expected = text.get(r.start..r.end)?.to_owned();
                    Some(crate::edit::Replacement {
                        expected,
                        ..r.clone()
                    })
                })
                .collect();
            filled.map(Fix::Replace)
        });
        let symbol = source.symbol(&path, d.span.line_start);
        let at = text.get(d.span.byte_start..d.span.byte_end).unwrap_or("");
        out.findings.push(Finding {
            rule: d.rule.clone(),
            group: d.group.clone(),
            agent: agent.name.clone(),
            fingerprint: fingerprint(&d.rule, &path, symbol.as_deref(), at),
            symbol,
            path,
            span: d.span,
            severity: d.severity,
            message: d.message.clone(),
            fix,
        });
    }
    for file in drift {
        let Some(agent) = owner(reviewers, RUSTFMT, None) else {
            *out.unowned.entry(RUSTFMT.to_owned()).or_default() += 1;
            continue;
        };
        out.findings.push(drift_finding(file, &agent.name));
    }
    out.findings.sort_by(|a, b| {
        (&a.path, a.span.byte_start, &a.rule, a.span.byte_end).cmp(&(
            &b.path,
            b.span.byte_start,
            &b.rule,
            b.span.byte_end,
        ))
    });
    out
}

fn drift_finding(file: &FormatDrift, agent: &str) -> Finding {
    let hunks = crate::edit::hunks(&file.before, &file.after);
    let first_line = hunks.first().map_or(0, |(old, _)| old.start);
    let changed: usize = hunks
        .iter()
        .map(|(old, new)| old.len().max(new.len()))
        .sum();
    let byte_start: usize = file
        .before
        .split_inclusive('\n')
        .take(first_line)
        .map(str::len)
        .sum();
    Finding {
        rule: RUSTFMT.to_owned(),
        group: None,
        agent: agent.to_owned(),
        path: file.path.clone(),
        span: Span {
            line_start: first_line + 1,
            column_start: 1,
            line_end: first_line + 1,
            column_end: 1,
            byte_start,
            byte_end: byte_start,
        },
        symbol: None,
        fingerprint: fingerprint(RUSTFMT, &file.path, None, ""),
        severity: Severity::Info,
        message: format!("not formatted as rustfmt formats it ({changed} lines differ)"),
        fix: Some(Fix::Format),
    }
}

/// Whether `refactorer` (by its `builtin` rules) fixes findings of this rule.
pub fn fixes(refactorer: &AgentDef, finding: &Finding) -> bool {
    owner(&[refactorer], &finding.rule, finding.group.as_deref()).is_some()
}

/// Why no patch came of a finding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoPatch {
    #[error("no machine-applicable fix")]
    NoFix,
    #[error("it overlaps another fix made before it in this run")]
    Overlaps,
    #[error("the fix no longer applies: {0}")]
    Stale(String),
    #[error("rustfmt leaves the file as it is now")]
    AlreadyFormatted,
}

/// The builtin refactorer: the patch that applies `finding`'s fix to `current`, the file's text at
/// the tip of the review branch. `formatted` is rustfmt's version of `current`, for `rustfmt`
/// findings. Returns the patch and the base-coordinate replacements it applied, for `Rebase`.
pub fn propose(
    finding: &Finding,
    current: &str,
    rebase: &Rebase,
    formatted: Option<&str>,
) -> Result<Patch, NoPatch> {
    let summary = match &finding.symbol {
        Some(symbol) => format!("Fix `{}` in `{symbol}` ({})", finding.rule, finding.path),
        None => format!("Fix `{}` in {}", finding.rule, finding.path),
    };
    let after = match &finding.fix {
        None => return Err(NoPatch::NoFix),
        Some(Fix::Replace(replacements)) => {
            let moved = rebase
                .map(&finding.path, replacements)
                .ok_or(NoPatch::Overlaps)?;
            apply_replacements(current, &moved).map_err(|e| NoPatch::Stale(e.to_string()))?
        }
        Some(Fix::Format) => {
            let formatted = formatted.ok_or(NoPatch::AlreadyFormatted)?;
            if formatted == current {
                return Err(NoPatch::AlreadyFormatted);
            }
            formatted.to_owned()
        }
    };
    let summary = if finding.rule == RUSTFMT {
        format!("Format {} with rustfmt", finding.path)
    } else {
        summary
    };
    Ok(Patch {
        summary,
        changes: vec![FileChange::modify(finding.path.clone(), current, after)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::AgentSet;

    #[test]
    fn the_most_specific_selector_owns_a_rule() {
        let set = AgentSet::builtin();
        let reviewers: Vec<&AgentDef> = set
            .agents()
            .filter(|a| a.role == crate::agents::Role::Reviewer)
            .collect();
        let name = |rule: &str, group: Option<&str>| {
            owner(&reviewers, rule, group).map(|a| a.name.as_str())
        };
        assert_eq!(
            name("rustc::unused_imports", Some("rustc::unused")),
            Some("correctness-reviewer")
        );
        assert_eq!(
            name("rustc::unused_must_use", None),
            Some("error-handling-reviewer")
        );
        assert_eq!(
            name("clippy::needless_return", Some("clippy::style")),
            Some("correctness-reviewer")
        );
        assert_eq!(
            name("clippy::redundant_clone", Some("clippy::nursery")),
            Some("performance-reviewer")
        );
        assert_eq!(
            name("clippy::box_collection", Some("clippy::perf")),
            Some("performance-reviewer")
        );
        assert_eq!(name("rustfmt", None), Some("correctness-reviewer"));
        assert_eq!(
            name("clippy::cargo_common_metadata", Some("clippy::cargo")),
            None
        );
    }
}
