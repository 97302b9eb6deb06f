//! Findings as documents for other tools: SARIF 2.1.0 (what GitHub code scanning reads) and
//! Markdown (a pull request comment). Shared by the commands that report findings.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::findings::{Finding, Fix, Severity};
use crate::rules::RuleSet;

/// SARIF's level for a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A SARIF 2.1.0 log of one run: the rules that found something (with their help), and every
/// finding with its location, its fingerprint and its fix where it has one.
pub fn sarif(findings: &[Finding], rules: &RuleSet) -> Value {
    let mut ids: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let index: BTreeMap<&str, usize> = ids.iter().enumerate().map(|(n, id)| (*id, n)).collect();
    let descriptors: Vec<Value> = ids
        .iter()
        .map(|id| {
            let Some(rule) = rules.rule(id) else {
                return json!({"id": id});
            };
            let file = &rule.file;
            let mut help = file.why.clone();
            if let Some(lint) = &file.lint {
                let _ = write!(help, " The same as `{lint}`.");
            }
            json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": file.message},
                "fullDescription": {"text": file.why},
                "help": {"text": help},
                "defaultConfiguration": {"level": level(file.severity)},
                "properties": {"tags": [file.agent]},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": index.get(f.rule.as_str()).copied().unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.path.as_str(), "uriBaseId": "%SRCROOT%"},
                    "region": {
                        "startLine": f.span.line_start,
                        "startColumn": f.span.column_start,
                        "endLine": f.span.line_end,
                        "endColumn": f.span.column_end,
                    },
                }}],
                "partialFingerprints": {"novaFingerprint/v1": f.fingerprint},
            });
            if let Some(fix) = fix(f, rules) {
                result["fixes"] = json!([fix]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "nova",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "results": results,
        }],
    })
}

/// A finding's fix as SARIF says one: byte ranges of its file deleted and text put in their place.
fn fix(finding: &Finding, rules: &RuleSet) -> Option<Value> {
    let Some(Fix::Replace(replacements)) = &finding.fix else {
        return None;
    };
    let summary = rules
        .rule(&finding.rule)
        .and_then(|rule| rule.file.fix.as_ref())
        .map_or("Nova's fix", |fix| fix.summary.as_str());
    let replacements: Vec<Value> = replacements
        .iter()
        .map(|r| {
            json!({
                "deletedRegion": {"byteOffset": r.start, "byteLength": r.end - r.start},
                "insertedContent": {"text": r.text},
            })
        })
        .collect();
    Some(json!({
        "description": {"text": summary},
        "artifactChanges": [{
            "artifactLocation": {"uri": finding.path.as_str(), "uriBaseId": "%SRCROOT%"},
            "replacements": replacements,
        }],
    }))
}

/// A pull request comment: a summary table by reviewer and severity, then each finding with a
/// link to its line (relative to the repository, as GitHub resolves links in a comment on the
/// repository's files only when given a base; `link_base` is prefixed when given).
pub fn markdown(findings: &[Finding], link_base: Option<&str>) -> String {
    let mut out = String::from("## Nova review\n\n");
    if findings.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    let mut table: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for finding in findings {
        let row = table.entry(finding.agent.as_str()).or_default();
        row[match finding.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        }] += 1;
    }
    out.push_str("| reviewer | errors | warnings | notes |\n|---|---:|---:|---:|\n");
    for (agent, [errors, warnings, notes]) in &table {
        let _ = writeln!(out, "| {agent} | {errors} | {warnings} | {notes} |");
    }
    out.push('\n');
    for finding in findings {
        let place = format!("{}#L{}", finding.path, finding.span.line_start);
        let link = match link_base {
            Some(base) => format!("{}/{place}", base.trim_end_matches('/')),
            None => place,
        };
        let within = finding
            .symbol
            .as_deref()
            .map(|s| format!(" in `{s}`"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- **{}** [`{}:{}`]({link}){within} `{}`: {}",
            level(finding.severity),
            finding.path,
            finding.span.line_start,
            finding.rule,
            finding.message.replace('\n', " ")
        );
    }
    out
}

/// Text for one Markdown table cell: one line, no stray `|`.
pub fn table_cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}
