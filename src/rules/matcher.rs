//! Running a rule set over one file: one parse, each rule's compiled query over the tree, then
//! the rule's scope (test code, binaries, skipped paths), its thresholds, and the file's
//! `// nova:allow(rule-id): reason` comments. Sans-IO: the caller gives the text, and what the
//! file's declaring `mod` says (test code or not) comes through `read`.

use std::collections::{BTreeMap, BTreeSet};

use tree_sitter::{Node, Parser, Query, QueryCapture, QueryCursor, StreamingIterator, Tree};

use super::fix::Template;
use super::literals::Prefilter;
use super::{Compiled, types};
use crate::edit::Replacement;
use crate::findings::Severity;
use crate::index::attributes::{self, Exposure, Parents};
use crate::index::package::{FileKind, RustVersion, file_kind};

/// One place a rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: String,
    pub agent: String,
    pub severity: Severity,
    pub message: String,
    /// 1-based line and column of the start, and of the end.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub bytes: std::ops::Range<usize>,
    /// The function (`Type::method`) the hit is in, if any.
    pub symbol: Option<String>,
    /// The rule's fix at this place, where it has one that applies here.
    pub fix: Option<Vec<Replacement>>,
}

/// What runs over a file: one query holding the patterns of every rule, and the rule each
/// pattern belongs to, so that the tree is walked once whatever the number of rules.
#[derive(Debug)]
pub struct Plan<'r> {
    pub query: &'r Query,
    /// The rule (an index into `rules`) of each of the query's patterns.
    pub rule_of: &'r [usize],
    pub rules: &'r [Compiled],
    /// Each rule's fix template, compiled against `query`'s captures.
    pub fixes: &'r [Option<Template>],
    /// The first of the query's `FACTS` patterns, if it ends with them.
    pub facts: Option<usize>,
    /// What a file's text needs for each of the query's patterns to match.
    pub prefilter: &'r Prefilter,
}

/// The patterns every combined query ends with: not rules, but what judging a rule's match
/// needs of the file (its attributes, its struct fields), gathered in the same walk of the tree.
/// An attribute starts with `#`: said in a predicate, so that where the rules' words anchor the
/// query, attributes are found from their `#`s too. Struct fields are not anchored: where the
/// query does not walk the whole tree, the type questions find them when they are asked.
pub const FACTS: &str = "((attribute_item) @nova.fact (#match? @nova.fact \"^#\"))\n\
                         ((inner_attribute_item) @nova.fact (#match? @nova.fact \"^#\"))\n\
                         (field_declaration) @nova.fact\n";

/// The hits of `plan`'s rules in the Rust file at `path` with `text`, in order. `parents` reads
/// the other files of the tree that declare this one as a module.
pub fn scan(plan: &Plan<'_>, path: &str, text: &str, parents: &Parents<'_>) -> Vec<Hit> {
    if !path.ends_with(".rs") || plan.rules.is_empty() {
        return Vec::new();
    }
    // Which rules the text leaves possible, before anything is parsed.
    let rules_end = plan.facts.unwrap_or(plan.rule_of.len());
    let seen = plan.prefilter.read(text);
    let mut possible = vec![false; plan.rules.len()];
    for (pattern, &can) in seen.possible.iter().enumerate() {
        if let (true, Some(&rule)) = (can && pattern < rules_end, plan.rule_of.get(pattern)) {
            possible[rule] = true;
        }
    }
    if !possible.contains(&true) {
        return Vec::new();
    }
    let Some(tree) = parse(text) else {
        return Vec::new();
    };
    let mut file = File {
        path,
        text,
        source: types::Source::new(text, tree.root_node()),
        kind: file_kind(path),
        attributes: attributes::Attributes::default(),
        rust_version: parents.rust_version(path),
        exported: parents.exported(path),
        imported: BTreeSet::new(),
        allowed: BTreeMap::new(),
    };
    let applies: Vec<bool> = plan
        .rules
        .iter()
        .zip(&possible)
        .map(|(rule, &possible)| possible && file.applies(rule))
        .collect();
    if !applies.contains(&true) {
        return Vec::new();
    }
    // First every match, then (the file's attributes known) which of them stand. Where every
    // possible pattern needs a word, the query runs only where the words are.
    let mut found = Vec::new();
    let (mut attribute_items, mut fields) = (Vec::new(), Vec::new());
    let anchored = plan.prefilter.anchored(&seen, 0..rules_end);
    let starts = if anchored {
        plan.prefilter.starts(&seen, tree.root_node())
    } else {
        vec![tree.root_node()]
    };
    let mut cursor = QueryCursor::new();
    if anchored {
        cursor.set_max_start_depth(Some(0));
    }
    for start in starts {
        let mut matches = cursor.matches(plan.query, start, text.as_bytes());
        while let Some(one) = matches.next() {
            if plan.facts.is_some_and(|first| one.pattern_index >= first) {
                if let Some(fact) = one.captures.first().map(|c| c.node) {
                    match fact.kind() {
                        "field_declaration" => fields.push(fact),
                        _ => attribute_items.push(fact),
                    }
                }
                continue;
            }
            match plan.rule_of.get(one.pattern_index) {
                Some(&index) if applies[index] => found.push((index, one.captures.to_vec())),
                _ => {}
            }
        }
    }
    let own = match plan.facts {
        Some(_) => {
            if !anchored {
                file.source.know_fields(&fields);
            }
            attributes::of_items(&attribute_items, text)
        }
        None => attributes::of_parsed(&tree, text),
    };
    file.attributes = attributes::with_parents(path, text, &tree, own, parents);
    let asks_exports = plan
        .rules
        .iter()
        .zip(&applies)
        .any(|(rule, &applies)| applies && rule.file.limits.exported);
    if asks_exports && file.exported != Exposure::All {
        file.imported = parents.imported_exported_types(path, text);
    }
    file.allowed = allowed(text);
    file.judge(plan, &found)
}

pub(super) fn parse(text: &str) -> Option<Tree> {
    thread_local! {
        /// One parser per thread, kept: its stacks are allocated once, not once a file.
        static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
    }
    PARSER.with(|parser| {
        let mut parser = parser.try_borrow_mut().ok()?;
        if parser.is_none() {
            let mut rust = Parser::new();
            rust.set_language(&tree_sitter_rust::LANGUAGE.into()).ok()?;
            *parser = Some(rust);
        }
        parser.as_mut()?.parse(text, None)
    })
}

/// One file, with what decides where rules apply.
struct File<'t> {
    path: &'t str,
    text: &'t str,
    /// The text and its tree, for the questions of types and declarations.
    source: types::Source<'t>,
    kind: FileKind,
    attributes: attributes::Attributes,
    /// What its package's `rust-version` says.
    rust_version: Option<RustVersion>,
    /// How much of its module can be reached from outside the crate.
    exported: Exposure,
    /// The exported types it imports from other modules, whose inherent impls here are public
    /// API whatever its own module exports.
    imported: BTreeSet<String>,
    /// The rules each line's `nova:allow` comment silences (the comment's line and the next).
    allowed: BTreeMap<usize, BTreeSet<String>>,
}

impl File<'_> {
    /// The hits among a file's matches, in order: each the rule's index and the match's
    /// captures.
    fn judge(&self, plan: &Plan<'_>, found: &[(usize, Vec<QueryCapture<'_>>)]) -> Vec<Hit> {
        let names = plan.query.capture_names();
        let target = names
            .iter()
            .position(|name| *name == "match")
            .and_then(|at| u32::try_from(at).ok());
        let mut hits = Vec::new();
        let mut seen = BTreeSet::new();
        for (index, captures) in found {
            let node = captures
                .iter()
                .find(|c| Some(c.index) == target)
                .or_else(|| captures.first())
                .map(|c| c.node);
            let Some(node) = node else {
                continue;
            };
            let rule = &plan.rules[*index];
            // A pattern can match one node more than once; nested calls share a start, not a
            // span.
            if seen.insert((*index, node.start_byte(), node.end_byte())) && self.keeps(rule, node) {
                let captured = |name: &str| {
                    captures
                        .iter()
                        .find(|c| names.get(c.index as usize) == Some(&name))
                        .map(|c| c.node.byte_range())
                };
                let fix = plan
                    .fixes
                    .get(*index)
                    .and_then(Option::as_ref)
                    .and_then(|t| t.render(self.text, &captured));
                hits.push(self.hit(rule, node, fix));
            }
        }
        hits.sort_by(|a, b| (a.line, a.column, &a.rule).cmp(&(b.line, b.column, &b.rule)));
        hits
    }

    /// Whether `rule` looks at this file at all.
    fn applies(&self, rule: &Compiled) -> bool {
        let scope = &rule.file.scope;
        if rule.skip.is_match(self.path) {
            return false;
        }
        if let (Some(min), Some(declared)) = (rule.min_rust_version, self.rust_version)
            && declared < min
        {
            return false;
        }
        match self.kind {
            FileKind::Tests => scope.tests,
            FileKind::Binary => scope.binaries && !scope.only_tests,
            FileKind::Library => true,
        }
    }

    /// Whether a match stands: its scope in the file, the rule's thresholds, no allow comment.
    fn keeps(&self, rule: &Compiled, node: Node<'_>) -> bool {
        let scope = &rule.file.scope;
        let line = node.start_position().row + 1;
        let end = node.end_position().row + 1;
        let test = self.kind == FileKind::Tests || self.attributes.touches_test(&(line..=line));
        if (test && !scope.tests) || (scope.only_tests && !test) {
            return false;
        }
        // The code already says it means it: `#[allow(clippy::x)]` or `#[expect(...)]` of the
        // rule's lint, on the item or a module around it.
        if let Some(lint) = &rule.file.lint
            && self.attributes.silences(lint, &(line..=line))
        {
            return false;
        }
        let limits = &rule.file.limits;
        if limits.min_lines.is_some_and(|min| end + 1 - line < min) {
            return false;
        }
        if limits
            .min_code_lines
            .is_some_and(|min| code_lines(node, self.text) < min)
        {
            return false;
        }
        if limits
            .min_depth
            .is_some_and(|at| depth(self.source.root(), node) != Some(at))
        {
            return false;
        }
        if !limits.inside.is_empty() && !inside(self.source.root(), node, &limits.inside, self.text)
        {
            return false;
        }
        if !limits.not_inside.is_empty()
            && inside(self.source.root(), node, &limits.not_inside, self.text)
        {
            return false;
        }
        if limits.may_truncate && !types::may_truncate(node, &self.source) {
            return false;
        }
        if limits.may_panic_index && !types::may_panic_index(node, &self.source) {
            return false;
        }
        if limits.exported && !self.reachable(node) {
            return false;
        }
        if has_any(node, limits, self.text) {
            return false;
        }
        if let Some(marker) = &limits.without_comment_above
            && comment_above(node, marker, self.text)
        {
            return false;
        }
        if !limits.followed_by.is_empty() && !followed_by(node, &limits.followed_by) {
            return false;
        }
        !self
            .allowed
            .get(&line)
            .is_some_and(|rules| rules.contains(&rule.file.id))
    }

    /// Whether the item `node` can be reached from outside the crate: its file's module exports
    /// it (all, or its name: a method's, its type's) and nothing in the file hides it.
    fn reachable(&self, node: Node<'_>) -> bool {
        let named = |names: &BTreeSet<String>| {
            top_level_name(node, self.text).is_some_and(|name| names.contains(name))
        };
        let module = match &self.exported {
            Exposure::All => true,
            Exposure::Names(names) => named(names),
            Exposure::None => false,
        };
        // A method of an exported type declared elsewhere, in an inherent impl here.
        let imported = || named(&self.imported);
        (module || imported()) && exported_in_file(node, &self.source, &self.imported)
    }

    fn hit(&self, rule: &Compiled, node: Node<'_>, fix: Option<Vec<Replacement>>) -> Hit {
        let (start, end) = (node.start_position(), node.end_position());
        Hit {
            rule: rule.file.id.clone(),
            agent: rule.file.agent.clone(),
            severity: rule.file.severity,
            message: rule.file.message.clone(),
            line: start.row + 1,
            column: start.column + 1,
            end_line: end.row + 1,
            end_column: end.column + 1,
            bytes: node.byte_range(),
            symbol: symbol(self.source.root(), node, self.text),
            fix,
        }
    }
}

/// The lines of code in `node`'s body (its `body` field, else itself) between its first and last
/// line: not blank, not only a comment.
fn code_lines(node: Node<'_>, text: &str) -> usize {
    let body = node.child_by_field_name("body").unwrap_or(node);
    let lines: Vec<&str> = text[body.byte_range()].lines().collect();
    let inner = lines.get(1..lines.len().saturating_sub(1)).unwrap_or(&[]);
    let mut in_comment = false;
    let mut count = 0;
    for line in inner {
        let mut rest = line.trim();
        let mut code = false;
        while !rest.is_empty() {
            if in_comment {
                match rest.find("*/") {
                    Some(at) => {
                        in_comment = false;
                        rest = rest[at + 2..].trim_start();
                    }
                    None => rest = "",
                }
            } else if rest.starts_with("//") {
                rest = "";
            } else if let Some(after) = rest.strip_prefix("/*") {
                in_comment = true;
                rest = after;
            } else {
                code = true;
                rest = "";
            }
        }
        count += usize::from(code);
    }
    count
}

/// How deep `node` is nested, counting itself, as `clippy::excessive_nesting` counts: every
/// `{ }` block and every `impl`, `trait` and inline `mod` from the top of the file. `None` inside
/// an `unsafe { }` block, which that lint does not look into (the block's span starts with
/// `unsafe`, not `{`, and it stops there).
fn depth(root: Node<'_>, node: Node<'_>) -> Option<usize> {
    let mut path = ancestors(root, node);
    path.push(node);
    if path.iter().any(|here| here.kind() == "unsafe_block") {
        return None;
    }
    let nests = |here: &Node<'_>| match here.kind() {
        "block" | "impl_item" | "trait_item" => true,
        "mod_item" => here.child_by_field_name("body").is_some(),
        _ => false,
    };
    Some(path.iter().filter(|here| nests(here)).count())
}

/// The nodes around `node`, from the top of its file (`root`) down, in one descent: a chain of
/// `Node::parent` calls costs more, each descending from the root again.
fn ancestors<'t>(root: Node<'t>, node: Node<'t>) -> Vec<Node<'t>> {
    let mut path = Vec::new();
    let mut at = root;
    while at != node {
        path.push(at);
        match at.child_with_descendant(node) {
            Some(down) => at = down,
            None => break,
        }
    }
    path
}

/// Whether the item `node` can be reached from outside its file's module: no private inline
/// `mod`, no function around it, no `impl` of a trait or of a private type of the file, nothing
/// `#[doc(hidden)]` on the way.
fn exported_in_file(
    node: Node<'_>,
    source: &types::Source<'_>,
    imported: &BTreeSet<String>,
) -> bool {
    let text = source.text;
    let mut at = Some(node);
    while let Some(item) = at {
        let mut sibling = item.prev_named_sibling();
        while let Some(attribute) = sibling.filter(|s| s.kind() == "attribute_item") {
            let said: String = text[attribute.byte_range()].split_whitespace().collect();
            if said.contains("doc(hidden)") {
                return false;
            }
            sibling = attribute.prev_named_sibling();
        }
        let reachable = match item.kind() {
            "mod_item" => types::is_pub(item, text),
            "function_item" | "closure_expression" => item.id() == node.id(),
            // An exported type imported here is the impl's type in the build that imports it,
            // even where the file declares a private one of that name under another `cfg`.
            "impl_item" => {
                item.child_by_field_name("trait").is_none()
                    && item.child_by_field_name("type").is_none_or(|ty| {
                        let ty = &text[ty.byte_range()];
                        let name = ty.split('<').next().unwrap_or(ty).trim();
                        imported.contains(name) || !private_type(source, ty)
                    })
            }
            _ => true,
        };
        if !reachable {
            return false;
        }
        at = item.parent();
    }
    true
}

/// The name the file's top-level item around `node` is exported by: its own, or an `impl`'s
/// type's (generics aside).
fn top_level_name<'t>(node: Node<'_>, text: &'t str) -> Option<&'t str> {
    let mut item = node;
    while let Some(parent) = item.parent().filter(|p| p.kind() != "source_file") {
        item = parent;
    }
    let name = match item.kind() {
        "impl_item" => item.child_by_field_name("type")?,
        _ => item.child_by_field_name("name")?,
    };
    let name = &text[name.byte_range()];
    Some(name.split('<').next().unwrap_or(name).trim())
}

/// Whether the file declares a type named as `ty` (generics aside) that is not `pub`.
fn private_type(source: &types::Source<'_>, ty: &str) -> bool {
    let name = ty.split('<').next().unwrap_or(ty).trim();
    let kinds = ["struct_item", "enum_item", "union_item", "type_item"];
    types::items_named(source, &kinds, name)
        .first()
        .is_some_and(|item| !types::is_pub(*item, source.text))
}

/// Whether `node` lies inside a node of one of `kinds`; `async` stands for an `async fn` or an
/// `async` block.
fn inside(root: Node<'_>, node: Node<'_>, kinds: &[String], text: &str) -> bool {
    let asks_async = kinds.iter().any(|k| k == "async");
    for parent in ancestors(root, node).into_iter().rev() {
        let kind = parent.kind();
        if kinds.iter().any(|k| k == kind) {
            return true;
        }
        if asks_async {
            if kind == "async_block" {
                return true;
            }
            if kind == "function_item" {
                let mut cursor = parent.walk();
                return parent
                    .children(&mut cursor)
                    .find(|c| c.kind() == "function_modifiers")
                    .is_some_and(|m| text[m.byte_range()].contains("async"));
            }
        }
    }
    false
}

/// Whether `node` holds a descendant of one of `limits.without`'s kinds, or a call of one of its
/// macros or methods.
fn has_any(node: Node<'_>, limits: &super::Limits, text: &str) -> bool {
    let (kinds, macros, methods, calls) = (
        &limits.without,
        &limits.without_macros,
        &limits.without_methods,
        &limits.without_calls,
    );
    if kinds.is_empty() && macros.is_empty() && methods.is_empty() && calls.is_empty() {
        return false;
    }
    let named = |at: Option<Node<'_>>| at.map_or("", |n| &text[n.byte_range()]);
    let mut stack = vec![node];
    while let Some(at) = stack.pop() {
        if at.id() != node.id() && kinds.iter().any(|k| k == at.kind()) {
            return true;
        }
        if at.kind() == "macro_invocation" {
            let name = named(at.child_by_field_name("macro"));
            let last = name.rsplit("::").next().unwrap_or(name);
            if macros.iter().any(|m| m == last) {
                return true;
            }
        }
        if at.kind() == "call_expression"
            && let Some(function) = at.child_by_field_name("function")
        {
            let name = if function.kind() == "field_expression" {
                let method = named(function.child_by_field_name("field"));
                if methods.iter().any(|m| m == method) {
                    return true;
                }
                method
            } else {
                let path = &text[function.byte_range()];
                path.rsplit("::").next().unwrap_or(path)
            };
            if calls.iter().any(|prefix| name.starts_with(prefix.as_str())) {
                return true;
            }
        }
        let mut cursor = at.walk();
        stack.extend(at.children(&mut cursor));
    }
    false
}

/// Whether a comment holding `marker` sits just above `node`'s statement, item or match arm,
/// past its attributes (for `///`, a `#[doc]` attribute counts), or, for a block, opens it.
fn comment_above(node: Node<'_>, marker: &str, text: &str) -> bool {
    let holds = |comment: Node<'_>| {
        // `// Safety:` and `// safety:` are as common as `// SAFETY:` (clippy takes all).
        text[comment.byte_range()]
            .to_ascii_lowercase()
            .contains(&marker.to_ascii_lowercase())
    };
    let opening = node
        .named_child(0)
        .filter(|block| block.kind() == "block")
        .and_then(|block| block.named_child(0))
        .or_else(|| node.named_child(0))
        .filter(|first| matches!(first.kind(), "line_comment" | "block_comment"));
    if opening.is_some_and(holds) {
        return true;
    }
    // The comments right above the node, or above any expression it opens up to the statement
    // or item it is in (`f(\n    // SAFETY: ...\n    unsafe { ... })`).
    let mut at = node;
    loop {
        let mut previous = at.prev_sibling();
        while let Some(sibling) = previous {
            let said = &text[sibling.byte_range()];
            match sibling.kind() {
                "attribute_item" if marker == "///" && said.contains("doc") => return true,
                "attribute_item" => {}
                "line_comment" | "block_comment" if holds(sibling) => return true,
                "line_comment" | "block_comment" => {}
                _ => break,
            }
            previous = sibling.prev_sibling();
        }
        match at.parent() {
            Some(parent)
                if !matches!(
                    parent.kind(),
                    "block"
                        | "source_file"
                        | "declaration_list"
                        | "field_declaration_list"
                        | "match_block"
                ) =>
            {
                at = parent;
            }
            _ => return false,
        }
    }
}

/// Whether a later sibling of `node` (in the block it is a statement of) holds a node of one of
/// `kinds`.
fn followed_by(node: Node<'_>, kinds: &[String]) -> bool {
    let mut next = node.next_sibling();
    while let Some(sibling) = next {
        let mut stack = vec![sibling];
        while let Some(at) = stack.pop() {
            if kinds.iter().any(|k| k == at.kind()) {
                return true;
            }
            let mut cursor = at.walk();
            stack.extend(at.children(&mut cursor));
        }
        next = sibling.next_sibling();
    }
    false
}

/// The function around `node`, as `Type::method` inside an `impl`.
fn symbol(root: Node<'_>, node: Node<'_>, text: &str) -> Option<String> {
    let mut function = None;
    let mut path = ancestors(root, node);
    path.push(node);
    for here in path.into_iter().rev() {
        match here.kind() {
            "function_item" if function.is_none() => {
                function = here
                    .child_by_field_name("name")
                    .map(|n| text[n.byte_range()].to_owned());
            }
            "impl_item" => {
                // `View<'a>` is `View`: the name the index knows the type by.
                let ty = here.child_by_field_name("type").map(|n| {
                    let ty = &text[n.byte_range()];
                    ty.split('<').next().unwrap_or(ty).trim().to_owned()
                });
                return match (ty, function) {
                    (Some(ty), Some(function)) => Some(format!("{ty}::{function}")),
                    (ty, function) => function.or(ty),
                };
            }
            _ => {}
        }
    }
    function
}

/// The `nova:allow(rule, ...): reason` comments of `text`: each silences its rules on its own
/// line and the next. One without a reason silences nothing.
fn allowed(text: &str) -> BTreeMap<usize, BTreeSet<String>> {
    let mut allowed: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let Some(at) = line.find("nova:allow(") else {
            continue;
        };
        if !line[..at].trim_end().ends_with("//") {
            continue;
        }
        let rest = &line[at + "nova:allow(".len()..];
        let Some((ids, reason)) = rest.split_once(')') else {
            continue;
        };
        let reason = reason.trim_start().strip_prefix(':').unwrap_or("").trim();
        if reason.is_empty() {
            continue;
        }
        let ids: BTreeSet<String> = ids
            .split(',')
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .collect();
        for line in [n + 1, n + 2] {
            allowed.entry(line).or_default().extend(ids.iter().cloned());
        }
    }
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allow_comment_needs_a_reason_and_covers_its_line_and_the_next() {
        let text = "// nova:allow(unwrap-in-lib): the map was filled above\nlet a = 1; // nova:allow(dbg, todo-comment): kept\n// nova:allow(unwrap-in-lib)\n";
        let allowed = allowed(text);
        assert!(allowed[&1].contains("unwrap-in-lib"));
        assert!(allowed[&2].contains("unwrap-in-lib") && allowed[&2].contains("dbg"));
        assert!(allowed[&3].contains("todo-comment"));
        assert!(!allowed.contains_key(&4), "no reason, no silence");
    }
}
