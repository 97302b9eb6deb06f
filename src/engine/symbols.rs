//! The item that encloses a position in a Rust file, found with tree-sitter: `Type::method`,
//! `function`, `Trait::method`, or the struct, enum, const or module around it.

use tree_sitter::{Node, Parser};

/// The name of the innermost function (qualified by its `impl` or `trait`) or item that holds
/// byte `offset` of `text`. `None` at the top level or if the text does not parse at all.
pub fn enclosing_symbol(text: &str, offset: usize) -> Option<String> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .ok()?;
    let tree = parser.parse(text, None)?;
    let offset = offset.min(text.len());
    let mut node = tree.root_node().descendant_for_byte_range(offset, offset)?;
    let mut function: Option<String> = None;
    let mut item: Option<String> = None;
    loop {
        match node.kind() {
            "function_item" | "function_signature_item" if function.is_none() => {
                function = name_of(node, "name", text);
            }
            "impl_item" => {
                let owner = name_of(node, "type", text).map(|t| base_type(&t));
                if let (Some(owner), Some(f)) = (owner, &function) {
                    return Some(format!("{owner}::{f}"));
                }
            }
            "trait_item" => {
                let owner = name_of(node, "name", text);
                if let (Some(owner), Some(f)) = (owner, &function) {
                    return Some(format!("{owner}::{f}"));
                }
            }
            "struct_item" | "enum_item" | "union_item" | "const_item" | "static_item"
            | "type_item" | "macro_definition" | "mod_item"
                if function.is_none() && item.is_none() =>
            {
                item = name_of(node, "name", text);
            }
            _ => {}
        }
        match node.parent() {
            Some(parent) => node = parent,
            None => break,
        }
    }
    function.or(item)
}

fn name_of(node: Node<'_>, field: &str, text: &str) -> Option<String> {
    let name = node.child_by_field_name(field)?;
    name.utf8_text(text.as_bytes()).ok().map(str::to_owned)
}

/// `Foo<'a, T>` -> `Foo`, `crate::Foo` -> `Foo`.
fn base_type(ty: &str) -> String {
    let ty = ty.split('<').next().unwrap_or(ty);
    ty.rsplit("::").next().unwrap_or(ty).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "use std::fmt;\n\npub fn free() -> i32 {\n    1\n}\n\nstruct Config<'a> { name: &'a str }\n\nimpl<'a> Config<'a> {\n    pub fn load(&self) -> bool {\n        true\n    }\n}\n\ntrait Shape {\n    fn area(&self) -> f64 { 0.0 }\n}\n";

    #[track_caller]
    fn check(needle: &str, expected: Option<&str>) {
        let offset = TEXT.find(needle).expect("needle in text");
        assert_eq!(
            enclosing_symbol(TEXT, offset).as_deref(),
            expected,
            "{needle}"
        );
    }

    #[test]
    fn names_the_innermost_item() {
        check("1\n", Some("free"));
        check("true", Some("Config::load"));
        check("0.0", Some("Shape::area"));
        check("name: &", Some("Config"));
        check("use std", None);
    }
}
