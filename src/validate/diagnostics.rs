//! Reading `cargo --message-format=json` output: compiler and clippy diagnostics, with their
//! rule, group, primary span and machine-applicable suggestions.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::edit::{Replacement, RepoPath};
use crate::findings::{Severity, Span};

/// One diagnostic from rustc or clippy, reduced to what Nova uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// `clippy::needless_return` or `rustc::unused_imports`.
    pub rule: String,
    /// `clippy::style`, `rustc::unused`, when the compiler said.
    pub group: Option<String>,
    pub severity: Severity,
    pub message: String,
    /// The primary span's file, as cargo printed it (relative to the workspace root).
    pub file: String,
    pub span: Span,
    /// The fix, when every suggestion of the diagnostic is machine-applicable and in `file`.
    /// `expected` is left empty: the caller fills it from the file's text.
    pub replacements: Option<Vec<Replacement>>,
    pub rendered: String,
}

/// A file rustfmt would change: its text now and as rustfmt writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatDrift {
    pub path: RepoPath,
    pub before: String,
    pub after: String,
}

/// Everything read from one cargo run.
#[derive(Debug, Clone, Default)]
pub struct CargoOutput {
    /// Warnings and errors with a rule and a span, deduplicated, in the order cargo gave them.
    pub diagnostics: Vec<Diagnostic>,
    /// Rendered error-level messages (compile errors), for reports.
    pub errors: Vec<String>,
    /// The same errors, structured: code, file and position, message.
    pub error_details: Vec<CompileError>,
    /// From cargo's `build-finished` message.
    pub build_success: Option<bool>,
}

/// One compile error as a program reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompileError {
    /// `E0308`, when the compiler gave a code.
    pub code: Option<String>,
    pub message: String,
    /// The primary span's file, line and column (1-based), when there is one.
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl CompileError {
    /// Whether it is a lint the crate denies (`#![deny(warnings)]` makes `deprecated` one), not
    /// a compiler error: its code names a lint, not an `E0308`.
    pub fn is_denied_lint(&self) -> bool {
        self.code.as_deref().is_some_and(is_lint)
    }
}

impl CargoOutput {
    /// Warnings, and lints a crate denies (`#![deny(warnings)]`): what a fix could remove.
    pub fn warning_count(&self) -> usize {
        self.lints().count()
    }

    /// The diagnostics [`CargoOutput::warning_count`] counts.
    pub fn lints(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| {
            d.severity == Severity::Warning || (d.severity == Severity::Error && is_lint(&d.rule))
        })
    }

    /// Errors that stop compilation and are not denied lints, rendered: a syntax error, a type
    /// error. Not the closing "aborting due to" lines.
    pub fn compile_errors(&self) -> Vec<String> {
        self.errors
            .iter()
            .zip(&self.error_details)
            .filter(|(_, detail)| {
                !detail.code.as_deref().is_some_and(is_lint)
                    && !detail.message.starts_with("aborting due to")
            })
            .map(|(rendered, _)| rendered.clone())
            .collect()
    }
}

/// The groups that say nothing of a clippy lint's kind: a crate's `#![deny(warnings)]` or
/// `#![warn(clippy::all)]` names them in the note instead of the lint's own group.
const UMBRELLAS: &[&str] = &["rustc::warnings", "clippy::all"];

impl CargoOutput {
    /// Whether some clippy lint's group is unknown or an umbrella ([`CargoOutput::regroup`]
    /// would change it).
    pub fn needs_groups(&self) -> bool {
        self.diagnostics.iter().any(needs_group)
    }

    /// Gives each clippy lint whose note named no group of its own (`implied by
    /// #[deny(warnings)]`) its group from `groups` (`clippy_groups`), so that the reviewer
    /// that owns the group finds it.
    pub fn regroup(&mut self, groups: &BTreeMap<String, String>) {
        for diagnostic in self.diagnostics.iter_mut().filter(|d| needs_group(d)) {
            if let Some(group) = groups.get(&diagnostic.rule) {
                diagnostic.group = Some(group.clone());
            }
        }
    }
}

fn needs_group(diagnostic: &Diagnostic) -> bool {
    diagnostic.rule.starts_with("clippy::")
        && diagnostic
            .group
            .as_deref()
            .is_none_or(|group| UMBRELLAS.contains(&group))
}

/// Each clippy lint's group (`clippy::needless_return` -> `clippy::style`), from the lint groups
/// `clippy-driver -W help` lists (`clippy::style  clippy::needless-return, ...`); `clippy::all`
/// is left out, as it holds the others.
pub fn clippy_groups(help: &str) -> BTreeMap<String, String> {
    let mut groups = BTreeMap::new();
    for line in help.lines() {
        let Some((group, members)) = line.trim().split_once("  ") else {
            continue;
        };
        if !group.starts_with("clippy::") || UMBRELLAS.contains(&group) {
            continue;
        }
        for member in members.trim().split(", ") {
            groups.insert(member.replace('-', "_"), group.to_owned());
        }
    }
    groups
}

/// Whether a rule or code names a lint rather than a compile error (`E0308`, `rustc::E0308`).
fn is_lint(rule: &str) -> bool {
    let code = rule.strip_prefix("rustc::").unwrap_or(rule);
    !(code.len() == 5 && code.starts_with('E') && code[1..].bytes().all(|b| b.is_ascii_digit()))
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    message: Option<RawDiagnostic>,
    success: Option<bool>,
}

#[derive(Deserialize)]
struct RawDiagnostic {
    message: String,
    code: Option<Code>,
    level: String,
    spans: Vec<RawSpan>,
    children: Vec<RawDiagnostic>,
    rendered: Option<String>,
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

#[derive(Deserialize)]
struct RawSpan {
    file_name: String,
    byte_start: usize,
    byte_end: usize,
    line_start: usize,
    line_end: usize,
    column_start: usize,
    column_end: usize,
    is_primary: bool,
    suggested_replacement: Option<String>,
    suggestion_applicability: Option<String>,
}

/// Parses cargo's JSON lines. Lines that are not JSON (a build script's output) are skipped.
pub(super) fn parse_cargo_output(stdout: &str) -> CargoOutput {
    let mut out = CargoOutput::default();
    let mut groups: BTreeMap<String, String> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for line in stdout.lines() {
        let Ok(message) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        match message.reason.as_str() {
            "build-finished" => out.build_success = message.success,
            "compiler-message" => {
                let Some(raw) = message.message else { continue };
                if raw.level == "error" {
                    out.errors
                        .push(raw.rendered.clone().unwrap_or_else(|| raw.message.clone()));
                    let primary = raw.spans.iter().find(|span| span.is_primary);
                    out.error_details.push(CompileError {
                        code: raw.code.as_ref().map(|code| code.code.clone()),
                        message: raw.message.clone(),
                        file: primary.map(|span| span.file_name.clone()),
                        line: primary.map(|span| span.line_start),
                        column: primary.map(|span| span.column_start),
                    });
                }
                let Some(diagnostic) = reduce(&raw, &mut groups) else {
                    continue;
                };
                let key = (
                    diagnostic.rule.clone(),
                    diagnostic.file.clone(),
                    diagnostic.span.byte_start,
                    diagnostic.span.byte_end,
                    diagnostic.message.clone(),
                );
                if seen.insert(key) {
                    out.diagnostics.push(diagnostic);
                }
            }
            _ => {}
        }
    }
    // The compiler names a lint's group only on its first diagnostic; give it to all of them.
    for diagnostic in &mut out.diagnostics {
        if diagnostic.group.is_none() {
            diagnostic.group = groups.get(&diagnostic.rule).cloned();
        }
    }
    out
}

fn reduce(raw: &RawDiagnostic, groups: &mut BTreeMap<String, String>) -> Option<Diagnostic> {
    let severity = match raw.level.as_str() {
        "warning" => Severity::Warning,
        "error" => Severity::Error,
        _ => return None,
    };
    let code = raw.code.as_ref()?.code.as_str();
    let rule = if code.starts_with("clippy::") {
        code.to_owned()
    } else {
        format!("rustc::{code}")
    };
    let primary = raw.spans.iter().find(|s| s.is_primary)?;
    let group = raw
        .children
        .iter()
        .find_map(|child| group_in_note(&child.message));
    if let Some(group) = &group {
        groups.entry(rule.clone()).or_insert_with(|| group.clone());
    }
    Some(Diagnostic {
        rule,
        group,
        severity,
        message: raw.message.clone(),
        file: primary.file_name.clone(),
        span: Span {
            line_start: primary.line_start,
            column_start: primary.column_start,
            line_end: primary.line_end,
            column_end: primary.column_end,
            byte_start: primary.byte_start,
            byte_end: primary.byte_end,
        },
        replacements: suggestions(raw, &primary.file_name),
        rendered: raw.rendered.clone().unwrap_or_default(),
    })
}

/// The machine-applicable replacements of a diagnostic: the first of its suggestions (a help
/// child) whose every replacement is machine-applicable and in `file`. A diagnostic may offer
/// alternatives, some less certain (rustc's `mismatched_lifetime_syntaxes`); as rustfix does, the
/// certain one is taken.
fn suggestions(raw: &RawDiagnostic, file: &str) -> Option<Vec<Replacement>> {
    raw.children.iter().find_map(|child| {
        let mut replacements = Vec::new();
        for span in &child.spans {
            let Some(text) = &span.suggested_replacement else {
                continue;
            };
            if span.suggestion_applicability.as_deref() != Some("MachineApplicable")
                || span.file_name != file
            {
                return None;
            }
            replacements.push(Replacement {
                start: span.byte_start,
                end: span.byte_end,
                expected: String::new(),
                text: text.clone(),
            });
        }
        (!replacements.is_empty()).then_some(replacements)
    })
}

/// The group a note names: "`-W clippy::needless-return` implied by `-W clippy::style`",
/// "`#[warn(unused_imports)]` (part of `#[warn(unused)]`) on by default".
fn group_in_note(note: &str) -> Option<String> {
    let rest = note
        .split_once("implied by `")
        .or_else(|| note.split_once("part of `"))?
        .1;
    let inner = rest.split('`').next()?;
    let name = if let Some(attr) = inner.strip_prefix("#[") {
        attr.split_once('(')?.1.split(')').next()?
    } else {
        inner.split_whitespace().last()?
    };
    let name = name.replace('-', "_");
    Some(if name.starts_with("clippy::") {
        name
    } else {
        format!("rustc::{name}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lint_a_crate_denies_wholesale_gets_its_own_group() {
        let help = "Lint groups loaded by this crate:\n\n\
                    \x20                name  sub-lints\n\
                    \x20                ----  ---------\n\
                    \x20         clippy::all  clippy::needless-return, clippy::approx-constant\n\
                    \x20       clippy::style  clippy::assertions-on-constants, clippy::needless-return\n\
                    \x20 clippy::correctness  clippy::approx-constant\n";
        let groups = clippy_groups(help);
        assert_eq!(groups["clippy::needless_return"], "clippy::style");
        assert_eq!(groups["clippy::approx_constant"], "clippy::correctness");
        assert!(!groups.values().any(|g| g == "clippy::all"));
        let diagnostic = |rule: &str, group: Option<&str>| Diagnostic {
            rule: rule.to_owned(),
            group: group.map(str::to_owned),
            severity: Severity::Warning,
            message: String::new(),
            file: String::from("src/lib.rs"),
            span: Span {
                line_start: 1,
                column_start: 1,
                line_end: 1,
                column_end: 1,
                byte_start: 0,
                byte_end: 0,
            },
            replacements: None,
            rendered: String::new(),
        };
        let mut output = CargoOutput {
            diagnostics: vec![
                diagnostic("clippy::needless_return", Some("rustc::warnings")),
                diagnostic("clippy::approx_constant", Some("clippy::all")),
                diagnostic("rustc::dead_code", Some("rustc::warnings")),
            ],
            ..CargoOutput::default()
        };
        assert!(output.needs_groups());
        output.regroup(&groups);
        let regrouped: Vec<Option<&str>> = output
            .diagnostics
            .iter()
            .map(|d| d.group.as_deref())
            .collect();
        assert_eq!(
            regrouped,
            [
                Some("clippy::style"),
                Some("clippy::correctness"),
                Some("rustc::warnings")
            ]
        );
        assert!(!output.needs_groups());
    }

    #[test]
    fn a_denied_lint_is_told_from_a_compiler_error() {
        let error = |code: Option<&str>| CompileError {
            code: code.map(str::to_owned),
            message: String::new(),
            file: None,
            line: None,
            column: None,
        };
        assert!(error(Some("deprecated")).is_denied_lint());
        assert!(error(Some("clippy::needless_return")).is_denied_lint());
        assert!(!error(Some("E0308")).is_denied_lint());
        assert!(!error(None).is_denied_lint(), "no code: a compiler error");
    }

    #[test]
    fn groups_from_notes() {
        let cases = [
            (
                "`-W clippy::needless-return` implied by `-W clippy::style`",
                Some("clippy::style"),
            ),
            (
                "`#[warn(unused_imports)]` (part of `#[warn(unused)]`) on by default",
                Some("rustc::unused"),
            ),
            (
                "`#[warn(clippy::doc_markdown)]` implied by `#[warn(clippy::pedantic)]`",
                Some("clippy::pedantic"),
            ),
            ("`#[warn(dead_code)]` on by default", None),
        ];
        for (note, group) in cases {
            assert_eq!(group_in_note(note).as_deref(), group, "{note}");
        }
    }

    #[test]
    fn reads_a_clippy_diagnostic_with_its_fix() {
        let line = r#"{"reason":"compiler-message","message":{"message":"unneeded `return` statement","code":{"code":"clippy::needless_return","explanation":null},"level":"warning","spans":[{"file_name":"src/lib.rs","byte_start":72,"byte_end":85,"line_start":4,"line_end":4,"column_start":5,"column_end":18,"is_primary":true,"suggested_replacement":null,"suggestion_applicability":null}],"children":[{"message":"`-W clippy::needless-return` implied by `-W clippy::style`","code":null,"level":"note","spans":[],"children":[],"rendered":null},{"message":"remove `return`","code":null,"level":"help","spans":[{"file_name":"src/lib.rs","byte_start":72,"byte_end":84,"line_start":4,"line_end":4,"column_start":5,"column_end":17,"is_primary":true,"suggested_replacement":"a + b","suggestion_applicability":"MachineApplicable"},{"file_name":"src/lib.rs","byte_start":84,"byte_end":85,"line_start":4,"line_end":4,"column_start":17,"column_end":18,"is_primary":true,"suggested_replacement":"","suggestion_applicability":"MachineApplicable"}],"children":[],"rendered":null}],"rendered":"warning: unneeded `return` statement\n"}}
{"reason":"build-finished","success":true}
not json from a build script"#;
        let out = parse_cargo_output(&format!("{line}\n{line}"));
        assert_eq!(out.build_success, Some(true));
        assert_eq!(out.diagnostics.len(), 1, "duplicates are dropped");
        let d = &out.diagnostics[0];
        assert_eq!(d.rule, "clippy::needless_return");
        assert_eq!(d.group.as_deref(), Some("clippy::style"));
        assert_eq!(d.span.line_start, 4);
        let fix = d.replacements.as_ref().expect("machine-applicable");
        assert_eq!(fix.len(), 2);
        assert_eq!(fix[0].text, "a + b");
    }

    #[test]
    fn compile_errors_are_kept_rendered_and_structured() {
        let line = r#"{"reason":"compiler-message","message":{"message":"mismatched types","code":{"code":"E0308","explanation":null},"level":"error","spans":[{"file_name":"src/lib.rs","byte_start":30,"byte_end":34,"line_start":2,"line_end":2,"column_start":5,"column_end":9,"is_primary":true,"suggested_replacement":null,"suggestion_applicability":null}],"children":[],"rendered":"error[E0308]: mismatched types\n"}}
{"reason":"compiler-message","message":{"message":"aborting due to 1 previous error","code":null,"level":"error","spans":[],"children":[],"rendered":"error: aborting due to 1 previous error\n"}}"#;
        let out = parse_cargo_output(line);
        assert_eq!(out.errors.len(), 2);
        assert_eq!(
            out.error_details[0],
            CompileError {
                code: Some(String::from("E0308")),
                message: String::from("mismatched types"),
                file: Some(String::from("src/lib.rs")),
                line: Some(2),
                column: Some(5),
            }
        );
        assert_eq!(out.error_details[1].file, None);
    }

    #[test]
    fn the_machine_applicable_alternative_is_taken() {
        let span = |replacement: &str, applicability: &str| {
            format!(
                r#"{{"file_name":"src/lib.rs","byte_start":10,"byte_end":12,"line_start":1,"line_end":1,"column_start":11,"column_end":13,"is_primary":true,"suggested_replacement":"{replacement}","suggestion_applicability":"{applicability}"}}"#
            )
        };
        let line = format!(
            r#"{{"reason":"compiler-message","message":{{"message":"hiding a lifetime","code":{{"code":"mismatched_lifetime_syntaxes","explanation":null}},"level":"warning","spans":[{primary}],"children":[{{"message":"remove the lifetime","code":null,"level":"help","spans":[{maybe}],"children":[],"rendered":null}},{{"message":"use `'_`","code":null,"level":"help","spans":[{certain}],"children":[],"rendered":null}}],"rendered":""}}}}"#,
            primary = span("", "Unspecified").replace(
                r#""suggested_replacement":"""#,
                r#""suggested_replacement":null"#
            ),
            maybe = span("", "MaybeIncorrect"),
            certain = span("'_", "MachineApplicable"),
        );
        let out = parse_cargo_output(&line);
        let fix = out.diagnostics[0].replacements.as_ref().expect("a fix");
        assert_eq!(fix.len(), 1);
        assert_eq!(fix[0].text, "'_");
    }

    #[test]
    fn a_less_certain_suggestion_means_no_fix() {
        let line = r#"{"reason":"compiler-message","message":{"message":"writing `&Vec`","code":{"code":"clippy::ptr_arg","explanation":null},"level":"warning","spans":[{"file_name":"src/lib.rs","byte_start":1,"byte_end":2,"line_start":1,"line_end":1,"column_start":2,"column_end":3,"is_primary":true,"suggested_replacement":null,"suggestion_applicability":null}],"children":[{"message":"change this to","code":null,"level":"help","spans":[{"file_name":"src/lib.rs","byte_start":1,"byte_end":2,"line_start":1,"line_end":1,"column_start":2,"column_end":3,"is_primary":true,"suggested_replacement":"&[i32]","suggestion_applicability":"Unspecified"}],"children":[],"rendered":null}],"rendered":""}}"#;
        let out = parse_cargo_output(line);
        assert_eq!(out.diagnostics[0].replacements, None);
        assert_eq!(out.warning_count(), 1);
    }
}
