//! Fix templates: a rule's deterministic rewrite, written as new text for some of its query's
//! captures. `{name}` in a template is the text of the capture `@name`, `{name:inner}` the same
//! without its first and last character (a macro's brackets); `{{` and `}}` are braces. A fix is
//! offered only where none of its `unless` regexes matches its capture's text, so a rewrite is
//! kept to the shapes where it is safe by construction (`dbg!(x)` but not `dbg!(a, b)`); the
//! candidate it becomes is still built and tested like any other.

use std::ops::Range;

use regex::Regex;

use super::rule::FixFile;
use crate::edit::Replacement;

/// A fix template, checked against its rule's captures.
#[derive(Debug)]
pub struct Template {
    unless: Vec<(String, Regex)>,
    edits: Vec<(String, Vec<Piece>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Capture { name: String, inner: bool },
}

impl Template {
    /// Compiles `file` for a query whose captures are `captures`: every capture it names must be
    /// one of them.
    pub fn compile(file: &FixFile, captures: &[&str]) -> Result<Template, String> {
        let known = |name: &str, what: &str| {
            if captures.contains(&name) {
                Ok(())
            } else {
                Err(format!(
                    "{what} names `@{name}`, which the query does not capture (it captures {})",
                    captures
                        .iter()
                        .map(|c| format!("`@{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        };
        if file.edits.is_empty() {
            return Err(String::from(
                "`[fix]` needs at least one `[[fix.edit]]` with `capture` and `with`",
            ));
        }
        let mut unless = Vec::new();
        for (capture, pattern) in &file.unless {
            known(capture, "`fix.unless`")?;
            let regex = Regex::new(pattern)
                .map_err(|error| format!("`fix.unless.{capture}` is not a regex: {error}"))?;
            unless.push((capture.clone(), regex));
        }
        let mut edits = Vec::new();
        for edit in &file.edits {
            known(&edit.capture, "`fix.edit.capture`")?;
            let pieces = pieces(&edit.with)?;
            for piece in &pieces {
                if let Piece::Capture { name, .. } = piece {
                    known(name, "`fix.edit.with`")?;
                }
            }
            edits.push((edit.capture.clone(), pieces));
        }
        Ok(Template { unless, edits })
    }

    /// The replacements this template makes of one match of `text`, where `captured` gives the
    /// byte range of a capture by name; `None` where a capture is missing, an `unless` holds, or
    /// two edits overlap.
    pub fn render(
        &self,
        text: &str,
        captured: &dyn Fn(&str) -> Option<Range<usize>>,
    ) -> Option<Vec<Replacement>> {
        let text_of = |name: &str| captured(name).and_then(|range| text.get(range));
        for (capture, regex) in &self.unless {
            if regex.is_match(text_of(capture)?) {
                return None;
            }
        }
        let mut replacements = Vec::new();
        for (capture, pieces) in &self.edits {
            let range = captured(capture)?;
            let mut new = String::new();
            for piece in pieces {
                match piece {
                    Piece::Text(literal) => new.push_str(literal),
                    Piece::Capture { name, inner } => {
                        let said = text_of(name)?;
                        if *inner {
                            let mut chars = said.chars();
                            chars.next()?;
                            chars.next_back()?;
                            new.push_str(chars.as_str());
                        } else {
                            new.push_str(said);
                        }
                    }
                }
            }
            let expected = text.get(range.clone())?;
            replacements.push(Replacement::new(range.start, range.end, expected, new));
        }
        replacements.sort_by_key(|r| (r.start, r.end));
        let overlapping = replacements.windows(2).any(|w| w[0].end > w[1].start);
        (!overlapping).then_some(replacements)
    }
}

/// A template's text and capture references.
fn pieces(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => {
                            return Err(format!(
                                "`{template}`: `{{` opens a capture that is never closed; write \
                                 `{{{{` for a brace"
                            ));
                        }
                    }
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                let (name, inner) = match name.split_once(':') {
                    None => (name, false),
                    Some((name, "inner")) => (name.to_owned(), true),
                    Some((_, other)) => {
                        return Err(format!(
                            "`{template}`: `:{other}` is not a filter; the only one is `:inner`"
                        ));
                    }
                };
                pieces.push(Piece::Capture { name, inner });
            }
            '}' => {
                return Err(format!(
                    "`{template}`: a lone `}}`; write `}}}}` for a brace"
                ));
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::rule::EditFile;

    fn template(unless: &[(&str, &str)], edits: &[(&str, &str)]) -> Result<Template, String> {
        let file = FixFile {
            summary: String::from("s"),
            unless: unless
                .iter()
                .map(|(c, r)| ((*c).to_owned(), (*r).to_owned()))
                .collect(),
            edits: edits
                .iter()
                .map(|(capture, with)| EditFile {
                    capture: (*capture).to_owned(),
                    with: (*with).to_owned(),
                })
                .collect(),
        };
        Template::compile(&file, &["match", "args", "name"])
    }

    #[test]
    fn a_template_fills_captures_and_strips_brackets() {
        let text = "dbg!(x + 1)";
        let at = |name: &str| match name {
            "match" => Some(0..11),
            "args" => Some(4..11),
            "name" => Some(0..3),
            _ => None,
        };
        let t = template(&[("args", ",")], &[("match", "{{{args:inner}}}")]).expect("compiles");
        let out = t.render(text, &at).expect("renders");
        assert_eq!(out, [Replacement::new(0, 11, "dbg!(x + 1)", "{x + 1}")]);
        let t = template(&[("args", "\\+")], &[("match", "{args}")]).expect("compiles");
        assert_eq!(t.render(text, &at), None, "`unless` holds");
        let t = template(&[], &[("match", "a"), ("name", "b")]).expect("compiles");
        assert_eq!(t.render(text, &at), None, "overlapping edits");
    }

    #[test]
    fn a_bad_template_says_what_is_wrong() {
        let error = |unless: &[(&str, &str)], edits: &[(&str, &str)]| {
            template(unless, edits).err().unwrap_or_default()
        };
        assert!(error(&[], &[("nope", "x")]).contains("does not capture"));
        assert!(error(&[], &[("match", "{nope}")]).contains("`@nope`"));
        assert!(error(&[], &[("match", "{args:upper}")]).contains("not a filter"));
        assert!(error(&[], &[("match", "{args")]).contains("never closed"));
        assert!(error(&[], &[("match", "a}")]).contains("lone"));
        assert!(error(&[("args", "(")], &[("match", "x")]).contains("not a regex"));
        assert!(error(&[], &[]).contains("at least one"));
    }
}
