//! Problems found in files Nova reads (configuration, agent files, pipelines), located by file and
//! line, and the "did you mean" suggestions that go with them.
//!
//! Owns: turning a TOML deserialization error into a [`Problem`] a person can act on.
//! Never: reads files or decides policy; callers hand it text they already hold.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One problem in one file, with the line it is on when that is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: PathBuf,
    /// 1-based line number.
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<PathBuf>, line: Option<usize>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// The 1-based line that byte `offset` of `text` falls on.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The candidate closest to `wanted`, if any is close enough to be a plausible typo.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(wanted, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// Turns a TOML error into a problem. `text` is the TOML that was parsed and `first_line` the line of
/// `path` it starts on (agent files carry their TOML after a `+++` line).
pub fn toml_problem(
    path: &Path,
    text: &str,
    first_line: usize,
    error: &toml::de::Error,
) -> Problem {
    let line = error.span().map(|span| line_of(text, span.start));
    let message = describe_toml_error(text, line, error.message());
    Problem::new(path, line.map(|l| l + first_line - 1), message)
}

/// Rewrites serde's messages into Nova's voice: unknown fields become unknown keys with the table
/// they are in and the closest valid key.
fn describe_toml_error(text: &str, line: Option<usize>, message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (key, expected) = split_unknown(rest);
        let table = line.and_then(|line| table_at(text, line));
        let place = match table {
            Some(table) => format!(" in `[{table}]`"),
            None => String::new(),
        };
        let hint = match closest(&key, expected.iter().map(String::as_str)) {
            Some(best) => format!("; did you mean `{best}`?"),
            None if expected.is_empty() => String::new(),
            None => format!("; valid keys: {}", quote_list(&expected)),
        };
        return format!("unknown key `{key}`{place}{hint}");
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (value, expected) = split_unknown(rest);
        let hint = match closest(&value, expected.iter().map(String::as_str)) {
            Some(best) => format!("; did you mean `{best}`?"),
            None => format!("; expected one of {}", quote_list(&expected)),
        };
        return format!("unknown value `{value}`{hint}");
    }
    message.replace("field", "key")
}

/// Splits "`name`, expected one of `a`, `b`" into the name and the expected names.
fn split_unknown(rest: &str) -> (String, Vec<String>) {
    let mut names = rest.split('`').skip(1).step_by(2).map(str::to_owned);
    let name = names.next().unwrap_or_default();
    (name, names.collect())
}

fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The name of the `[table]` (or `[[array]]`) header that governs 1-based `line` of `text`. When
/// that line is itself a header, the unknown key is the header's own name, which lives in the
/// table before it.
fn table_at(text: &str, line: usize) -> Option<String> {
    let header = |l: &str| {
        let l = l.trim();
        let inner = l.strip_prefix("[[").and_then(|l| l.split("]]").next());
        let inner = inner.or_else(|| l.strip_prefix('[').and_then(|l| l.split(']').next()));
        inner.map(|name| name.trim().to_owned())
    };
    let lines: Vec<&str> = text.lines().take(line).collect();
    let before = match lines.split_last() {
        Some((last, rest)) if header(last).is_some() => rest,
        _ => &lines[..],
    };
    before.iter().rev().find_map(|l| header(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized, to provoke errors")]
    struct Table {
        model: Option<String>,
        timeout_secs: Option<u64>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized, to provoke errors")]
    struct Doc {
        provider: Option<Table>,
    }

    #[track_caller]
    fn check(text: &str, expected: &str) {
        let error = toml::from_str::<Doc>(text).expect_err("the text is invalid");
        let problem = toml_problem(Path::new("nova.toml"), text, 1, &error);
        assert_eq!(problem.to_string(), expected);
    }

    #[test]
    fn unknown_key_names_table_and_suggestion() {
        check(
            "# comment\n[provider]\nmodle = \"x\"\n",
            "nova.toml:3: unknown key `modle` in `[provider]`; did you mean `model`?",
        );
    }

    #[test]
    fn unknown_key_without_close_match_lists_keys() {
        check(
            "[provider]\ncolour = 1\n",
            "nova.toml:2: unknown key `colour` in `[provider]`; valid keys: `model`, `timeout_secs`",
        );
    }

    #[test]
    fn unknown_table_is_a_key_of_the_table_before() {
        check(
            "[provder]\nmodel = \"x\"\n",
            "nova.toml:1: unknown key `provder`; did you mean `provider`?",
        );
    }

    #[test]
    fn wrong_type_is_located() {
        check(
            "[provider]\n\ntimeout_secs = \"soon\"\n",
            "nova.toml:3: invalid type: string \"soon\", expected u64",
        );
    }

    #[test]
    fn line_of_counts_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
