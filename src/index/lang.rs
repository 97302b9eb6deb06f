//! The languages the index parses, chosen by file extension.

use serde::{Deserialize, Serialize};

/// A language with a tree-sitter grammar in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
}

impl Lang {
    /// The language of a file, by its extension.
    pub fn of(path: &str) -> Option<Lang> {
        let ext = path.rsplit_once('.')?.1;
        Some(match ext {
            "rs" => Lang::Rust,
            "py" | "pyi" => Lang::Python,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "go" => Lang::Go,
            _ => return None,
        })
    }

    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
        }
    }
}

/// The 1-based lines where tree-sitter finds syntax errors in `text` (at most `limit`), or `None`
/// when no grammar reads files like `path`.
pub fn syntax_errors(path: &str, text: &str, limit: usize) -> Option<Vec<usize>> {
    let lang = Lang::of(path)?;
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&lang.grammar()).ok()?;
    let tree = parser.parse(text, None)?;
    let mut lines = Vec::new();
    if !tree.root_node().has_error() {
        return Some(lines);
    }
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            let line = node.start_position().row + 1;
            if lines.last() != Some(&line) {
                lines.push(line);
            }
            if lines.len() >= limit {
                break;
            }
        } else if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line_of_a_syntax_error() {
        let good = "fn a() {}\nfn b() {}\n";
        assert_eq!(syntax_errors("x.rs", good, 5), Some(Vec::new()));
        let bad = "fn a() {}\nfn b( {}\nfn c() {}\n";
        let lines = syntax_errors("x.rs", bad, 5).expect("rust");
        assert_eq!(lines.first(), Some(&2), "{lines:?}");
        assert_eq!(syntax_errors("notes.txt", bad, 5), None);
    }
}
