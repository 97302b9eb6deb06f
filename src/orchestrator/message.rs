//! The builtin committer: commit messages that name the rule, the file and the symbol (or the
//! files a reply changed), with Nova's trailers.

use crate::edit::Patch;
use crate::findings::{Finding, Fix};
use crate::validate::ValidationReport;

/// The message of the commit that resolves `finding`, made by `agent` in run `run`.
pub fn commit_message(
    finding: &Finding,
    subject: &str,
    agent: &str,
    run: &str,
    report: &ValidationReport,
) -> String {
    let group = finding
        .group
        .as_deref()
        .map(|g| format!(", group `{g}`"))
        .unwrap_or_default();
    let found = format!(
        "Found by {} at {}{} (`{}`{group}). {}",
        finding.agent,
        finding.location(),
        in_symbol(finding),
        finding.rule,
        how(finding),
    );
    format!(
        "{}\n\n{}\n\n{}\n\n{}",
        subject_line(subject),
        wrap(&finding.message, 72),
        wrap(&found, 72),
        trailers(agent, run, report),
    )
}

/// The message of the commit that resolves `findings`, all of one rule, proved together.
pub fn group_message(
    findings: &[Finding],
    subject: &str,
    agent: &str,
    run: &str,
    report: &ValidationReport,
) -> String {
    let Some(first) = findings.first() else {
        return format!(
            "{}\n\n{}",
            subject_line(subject),
            trailers(agent, run, report)
        );
    };
    let rules: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.rule.as_str()).collect();
    let places: Vec<String> = findings
        .iter()
        .map(|f| {
            let rule = if rules.len() > 1 {
                format!(" (`{}`)", f.rule)
            } else {
                String::new()
            };
            format!(
                "- {}{}{rule}: {}",
                f.location(),
                in_symbol(f),
                f.message.trim()
            )
        })
        .collect();
    let found = if rules.len() == 1 {
        format!(
            "Found by {} (`{}`), {} places proved together as one change. {}",
            first.agent,
            first.rule,
            findings.len(),
            how(first),
        )
    } else {
        format!(
            "Found by the reviewers: {} places of {} rules, proved together as one change. \
             Applied the fixes the compiler, clippy and the rules' templates give.",
            findings.len(),
            rules.len(),
        )
    };
    format!(
        "{}\n\n{}\n\n{}\n\n{}",
        subject_line(subject),
        wrap(&found, 72),
        places.join("\n"),
        trailers(agent, run, report),
    )
}

/// A committer agent's message `text` for a change `agent` made in run `run`, with Nova's
/// trailers (any the agent wrote itself are dropped: Nova's are the record).
pub fn described_message(text: &str, agent: &str, run: &str, report: &ValidationReport) -> String {
    let mut lines = text.trim().lines();
    let subject = subject_line(lines.next().unwrap_or(""));
    let body: Vec<&str> = lines.filter(|line| !line.starts_with("Nova-")).collect();
    let body = body.join("\n");
    let body = body.trim();
    if body.is_empty() {
        return format!("{subject}\n\n{}", trailers(agent, run, report));
    }
    format!("{subject}\n\n{body}\n\n{}", trailers(agent, run, report))
}

/// The first line of `subject`, at most 72 characters.
fn subject_line(subject: &str) -> String {
    let subject = subject.lines().next().unwrap_or("").trim();
    if subject.chars().count() > 72 {
        return subject.chars().take(71).collect::<String>() + "…";
    }
    subject.to_owned()
}

/// How the builtin brain fixed `finding`.
fn how(finding: &Finding) -> &'static str {
    match finding.fix {
        Some(Fix::Format) => "Applied rustfmt to the whole file.",
        // Nova's own rules have bare ids; the compiler's and clippy's are `rustc::`/`clippy::`.
        _ if !finding.rule.contains("::") => "Applied the rule's fix template.",
        _ => "Applied the compiler's machine-applicable suggestion.",
    }
}

/// ` in `symbol`` when the finding has one.
fn in_symbol(finding: &Finding) -> String {
    finding
        .symbol
        .as_deref()
        .map(|s| format!(" in `{s}`"))
        .unwrap_or_default()
}

/// Nova's trailers: one `Nova-Agent` per agent that wrote the change (`agent` names several
/// with `, ` between: agent names are kebab-case), the run, the proof.
fn trailers(agent: &str, run: &str, report: &ValidationReport) -> String {
    format!(
        "{}Nova-Run: {run}\nNova-Validation: {}\nNova-Sandbox: {}\n",
        agent_trailers(agent),
        report.summary(),
        report.sandbox,
    )
}

/// One `Nova-Agent` trailer per agent `agent` names.
fn agent_trailers(agent: &str) -> String {
    agent
        .split(", ")
        .map(|name| format!("Nova-Agent: {name}\n"))
        .collect()
}

/// The message of the commit that applies a reply, proved by `report` in run `run`.
pub fn reply_message(patch: &Patch, run: &str, report: &ValidationReport) -> String {
    let files: Vec<String> = patch
        .changes
        .iter()
        .map(|c| {
            let how = match (&c.before, &c.after) {
                (None, _) => "added",
                (_, None) => "deleted",
                _ => "changed",
            };
            format!("- {} ({how})", c.path)
        })
        .collect();
    format!(
        "{}\n\n{}\n\nNova-Agent: apply\nNova-Run: {run}\nNova-Validation: {}\nNova-Sandbox: {}\n",
        patch.summary,
        files.join("\n"),
        report.summary(),
        report.sandbox
    )
}

/// Who made a change asked for with `nova ask`: the agent, its model, the run.
#[derive(Debug, Clone, Copy)]
pub struct MadeBy<'a> {
    pub agent: &'a str,
    pub model: &'a str,
    pub run: &'a str,
    /// Trailers the caller adds after Nova's own.
    pub trailers: &'a [String],
}

/// The message of the commit that does what `request` asked, proved by `report`.
pub fn request_message(
    patch: &Patch,
    request: &str,
    made: &MadeBy<'_>,
    report: &ValidationReport,
) -> String {
    let mut subject: String = patch.summary.lines().next().unwrap_or("").trim().to_owned();
    if subject.is_empty() {
        subject = String::from("Change asked for with nova ask");
    }
    if subject.chars().count() > 72 {
        subject = subject.chars().take(71).collect::<String>() + "…";
    }
    // A committer's message has a body under its subject: it goes above what Nova adds.
    let body = patch
        .summary
        .split_once('\n')
        .map(|(_, body)| body.trim())
        .filter(|body| !body.is_empty())
        .map(|body| format!("{body}\n\n"))
        .unwrap_or_default();
    let asked = format!("Asked: {}", request.trim());
    let files: Vec<String> = patch
        .changes
        .iter()
        .map(|c| format!("- {}", c.path))
        .collect();
    let mut message = format!(
        "{subject}\n\n{body}{}\n\n{}\n\n{}Nova-Model: {}\nNova-Run: {}\n\
         Nova-Validation: {}\nNova-Sandbox: {}\n",
        wrap(&asked, 72),
        files.join("\n"),
        agent_trailers(made.agent),
        made.model,
        made.run,
        report.summary(),
        report.sandbox,
    );
    for trailer in made.trailers {
        message.push_str(trailer.trim());
        message.push('\n');
    }
    message
}

/// Wraps prose at `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split_whitespace() {
        if line_len > 0 && line_len + 1 + word.len() > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out
}
