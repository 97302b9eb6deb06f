//! Finding the edits in a reply: SEARCH/REPLACE blocks under a path line, unified diffs (the
//! loose ones models write included), the `*** Begin Patch` format, and whole files in fenced
//! blocks under a path line. A reply mixes prose and blocks; prose is skipped.
//!
//! Texts are kept as written, with `\n` line ends (a `\r` before a `\n` in the reply is dropped:
//! applying adapts line ends to each file's own). Whether a block's last line ended the file is
//! kept: a whole file or a replacement ends with `\n` exactly when the reply's block did.

use std::fmt;

/// One edit of one file, as a reply gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Replace `search` with `replace`; an empty `search` on a missing file creates it.
    SearchReplace {
        path: String,
        search: String,
        replace: String,
    },
    /// Change a file by hunks matched on their content (unified diff, `*** Update File`),
    /// optionally moving it.
    Hunks {
        path: String,
        hunks: Vec<Hunk>,
        move_to: Option<String>,
    },
    /// A new file.
    Add {
        path: String,
        content: String,
    },
    Delete {
        path: String,
    },
    /// The whole new text of a file.
    WholeFile {
        path: String,
        content: String,
    },
}

impl Edit {
    pub fn path(&self) -> &str {
        match self {
            Edit::SearchReplace { path, .. }
            | Edit::Hunks { path, .. }
            | Edit::Add { path, .. }
            | Edit::Delete { path }
            | Edit::WholeFile { path, .. } => path,
        }
    }
}

/// Lines to find (context and removed lines) and what they become (context and added lines).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hunk {
    /// The text after `@@` in the `*** Begin Patch` format: a line the hunk comes after.
    pub anchor: Option<String>,
    /// A unified diff's `+start` line: where the hunk's text should be once the hunks before it
    /// applied. Only a hint: it chooses between equal matches, nothing more.
    pub line: Option<usize>,
    pub old: String,
    pub new: String,
}

impl Hunk {
    /// Adds one line of a hunk body (` context`, `-removed`, `+added`, or an empty line, which
    /// models write for empty context). False for any other line.
    fn push(&mut self, line: &str) -> bool {
        let (old, new) = match line.chars().next() {
            None => (Some(""), Some("")),
            Some(' ') => (Some(&line[1..]), Some(&line[1..])),
            Some('-') => (Some(&line[1..]), None),
            Some('+') => (None, Some(&line[1..])),
            Some(_) => return false,
        };
        for (side, text) in [(&mut self.old, old), (&mut self.new, new)] {
            if let Some(text) = text {
                side.push_str(text);
                side.push('\n');
            }
        }
        true
    }
}

/// A block that starts but does not end, or cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line of the reply.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} of the reply: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Every edit in `reply`, in order.
pub fn parse(reply: &str) -> Result<Vec<Edit>, ParseError> {
    let lines: Vec<&str> = reply
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    // `split` gives a last empty piece after a final newline: not a line.
    let count = if reply.ends_with('\n') {
        lines.len() - 1
    } else {
        lines.len()
    };
    let lines = &lines[..count];
    let mut edits = Vec::new();
    let mut last_path: Option<String> = None;
    // Inside a fence that holds blocks or a diff, whose closer is not an opener.
    let mut inside_fence = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim() == "*** Begin Patch" {
            i = begin_patch(lines, i, &mut edits)?;
        } else if is_search_marker(line) {
            let path = path_above(lines, i)
                .or_else(|| last_path.clone())
                .ok_or_else(|| ParseError {
                    line: i + 1,
                    message: String::from(
                        "a SEARCH block with no file path on a line of its own above it",
                    ),
                })?;
            let (search, replace, next) = search_replace(lines, i)?;
            last_path = Some(path.clone());
            edits.push(Edit::SearchReplace {
                path,
                search,
                replace,
            });
            i = next;
        } else if let Some(old_path) = line.strip_prefix("--- ")
            && let Some(new_line) = lines.get(i + 1)
            && let Some(new_path) = new_line.strip_prefix("+++ ")
        {
            i = unified(lines, i, old_path, new_path, &mut edits)?;
        } else if is_fence(line) {
            if inside_fence && line.trim().trim_start_matches('`').is_empty() {
                inside_fence = false;
                i += 1;
                continue;
            }
            let path = fenced_path(lines, i);
            let Some((body, next)) = fenced_body(lines, i) else {
                if path.is_some() {
                    return Err(ParseError {
                        line: i + 1,
                        message: String::from("a fenced file that is never closed"),
                    });
                }
                break;
            };
            // A fence holding SEARCH/REPLACE blocks or a diff: read inside it.
            if body_has_markers(&lines[i + 1..next - 1]) {
                inside_fence = true;
                i += 1;
                continue;
            }
            if let Some(path) = path {
                last_path = Some(path.clone());
                edits.push(Edit::WholeFile {
                    path,
                    content: body,
                });
            }
            // Any other fence is an example in prose: skipped whole.
            i = next;
        } else {
            i += 1;
        }
    }
    Ok(edits)
}

fn is_search_marker(line: &str) -> bool {
    let line = line.trim_end();
    let angles = line.chars().take_while(|&c| c == '<').count();
    (5..=9).contains(&angles) && line[angles..].trim() == "SEARCH"
}

fn is_divider(line: &str) -> bool {
    let line = line.trim_end();
    (5..=9).contains(&line.len()) && line.chars().all(|c| c == '=')
}

fn is_replace_marker(line: &str) -> bool {
    let line = line.trim_end();
    let angles = line.chars().take_while(|&c| c == '>').count();
    (5..=9).contains(&angles) && line[angles..].trim() == "REPLACE"
}

fn is_fence(line: &str) -> bool {
    line.trim_start().starts_with("```")
}

/// The path a model wrote on a line of its own: `src/lib.rs`, `**src/lib.rs**`, `### src/lib.rs`,
/// `` `src/lib.rs`: ``, `File: src/lib.rs`. None for prose.
fn as_path(line: &str) -> Option<String> {
    let mut text = line.trim();
    for prefix in ["#", "File:", "file:", "Path:", "path:"] {
        while let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim_start();
        }
    }
    let text = text
        .trim_end_matches(':')
        .trim_matches(|c| c == '*' || c == '`' || c == '"' || c == '\'')
        .trim();
    let plausible = !text.is_empty()
        && !text.contains(char::is_whitespace)
        && !text.starts_with("```")
        && (text.contains('/') || text.contains('.'))
        && !text.ends_with('.')
        && text.chars().any(|c| c.is_alphanumeric());
    plausible.then(|| text.to_owned())
}

/// The path line above line `i`, skipping one fence opener and blank lines.
fn path_above(lines: &[&str], i: usize) -> Option<String> {
    let mut j = i;
    let mut fences = 0;
    while j > 0 {
        j -= 1;
        let line = lines[j];
        if line.trim().is_empty() {
            continue;
        }
        if is_fence(line) && fences == 0 {
            fences += 1;
            if let Some(path) = fence_info_path(line) {
                return Some(path);
            }
            continue;
        }
        return as_path(line);
    }
    None
}

/// A path in a fence's info string: ```` ```rust:src/lib.rs ````, ```` ```src/lib.rs ````,
/// ```` ```rust path=src/lib.rs ````.
fn fence_info_path(line: &str) -> Option<String> {
    let info = line.trim_start().trim_start_matches('`').trim();
    for word in info.split_whitespace() {
        let word = word.strip_prefix("path=").unwrap_or(word);
        let candidate = word.split_once(':').map_or(word, |(_, path)| path);
        if candidate.contains('/') || candidate.contains('.') {
            return as_path(candidate);
        }
    }
    None
}

/// The path of the fence opened at line `i`: on the line above, or in its info string.
fn fenced_path(lines: &[&str], i: usize) -> Option<String> {
    let line = lines[i];
    if let Some(path) = fence_info_path(line) {
        return Some(path);
    }
    let above = lines[..i].iter().rev().find(|l| !l.trim().is_empty())?;
    if is_fence(above) {
        return None;
    }
    as_path(above)
}

/// The body of the fence opened at line `i` (each line ended by `\n`), and the line after its
/// closer; `None` when it is never closed.
fn fenced_body(lines: &[&str], i: usize) -> Option<(String, usize)> {
    let ticks = lines[i]
        .trim_start()
        .chars()
        .take_while(|&c| c == '`')
        .count();
    let closer = "`".repeat(ticks);
    let end = lines[i + 1..]
        .iter()
        .position(|line| line.trim() == closer)
        .map(|offset| i + 1 + offset)?;
    Some((joined(&lines[i + 1..end]), end + 1))
}

fn body_has_markers(lines: &[&str]) -> bool {
    lines.iter().any(|line| {
        is_search_marker(line)
            || line.trim() == "*** Begin Patch"
            || line.starts_with("--- ")
            || line.starts_with("@@")
    })
}

/// The SEARCH block at line `i`: its search text, its replacement, and the line after it.
fn search_replace(lines: &[&str], i: usize) -> Result<(String, String, usize), ParseError> {
    let divider = lines[i + 1..]
        .iter()
        .position(|line| is_divider(line))
        .map(|offset| i + 1 + offset)
        .ok_or_else(|| ParseError {
            line: i + 1,
            message: String::from("a SEARCH block without its `=======` line"),
        })?;
    let end = lines[divider + 1..]
        .iter()
        .position(|line| is_replace_marker(line))
        .map(|offset| divider + 1 + offset)
        .ok_or_else(|| ParseError {
            line: divider + 1,
            message: String::from("a SEARCH block without its `>>>>>>> REPLACE` line"),
        })?;
    Ok((
        joined(&lines[i + 1..divider]),
        joined(&lines[divider + 1..end]),
        end + 1,
    ))
}

/// Lines joined, each ended by `\n`.
fn joined(lines: &[&str]) -> String {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// A diff path: without `a/`/`b/`, a trailing timestamp after a tab, or quotes.
fn diff_path(raw: &str) -> Option<String> {
    let raw = raw
        .split('\t')
        .next()
        .unwrap_or(raw)
        .trim()
        .trim_matches('"');
    if raw == "/dev/null" {
        return None;
    }
    let path = raw
        .strip_prefix("a/")
        .or_else(|| raw.strip_prefix("b/"))
        .unwrap_or(raw);
    Some(path.to_owned())
}

/// One file of a unified diff starting at line `i` (`--- `). Returns the line after it.
fn unified(
    lines: &[&str],
    i: usize,
    old_path: &str,
    new_path: &str,
    edits: &mut Vec<Edit>,
) -> Result<usize, ParseError> {
    let old = diff_path(old_path);
    let new = diff_path(new_path);
    if [&old, &new].iter().any(|path| path.as_deref() == Some("")) {
        return Err(ParseError {
            line: i + 1,
            message: String::from("a diff header without a file path"),
        });
    }
    let mut hunks = Vec::new();
    let mut j = i + 2;
    while j < lines.len() && lines[j].starts_with("@@") {
        // The line numbers and section heading after `@@` are only hints (models get them
        // wrong): hunks are found by their content.
        let mut hunk = Hunk {
            line: new_start(lines[j]),
            ..Hunk::default()
        };
        j += 1;
        while j < lines.len() {
            let line = lines[j];
            // A fence closes the diff only at the start of a line: ` ```` is a context line.
            if line.starts_with("@@")
                || line.starts_with("--- ")
                || line.starts_with("diff --git")
                || line.starts_with("```")
            {
                break;
            }
            if hunk.push(line) {
                j += 1;
                continue;
            }
            match line.chars().next() {
                Some('\\') => {
                    // `\ No newline at end of file`: the line before has no `\n`.
                    let side = match lines[j - 1].chars().next() {
                        Some('-') => &mut hunk.old,
                        Some('+') => &mut hunk.new,
                        _ => {
                            hunk.old.pop();
                            &mut hunk.new
                        }
                    };
                    side.pop();
                }
                _ => break,
            }
            j += 1;
        }
        hunks.push(hunk);
    }
    // Trailing empty lines a model left after the last hunk are not context.
    if let Some(last) = hunks.last_mut() {
        while last.old.ends_with("\n\n") && last.new.ends_with("\n\n") {
            last.old.pop();
            last.new.pop();
        }
    }
    match (old, new) {
        (None, Some(path)) => {
            let content = hunks.into_iter().map(|h| h.new).collect();
            edits.push(Edit::Add { path, content });
        }
        (Some(path), None) => edits.push(Edit::Delete { path }),
        (Some(path), Some(to)) => edits.push(Edit::Hunks {
            move_to: (to != path).then_some(to),
            path,
            hunks,
        }),
        (None, None) => {
            return Err(ParseError {
                line: i + 1,
                message: String::from("a diff from /dev/null to /dev/null"),
            });
        }
    }
    Ok(j)
}

/// The `+start` of `@@ -a,b +c,d @@`.
fn new_start(header: &str) -> Option<usize> {
    let plus = header
        .split_whitespace()
        .find(|word| word.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

/// A `*** Begin Patch` block at line `i`. Returns the line after `*** End Patch`.
fn begin_patch(lines: &[&str], i: usize, edits: &mut Vec<Edit>) -> Result<usize, ParseError> {
    let mut j = i + 1;
    loop {
        let Some(line) = lines.get(j) else {
            return Err(ParseError {
                line: i + 1,
                message: String::from("`*** Begin Patch` without `*** End Patch`"),
            });
        };
        let line = line.trim_end();
        if line == "*** End Patch" {
            return Ok(j + 1);
        }
        let named = ["*** Add File: ", "*** Delete File: ", "*** Update File: "]
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix));
        if named.is_some_and(|path| path.trim().is_empty()) {
            return Err(ParseError {
                line: j + 1,
                message: format!("`{line}` names no file"),
            });
        }
        if let Some(path) = line.strip_prefix("*** Add File: ") {
            j += 1;
            let mut content = String::new();
            while let Some(body) = lines.get(j).and_then(|l| l.strip_prefix('+')) {
                content.push_str(body);
                content.push('\n');
                j += 1;
            }
            edits.push(Edit::Add {
                path: path.trim().to_owned(),
                content,
            });
        } else if let Some(path) = line.strip_prefix("*** Delete File: ") {
            edits.push(Edit::Delete {
                path: path.trim().to_owned(),
            });
            j += 1;
        } else if let Some(path) = line.strip_prefix("*** Update File: ") {
            j += 1;
            let mut move_to = None;
            if let Some(to) = lines.get(j).and_then(|l| l.strip_prefix("*** Move to: ")) {
                if to.trim().is_empty() {
                    return Err(ParseError {
                        line: j + 1,
                        message: String::from("`*** Move to:` names no file"),
                    });
                }
                move_to = Some(to.trim().to_owned());
                j += 1;
            }
            let (hunks, next) = update_hunks(lines, j)?;
            j = next;
            edits.push(Edit::Hunks {
                path: path.trim().to_owned(),
                hunks,
                move_to,
            });
        } else if line.trim().is_empty() {
            j += 1;
        } else {
            return Err(ParseError {
                line: j + 1,
                message: format!(
                    "`{line}` inside `*** Begin Patch`: expected `*** Add File:`, \
                     `*** Update File:`, `*** Delete File:` or `*** End Patch`"
                ),
            });
        }
    }
}

/// The hunks of an `*** Update File` from line `j`: up to the next `*** ` line. Returns them and
/// the line after them.
fn update_hunks(lines: &[&str], mut j: usize) -> Result<(Vec<Hunk>, usize), ParseError> {
    let mut hunks: Vec<Hunk> = Vec::new();
    while let Some(&body) = lines.get(j) {
        if body.trim_end() == "*** End of File" {
            j += 1;
            continue;
        }
        if body.starts_with("*** ") {
            break;
        }
        if let Some(anchor) = body.strip_prefix("@@") {
            let anchor = anchor.trim();
            hunks.push(Hunk {
                anchor: (!anchor.is_empty()).then(|| anchor.to_owned()),
                ..Hunk::default()
            });
            j += 1;
            continue;
        }
        if hunks.is_empty() {
            hunks.push(Hunk::default());
        }
        let hunk = hunks.last_mut().expect("pushed above");
        if hunk.push(body) {
            j += 1;
            continue;
        }
        return Err(ParseError {
            line: j + 1,
            message: format!(
                "a line of an `*** Update File` that does not start with `+`, `-`, \
                 a space or `@@`: `{body}`"
            ),
        });
    }
    Ok((hunks, j))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_without_a_path_is_an_error_not_an_edit() {
        // Found by `cargo fuzz run reply_parse`: a `+++` line whose path is only tabs.
        for reply in [
            "--- /dev/null\n+++ \t\t//1 escaped\n",
            "*** Begin Patch\n*** Add File: \n+x\n*** End Patch\n",
            "*** Begin Patch\n*** Update File: a.rs\n*** Move to:  \n@@\n-a\n+b\n*** End Patch\n",
        ] {
            assert!(parse(reply).is_err(), "{reply:?}");
        }
    }
}
