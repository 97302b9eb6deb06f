//! Structural patterns: a rule written as Rust code with metavariables, compiled to the
//! tree-sitter query that finds code of that shape. `$X` (capitals, digits, `_`) stands for any
//! one node and captures it as `@X`; the same name twice must be the same text; `$_` is any one
//! node, not captured; `$$$` is any number of things where a list goes (arguments, a macro's
//! tokens, a block's statements). Everything else must be as written, whitespace and comments
//! aside: `$X.unwrap()`, `std::mem::forget($$$)`, `unsafe impl Send for $T {}`. The whole
//! pattern is captured as `@match`.
//!
//! The pattern is parsed as an expression (inside a function body), else as a statement, else as
//! an item; the first parse without errors gives the shape.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tree_sitter::{Node, Parser, Tree};

/// What `$$$` becomes before parsing.
const REST: &str = "__nova_rest__";
/// What `$X` becomes before parsing: this prefix and the name.
const VAR: &str = "__nova_var_";
/// What `$_` becomes.
const ANY: &str = "__nova_any__";

/// Punctuation that the named children around it already imply.
const IMPLIED: &[&str] = &["(", ")", "[", "]", "{", "}", ",", ";", ".", "::", ":"];

/// The tree-sitter query for `pattern`.
pub fn compile(pattern: &str) -> Result<String, String> {
    let source = placeholders(pattern.trim())?;
    let (tree, text, range) = parse(&source).ok_or_else(|| {
        format!("`pattern` is not Rust code (an expression, a statement or an item): `{pattern}`")
    })?;
    let mut node = outermost(tree.root_node(), &range).ok_or_else(|| {
        format!("`pattern` is more than one expression, statement or item: `{pattern}`")
    })?;
    // `if c {}` is a statement holding the expression: the expression is the shape.
    while node.named_child_count() == 1
        && let Some(only) = node.named_child(0)
        && only.byte_range() == range
    {
        node = only;
    }
    let mut query = Query::default();
    let body = query.node(node, &text, None);
    let mut out = body;
    // The predicates go inside the outermost parentheses.
    if let Some(stripped) = out.strip_suffix(')') {
        out = format!("{stripped}{})", query.predicates);
    }
    Ok(format!("{out} @match"))
}

/// Replaces the metavariables with identifiers that parse anywhere an expression or a name does.
fn placeholders(pattern: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix("$$") {
            out.push_str(REST);
            rest = tail;
            continue;
        }
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if name.is_empty() {
            return Err(format!(
                "`pattern`: `$` starts a metavariable (`$X`, `$_`, `$$$`): `{pattern}`"
            ));
        }
        if name == "_" {
            out.push_str(ANY);
        } else {
            let _ = write!(out, "{VAR}{name}");
        }
        rest = &after[name.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The first reading of `source` that parses without errors: the tree, its text, and where the
/// pattern is in it.
fn parse(source: &str) -> Option<(Tree, String, std::ops::Range<usize>)> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .ok()?;
    let readings = [
        ("fn __nova_pattern() { ", " ; }"),
        ("fn __nova_pattern() { ", " }"),
        ("", ""),
    ];
    readings.iter().find_map(|(before, after)| {
        let text = format!("{before}{source}{after}");
        let tree = parser.parse(&text, None)?;
        (!tree.root_node().has_error()).then(|| {
            let range = before.len()..before.len() + source.len();
            (tree, text, range)
        })
    })
}

/// The outermost named node that spans exactly `range`.
fn outermost<'t>(root: Node<'t>, range: &std::ops::Range<usize>) -> Option<Node<'t>> {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.byte_range() == *range && node.is_named() {
            return Some(node);
        }
        if node.start_byte() <= range.start && range.end <= node.end_byte() {
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
    }
    None
}

/// The query being written: its predicates, and the captures made so far.
#[derive(Default)]
struct Query {
    predicates: String,
    /// Each metavariable's capture, and how many times it was seen.
    vars: BTreeMap<String, usize>,
    literals: usize,
}

impl Query {
    /// The query of `node` (under `field`, if it has one).
    fn node(&mut self, node: Node<'_>, text: &str, field: Option<&str>) -> String {
        let said = &text[node.byte_range()];
        let prefix = field.map(|f| format!("{f}: ")).unwrap_or_default();
        if said == ANY {
            return format!("{prefix}(_)");
        }
        if let Some(name) = said.strip_prefix(VAR).filter(|name| {
            name.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        }) {
            let seen = self.vars.entry(name.to_owned()).or_default();
            *seen += 1;
            if *seen == 1 {
                return format!("{prefix}(_) @{name}");
            }
            let again = format!("{name}__{seen}");
            let _ = write!(self.predicates, " (#eq? @{name} @{again})");
            return format!("{prefix}(_) @{again}");
        }
        if !node.is_named() {
            return format!("{prefix}\"{}\"", escape(said));
        }
        if node.named_child_count() == 0 {
            self.literals += 1;
            let capture = format!("_l{}", self.literals);
            let _ = write!(self.predicates, " (#eq? @{capture} \"{}\")", escape(said));
            return format!("{prefix}({}) @{capture}", node.kind());
        }
        let children = self.children(node, text);
        format!("{prefix}({}{children})", node.kind())
    }

    /// The children of `node`: those with a field by field; the others in order, anchored next to
    /// each other and to the ends unless a `$$$` stands between.
    fn children(&mut self, node: Node<'_>, text: &str) -> String {
        let mut out = String::new();
        let mut cursor = node.walk();
        let kids: Vec<(Node<'_>, Option<&str>)> = node
            .children(&mut cursor)
            .enumerate()
            .map(|(n, child)| (child, node.field_name_for_child(n as u32)))
            .filter(|(child, _)| !(child.is_extra() || IMPLIED.contains(&child.kind())))
            .collect();
        let rest = |child: &Node<'_>| &text[child.byte_range()] == REST;
        let has_rest = kids.iter().any(|(child, _)| rest(child));
        if has_rest {
            let others: Vec<_> = kids.iter().filter(|(child, _)| !rest(child)).collect();
            for (child, field) in others {
                out.push(' ');
                out.push_str(&self.node(*child, text, *field));
            }
            return out;
        }
        let positional = kids.iter().all(|(_, field)| field.is_none());
        for (n, (child, field)) in kids.iter().enumerate() {
            if positional && n == 0 {
                out.push_str(" .");
            }
            out.push(' ');
            out.push_str(&self.node(*child, text, *field));
            if positional {
                out.push_str(" .");
            }
        }
        out
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metavariables_become_captures_and_the_rest_must_be_as_written() {
        let query = compile("$X.unwrap()").expect("compiles");
        assert!(query.contains("(_) @X"), "{query}");
        assert!(query.contains("(#eq? @_l1 \"unwrap\")"), "{query}");
        assert!(query.ends_with("@match"), "{query}");
        let same = compile("$A == $A").expect("compiles");
        assert!(same.contains("(#eq? @A @A__2)"), "{same}");
        assert!(same.contains("operator: \"==\""), "{same}");
    }

    #[test]
    fn a_pattern_that_is_not_code_says_so() {
        assert!(compile("$X.unwrap(").unwrap_err().contains("not Rust code"));
        assert!(compile("a $ b").unwrap_err().contains("metavariable"));
    }

    /// Runs a rule written with `pattern` over its examples.
    fn examples(pattern: &str, more: &str) -> Vec<String> {
        let text = format!(
            "id = \"p\"\nagent = \"a\"\nseverity = \"info\"\nmessage = \"m\"\nwhy = \"w\"\n\
             pattern = '{pattern}'\n{more}"
        );
        let rule = crate::rules::compile(&text, crate::rules::Origin::File("p.toml".into()))
            .expect("compiles");
        let mut set = crate::rules::RuleSet::default();
        set.extend(vec![rule]);
        crate::rules::check(&set)
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    fn example(matches: usize, code: &str) -> String {
        format!("[[example]]\nmatches = {matches}\ncode = \'\'\'\n{code}\n\'\'\'\n")
    }

    #[test]
    fn patterns_find_code_of_their_shape_and_nothing_else() {
        let cases = [
            (
                "$X.unwrap()",
                2,
                "fn f(a: Option<u8>, b: Option<u8>) -> u8 { a.unwrap() + b.unwrap_or(0) + g().unwrap() }",
            ),
            (
                "std::mem::forget($$$)",
                1,
                "fn f(x: u8) { std::mem::forget(x); mem::forget(x); }",
            ),
            (
                "$A == $A",
                1,
                "fn f(x: u8, y: u8) -> bool { x == x && x == y && x != x }",
            ),
            ("dbg!($X)", 1, "fn f(a: u8) { dbg!(a); dbg!(a, a); }"),
            (
                "unsafe impl Send for $T {}",
                1,
                "struct A; struct B;\nunsafe impl Send for A {}\nunsafe impl Sync for B {}",
            ),
            (
                "if $C { $$$ }",
                2,
                "fn f(a: bool) { if a { g(); h(); } if !a {} }",
            ),
        ];
        for (pattern, matches, code) in cases {
            let failures = examples(pattern, &example(matches, code));
            assert!(failures.is_empty(), "{pattern}: {failures:?}");
        }
    }

    #[test]
    fn a_pattern_rule_can_carry_a_fix_over_its_metavariables() {
        let fix = "[fix]\nsummary = \"s\"\n[[fix.edit]]\ncapture = \"match\"\nwith = \"{X}.unwrap_or_default()\"\n";
        let code = "fn f(a: Option<String>) -> String { a.unwrap_or(String::new()) }";
        let fixed = "fixed = \"fn f(a: Option<String>) -> String { a.unwrap_or_default() }\\n\"\n";
        let failures = examples(
            "$X.unwrap_or(String::new())",
            &format!("{fix}{}{fixed}", example(1, code)),
        );
        assert!(failures.is_empty(), "{failures:?}");
    }

    #[test]
    fn a_rule_gives_a_query_or_a_pattern() {
        let base = "id = \"p\"\nagent = \"a\"\nseverity = \"info\"\nmessage = \"m\"\nwhy = \"w\"\n";
        let error = |more: &str| {
            crate::rules::compile(
                &format!("{base}{more}"),
                crate::rules::Origin::File("p.toml".into()),
            )
            .err()
            .map(|p| p.message)
            .unwrap_or_default()
        };
        assert!(error("").contains("needs `query`"));
        assert!(error("pattern = 'a'\nquery = '(identifier) @match'\n").contains("not both"));
        assert!(error("pattern = 'a.b('\n").contains("not Rust code"));
    }
}
