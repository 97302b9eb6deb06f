//! The reading tools: a file by lines, the file list, a search, the repository map and symbols.
//! Each sees the candidate's files where the agent changed them, and only its read scope.

use std::fmt::Write as _;

use globset::GlobBuilder;
use serde_json::Value;

use super::{CallResult, LIST_FILES, MAP_TOKENS, READ_LINES, SEARCH_MATCHES, Toolbox};
use crate::edit::RepoPath;
use crate::index::Focus;

impl Toolbox<'_> {
    pub(super) fn read_file(&self, args: &Value) -> CallResult {
        let path = match self.readable(args["path"].as_str().unwrap_or("")) {
            Ok(path) => path,
            Err(refused) => return refused,
        };
        let Some(text) = self.text(&path) else {
            return CallResult::failed(format!(
                "there is no text file `{path}`; `list_files` shows what there is"
            ));
        };
        let lines: Vec<&str> = text.lines().collect();
        let total = lines.len();
        let start = line_arg(&args["start_line"]).unwrap_or(1).max(1);
        if total > 0 && start > total {
            return CallResult::failed(format!(
                "`{path}` has {total} lines; `start_line` {start} is past its end"
            ));
        }
        let wanted = line_arg(&args["end_line"]).unwrap_or(total).min(total);
        let end = wanted.min(start + READ_LINES - 1);
        let mut out = format!("{path} (lines {start}-{end} of {total})\n");
        for (n, line) in lines.iter().enumerate().take(end).skip(start - 1) {
            let _ = writeln!(out, "{:>5}  {line}", n + 1);
        }
        if end < wanted {
            let _ = writeln!(
                out,
                "[{} more lines: call `read_file` with `start_line` {}]",
                wanted - end,
                end + 1
            );
        }
        CallResult::ok(out)
    }

    /// The texts of `files` as the candidate has them: the agent's edits, else the base, read
    /// at once.
    pub(super) fn texts(&self, files: &[String]) -> Vec<Option<String>> {
        let paths: Vec<Option<RepoPath>> = files.iter().map(|f| RepoPath::new(f)).collect();
        let from_base: Vec<&str> = files
            .iter()
            .zip(&paths)
            .filter(|(_, path)| path.as_ref().is_some_and(|p| !self.changes.contains_key(p)))
            .map(|(file, _)| file.as_str())
            .collect();
        let mut base = self.tree.read_many(&from_base).into_iter();
        paths
            .iter()
            .map(|path| match path {
                Some(path) => match self.changes.get(path) {
                    Some(change) => change.after.clone(),
                    None => base.next().flatten(),
                },
                None => None,
            })
            .collect()
    }

    /// The files the agent may read that match the call's `glob` (all of them without one).
    pub(super) fn globbed(&self, args: &Value) -> Result<Vec<String>, CallResult> {
        let glob = glob_arg(&args["glob"])?;
        let mut files = self.visible_files();
        files.retain(|file| glob.as_ref().is_none_or(|glob| glob.is_match(file)));
        Ok(files)
    }

    /// The files the agent may read (the base's and the ones it added), sorted.
    fn visible_files(&self) -> Vec<String> {
        let mut files: Vec<String> = self.tree.files();
        files.extend(
            self.changes
                .values()
                .filter(|c| c.before.is_none() && c.after.is_some())
                .map(|c| c.path.to_string()),
        );
        files.retain(|file| {
            let deleted = self.changes.values().any(|c| {
                c.path.as_str() == file.as_str() && c.before.is_some() && c.after.is_none()
            });
            !deleted && RepoPath::new(file).is_some_and(|path| self.read_scope.contains(&path))
        });
        files.sort();
        files.dedup();
        files
    }

    pub(super) fn list_files(&self, args: &Value) -> CallResult {
        let dir = args["path"].as_str().unwrap_or("").trim_matches('/');
        let files: Vec<String> = match self.globbed(args) {
            Ok(files) => files,
            Err(failed) => return failed,
        };
        let files: Vec<String> = files
            .into_iter()
            .filter(|file| dir.is_empty() || file.starts_with(&format!("{dir}/")))
            .collect();
        if files.is_empty() {
            return CallResult::ok(String::from("no files match"));
        }
        let mut out: String = files
            .iter()
            .take(LIST_FILES)
            .map(|file| format!("{file}\n"))
            .collect();
        if files.len() > LIST_FILES {
            let _ = writeln!(
                out,
                "[{} more files: narrow it with `path` or `glob`]",
                files.len() - LIST_FILES
            );
        }
        CallResult::ok(out)
    }

    pub(super) fn search(&self, args: &Value) -> CallResult {
        let pattern = args["pattern"].as_str().unwrap_or("");
        let regex = match regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
        {
            Ok(regex) if !pattern.is_empty() => regex,
            Ok(_) => return CallResult::failed(String::from("`search` needs a `pattern`")),
            Err(error) => {
                return CallResult::failed(format!(
                    "`{pattern}` is not a regular expression: {error}"
                ));
            }
        };
        let files = match self.globbed(args) {
            Ok(files) => files,
            Err(failed) => return failed,
        };
        let mut matches = Vec::new();
        let mut more = 0;
        for (file, text) in files.iter().zip(self.texts(&files)) {
            let Some(text) = text else {
                continue;
            };
            for (n, line) in text.lines().enumerate() {
                if !regex.is_match(line) {
                    continue;
                }
                if matches.len() < SEARCH_MATCHES {
                    let line: String = line.trim().chars().take(200).collect();
                    matches.push(format!("{file}:{}: {line}", n + 1));
                } else {
                    more += 1;
                }
            }
        }
        if matches.is_empty() {
            return CallResult::ok(format!("no line matches `{pattern}`"));
        }
        let mut out = matches.join("\n");
        out.push('\n');
        if more > 0 {
            let _ = writeln!(
                out,
                "[{more} more matches: narrow it with a `glob` or a longer pattern]"
            );
        }
        CallResult::ok(out)
    }

    pub(super) fn repo_map(&self, args: &Value) -> CallResult {
        let Some(index) = self.index else {
            return CallResult::failed(String::from("there is no repository map in this run"));
        };
        // The focus is a task in words, or names and paths: both are read.
        let text = args["focus"].as_str().unwrap_or("");
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        let mut focus = Focus::from_task(text);
        focus.add(Focus::from_words(&words));
        let tokens = line_arg(&args["tokens"])
            .unwrap_or(2048)
            .clamp(256, MAP_TOKENS);
        let map = index.map(&focus, tokens);
        CallResult::ok(format!(
            "{}\n[{} of {} definitions in {tokens} tokens; give a `focus` to rank around it]\n",
            map.text.trim_end(),
            map.shown,
            map.ranked
        ))
    }

    pub(super) fn symbols(&self, args: &Value) -> CallResult {
        let Some(index) = self.index else {
            return CallResult::failed(String::from("there is no symbol index in this run"));
        };
        if let Some(file) = args["file"].as_str() {
            let path = match self.readable(file) {
                Ok(path) => path,
                Err(refused) => return refused,
            };
            let Some(defs) = index.outline(path.as_str()) else {
                return CallResult::failed(format!("`{path}` has no indexed definitions"));
            };
            let out: String = defs
                .iter()
                .map(|d| format!("{path}:{}: {}\n", d.line, d.signature))
                .collect();
            return CallResult::ok(out);
        }
        let name = args["name"].as_str().unwrap_or("").trim();
        if name.is_empty() {
            return CallResult::failed(String::from("`symbols` needs a `name` or a `file`"));
        }
        let readable =
            |path: &str| RepoPath::new(path).is_some_and(|p| self.read_scope.contains(&p));
        let mut out = String::new();
        for found in index.definitions(name) {
            if readable(found.path) {
                let _ = writeln!(
                    out,
                    "defined at {}:{}: {}",
                    found.path, found.def.line, found.def.signature
                );
            }
        }
        let users: Vec<String> = index
            .references(name)
            .into_iter()
            .filter(|(path, _)| readable(path))
            .map(|(path, count)| format!("{path} ({count})"))
            .collect();
        if !users.is_empty() {
            let _ = writeln!(out, "used in: {}", users.join(", "));
        }
        if out.is_empty() {
            return CallResult::ok(format!(
                "no definition or use of `{name}` in your read scope"
            ));
        }
        CallResult::ok(out)
    }
}

/// A positive whole number from a tool argument, if it is one.
fn line_arg(value: &Value) -> Option<usize> {
    value
        .as_u64()
        .or_else(|| value.as_str()?.trim().parse().ok())
        .and_then(|n| usize::try_from(n).ok())
}

/// The `glob` argument, compiled; `*` stops at `/`.
fn glob_arg(value: &Value) -> Result<Option<globset::GlobMatcher>, CallResult> {
    let Some(glob) = value.as_str().filter(|g| !g.trim().is_empty()) else {
        return Ok(None);
    };
    GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map(|glob| Some(glob.compile_matcher()))
        .map_err(|error| CallResult::failed(format!("`{glob}` is not a glob: {error}")))
}
