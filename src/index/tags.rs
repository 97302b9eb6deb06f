//! Tags: the definitions a file makes and the names it uses, extracted from a tree-sitter parse.
//! The tree is dropped as soon as its tags are out; the index never holds syntax trees.

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Parser, Point, Range};

use super::lang::Lang;

/// What a definition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Function,
    Method,
    Struct,
    Enum,
    Union,
    Trait,
    Impl,
    Module,
    Const,
    Static,
    TypeAlias,
    Macro,
    Class,
    Interface,
    Variable,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Function => "function",
            Kind::Method => "method",
            Kind::Struct => "struct",
            Kind::Enum => "enum",
            Kind::Union => "union",
            Kind::Trait => "trait",
            Kind::Impl => "impl",
            Kind::Module => "module",
            Kind::Const => "const",
            Kind::Static => "static",
            Kind::TypeAlias => "type",
            Kind::Macro => "macro",
            Kind::Class => "class",
            Kind::Interface => "interface",
            Kind::Variable => "variable",
        }
    }

    /// Whether definitions of this kind hold others (methods in an impl or class).
    fn is_container(self) -> bool {
        matches!(
            self,
            Kind::Impl | Kind::Trait | Kind::Class | Kind::Interface | Kind::Module
        )
    }
}

/// One definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Def {
    pub name: String,
    pub kind: Kind,
    /// 1-based first and last line.
    pub line: u32,
    pub end_line: u32,
    /// The definition's head, whitespace collapsed: `pub fn load(path: &Path) -> Result<Config>`.
    pub signature: String,
    /// The enclosing definition's name (`Config` for a method in `impl Config`).
    pub scope: Option<String>,
    /// Exported from its module or package, where the language says.
    pub public: bool,
    /// The start of its doc comment (Rust's `///`), at most `MAX_DOC` characters: a task's
    /// words are matched against it.
    pub doc: String,
}

/// Everything the index keeps of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTags {
    pub lines: u32,
    pub defs: Vec<Def>,
    /// Names used, with how many times, sorted by name.
    pub refs: Vec<(String, u32)>,
    /// Whether tree-sitter had to recover from syntax errors.
    pub had_errors: bool,
}

/// The longest doc comment kept, in characters.
pub const MAX_DOC: usize = 200;

/// The longest signature kept, in characters.
const MAX_SIGNATURE: usize = 240;

/// Parses `text` as `lang` and extracts its tags. Text with syntax errors gives what tree-sitter
/// recovers.
pub fn extract(lang: Lang, text: &str, parser: &mut Parser) -> FileTags {
    extract_with(lang, text, parser, true)
}

/// [`extract`], with Rust function bodies lexed (`skip_bodies`) or parsed like the rest.
/// Gives each definition the start of its doc comment: the `///` lines just above it, with
/// attributes allowed between them and the item.
fn attach_docs(text: &str, defs: &mut [Def]) {
    let lines: Vec<&str> = text.lines().collect();
    for def in defs {
        let mut at = (def.line as usize).saturating_sub(1).min(lines.len());
        let mut doc: Vec<&str> = Vec::new();
        while at > 0 {
            at -= 1;
            let line = lines[at].trim_start();
            if let Some(rest) = line.strip_prefix("///") {
                doc.push(rest.trim());
            } else if !line.starts_with("#[") {
                break;
            }
        }
        if doc.is_empty() {
            continue;
        }
        doc.reverse();
        let mut joined = String::new();
        for part in doc.into_iter().filter(|p| !p.is_empty()) {
            if joined.len() + part.len() + 1 > MAX_DOC {
                break;
            }
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(part);
        }
        def.doc = joined;
    }
}

fn extract_with(lang: Lang, text: &str, parser: &mut Parser, skip_bodies: bool) -> FileTags {
    let mut tags = FileTags {
        lines: text.lines().count() as u32,
        ..FileTags::default()
    };
    if parser.set_language(&lang.grammar()).is_err() {
        return tags;
    }
    // Rust function bodies are lexed, not parsed: tree-sitter gets everything else.
    let mut bodies = match lang {
        Lang::Rust if skip_bodies => super::bodies::scan(text),
        _ => super::bodies::Bodies::default(),
    };
    if !bodies.ranges.is_empty()
        && parser
            .set_included_ranges(&included_ranges(text, &bodies.ranges))
            .is_err()
    {
        // The parser reads the bodies after all: their names come from the tree.
        bodies.refs.clear();
    }
    let tree = parser.parse(text, None);
    if !bodies.ranges.is_empty() {
        // nova:allow(ignored-result): the parser is reused for the next file: back to whole documents
        let _ = parser.set_included_ranges(&[]);
    }
    let Some(tree) = tree else {
        return tags;
    };
    let root = tree.root_node();
    tags.had_errors = root.has_error();
    let source = text.as_bytes();
    let mut refs: FxHashMap<&str, u32> = bodies.refs;
    // Open containers: (end byte, name, kind).
    let mut scopes: Vec<(usize, String, Kind)> = Vec::new();
    let mut def_names: Vec<usize> = Vec::new();
    let mut cursor = root.walk();
    // Kinds of the nodes above the current one: `node.parent()` walks down from the root each
    // time, so the walk keeps its own stack.
    let mut ancestors: Vec<u16> = Vec::new();
    let kinds = Kinds::of(lang);
    loop {
        let node = cursor.node();
        // Kind ids, not names: `Node::kind` decodes a C string on every call.
        let kind = node.kind_id();
        while scopes
            .last()
            .is_some_and(|(end, _, _)| *end <= node.start_byte())
        {
            scopes.pop();
        }
        // Keywords and punctuation are anonymous nodes: neither definitions nor names.
        if !node.is_named() {
        } else if let Some((def_kind, name_node, name)) = kinds
            .defs
            .contains(&kind)
            .then(|| classify(lang, node, source, scopes.last().map(|s| s.2)))
            .flatten()
        {
            let def = Def {
                signature: signature(lang, node, source),
                scope: scopes.last().map(|(_, n, _)| n.clone()),
                public: is_public(lang, node, &name, source),
                line: node.start_position().row as u32 + 1,
                end_line: node.end_position().row as u32 + 1,
                name,
                kind: def_kind,
                doc: String::new(),
            };
            if let Some(name_node) = name_node {
                def_names.push(name_node.start_byte());
            }
            if def_kind.is_container() {
                scopes.push((node.end_byte(), def.name.clone(), def_kind));
            }
            tags.defs.push(def);
        } else if node.child_count() == 0
            && kinds.is_reference(lang, kind, &ancestors)
            && !def_names.contains(&node.start_byte())
            && let Ok(name) = node.utf8_text(source)
            && name.len() > 1
        {
            *refs.entry(name).or_default() += 1;
        }
        if cursor.goto_first_child() {
            ancestors.push(kind);
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                let mut refs: Vec<(String, u32)> =
                    refs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                refs.sort();
                tags.refs = refs;
                if lang == Lang::Rust {
                    attach_docs(text, &mut tags.defs);
                }
                return tags;
            }
            ancestors.pop();
        }
        // Names of definitions are only ever the next few nodes; keep the list short.
        if def_names.len() > 64 {
            def_names.drain(..32);
        }
    }
}

/// Everything of `text` but the insides of `bodies`, as tree-sitter's included ranges.
fn included_ranges(text: &str, bodies: &[(usize, usize)]) -> Vec<Range> {
    // Rows and columns, found by counting newlines forward from the previous boundary.
    let mut row = 0;
    let mut line_start = 0;
    let mut scanned = 0;
    let mut point = |byte: usize| {
        for (at, _) in text.as_bytes()[scanned..byte]
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
        {
            row += 1;
            line_start = scanned + at + 1;
        }
        scanned = byte;
        Point::new(row, byte - line_start)
    };
    let mut ranges = Vec::with_capacity(bodies.len() + 1);
    let mut from = (0, Point::new(0, 0));
    for &(start, end) in bodies {
        let start_point = point(start);
        ranges.push(Range {
            start_byte: from.0,
            end_byte: start,
            start_point: from.1,
            end_point: start_point,
        });
        from = (end, point(end));
    }
    ranges.push(Range {
        start_byte: from.0,
        end_byte: text.len(),
        start_point: from.1,
        end_point: point(text.len()),
    });
    ranges
}

fn text<'a>(node: Node<'_>, source: &'a [u8]) -> &'a str {
    node.utf8_text(source).unwrap_or("")
}

fn field<'a>(node: Node<'a>, name: &str) -> Option<Node<'a>> {
    node.child_by_field_name(name)
}

/// Whether `node` defines something: its kind, the node holding its name, and the name.
fn classify<'a>(
    lang: Lang,
    node: Node<'a>,
    source: &[u8],
    container: Option<Kind>,
) -> Option<(Kind, Option<Node<'a>>, String)> {
    let in_container = container.is_some_and(|k| k != Kind::Module);
    let named = |kind: Kind| {
        let name = field(node, "name")?;
        Some((kind, Some(name), text(name, source).to_owned()))
    };
    match lang {
        Lang::Rust => match node.kind() {
            "function_item" | "function_signature_item" => named(if in_container {
                Kind::Method
            } else {
                Kind::Function
            }),
            "struct_item" => named(Kind::Struct),
            "enum_item" => named(Kind::Enum),
            "union_item" => named(Kind::Union),
            "trait_item" => named(Kind::Trait),
            "mod_item" if field(node, "body").is_some() => named(Kind::Module),
            "const_item" => named(Kind::Const),
            "static_item" => named(Kind::Static),
            "type_item" => named(Kind::TypeAlias),
            "macro_definition" => named(Kind::Macro),
            "impl_item" => {
                let ty = field(node, "type")?;
                Some((Kind::Impl, None, base_type(text(ty, source))))
            }
            _ => None,
        },
        Lang::Python => match node.kind() {
            "function_definition" => named(if in_container {
                Kind::Method
            } else {
                Kind::Function
            }),
            "class_definition" => named(Kind::Class),
            _ => None,
        },
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => match node.kind() {
            "function_declaration" | "generator_function_declaration" | "function_signature" => {
                named(Kind::Function)
            }
            "class_declaration" | "abstract_class_declaration" => named(Kind::Class),
            "method_definition" | "method_signature" | "abstract_method_signature" => {
                named(Kind::Method)
            }
            "interface_declaration" => named(Kind::Interface),
            "type_alias_declaration" => named(Kind::TypeAlias),
            "enum_declaration" => named(Kind::Enum),
            "internal_module" | "module" => named(Kind::Module),
            "variable_declarator" => {
                let name = field(node, "name")?;
                if name.kind() != "identifier" {
                    return None;
                }
                let value = field(node, "value").map(|v| v.kind());
                let function = matches!(
                    value,
                    Some("arrow_function" | "function_expression" | "function")
                );
                let top = node
                    .parent()
                    .and_then(|decl| decl.parent())
                    .is_some_and(|p| matches!(p.kind(), "program" | "export_statement"));
                match (function, top) {
                    (true, _) => Some((Kind::Function, Some(name), text(name, source).to_owned())),
                    (false, true) => {
                        Some((Kind::Variable, Some(name), text(name, source).to_owned()))
                    }
                    _ => None,
                }
            }
            _ => None,
        },
        Lang::Go => match node.kind() {
            "function_declaration" => named(Kind::Function),
            "method_declaration" => named(Kind::Method),
            "type_spec" => {
                let kind = match field(node, "type").map(|t| t.kind()) {
                    Some("struct_type") => Kind::Struct,
                    Some("interface_type") => Kind::Interface,
                    _ => Kind::TypeAlias,
                };
                named(kind)
            }
            "type_alias" => named(Kind::TypeAlias),
            "const_spec" => named(Kind::Const),
            "var_spec"
                if node
                    .parent()
                    .and_then(|p| p.parent())
                    .is_some_and(|p| p.kind() == "source_file") =>
            {
                named(Kind::Variable)
            }
            _ => None,
        },
    }
}

/// The node kinds that matter to tag extraction, as kind ids of one grammar.
struct Kinds {
    /// Kinds that may define something (`classify` decides).
    defs: Vec<u16>,
    /// Type and member names: always references.
    members: Vec<u16>,
    /// Plain identifiers: references only under one of `contexts`.
    identifiers: Vec<u16>,
    contexts: Vec<u16>,
    /// Python's `argument_list` and `class_definition`, for base classes.
    argument_list: Vec<u16>,
    class_definition: Vec<u16>,
}

impl Kinds {
    /// The kinds of `lang`, computed once per process.
    fn of(lang: Lang) -> &'static Kinds {
        static KINDS: [std::sync::OnceLock<Kinds>; 6] = [const { std::sync::OnceLock::new() }; 6];
        let slot = match lang {
            Lang::Rust => 0,
            Lang::Python => 1,
            Lang::JavaScript => 2,
            Lang::TypeScript => 3,
            Lang::Tsx => 4,
            Lang::Go => 5,
        };
        KINDS[slot].get_or_init(|| Kinds::new(lang))
    }

    fn new(lang: Lang) -> Kinds {
        let language = lang.grammar();
        // Every named symbol id with one of `names` (a kind can have several ids, through aliases).
        let ids = |names: &[&str]| -> Vec<u16> {
            (0..language.node_kind_count() as u16)
                .filter(|&id| language.node_kind_is_named(id))
                .filter(|&id| {
                    language
                        .node_kind_for_id(id)
                        .is_some_and(|n| names.contains(&n))
                })
                .collect()
        };
        let (defs, members, contexts) = (
            definition_kinds(lang),
            member_kinds(lang),
            reference_contexts(lang),
        );
        Kinds {
            defs: ids(defs),
            members: ids(members),
            identifiers: ids(&["identifier"]),
            contexts: ids(contexts),
            argument_list: ids(&["argument_list"]),
            class_definition: ids(&["class_definition"]),
        }
    }

    /// Whether a leaf of kind `kind`, under `ancestors`, uses a name defined elsewhere. Type and
    /// member names always count; a plain identifier counts only where it names something
    /// callable or importable, not where it is a local variable, so that a variable called
    /// `path` does not point at every `fn path`.
    fn is_reference(&self, lang: Lang, kind: u16, ancestors: &[u16]) -> bool {
        if self.members.contains(&kind) {
            return true;
        }
        if !self.identifiers.contains(&kind) {
            return false;
        }
        let Some((parent, rest)) = ancestors.split_last() else {
            return false;
        };
        // Python's base classes sit in an argument list: `class Store(Base):`.
        if lang == Lang::Python
            && self.argument_list.contains(parent)
            && rest
                .last()
                .is_some_and(|g| self.class_definition.contains(g))
        {
            return true;
        }
        self.contexts.contains(parent)
    }
}

fn is_public(lang: Lang, node: Node<'_>, name: &str, source: &[u8]) -> bool {
    match lang {
        Lang::Rust => {
            let mut cursor = node.walk();
            let public = node
                .children(&mut cursor)
                .any(|child| child.kind() == "visibility_modifier" && text(child, source) == "pub");
            public || node.kind() == "impl_item"
        }
        Lang::Python => !name.starts_with('_') || (name.starts_with("__") && name.ends_with("__")),
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => {
            if name.starts_with('#') {
                return false;
            }
            let mut up = node.parent();
            while let Some(parent) = up {
                match parent.kind() {
                    "export_statement" => return true,
                    "class_body" | "interface_body" | "object_type" => return true,
                    "program" => return false,
                    _ => up = parent.parent(),
                }
            }
            false
        }
        Lang::Go => name.starts_with(|c: char| c.is_uppercase()),
    }
}

/// The head of a definition: its text up to its body, whitespace collapsed.
fn signature(lang: Lang, node: Node<'_>, source: &[u8]) -> String {
    // Only the head is decoded: a module's or an impl's whole text can be most of the file.
    let start = node.start_byte();
    let end = match field(node, "body") {
        Some(body) if body.start_byte() > start => body.start_byte(),
        // No body field: the first line, up to any block it opens.
        _ => {
            let rest = &source[start..node.end_byte()];
            let stop = rest
                .iter()
                .position(|&b| b == b'\n' || b == b'{')
                .unwrap_or(rest.len());
            start + stop
        }
    };
    let head = std::str::from_utf8(&source[start..end]).unwrap_or("");
    let mut out = String::with_capacity(head.len().min(MAX_SIGNATURE));
    for word in head.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    let trimmed = out.trim_end_matches(['{', ':', ' ', '=']);
    let mut out = trimmed.to_owned();
    if lang == Lang::Python
        && node.kind() != "decorated_definition"
        && out.starts_with("def ") | out.starts_with("async def ") | out.starts_with("class ")
    {
        out.push(':');
    }
    if lang == Lang::Go && node.kind() == "type_spec" {
        out = format!("type {out}");
    }
    if out.chars().count() > MAX_SIGNATURE {
        out = out.chars().take(MAX_SIGNATURE - 1).collect::<String>() + "…";
    }
    out
}

/// `Foo<'a, T>` -> `Foo`, `crate::Foo` -> `Foo`, `&mut Foo` -> `Foo`.
fn base_type(ty: &str) -> String {
    let ty = ty
        .trim_start_matches(['&', '*'])
        .trim_start_matches("mut ")
        .trim();
    let ty = ty.split('<').next().unwrap_or(ty);
    ty.rsplit("::").next().unwrap_or(ty).trim().to_owned()
}

/// The node kinds that define something, per language.
fn definition_kinds(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Rust => &[
            "function_item",
            "function_signature_item",
            "struct_item",
            "enum_item",
            "union_item",
            "trait_item",
            "mod_item",
            "const_item",
            "static_item",
            "type_item",
            "macro_definition",
            "impl_item",
        ],
        Lang::Python => &["function_definition", "class_definition"],
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => &[
            "function_declaration",
            "generator_function_declaration",
            "function_signature",
            "class_declaration",
            "abstract_class_declaration",
            "method_definition",
            "method_signature",
            "abstract_method_signature",
            "interface_declaration",
            "type_alias_declaration",
            "enum_declaration",
            "internal_module",
            "module",
            "variable_declarator",
        ],
        Lang::Go => &[
            "function_declaration",
            "method_declaration",
            "type_spec",
            "type_alias",
            "const_spec",
            "var_spec",
        ],
    }
}

/// The leaf kinds that name a type or a member, wherever they stand.
fn member_kinds(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Rust | Lang::Go => &["type_identifier", "field_identifier"],
        Lang::Python => &[],
        Lang::JavaScript => &["property_identifier", "shorthand_property_identifier"],
        Lang::TypeScript | Lang::Tsx => &[
            "property_identifier",
            "shorthand_property_identifier",
            "type_identifier",
        ],
    }
}

/// The parents under which a plain identifier names something defined elsewhere.
fn reference_contexts(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Rust => &[
            "call_expression",
            "scoped_identifier",
            "scoped_type_identifier",
            "macro_invocation",
            "use_list",
            "scoped_use_list",
            "use_as_clause",
            "use_declaration",
            "struct_expression",
            "tuple_struct_pattern",
            "attribute",
        ],
        Lang::Python => &[
            "call",
            "attribute",
            "dotted_name",
            "decorator",
            "aliased_import",
            "type",
            "superclasses",
        ],
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => &[
            "call_expression",
            "new_expression",
            "member_expression",
            "import_specifier",
            "export_specifier",
            "namespace_import",
            "import_clause",
            "jsx_opening_element",
            "jsx_self_closing_element",
            "class_heritage",
            "extends_clause",
            "decorator",
        ],
        Lang::Go => &[
            "call_expression",
            "selector_expression",
            "qualified_type",
            "composite_literal",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.rs` file under `dir`.
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a source dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Lexing function bodies instead of parsing them loses no definition but those nested in a
    /// function body, and keeps every line span, on Nova's own code.
    #[test]
    fn a_definition_keeps_the_start_of_its_doc_comment() {
        let text = "/// Counts the words\n/// of every line.\n#[inline]\n#[must_use]\npub fn tally() {}\n\n\
                    // not a doc comment\nfn plain() {}\n/// Above a blank line.\n\nfn apart() {}\n";
        let tags = extract(Lang::Rust, text, &mut Parser::new());
        let docs: Vec<(&str, &str)> = tags
            .defs
            .iter()
            .map(|d| (d.name.as_str(), d.doc.as_str()))
            .collect();
        assert_eq!(
            docs,
            [
                ("tally", "Counts the words of every line."),
                ("plain", ""),
                ("apart", "")
            ]
        );
    }

    #[test]
    fn skipping_bodies_keeps_every_item_outside_them() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["src", "tests", "sandbox/src", "benches"] {
            rust_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 50, "{}", files.len());
        let mut parser = Parser::new();
        let mut compared = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).expect("utf-8 source");
            let full = extract_with(Lang::Rust, &text, &mut parser, false);
            let fast = extract_with(Lang::Rust, &text, &mut parser, true);
            let key = |d: &Def| {
                (
                    d.name.clone(),
                    d.kind,
                    d.line,
                    d.end_line,
                    d.signature.clone(),
                )
            };
            let fast_defs: Vec<_> = fast.defs.iter().map(key).collect();
            let functions: Vec<(u32, u32)> = full
                .defs
                .iter()
                .filter(|d| matches!(d.kind, Kind::Function | Kind::Method))
                .map(|d| (d.line, d.end_line))
                .collect();
            for def in &full.defs {
                let nested = functions
                    .iter()
                    .any(|&(start, end)| start < def.line && def.end_line <= end);
                let found = fast_defs.contains(&key(def));
                assert!(
                    found || nested,
                    "{}: `{}` at line {} is lost",
                    path.display(),
                    def.name,
                    def.line
                );
                compared += 1;
            }
            for def in &fast_defs {
                assert!(
                    full.defs.iter().any(|d| key(d) == *def),
                    "{}: `{}` at line {} is new",
                    path.display(),
                    def.0,
                    def.2
                );
            }
        }
        assert!(compared > 1000, "{compared}");
    }
}
