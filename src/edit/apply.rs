//! Applying a reply's edits onto a tree, all or nothing: exact matches first, then matches that
//! ignore leading and trailing whitespace (re-indenting the replacement); a text that matches
//! nowhere, or in more than one place, is an error that says which, with the closest lines.

use std::collections::BTreeMap;
use std::fmt;

use super::reply::{Edit, Hunk};
use super::{FileChange, RepoPath};

/// Why an edit cannot apply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The text to find is nowhere in the file; the closest lines, if any look alike.
    NotFound {
        closest: Option<Closest>,
    },
    /// The text to find is in the file more than once (the 1-based lines where each starts).
    Ambiguous {
        lines: Vec<usize>,
    },
    /// The `@@` line a hunk comes after is not in the file.
    AnchorNotFound {
        anchor: String,
    },
    MissingFile,
    AlreadyExists,
    /// An empty SEARCH on a file that exists: nothing says where the text goes.
    EmptySearch,
    /// A hunk with neither context nor removed lines in a file that is not empty.
    NoContext,
    /// An absolute path, or one with `.` or `..` parts: not a plain path inside the repository.
    OutsideRepository,
}

/// The lines of a file most like a text that was not found.
#[derive(Debug, Clone, PartialEq)]
pub struct Closest {
    /// 1-based first line.
    pub line: usize,
    pub text: String,
    /// How alike, 0 to 1.
    pub similarity: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApplyError {
    pub path: String,
    /// 1-based position of the edit in the reply.
    pub edit: usize,
    pub reason: Reason,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (path, n) = (&self.path, self.edit);
        match &self.reason {
            Reason::NotFound { closest: None } => write!(
                f,
                "edit {n} ({path}): the text to replace is not in the file; copy the lines \
                 exactly as they are"
            ),
            Reason::NotFound {
                closest: Some(closest),
            } => write!(
                f,
                "edit {n} ({path}): the text to replace is not in the file; the closest lines \
                 (from line {}) are:\n{}",
                closest.line,
                closest.text.trim_end()
            ),
            Reason::Ambiguous { lines } => {
                let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
                write!(
                    f,
                    "edit {n} ({path}): the text to replace is in the file {} times (lines {}); \
                     include more lines around it so that it matches once",
                    lines.len(),
                    lines.join(", ")
                )
            }
            Reason::AnchorNotFound { anchor } => write!(
                f,
                "edit {n} ({path}): the `@@ {anchor}` line is not in the file"
            ),
            Reason::MissingFile => write!(f, "edit {n} ({path}): the file does not exist"),
            Reason::AlreadyExists => write!(
                f,
                "edit {n} ({path}): the file already exists; change it instead of adding it"
            ),
            Reason::EmptySearch => write!(
                f,
                "edit {n} ({path}): an empty SEARCH on a file that exists; give the lines to \
                 replace, or the whole file"
            ),
            Reason::NoContext => write!(
                f,
                "edit {n} ({path}): a hunk with no context lines; include lines around it"
            ),
            Reason::OutsideRepository => write!(
                f,
                "edit {n} ({path}): the path leaves the repository: give it relative to the \
                 root, without `.` or `..` parts"
            ),
        }
    }
}

impl std::error::Error for ApplyError {}

/// Each touched file's text as read and as it is now.
type Files = BTreeMap<String, (Option<String>, Option<String>)>;

/// Applies `edits` in order onto the files `read` gives (`None`: no such file). Returns every
/// touched file before and after, in path order; an edit that fails fails them all.
pub fn apply(
    edits: &[Edit],
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<FileChange>, ApplyError> {
    let mut files: Files = BTreeMap::new();
    let load = |files: &mut Files, path: &str| -> Option<String> {
        files
            .entry(path.to_owned())
            .or_insert_with(|| {
                let text = read(path);
                (text.clone(), text)
            })
            .1
            .clone()
    };
    let mut updates: Vec<(String, Option<String>)> = Vec::new();
    for (index, edit) in edits.iter().enumerate() {
        let fail = |reason| ApplyError {
            path: edit.path().to_owned(),
            edit: index + 1,
            reason,
        };
        check_paths(edit, index)?;
        let current = load(&mut files, edit.path());
        updates.clear();
        match edit {
            Edit::SearchReplace {
                path,
                search,
                replace,
            } => {
                let after = match current {
                    None if search.trim().is_empty() => replace.clone(),
                    None => return Err(fail(Reason::MissingFile)),
                    Some(_) if search.trim().is_empty() => return Err(fail(Reason::EmptySearch)),
                    Some(text) => replace_near(&text, search, replace, None, None).map_err(fail)?,
                };
                updates.push((path.clone(), Some(after)));
            }
            Edit::Hunks {
                path,
                hunks,
                move_to,
            } => {
                let mut text = current.ok_or_else(|| fail(Reason::MissingFile))?;
                for hunk in hunks {
                    text = apply_hunk(&text, hunk).map_err(fail)?;
                }
                match move_to {
                    Some(to) => {
                        if load(&mut files, to).is_some() {
                            return Err(ApplyError {
                                path: to.clone(),
                                edit: index + 1,
                                reason: Reason::AlreadyExists,
                            });
                        }
                        updates.push((path.clone(), None));
                        updates.push((to.clone(), Some(text)));
                    }
                    None => updates.push((path.clone(), Some(text))),
                }
            }
            Edit::Add { path, content } => {
                if current.is_some() {
                    return Err(fail(Reason::AlreadyExists));
                }
                updates.push((path.clone(), Some(content.clone())));
            }
            Edit::Delete { path } => {
                if current.is_none() {
                    return Err(fail(Reason::MissingFile));
                }
                updates.push((path.clone(), None));
            }
            Edit::WholeFile { path, content } => {
                let content = match &current {
                    Some(text) if uses_crlf(text) => to_crlf(content),
                    _ => content.clone(),
                };
                updates.push((path.clone(), Some(content)));
            }
        }
        for (path, after) in updates.drain(..) {
            load(&mut files, &path);
            if let Some(entry) = files.get_mut(&path) {
                entry.1 = after;
            }
        }
    }
    Ok(files
        .into_iter()
        .filter(|(_, (before, after))| before != after)
        .map(|(path, (before, after))| FileChange {
            path: RepoPath::new(&path).expect("every edit's path was checked to be plain"),
            before,
            after,
        })
        .collect())
}

/// Refuses an edit whose path (or the path it moves the file to) is not a plain path inside the
/// repository.
fn check_paths(edit: &Edit, index: usize) -> Result<(), ApplyError> {
    let plain = |path: &str| RepoPath::new(path).is_some_and(|p| p.as_str() == path);
    let moved = match edit {
        Edit::Hunks {
            move_to: Some(to), ..
        } => Some(to.as_str()),
        _ => None,
    };
    match std::iter::once(edit.path())
        .chain(moved)
        .find(|p| !plain(p))
    {
        Some(path) => Err(ApplyError {
            path: path.to_owned(),
            edit: index + 1,
            reason: Reason::OutsideRepository,
        }),
        None => Ok(()),
    }
}

fn uses_crlf(text: &str) -> bool {
    text.contains("\r\n")
}

fn to_crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

fn apply_hunk(text: &str, hunk: &Hunk) -> Result<String, Reason> {
    if hunk.old.is_empty() {
        if text.is_empty() {
            return Ok(hunk.new.clone());
        }
        let Some(anchor) = &hunk.anchor else {
            return Err(Reason::NoContext);
        };
        // Pure insertion right after the anchor line.
        let start = anchor_start(text, anchor)?;
        let line_end = text[start..]
            .find('\n')
            .map_or(text.len(), |offset| start + offset + 1);
        let new = if uses_crlf(text) {
            to_crlf(&hunk.new)
        } else {
            hunk.new.clone()
        };
        return Ok(format!("{}{new}{}", &text[..line_end], &text[line_end..]));
    }
    replace_near(
        text,
        &hunk.old,
        &hunk.new,
        hunk.anchor.as_deref(),
        hunk.line,
    )
}

/// The byte where the first line containing `anchor` starts.
fn anchor_start(text: &str, anchor: &str) -> Result<usize, Reason> {
    let wanted = anchor.trim();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim().contains(wanted) {
            return Ok(offset);
        }
        offset += line.len();
    }
    Err(Reason::AnchorNotFound {
        anchor: wanted.to_owned(),
    })
}

/// Of several matches, the one starting at the line `hint` names, if one does.
fn pick(lines: &[usize], hint: Option<usize>) -> Option<usize> {
    let hint = hint?;
    lines.iter().position(|&line| line == hint)
}

/// `text` with the one occurrence of `search` (after `anchor`'s line, if given) replaced; of
/// several matches, `hint` (a 1-based line) may choose one.
fn replace_near(
    text: &str,
    search: &str,
    replace: &str,
    anchor: Option<&str>,
    hint: Option<usize>,
) -> Result<String, Reason> {
    let (search, replace) = if uses_crlf(text) {
        (to_crlf(search), to_crlf(replace))
    } else {
        (search.to_owned(), replace.to_owned())
    };
    let start = match anchor {
        Some(anchor) => anchor_start(text, anchor)?,
        None => 0,
    };
    let region = &text[start..];

    let mut exact: Vec<usize> = region.match_indices(&search).map(|(at, _)| at).collect();
    if exact.len() > 1 {
        let lines: Vec<usize> = exact.iter().map(|at| line_of(text, start + at)).collect();
        if let Some(chosen) = pick(&lines, hint) {
            exact = vec![exact[chosen]];
        }
    }
    match exact.as_slice() {
        [at] => {
            let at = start + at;
            return Ok(format!(
                "{}{replace}{}",
                &text[..at],
                &text[at + search.len()..]
            ));
        }
        [] => {}
        many => {
            return Err(Reason::Ambiguous {
                lines: many.iter().map(|at| line_of(text, start + at)).collect(),
            });
        }
    }

    // Whitespace-tolerant: the same lines, ignoring leading and trailing whitespace.
    let lines: Vec<&str> = region.split_inclusive('\n').collect();
    let wanted: Vec<&str> = search.split_inclusive('\n').collect();
    if wanted.iter().all(|line| line.trim().is_empty()) {
        return Err(Reason::NotFound { closest: None });
    }
    let mut found: Vec<usize> = (0..lines.len().saturating_sub(wanted.len() - 1))
        .filter(|&first| {
            wanted
                .iter()
                .zip(&lines[first..])
                .all(|(w, l)| w.trim() == l.trim())
        })
        .collect();
    let first_line = line_of(text, start) - 1;
    if found.len() > 1 {
        let starts: Vec<usize> = found.iter().map(|first| first_line + first + 1).collect();
        if let Some(chosen) = pick(&starts, hint) {
            found = vec![found[chosen]];
        }
    }
    match found.as_slice() {
        [first] => {
            let matched = &lines[*first..first + wanted.len()];
            let replacement = reindent(&replace, &wanted, matched);
            let before: usize = lines[..*first].iter().map(|l| l.len()).sum();
            let length: usize = matched.iter().map(|l| l.len()).sum();
            let at = start + before;
            // Keep the file's last line as it ends: with or without a newline.
            let mut replacement = replacement;
            let ending = if uses_crlf(text) { "\r\n" } else { "\n" };
            if !text[at..at + length].ends_with('\n')
                && let Some(stripped) = replacement.strip_suffix(ending)
            {
                replacement = stripped.to_owned();
            }
            Ok(format!(
                "{}{replacement}{}",
                &text[..at],
                &text[at + length..]
            ))
        }
        [] => Err(Reason::NotFound {
            closest: closest(&lines, &wanted, first_line),
        }),
        many => Err(Reason::Ambiguous {
            lines: many.iter().map(|first| first_line + first + 1).collect(),
        }),
    }
}

/// 1-based line of byte `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

fn indentation(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// `replace` shifted by how much the matched lines' indentation differs from the search text's.
fn reindent(replace: &str, wanted: &[&str], matched: &[&str]) -> String {
    let pair = wanted
        .iter()
        .zip(matched)
        .find(|(w, _)| !w.trim().is_empty());
    let Some((w, m)) = pair else {
        return replace.to_owned();
    };
    let (from, to) = (indentation(w), indentation(m));
    if from == to {
        return replace.to_owned();
    }
    replace
        .split_inclusive('\n')
        .map(|line| {
            if line.trim().is_empty() {
                return line.to_owned();
            }
            if let Some(extra) = to.strip_suffix(from) {
                format!("{extra}{line}")
            } else if let Some(less) = from.strip_suffix(to) {
                line.strip_prefix(less).unwrap_or(line).to_owned()
            } else {
                format!(
                    "{to}{}",
                    line.strip_prefix(from).unwrap_or(line.trim_start())
                )
            }
        })
        .collect()
}

/// The window of `lines` most like `wanted`, when one is at least half alike.
fn closest(lines: &[&str], wanted: &[&str], first_line: usize) -> Option<Closest> {
    let size = wanted.len().max(1);
    let wanted_text: String = wanted.concat();
    let mut best: Option<Closest> = None;
    // Bounded work on huge files: at most 5,000 windows are compared.
    let step = (lines.len() / 5000).max(1);
    for first in (0..lines.len()).step_by(step) {
        let window: String = lines[first..(first + size).min(lines.len())].concat();
        let similarity =
            similar::TextDiff::from_lines(window.as_str(), wanted_text.as_str()).ratio();
        if similarity >= 0.5 && best.as_ref().is_none_or(|b| similarity > b.similarity) {
            best = Some(Closest {
                line: first_line + first + 1,
                text: window,
                similarity,
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::reply::parse;

    /// xorshift64*: seeded, so that a failure repeats.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
        }
    }

    const VOCABULARY: &[&str] = &[
        "fn a() {}",
        "",
        "    x += 1;",
        "}",
        "let y = 2;",
        "// note",
        "    return;",
        "  ```",
    ];

    fn text(rng: &mut Rng, lines: &[&str]) -> String {
        let mut out = lines.join("\n");
        if !lines.is_empty() && rng.below(4) != 0 {
            out.push('\n');
        }
        out
    }

    #[test]
    fn applying_a_diff_of_a_to_b_onto_a_gives_b() {
        let mut rng = Rng(0x243F_6A88_85A3_08D3);
        for round in 0..2000 {
            let a_lines: Vec<&str> = (0..rng.below(30))
                .map(|_| VOCABULARY[rng.below(VOCABULARY.len())])
                .collect();
            let mut b_lines = a_lines.clone();
            for _ in 0..rng.below(6) {
                let at = rng.below(b_lines.len() + 1);
                match rng.below(3) {
                    0 => b_lines.insert(at, VOCABULARY[rng.below(VOCABULARY.len())]),
                    1 if at < b_lines.len() => {
                        b_lines.remove(at);
                    }
                    _ if at < b_lines.len() => {
                        b_lines[at] = VOCABULARY[rng.below(VOCABULARY.len())]
                    }
                    _ => {}
                }
            }
            let a = text(&mut rng, &a_lines);
            let b = text(&mut rng, &b_lines);
            if a == b {
                continue;
            }
            let diff = similar::TextDiff::from_lines(&a, &b)
                .unified_diff()
                .context_radius(3)
                .header("a/x.rs", "b/x.rs")
                .to_string();
            let edits = parse(&diff).unwrap_or_else(|e| panic!("round {round}: {e}\n{diff}"));
            let results = apply(&edits, &|_| Some(a.clone()))
                .unwrap_or_else(|e| panic!("round {round}: {e}\n{a:?}\n{diff}"));
            let after = results
                .first()
                .and_then(|r| r.after.clone())
                .unwrap_or_else(|| a.clone());
            assert_eq!(after, b, "round {round}:\n{diff}");
        }
    }
}
