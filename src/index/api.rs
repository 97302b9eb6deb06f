//! What a Rust file gives the crate's users: the signature of each item it exports (a `pub fn`'s
//! parameters and result, a `pub struct`'s public fields, a `pub enum`'s variants, a `pub
//! trait`'s items, a `pub` type, constant or static's type), as tokens, so that reformatting,
//! comments and attributes are no change and anything else is. The guard reads it to refuse an
//! agent's change to the public API unless the agent's file allows one.

use std::collections::BTreeMap;

use tree_sitter::{Node, Parser};

use super::attributes::{Exposure, Parents};
use super::package::{FileKind, file_kind};

/// One exported item: how it reads, on one line, and its tokens to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature {
    shown: String,
    tokens: Vec<String>,
    /// A trait's item with no default (a method without a body, a type or constant without a
    /// value): every implementor must provide it, so adding one is a change too.
    required: bool,
}

/// How the change of the file at `path` from `before` to `after` changes the public API, one
/// sentence per item changed or removed (an added item changes nothing a user relies on).
/// `read` gives the base's other files, for what the modules declaring this one export.
pub fn changes(
    path: &str,
    before: &str,
    after: &str,
    read: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    if !path.ends_with(".rs") {
        return Vec::new();
    }
    let parents = Parents::new(read);
    // A binary, an example, a test, a bench or a build script has no API anyone else uses.
    if file_kind(&parents.root_of(path)) != FileKind::Library {
        return Vec::new();
    }
    let exposure = parents.exported(path);
    if exposure == Exposure::None {
        return Vec::new();
    }
    let (Some(was), Some(is)) = (exported(before, &exposure), exported(after, &exposure)) else {
        return Vec::new();
    };
    let mut said = Vec::new();
    for (key, old) in &was {
        match is.get(key) {
            None => said.push(format!("`{}` is gone", brief(&old.shown))),
            Some(new) if new.tokens != old.tokens || new.required != old.required => {
                said.push(format!(
                    "`{}` became `{}`",
                    brief(&old.shown),
                    brief(&new.shown)
                ));
            }
            Some(_) => {}
        }
    }
    for (key, new) in &is {
        if new.required && !was.contains_key(key) {
            let owner = key
                .rsplit_once("::")
                .map_or(key.as_str(), |(trait_, _)| trait_);
            said.push(format!(
                "`{}` is new in trait `{owner}`, and its implementors must provide it",
                brief(&new.shown)
            ));
        }
    }
    said
}

/// `shown`, cut to [`BRIEF`] characters: an enum of a hundred variants is named, not listed.
fn brief(shown: &str) -> String {
    if shown.chars().count() <= BRIEF {
        return shown.to_owned();
    }
    let cut: String = shown.chars().take(BRIEF).collect();
    format!("{} …", cut.trim_end())
}

/// How much of an item a sentence about it shows.
const BRIEF: usize = 160;

/// The exported items of `text` by a key naming them (`fn f`, `Type::method`, `struct S`);
/// `None` when it does not parse.
fn exported(text: &str, exposure: &Exposure) -> Option<BTreeMap<String, Signature>> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .ok()?;
    let tree = parser.parse(text, None)?;
    if tree.root_node().has_error() {
        return None;
    }
    let mut out = BTreeMap::new();
    items(tree.root_node(), text, "", exposure, &mut out);
    Some(out)
}

/// The exported items among `container`'s children, their keys under `prefix` (`inner::`).
fn items(
    container: Node<'_>,
    text: &str,
    prefix: &str,
    exposure: &Exposure,
    out: &mut BTreeMap<String, Signature>,
) {
    let mut cursor = container.walk();
    for item in container.named_children(&mut cursor) {
        let name = item
            .child_by_field_name("name")
            .map_or("", |n| &text[n.byte_range()]);
        let shown = |name: &str| match exposure {
            Exposure::All => true,
            Exposure::Names(names) => !prefix.is_empty() || names.contains(name),
            Exposure::None => false,
        };
        match item.kind() {
            "impl_item" if item.child_by_field_name("trait").is_none() => {
                let Some(ty) = item.child_by_field_name("type") else {
                    continue;
                };
                let ty = &text[ty.byte_range()];
                let ty = ty.split('<').next().unwrap_or(ty).trim();
                if !shown(ty) {
                    continue;
                }
                let Some(body) = item.child_by_field_name("body") else {
                    continue;
                };
                let mut inner = body.walk();
                for method in body.named_children(&mut inner) {
                    if method.kind() == "function_item" && is_pub(method, text) {
                        let key = format!("{prefix}{ty}::{}", name_of(method, text));
                        out.insert(key, signature(method, text, until_body(method)));
                    }
                }
            }
            "trait_item" if is_pub(item, text) && shown(name) => {
                trait_items(item, text, &format!("{prefix}{name}"), out);
            }
            "mod_item" if is_pub(item, text) && shown(name) => {
                if let Some(body) = item.child_by_field_name("body") {
                    let prefix = format!("{prefix}{name}::");
                    items(body, text, &prefix, &Exposure::All, out);
                }
            }
            kind if is_pub(item, text) && shown(name) => {
                let Some(what) = keyword(kind) else {
                    continue;
                };
                let end = match kind {
                    "function_item" => until_body(item),
                    // A constant's or a static's value is not its type.
                    "const_item" | "static_item" => item
                        .child_by_field_name("value")
                        .map_or(item.end_byte(), |v| v.start_byte()),
                    _ => item.end_byte(),
                };
                let mut signature = signature(item, text, end);
                if kind == "struct_item" {
                    signature = public_fields(item, text).unwrap_or(signature);
                }
                out.insert(format!("{prefix}{what} {name}"), signature);
            }
            _ => {}
        }
    }
}

/// A trait as its users and implementors see it: its header (generics, supertraits) as
/// `trait Name`, and each of its items as `Name::item`, a default method without its body (the
/// body is no more API than a function's), a constant without its value.
fn trait_items(item: Node<'_>, text: &str, name: &str, out: &mut BTreeMap<String, Signature>) {
    let body = item.child_by_field_name("body");
    let header_end = body.map_or(item.end_byte(), |b| b.start_byte());
    out.insert(format!("trait {name}"), signature(item, text, header_end));
    let Some(body) = body else { return };
    let mut cursor = body.walk();
    for member in body.named_children(&mut cursor) {
        let value = member.child_by_field_name("value");
        let (end, required) = match member.kind() {
            "function_item" => (until_body(member), false),
            "function_signature_item" => (member.end_byte(), true),
            "const_item" => (
                value.map_or(member.end_byte(), |v| v.start_byte()),
                value.is_none(),
            ),
            "associated_type" => (member.end_byte(), !text[member.byte_range()].contains('=')),
            _ => continue,
        };
        let mut signature = signature(member, text, end);
        signature.required = required;
        out.insert(format!("{name}::{}", name_of(member, text)), signature);
    }
}

fn keyword(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "function_item" => "fn",
        "struct_item" => "struct",
        "enum_item" => "enum",
        "union_item" => "union",
        "type_item" => "type",
        "const_item" => "const",
        "static_item" => "static",
        "macro_definition" => "macro",
        _ => return None,
    })
}

fn name_of<'t>(item: Node<'_>, text: &'t str) -> &'t str {
    item.child_by_field_name("name")
        .map_or("", |n| &text[n.byte_range()])
}

/// `pub`, not `pub(crate)` or `pub(super)`.
fn is_pub(item: Node<'_>, text: &str) -> bool {
    let mut cursor = item.walk();
    item.children(&mut cursor)
        .find(|c| c.kind() == "visibility_modifier")
        .is_some_and(|v| text[v.byte_range()].trim() == "pub")
}

fn until_body(function: Node<'_>) -> usize {
    function
        .child_by_field_name("body")
        .map_or(function.end_byte(), |b| b.start_byte())
}

/// The tokens of `item` before byte `end`: no comments, no attributes. What is not API is left
/// out of the tokens compared (not of the text shown): a parameter's pattern (its name, a `mut`),
/// lifetimes other than `'static` (elided or named, they say the same), and for a constant or a
/// static, `'static` too (it is implied).
fn signature(item: Node<'_>, text: &str, end: usize) -> Signature {
    let constant = matches!(item.kind(), "const_item" | "static_item");
    let mut shown = Vec::new();
    let mut tokens = Vec::new();
    // Each node with whether its tokens count.
    let mut stack = vec![(item, true)];
    while let Some((node, counts)) = stack.pop() {
        let kind = node.kind();
        if node.start_byte() >= end
            || matches!(kind, "line_comment" | "block_comment" | "attribute_item")
        {
            continue;
        }
        if node.child_count() == 0 || kind == "lifetime" {
            let token = text[node.byte_range()].trim();
            if token.is_empty() {
                continue;
            }
            shown.push(token.to_owned());
            let lifetime = kind == "lifetime" && (token != "'static" || constant);
            let pattern_mut =
                token == "mut" && node.parent().is_some_and(|p| p.kind() == "self_parameter");
            if counts && !lifetime && !pattern_mut {
                tokens.push(token.to_owned());
            }
            continue;
        }
        let typed = kind == "parameter";
        let kept_type = node.child_by_field_name("type").map(|t| t.id());
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
        for child in children.into_iter().rev() {
            let counts = counts && (!typed || Some(child.id()) == kept_type);
            stack.push((child, counts));
        }
    }
    Signature {
        shown: shown.join(" "),
        tokens: tidy(tokens),
        required: false,
    }
}

/// What dropping lifetimes and formatting leave: `< , T >` is `< T >`, `< >` nothing, `T : +`
/// is `T`, and a trailing comma before a closing bracket, a body or the end is gone.
fn tidy(tokens: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(tokens.len());
    for token in tokens {
        let last = kept.last().map(String::as_str);
        match token.as_str() {
            "," if matches!(last, Some("<" | "," | "(")) => continue,
            "+" if matches!(last, Some(":" | "+" | "<" | ",")) => continue,
            ")" | "]" | "}" | ">" | "," | "{" | "where" => {
                while matches!(kept.last().map(String::as_str), Some("," | "+" | ":")) {
                    kept.pop();
                }
                if token == ">" && kept.last().is_some_and(|t| t == "<") {
                    kept.pop();
                    continue;
                }
            }
            _ => {}
        }
        kept.push(token);
    }
    // A signature cut before its body ends where its `where` clause does: `where I : X ,`.
    while matches!(kept.last().map(String::as_str), Some("," | "+")) {
        kept.pop();
    }
    kept
}

/// A struct as its users see it: its header and its `pub` fields (named, or by position).
fn public_fields(item: Node<'_>, text: &str) -> Option<Signature> {
    let body = item.child_by_field_name("body")?;
    let mut whole = signature(item, text, body.start_byte());
    let mut cursor = body.walk();
    for (position, field) in body.named_children(&mut cursor).enumerate() {
        if !is_pub(field, text) {
            continue;
        }
        let field = signature(field, text, field.end_byte());
        whole.tokens.push(format!("#{position}"));
        whole.tokens.extend(field.tokens);
        whole.shown.push_str(&format!(" {{ {} }}", field.shown));
    }
    Some(whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(before: &str, after: &str) -> Vec<String> {
        changes("src/lib.rs", before, after, &|_| None)
    }

    #[test]
    fn a_pub_signature_that_changes_is_an_api_change() {
        let before = "pub fn none_left(items: &Vec<i32>) -> bool {\n    items.len() == 0\n}\n";
        let after = "pub fn none_left(items: &[i32]) -> bool {\n    items.is_empty()\n}\n";
        assert_eq!(
            changed(before, after),
            [
                "`pub fn none_left ( items : & Vec < i32 > ) -> bool` became \
              `pub fn none_left ( items : & [ i32 ] ) -> bool`"
            ]
        );
    }

    #[test]
    fn bodies_formatting_comments_private_items_and_new_items_are_not() {
        let before = "/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    return a + b;\n}\n\
                      fn helper(x: &Vec<u8>) {}\n\
                      pub struct S { pub a: u8, b: u16 }\n\
                      pub(crate) fn inner(x: u8) {}\n";
        let after = "/// Adds two numbers.\n#[must_use]\npub fn add(\n    a: i32, // left\n    b: i32,\n) -> i32 {\n    a + b\n}\n\
                     fn helper(x: &[u8]) {}\n\
                     pub struct S { pub a: u8, b: u32 }\n\
                     pub(crate) fn inner(x: u16) {}\n\
                     pub fn new_one() {}\n";
        assert_eq!(changed(before, after), Vec::<String>::new());
    }

    /// rustfmt's trailing comma after a `where` clause (itertools 0.8.2's `pub fn concat`).
    #[test]
    fn a_where_clauses_trailing_comma_is_formatting() {
        let before = "pub fn all<I, F>(i: I, f: F) -> bool\nwhere I: IntoIterator, F: FnMut(I::Item) -> bool\n{\n    true\n}\n\
                      pub enum Diff<I, J> where I: Iterator, J: Iterator { A(I), B(J) }\n\
                      pub trait T where Self: Sized { fn f() where Self: Clone; }\n";
        let after = "pub fn all<I, F>(i: I, f: F) -> bool\nwhere\n    I: IntoIterator,\n    F: FnMut(I::Item) -> bool,\n{\n    true\n}\n\
                     pub enum Diff<I, J>\nwhere\n    I: Iterator,\n    J: Iterator,\n{\n    A(I),\n    B(J),\n}\n\
                     pub trait T\nwhere\n    Self: Sized,\n{\n    fn f()\n    where\n        Self: Clone;\n}\n";
        assert_eq!(changed(before, after), Vec::<String>::new());
        let bound = before.replace("F: FnMut(I::Item) -> bool", "F: Fn(I::Item) -> bool");
        assert_eq!(changed(before, &bound).len(), 1);
    }

    #[test]
    fn parameter_names_and_elided_lifetimes_are_not_api() {
        let before = "pub fn f<'a>(mut x: &'a str, y: u8) -> &'a str { x }\n\
                      pub const NAME: &'static str = \"n\";\n\
                      pub struct S;\nimpl S { pub fn get(mut self) -> u8 { 0 } }\n";
        let after = "pub fn f(x: &str, renamed: u8) -> &str { x }\n\
                     pub const NAME: &str = \"n\";\n\
                     pub struct S;\nimpl S { pub fn get(self) -> u8 { 0 } }\n";
        assert_eq!(changed(before, after), Vec::<String>::new());
        // A `'static` a caller must now meet is a change.
        let stricter = changed("pub fn g(x: &str) {}\n", "pub fn g(x: &'static str) {}\n");
        assert_eq!(stricter.len(), 1, "{stricter:#?}");
        // Bounds and generics are API.
        let bound = changed(
            "pub fn h<T: Clone>(x: T) {}\n",
            "pub fn h<T: Copy>(x: T) {}\n",
        );
        assert_eq!(bound.len(), 1, "{bound:#?}");
    }

    #[test]
    fn methods_fields_variants_and_removals_count() {
        let before = "pub struct S { pub a: u8 }\nimpl S { pub fn get(&self) -> u8 { self.a } }\n\
                      pub enum E { A, B(u8) }\npub const MAX: u32 = 1;\npub fn gone() {}\n";
        let after = "pub struct S { pub a: u16 }\nimpl S { pub fn get(&self) -> u16 { self.a } }\n\
                     pub enum E { A, B(u16) }\npub const MAX: u32 = 2;\n";
        let said = changed(before, after);
        assert_eq!(said.len(), 4, "{said:#?}");
        assert!(
            said.iter()
                .any(|s| s.contains("S::get") || s.contains("fn get")),
            "{said:#?}"
        );
        assert!(
            said.iter()
                .any(|s| s.starts_with("`pub fn gone ( )` is gone")),
            "{said:#?}"
        );
        assert!(
            !said.iter().any(|s| s.contains("MAX")),
            "a constant's value is not API: {said:#?}"
        );
    }

    #[test]
    fn a_trait_is_its_header_and_its_items_not_its_default_bodies() {
        let before = "pub trait Order: Clone {\n    fn read(buf: &[u8]) -> u64;\n    \
                      fn read48(buf: &[u8]) -> u64 {\n        Self::read(buf) as u64\n    }\n}\n";
        // A default method's body is no API: a fix inside it is not refused.
        let body = before.replace("Self::read(buf) as u64", "Self::read(buf)");
        assert_eq!(changed(before, &body), Vec::<String>::new());
        // A changed item is named alone, not the whole trait.
        let item = before.replace("fn read(buf: &[u8]) -> u64;", "fn read(buf: &[u8]) -> u32;");
        assert_eq!(
            changed(before, &item),
            ["`fn read ( buf : & [ u8 ] ) -> u64 ;` became `fn read ( buf : & [ u8 ] ) -> u32 ;`"]
        );
        // A new required item breaks every implementor; a new default one does not.
        let required = before.replace(
            "pub trait Order: Clone {\n",
            "pub trait Order: Clone {\n    fn size() -> usize;\n",
        );
        let said = changed(before, &required);
        assert_eq!(said.len(), 1, "{said:#?}");
        assert!(said[0].contains("is new in trait `Order`"), "{said:#?}");
        let provided = before.replace(
            "pub trait Order: Clone {\n",
            "pub trait Order: Clone {\n    fn size() -> usize { 8 }\n",
        );
        assert_eq!(changed(before, &provided), Vec::<String>::new());
        let header = before.replace("Order: Clone", "Order: Clone + Send");
        assert_eq!(changed(before, &header).len(), 1);
    }

    #[test]
    fn a_long_item_is_named_not_listed() {
        let variants: Vec<String> = (0..100).map(|i| format!("V{i}(u8)")).collect();
        let before = format!("pub enum E {{ {} }}\n", variants.join(", "));
        let after = before.replace("V99(u8)", "V99(u16)");
        let said = changed(&before, &after);
        assert_eq!(said.len(), 1, "{said:#?}");
        assert!(said[0].len() < 2 * BRIEF + 40, "{}", said[0]);
        assert!(
            said[0].starts_with("`pub enum E { V0 ( u8 )"),
            "{}",
            said[0]
        );
    }

    #[test]
    fn a_binarys_files_have_no_api() {
        let (before, after) = ("pub fn f(x: u8) {}\n", "pub fn f(x: u16) {}\n");
        for path in [
            "src/main.rs",
            "src/bin/tool.rs",
            "examples/demo.rs",
            "build.rs",
        ] {
            assert!(changes(path, before, after, &|_| None).is_empty(), "{path}");
        }
        // A module of a binary crate: its root is `main.rs`.
        let read = |path: &str| (path == "src/main.rs").then(|| String::from("pub mod cli;\n"));
        assert!(changes("src/cli.rs", before, after, &read).is_empty());
        assert_eq!(changes("src/lib.rs", before, after, &|_| None).len(), 1);
    }

    #[test]
    fn a_module_the_crate_does_not_export_has_no_api() {
        let read = |path: &str| (path == "src/lib.rs").then(|| String::from("mod private;\n"));
        let said = changes(
            "src/private.rs",
            "pub fn f(x: u8) {}\n",
            "pub fn f(x: u16) {}\n",
            &read,
        );
        assert!(said.is_empty(), "{said:#?}");
        let read = |path: &str| (path == "src/lib.rs").then(|| String::from("pub mod open;\n"));
        let said = changes(
            "src/open.rs",
            "pub fn f(x: u8) {}\n",
            "pub fn f(x: u16) {}\n",
            &read,
        );
        assert_eq!(said.len(), 1, "{said:#?}");
    }
}
