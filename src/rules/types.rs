//! What the code says of an expression's type, for the rules that need one without a type
//! checker: whether an index reads a slice, an array or a `Vec` (which `clippy::indexing_slicing`
//! asks about) or a string or a map (which it does not), and whether an `as` cast can truncate.
//!
//! A cast: the operand's type
//! read from its own syntax (a suffixed literal, another cast, an arithmetic of typed parts), from
//! where the name it uses is declared (a typed parameter or `let`, an immutable `let` of such an
//! expression, a field of a struct of the same file, a `const`), or from the standard library
//! method it calls (`len()` is `usize`, `leading_zeros()` is `u32`); narrowed by masks, shifts,
//! remainders and divisions by constants as `clippy::cast_possible_truncation` narrows them.
//! An operand whose type the code does not say is not reported: no type checker, no guess.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::Node;

/// A number type, as far as truncation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Int {
        bits: u64,
        signed: bool,
        /// `usize`/`isize`: 64 bits here, 32 on some targets.
        size: bool,
    },
    Float(u64),
    /// `bool`, `char`: no number `as` can truncate.
    Other,
}

/// A parsed file, as the type questions ask it: its text, its tree, and (built on the first
/// question that needs them, then kept) what the file declares by name: its items (at its top,
/// in inline modules, `impl`s and traits) in the order a search from the top meets them, and the
/// one type every struct field of a name has (`None` where two disagree).
pub struct Source<'t> {
    pub text: &'t str,
    root: Node<'t>,
    items: OnceCell<HashMap<&'t str, Vec<Node<'t>>>>,
    fields: OnceCell<HashMap<&'t str, Option<&'t str>>>,
}

impl<'t> Source<'t> {
    pub fn new(text: &'t str, root: Node<'t>) -> Source<'t> {
        Source {
            text,
            root,
            items: OnceCell::new(),
            fields: OnceCell::new(),
        }
    }

    /// Takes the file's `field_declaration`s from a walk the caller made anyway, instead of
    /// walking the tree again when a question needs them.
    pub fn know_fields(&mut self, declarations: &[Node<'t>]) {
        self.fields = OnceCell::from(self.fields_of(declarations.iter().copied()));
    }

    /// The top of the file.
    pub fn root(&self) -> Node<'t> {
        self.root
    }

    /// Where the file writes the type of `field` of the variants named `variant` of its enums,
    /// where they all say the same.
    fn variant_field(&self, variant: &str, field: &Field<'_>) -> Option<Range<usize>> {
        let text = self.text;
        let mut found: Option<Range<usize>> = None;
        let enums = self
            .items()
            .values()
            .flatten()
            .filter(|item| item.kind() == "enum_item");
        for item in enums {
            let Some(body) = item.child_by_field_name("body") else {
                continue;
            };
            let mut cursor = body.walk();
            let declared: Vec<Node<'_>> = body
                .named_children(&mut cursor)
                .filter(|v| v.kind() == "enum_variant" && self.name(*v) == Some(variant))
                .collect();
            for one in declared {
                let fields = one.child_by_field_name("body")?;
                let mut cursor = fields.walk();
                let ty = match (field, fields.kind()) {
                    (Field::At(position), "ordered_field_declaration_list") => fields
                        .children_by_field_name("type", &mut cursor)
                        .nth(*position)?,
                    (Field::Named(name), "field_declaration_list") => fields
                        .named_children(&mut cursor)
                        .find(|f| self.name(*f) == Some(*name))?
                        .child_by_field_name("type")?,
                    _ => return None,
                }
                .byte_range();
                if found
                    .as_ref()
                    .is_some_and(|f| text[f.clone()] != text[ty.clone()])
                {
                    return None;
                }
                found = Some(ty);
            }
        }
        found
    }

    /// Whether the file implements `Index` (or `IndexMut`) for the type named `name`.
    fn implements_index(&self, name: &str) -> bool {
        let text = self.text;
        let mut stack = vec![self.root];
        while let Some(at) = stack.pop() {
            match at.kind() {
                "impl_item" => {
                    let said = |field| at.child_by_field_name(field).map(|n| &text[n.byte_range()]);
                    let index = said("trait").is_some_and(|t| {
                        let t = t.split('<').next().unwrap_or(t);
                        matches!(t.rsplit("::").next(), Some("Index" | "IndexMut"))
                    });
                    if index && said("type").and_then(bare_name) == Some(name) {
                        return true;
                    }
                }
                "source_file" | "declaration_list" | "mod_item" => {
                    let mut cursor = at.walk();
                    stack.extend(at.named_children(&mut cursor));
                }
                _ => {}
            }
        }
        false
    }

    fn items(&self) -> &HashMap<&'t str, Vec<Node<'t>>> {
        self.items.get_or_init(|| self.declared_items())
    }

    fn fields(&self) -> &HashMap<&'t str, Option<&'t str>> {
        self.fields.get_or_init(|| {
            let mut declarations = Vec::new();
            let mut stack = vec![self.root];
            while let Some(at) = stack.pop() {
                if at.kind() == "field_declaration" {
                    declarations.push(at);
                    continue;
                }
                let mut cursor = at.walk();
                stack.extend(at.named_children(&mut cursor));
            }
            self.fields_of(declarations.into_iter())
        })
    }

    fn name(&self, node: Node<'t>) -> Option<&'t str> {
        let text = self.text;
        node.child_by_field_name("name")
            .map(|n| &text[n.byte_range()])
    }

    fn fields_of(
        &self,
        declarations: impl Iterator<Item = Node<'t>>,
    ) -> HashMap<&'t str, Option<&'t str>> {
        let mut fields: HashMap<&'t str, Option<&'t str>> = HashMap::new();
        for declaration in declarations {
            let Some(name) = self.name(declaration) else {
                continue;
            };
            let ty = declaration
                .child_by_field_name("type")
                .map(|t| self.text[t.byte_range()].trim());
            fields
                .entry(name)
                .and_modify(|seen| {
                    if *seen != ty {
                        *seen = None;
                    }
                })
                .or_insert(ty);
        }
        fields
    }

    /// One walk of the file's item containers.
    fn declared_items(&self) -> HashMap<&'t str, Vec<Node<'t>>> {
        let mut items: HashMap<&'t str, Vec<Node<'t>>> = HashMap::new();
        let mut stack = vec![self.root];
        while let Some(at) = stack.pop() {
            if matches!(
                at.kind(),
                "source_file" | "declaration_list" | "mod_item" | "impl_item" | "trait_item"
            ) {
                let mut cursor = at.walk();
                stack.extend(at.named_children(&mut cursor));
            }
            if let Some(name) = self.name(at).filter(|_| at.kind() != "source_file") {
                items.entry(name).or_default().push(at);
            }
        }
        items
    }
}

/// How deep the search for a declaration's type may recurse (`let a = b; let b = c; ...`).
const DEPTH: usize = 8;

fn primitive(name: &str) -> Option<Num> {
    let int = |bits, signed, size| Some(Num::Int { bits, signed, size });
    match name.trim() {
        "u8" => int(8, false, false),
        "u16" => int(16, false, false),
        "u32" => int(32, false, false),
        "u64" => int(64, false, false),
        "u128" => int(128, false, false),
        "usize" => int(64, false, true),
        "i8" => int(8, true, false),
        "i16" => int(16, true, false),
        "i32" => int(32, true, false),
        "i64" => int(64, true, false),
        "i128" => int(128, true, false),
        "isize" => int(64, true, true),
        "f32" => Some(Num::Float(32)),
        "f64" => Some(Num::Float(64)),
        "bool" | "char" => Some(Num::Other),
        _ => None,
    }
}

/// A written type, references taken off: `&mut u64` is `u64` once dereferenced.
fn written(text: &str) -> Option<Num> {
    primitive(dereferenced(text))
}

/// A written type with its references taken off, with their lifetimes and `mut`s: `&'a mut
/// &[u8]` is `[u8]`.
fn dereferenced(ty: &str) -> &str {
    let mut ty = ty.trim();
    while let Some(rest) = ty.strip_prefix('&') {
        ty = rest.trim_start();
        if ty.starts_with('\'') {
            ty = ty
                .split_once(char::is_whitespace)
                .map_or("", |(_, rest)| rest)
                .trim_start();
        }
        ty = ty.strip_prefix("mut ").unwrap_or(ty).trim_start();
    }
    ty.trim_end()
}

/// Whether `cast` (a `type_cast_expression`) can truncate its operand.
pub fn may_truncate(cast: Node<'_>, src: &Source<'_>) -> bool {
    let text = src.text;
    let (Some(value), Some(to)) = (
        cast.child_by_field_name("value"),
        cast.child_by_field_name("type"),
    ) else {
        return false;
    };
    let Some(to) = primitive(&text[to.byte_range()]) else {
        return false;
    };
    let Some(from) = type_of(value, src, DEPTH) else {
        return false;
    };
    match (from, to) {
        (Num::Float(from), Num::Float(to)) => to < from,
        (Num::Float(_), Num::Int { .. }) => true,
        (
            Num::Int { bits, signed, size },
            Num::Int {
                bits: to_bits,
                size: to_size,
                ..
            },
        ) => {
            let from_bits = reduced(value, src, bits, signed, DEPTH);
            match (size, to_size) {
                (true, true) | (false, false) => to_bits < from_bits,
                (true, false) => to_bits <= 32,
                (false, true) => from_bits == 64,
            }
        }
        _ => false,
    }
}

/// The type of expression `node`, where the code says it.
fn type_of(node: Node<'_>, src: &Source<'_>, depth: usize) -> Option<Num> {
    let text = src.text;
    let depth = depth.checked_sub(1)?;
    let field = |name| node.child_by_field_name(name);
    let source = &text[node.byte_range()];
    match node.kind() {
        "parenthesized_expression" => type_of(node.named_child(0)?, src, depth),
        "type_cast_expression" => written(&text[field("type")?.byte_range()]),
        "integer_literal" => suffix(source),
        "float_literal" => Some(Num::Float(if source.ends_with("f32") { 32 } else { 64 })),
        "char_literal" | "boolean_literal" => Some(Num::Other),
        "identifier" => declared(node, source, src, depth),
        // In `impl U16 for u16`, `self` is a `u16`.
        "self" => written(impl_type(node, text)?),
        "field_expression" => field_type(node, src),
        "scoped_identifier" => {
            let (ty, name) = source.rsplit_once("::")?;
            match name {
                "BITS" => primitive("u32"),
                "MAX" | "MIN" => primitive(ty),
                _ => None,
            }
        }
        "call_expression" => call_type(node, src, depth),
        "binary_expression" => {
            let operator = &text[field("operator")?.byte_range()];
            match operator {
                "<<" | ">>" => type_of(field("left")?, src, depth),
                "+" | "-" | "*" | "/" | "%" | "&" | "|" | "^" => {
                    type_of(field("left")?, src, depth)
                        .or_else(|| type_of(field("right")?, src, depth))
                }
                _ => Some(Num::Other),
            }
        }
        "unary_expression" => match source.chars().next()? {
            '-' | '!' | '*' => type_of(node.named_child(0)?, src, depth),
            _ => None,
        },
        "index_expression" => element_type(node.named_child(0)?, src),
        _ => None,
    }
}

/// `255u8`, `1_000usize`, `0x10_i64`: the suffix's type; no suffix, no type.
fn suffix(literal: &str) -> Option<Num> {
    let digits = literal
        .trim_start_matches("0x")
        .trim_start_matches("0b")
        .trim_start_matches("0o");
    let at = digits.find(['u', 'i'])?;
    primitive(digits[at..].trim_start_matches('_'))
}

/// The type `name` (used at `at`) is declared with: the nearest `let` before it in an enclosing
/// block, a parameter of the enclosing function or closure, or a `const`/`static` of the file.
fn declared(at: Node<'_>, name: &str, src: &Source<'_>, depth: usize) -> Option<Num> {
    let text = src.text;
    if let Some(local) = binding(at, name, src) {
        return local.ty(src, depth);
    }
    let item = item_constant(name, src)?;
    written(&text[item.child_by_field_name("type")?.byte_range()])
}

/// Where a local name is bound: a `let` (its type, its value, whether `mut`), a parameter, a
/// `match` arm's pattern, or a `for` loop's over a range.
struct Binding<'t> {
    /// Where the file writes its type.
    ty: Option<Range<usize>>,
    value: Option<Node<'t>>,
    mutable: bool,
    /// `value` is a range the name walks (`for i in 0..n`), not the name's value.
    walks: bool,
}

impl Binding<'_> {
    fn ty(&self, src: &Source<'_>, depth: usize) -> Option<Num> {
        let text = src.text;
        match (&self.ty, self.value) {
            (Some(ty), _) => written(&text[ty.clone()]),
            (None, Some(range)) if self.walks => range_element(range, src, depth),
            (None, Some(value)) => type_of(value, src, depth),
            (None, None) => None,
        }
    }
}

/// The type of the numbers a range (`a..b`, `a..=b`) yields: a bound's, where the code says it;
/// else, for bounds that are literals without a suffix, the narrowest integer they all fit. The
/// type inference gives is at least that wide, which is all a truncating cast asks: `for b in
/// 0..256 { b as u8 }` truncates whether `b` is an `i32` or a `usize`.
fn range_element(range: Node<'_>, src: &Source<'_>, depth: usize) -> Option<Num> {
    if range.kind() != "range_expression" {
        return None;
    }
    let mut cursor = range.walk();
    let bounds: Vec<Node<'_>> = range.named_children(&mut cursor).collect();
    if let Some(typed) = bounds.iter().find_map(|b| type_of(*b, src, depth)) {
        return Some(typed);
    }
    let values: Vec<i128> = bounds
        .iter()
        .filter_map(|bound| literal_value(*bound, src.text))
        .collect();
    let signed = values.iter().any(|v| *v < 0);
    [8u32, 16, 32, 64, 128]
        .into_iter()
        .find(|&bits| {
            values.iter().all(|&v| {
                if signed {
                    let half = 1i128.checked_shl(bits - 1).unwrap_or(i128::MAX);
                    v >= -half && v < half
                } else {
                    bits == 128 || v < 1i128 << bits
                }
            })
        })
        .filter(|_| !values.is_empty())
        .map(|bits| Num::Int {
            bits: u64::from(bits),
            signed,
            size: false,
        })
}

/// The value of an integer literal without a suffix, or of its negation.
fn literal_value(node: Node<'_>, text: &str) -> Option<i128> {
    if node.kind() == "unary_expression" && text[node.byte_range()].starts_with('-') {
        return literal_value(node.named_child(0)?, text).map(|v| -v);
    }
    if node.kind() != "integer_literal" {
        return None;
    }
    let digits = text[node.byte_range()].replace('_', "");
    let (digits, radix) = match digits.get(..2) {
        Some("0x") => (&digits[2..], 16),
        Some("0o") => (&digits[2..], 8),
        Some("0b") => (&digits[2..], 2),
        _ => (digits.as_str(), 10),
    };
    i128::from_str_radix(digits, radix).ok()
}

fn binding<'t>(at: Node<'t>, name: &str, src: &Source<'_>) -> Option<Binding<'t>> {
    let text = src.text;
    let names = |pattern: Node<'_>| binds_name(pattern, name, text);
    // Which element of a tuple pattern binds the name (`let (a, mut b) = (x, y)`).
    let element = |pattern: Node<'_>| {
        if pattern.kind() != "tuple_pattern" {
            return None;
        }
        let mut cursor = pattern.walk();
        pattern.named_children(&mut cursor).position(names)
    };
    let binds =
        |pattern: Option<Node<'_>>| pattern.is_some_and(|p| names(p) || element(p).is_some());
    let mut child = at;
    let mut scope = at.parent();
    while let Some(here) = scope {
        match here.kind() {
            "block" => {
                let mut cursor = here.walk();
                let found = here
                    .named_children(&mut cursor)
                    .take_while(|s| s.end_byte() <= child.start_byte())
                    .filter(|s| {
                        s.kind() == "let_declaration" && binds(s.child_by_field_name("pattern"))
                    })
                    .last();
                if let Some(statement) = found {
                    let mut cursor = statement.walk();
                    let mutable = statement
                        .children(&mut cursor)
                        .any(|c| c.kind() == "mutable_specifier");
                    let (ty, value) = (
                        statement.child_by_field_name("type"),
                        statement.child_by_field_name("value"),
                    );
                    let Some(at) = statement.child_by_field_name("pattern").and_then(element)
                    else {
                        return Some(Binding {
                            ty: ty.map(|t| t.byte_range()),
                            value,
                            mutable,
                            walks: false,
                        });
                    };
                    // The same element of a tuple type or a tuple expression.
                    let nth = |tuple: Option<Node<'t>>, kind: &str| {
                        let tuple = tuple.filter(|t| t.kind() == kind)?;
                        let mut cursor = tuple.walk();
                        tuple.named_children(&mut cursor).nth(at)
                    };
                    return Some(Binding {
                        ty: nth(ty, "tuple_type").map(|t| t.byte_range()),
                        value: nth(value, "tuple_expression"),
                        mutable: true,
                        walks: false,
                    });
                }
            }
            "match_arm" => {
                if let Some(ty) = arm_binding(here, name, src) {
                    return Some(Binding {
                        ty: Some(ty),
                        value: None,
                        mutable: true,
                        walks: false,
                    });
                }
            }
            // The loop's pattern binds in its body only.
            "for_expression"
                if here.child_by_field_name("body") == Some(child)
                    && here
                        .child_by_field_name("pattern")
                        .is_some_and(|p| binds_name(p, name, text)) =>
            {
                return Some(Binding {
                    ty: None,
                    value: here.child_by_field_name("value"),
                    mutable: true,
                    walks: true,
                });
            }
            "function_item" | "closure_expression" => {
                let parameters = here.child_by_field_name("parameters")?;
                let mut cursor = parameters.walk();
                // A closure's parameter may be a bare name, without a type.
                let found = parameters
                    .named_children(&mut cursor)
                    .find(|p| binds(p.child_by_field_name("pattern")) || names(*p));
                // A closure sees the names of the code around it; a function does not.
                if found.is_some() || here.kind() == "function_item" {
                    return found.map(|p| Binding {
                        ty: p.child_by_field_name("type").map(|t| t.byte_range()),
                        value: None,
                        mutable: true,
                        walks: false,
                    });
                }
            }
            _ => {}
        }
        child = here;
        scope = here.parent();
    }
    None
}

/// Whether `pattern` binds `name` itself: `x`, `mut x`, `ref x`, `ref mut x`.
fn binds_name(pattern: Node<'_>, name: &str, text: &str) -> bool {
    let mut pattern = pattern;
    while matches!(pattern.kind(), "mut_pattern" | "ref_pattern") {
        let count = u32::try_from(pattern.named_child_count()).unwrap_or(u32::MAX);
        match pattern.named_child(count.saturating_sub(1)) {
            Some(inner) if inner.kind() != "mutable_specifier" => pattern = inner,
            _ => return false,
        }
    }
    pattern.kind() == "identifier" && &text[pattern.byte_range()] == name
}

/// Where the file writes the type a `match` arm's pattern gives `name`, when it binds it as a
/// field of a variant of an enum of the file (`Two(ref r) => r[0]` with `Two([Range; 2])`,
/// `Suffix { suffix, .. }` with `Suffix { suffix: String }`).
fn arm_binding(arm: Node<'_>, name: &str, src: &Source<'_>) -> Option<Range<usize>> {
    let text = src.text;
    let pattern = arm.child_by_field_name("pattern")?.named_child(0)?;
    let variant = &text[pattern.child_by_field_name("type")?.byte_range()];
    let variant = variant.rsplit("::").next().unwrap_or(variant);
    let mut cursor = pattern.walk();
    let mut fields = pattern.named_children(&mut cursor).skip(1);
    let field = match pattern.kind() {
        "tuple_struct_pattern" => {
            Field::At(fields.position(|field| binds_name(field, name, text))?)
        }
        "struct_pattern" => {
            let found = fields.find(|field| {
                let said = field.child_by_field_name("name");
                match field.child_by_field_name("pattern") {
                    Some(inner) => binds_name(inner, name, text),
                    None => said.is_some_and(|n| &text[n.byte_range()] == name),
                }
            })?;
            Field::Named(&text[found.child_by_field_name("name")?.byte_range()])
        }
        _ => return None,
    };
    src.variant_field(variant, &field)
}

/// A field of a variant: by position in a tuple variant, by name in a struct variant.
enum Field<'n> {
    At(usize),
    Named(&'n str),
}

/// The `const` or `static` item named `name` in the file of `at`.
fn item_constant<'t>(name: &str, src: &Source<'t>) -> Option<Node<'t>> {
    items_named(src, &["const_item", "static_item"], name)
        .into_iter()
        .next()
}

/// The items of these `kinds` named `name` in the file: at its top, in inline modules, `impl`s
/// and traits.
pub(super) fn items_named<'t>(src: &Source<'t>, kinds: &[&str], name: &str) -> Vec<Node<'t>> {
    let found = src.items().get(name).map_or(&[][..], Vec::as_slice);
    found
        .iter()
        .filter(|item| kinds.contains(&item.kind()))
        .copied()
        .collect()
}

/// The type (as written, generics off) of the `impl` around `node`: `u16` in `impl U16 for u16`.
fn impl_type<'t>(node: Node<'_>, text: &'t str) -> Option<&'t str> {
    let mut at = node.parent();
    while let Some(item) = at.filter(|n| n.kind() != "impl_item") {
        at = item.parent();
    }
    let ty = &text[at?.child_by_field_name("type")?.byte_range()];
    Some(ty.split('<').next().unwrap_or(ty).trim())
}

/// Whether `item` is declared `pub` (not `pub(crate)`).
pub(super) fn is_pub(item: Node<'_>, text: &str) -> bool {
    item.named_child(0)
        .is_some_and(|v| v.kind() == "visibility_modifier" && &text[v.byte_range()] == "pub")
}

/// The type of `x.name`: the one type every field called `name` of the file's structs has.
fn field_type(node: Node<'_>, src: &Source<'_>) -> Option<Num> {
    written(field_type_text(node, src)?)
}

/// The text of the one type every field called as `node`'s (a `field_expression`) is declared
/// with in the file's structs.
fn field_type_text<'t>(node: Node<'_>, src: &Source<'t>) -> Option<&'t str> {
    let text = src.text;
    let name = &text[node.child_by_field_name("field")?.byte_range()];
    if let Ok(position) = name.parse::<usize>() {
        return tuple_field(node, position, src);
    }
    src.fields().get(name).copied().flatten()
}

/// The type of `self.N` in an `impl` of a tuple struct of the file (`struct Classes([u8; 256])`).
fn tuple_field<'t>(node: Node<'_>, position: usize, src: &Source<'t>) -> Option<&'t str> {
    let text = src.text;
    let value = node.child_by_field_name("value")?;
    if value.kind() != "self" {
        return None;
    }
    let ty = impl_type(node, text)?;
    let declared = *items_named(src, &["struct_item"], ty).first()?;
    let fields = declared.child_by_field_name("body")?;
    if fields.kind() != "ordered_field_declaration_list" {
        return None;
    }
    let mut cursor = fields.walk();
    let types: Vec<Node<'_>> = fields.children_by_field_name("type", &mut cursor).collect();
    types.get(position).map(|t| &text[t.byte_range()])
}

/// The return type (as written) of the functions called `name` in `node`'s file, where they
/// all say the same one.
fn returns<'t>(name: &str, src: &Source<'t>) -> Option<&'t str> {
    let text = src.text;
    let mut found: Option<&str> = None;
    for function in items_named(src, &["function_item", "function_signature_item"], name) {
        let ty = text[function.child_by_field_name("return_type")?.byte_range()].trim();
        if found.is_some_and(|f| f != ty) {
            return None;
        }
        found = Some(ty);
    }
    found
}

/// What an indexed collection is, as far as truncation and panics go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collection {
    /// `[T; N]`.
    Array,
    /// `[T]` or `Vec<T>`.
    Slice,
    /// `str`, `String`, a map, or a type of the crate's own: indexing them is their `Index`
    /// impl's business, which `clippy::indexing_slicing` leaves alone.
    Other,
}

/// Reads a written type (references off) as a collection; `None` when it says nothing (`T`).
fn collection_of(ty: &str) -> Option<Collection> {
    let ty = dereferenced(ty);
    if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return Some(if inner.contains(';') {
            Collection::Array
        } else {
            Collection::Slice
        });
    }
    let name = ty.split('<').next().unwrap_or(ty);
    let name = name.rsplit("::").next().unwrap_or(name);
    match name {
        "Vec" => Some(Collection::Slice),
        "str" | "String" | "HashMap" | "BTreeMap" | "VecDeque" | "IndexMap" | "OsStr" | "Path" => {
            Some(Collection::Other)
        }
        _ => None,
    }
}

/// [`collection_of`], where a type the standard library does not say is read from the code at
/// `at`: a type parameter around it (`old: &Old` with `Old: Index<usize>`), or a type the file
/// implements `Index` for, is indexed through its own impl (one that only derefs to a `Vec` is
/// not: its indexing is the `Vec`'s).
fn collection_at(ty: &str, at: Node<'_>, src: &Source<'_>) -> Option<Collection> {
    if let Some(known) = collection_of(ty) {
        return Some(known);
    }
    let name = bare_name(ty)?;
    (src.implements_index(name) || type_parameter(at, name, src.text)).then_some(Collection::Other)
}

/// The one name a written type is: `V` in `&mut V`, `Idx` in `&'a Idx`; none for `[T]`, `(A, B)`
/// or a path.
fn bare_name(ty: &str) -> Option<&str> {
    let ty = dereferenced(ty);
    let name = ty.split('<').next().unwrap_or(ty).trim();
    let plain = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    plain.then_some(name)
}

/// Whether a function, `impl` or trait around `at` declares a type parameter `name`.
fn type_parameter(at: Node<'_>, name: &str, text: &str) -> bool {
    let mut scope = at.parent();
    while let Some(here) = scope {
        if matches!(here.kind(), "function_item" | "impl_item" | "trait_item")
            && let Some(parameters) = here.child_by_field_name("type_parameters")
        {
            let mut cursor = parameters.walk();
            let declared = parameters.named_children(&mut cursor).any(|p| {
                let declared = match p.kind() {
                    "type_parameter" => p.child_by_field_name("name"),
                    "type_identifier" => Some(p),
                    _ => None,
                };
                declared.is_some_and(|d| &text[d.byte_range()] == name)
            });
            if declared {
                return true;
            }
        }
        scope = here.parent();
    }
    false
}

/// What the code says `node` (the indexed part of an index expression) is.
fn collection(node: Node<'_>, src: &Source<'_>, depth: usize) -> Option<Collection> {
    let text = src.text;
    let depth = depth.checked_sub(1)?;
    match node.kind() {
        "parenthesized_expression" | "reference_expression" => {
            let last = u32::try_from(node.named_child_count().checked_sub(1)?).ok()?;
            collection(node.named_child(last)?, src, depth)
        }
        "string_literal" | "raw_string_literal" => Some(Collection::Other),
        "array_expression" => Some(Collection::Array),
        "identifier" => {
            let local = binding(node, &text[node.byte_range()], src)?;
            match (local.ty, local.value) {
                (Some(ty), _) => collection_at(&text[ty], node, src),
                (None, Some(value)) => collection(value, src, depth),
                (None, None) => None,
            }
        }
        "field_expression" => collection_at(field_type_text(node, src)?, node, src),
        // `self` of a type of the file's own: its `Index` impl's business.
        "self" => collection_of(impl_type(node, text)?).or(Some(Collection::Other)),
        "macro_invocation" => {
            let name = &text[node.child_by_field_name("macro")?.byte_range()];
            match name {
                "vec" => Some(Collection::Slice),
                "format" | "concat" | "stringify" => Some(Collection::Other),
                _ => None,
            }
        }
        "call_expression" => {
            let function = node.child_by_field_name("function")?;
            if function.kind() == "scoped_identifier" {
                // `String::new()`, `Vec::with_capacity(n)`: a constructor of the type.
                let path = &text[function.child_by_field_name("path")?.byte_range()];
                return collection_of(path);
            }
            if function.kind() != "field_expression" {
                return None;
            }
            let method = &text[function.child_by_field_name("field")?.byte_range()];
            match method {
                "as_str" | "to_string" | "trim" | "trim_start" | "trim_end" | "to_lowercase"
                | "to_uppercase" | "to_string_lossy" | "as_path" | "as_os_str" => {
                    Some(Collection::Other)
                }
                "as_bytes" | "as_slice" | "as_mut_slice" | "to_vec" | "into_bytes" => {
                    Some(Collection::Slice)
                }
                "to_ne_bytes" | "to_le_bytes" | "to_be_bytes" => Some(Collection::Array),
                // A method of the file's own: what it says it returns.
                _ => collection_of(returns(method, src)?),
            }
        }
        _ => None,
    }
}

/// Whether the index expression `node` can panic as `clippy::indexing_slicing` judges: it reads
/// a slice, a `Vec` or an array (or something the code does not type), not with `[..]`, and not
/// an array at a constant index or between constant bounds.
pub fn may_panic_index(node: Node<'_>, src: &Source<'_>) -> bool {
    let text = src.text;
    if node.kind() == "token_tree" {
        // `x[i]` in a macro's arguments, as tokens: nothing says what `x` is. Not `vec![...]`,
        // `x: [u8; 4]` or `#[attr]`, where a token stands between the name and the brackets.
        let said: String = text[node.byte_range()].split_whitespace().collect();
        let indexed = node.prev_sibling().filter(|name| name.is_named());
        let indexes = indexed.is_some()
            && text[..node.start_byte()].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if !indexes || said == "[..]" {
            return false;
        }
        // A name the code around the macro types: what it is indexed by, as below.
        return match indexed.filter(|name| name.kind() == "identifier") {
            Some(name) => match collection(name, src, DEPTH) {
                Some(Collection::Other) => false,
                Some(Collection::Array) => !constant_tokens(node, src),
                _ => true,
            },
            None => true,
        };
    }
    let (Some(indexed), Some(index)) = (node.named_child(0), node.named_child(1)) else {
        return false;
    };
    let range = index.kind() == "range_expression";
    if range && index.named_child_count() == 0 {
        return false;
    }
    match collection(indexed, src, DEPTH) {
        Some(Collection::Other) => false,
        Some(Collection::Array) if range => {
            let mut cursor = index.walk();
            let bounds: Vec<Node<'_>> = index.named_children(&mut cursor).collect();
            !bounds.iter().all(|b| constant(*b, src).is_some())
        }
        Some(Collection::Array) => constant(index, src).is_none(),
        Some(Collection::Slice) | None => true,
    }
}

/// Whether the tokens `[...]` index at constant places: `[0]`, `[MAX]`, `[1..3]`.
fn constant_tokens(brackets: Node<'_>, src: &Source<'_>) -> bool {
    let mut cursor = brackets.walk();
    let bounds: Vec<Node<'_>> = brackets.named_children(&mut cursor).collect();
    let range = src.text[brackets.byte_range()].contains("..");
    match bounds.as_slice() {
        [one] => constant(*one, src).is_some(),
        [from, to] if range => constant(*from, src).is_some() && constant(*to, src).is_some(),
        _ => false,
    }
}

/// What the elements of `collection` are, where it is declared as an array, slice or `Vec`.
fn element_type(collection: Node<'_>, src: &Source<'_>) -> Option<Num> {
    let text = src.text;
    if collection.kind() != "identifier" {
        return None;
    }
    let ty = binding(collection, &text[collection.byte_range()], src)?.ty?;
    let ty = text[ty]
        .trim_start_matches('&')
        .trim_start_matches("mut ")
        .trim();
    let inner = ty
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .map(|t| t.split(';').next().unwrap_or(t))
        .or_else(|| ty.strip_prefix("Vec<").and_then(|t| t.strip_suffix('>')))?;
    written(inner)
}

/// The type of a call: a standard library method of known result, a method that keeps its
/// receiver's type, or an associated function of a number type (`u64::from`).
fn call_type(node: Node<'_>, src: &Source<'_>, depth: usize) -> Option<Num> {
    let text = src.text;
    let function = node.child_by_field_name("function")?;
    if function.kind() == "field_expression" {
        let method = &text[function.child_by_field_name("field")?.byte_range()];
        let receiver = function.child_by_field_name("value")?;
        return match method {
            "len" | "count" | "capacity" => primitive("usize"),
            "count_ones" | "count_zeros" | "leading_zeros" | "trailing_zeros" | "leading_ones"
            | "trailing_ones" => primitive("u32"),
            "abs" | "pow" | "min" | "max" | "clamp" | "rotate_left" | "rotate_right"
            | "swap_bytes" | "reverse_bits" | "to_be" | "to_le" | "signum" => {
                type_of(receiver, src, depth)
            }
            m if m.starts_with("wrapping_") || m.starts_with("saturating_") => {
                type_of(receiver, src, depth)
            }
            // A method of the file's own: what it says it returns.
            _ => written(returns(method, src)?),
        };
    }
    let path = &text[function.byte_range()];
    let path = path.split("::<").next().unwrap_or(path);
    let (ty, name) = path.rsplit_once("::").unwrap_or(("", path));
    if matches!(name, "size_of" | "align_of" | "size_of_val") {
        return primitive("usize");
    }
    if let Some(known) = intrinsic(name) {
        return Some(known);
    }
    if name.starts_with("from") || matches!(name, "max" | "min") {
        return primitive(ty);
    }
    if ty.is_empty() {
        return written(returns(name, src)?);
    }
    None
}

/// What the `std::arch` x86 intrinsics that give a plain integer return: a movemask or an
/// extracted lane is an `i32`, as are the scalar conversions named `_si32`.
fn intrinsic(name: &str) -> Option<Num> {
    let family = name.strip_prefix("_mm")?;
    let family = family.split_once('_').map_or(family, |(_, rest)| rest);
    if family.starts_with("movemask_") || family.starts_with("extract_epi") {
        return primitive("i32");
    }
    match family {
        "cvtsi128_si32" | "cvtss_si32" | "cvtsd_si32" => primitive("i32"),
        "cvtsi128_si64" | "cvtss_si64" | "cvtsd_si64" => primitive("i64"),
        _ => None,
    }
}

/// How many bits of an integer of `bits` bits `node`'s value can use, as clippy narrows it: by
/// a mask, a right shift, a remainder or an unsigned division by a constant, or `min` with one.
fn reduced(node: Node<'_>, src: &Source<'_>, bits: u64, signed: bool, depth: usize) -> u64 {
    let text = src.text;
    let Some(depth) = depth.checked_sub(1) else {
        return bits;
    };
    let field = |name| node.child_by_field_name(name);
    let reduce = |n: Option<Node<'_>>| n.map_or(bits, |n| reduced(n, src, bits, signed, depth));
    let constant_bits = |n: Option<Node<'_>>| {
        n.and_then(|n| constant(n, src))
            .map(|c| u64::from(128 - c.leading_zeros()))
    };
    match node.kind() {
        "parenthesized_expression" => reduce(node.named_child(0)),
        "type_cast_expression" => reduce(field("value")),
        "identifier" => {
            // An immutable local is its value (clippy's `expr_or_init`).
            let name = &text[node.byte_range()];
            match binding(node, name, src) {
                Some(Binding {
                    value: Some(value),
                    mutable: false,
                    ..
                }) => reduced(value, src, bits, signed, depth),
                _ => bits,
            }
        }
        "binary_expression" => {
            let operator = field("operator").map_or("", |o| &text[o.byte_range()]);
            let (left, right) = (field("left"), field("right"));
            match operator {
                "/" if signed => reduce(left),
                "/" => reduce(left)
                    .saturating_sub(constant_bits(right).map_or(0, |b| b.saturating_sub(1))),
                "%" => constant_bits(right).unwrap_or(u64::MAX).min(reduce(left)),
                "&" => constant_bits(right)
                    .unwrap_or(u64::MAX)
                    .min(constant_bits(left).unwrap_or(u64::MAX))
                    .min(reduce(right))
                    .min(reduce(left)),
                ">>" => reduce(left).saturating_sub(
                    right
                        .and_then(|r| constant(r, src))
                        .and_then(|s| u64::try_from(s).ok())
                        .unwrap_or(0),
                ),
                _ => bits,
            }
        }
        "call_expression" if !signed => {
            let Some(function) = field("function").filter(|f| f.kind() == "field_expression")
            else {
                return bits;
            };
            let method = function
                .child_by_field_name("field")
                .map_or("", |m| &text[m.byte_range()]);
            let arguments = field("arguments");
            let first = arguments.and_then(|a| a.named_child(0));
            match method {
                "min" => reduce(function.child_by_field_name("value"))
                    .min(constant_bits(first).unwrap_or(u64::MAX)),
                _ => bits,
            }
        }
        _ => bits,
    }
}

/// The value of an integer constant: a literal (`0xFF`, `1_000u32`), in parentheses, or a
/// `const` of the file that is one.
fn constant(node: Node<'_>, src: &Source<'_>) -> Option<u128> {
    let text = src.text;
    match node.kind() {
        "parenthesized_expression" => constant(node.named_child(0)?, src),
        "integer_literal" => {
            let literal = text[node.byte_range()].replace('_', "");
            let (digits, radix) = match literal.get(..2) {
                Some("0x") => (&literal[2..], 16),
                Some("0b") => (&literal[2..], 2),
                Some("0o") => (&literal[2..], 8),
                _ => (literal.as_str(), 10),
            };
            let end = if radix == 16 {
                digits.find(['u', 'i']).unwrap_or(digits.len())
            } else {
                digits
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(digits.len())
            };
            u128::from_str_radix(&digits[..end], radix).ok()
        }
        "identifier" => {
            let item = item_constant(&text[node.byte_range()], src)?;
            (item.kind() == "const_item").then_some(())?;
            constant(item.child_by_field_name("value")?, src)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `judge` says of each node of `kind` in `code`, in order.
    fn judged(code: &str, kind: &str, judge: fn(Node<'_>, &Source<'_>) -> bool) -> Vec<bool> {
        let tree = crate::rules::matcher::parse(code).expect("parses");
        let source = Source::new(code, tree.root_node());
        let mut found = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            if node.kind() == kind {
                found.push((node.start_byte(), judge(node, &source)));
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
        found.sort_unstable();
        found.into_iter().map(|(_, v)| v).collect()
    }

    /// Whether each cast of `code`, in order, may truncate.
    fn verdicts(code: &str) -> Vec<bool> {
        judged(code, "type_cast_expression", may_truncate)
    }

    /// Whether each index expression of `code`, in order, may panic.
    fn index_verdicts(code: &str) -> Vec<bool> {
        judged(code, "index_expression", may_panic_index)
    }

    #[test]
    fn an_index_may_panic_on_slices_vecs_and_arrays_not_on_strings_and_maps() {
        let code = "struct S { m: HashMap<u8, u8>, v: Vec<u8> }\n\
                    fn f(s: &S, a: [u8; 4], x: &[u8], t: &str, g: T, i: usize) {\n\
                    let _ = (s.m[&1], s.v[i], a[2], a[i], &a[1..3], &a[i..], x[0], &x[..]);\n\
                    let u = String::new(); let w = vec![1];\n\
                    let _ = (&t[i..], &u[..i], w[i], g[i], \"abc\"[i..].len(), t.as_bytes()[i]);\n\
                    let (k, mut l) = ([0; 3], 0); let _ = (k[1], k[l]); l += 1;\n}\n\
                    struct Classes(u8, [u8; 256]);\n\
                    impl Classes { fn f(&self, i: usize) -> u8 { self.1[255] + self.1[i] } }\n\
                    impl Classes { fn p(&self) -> &str { \"\" } fn q(&self, i: usize) -> &str { &self.p()[i..] } }\n\
                    impl Classes { fn r(&self, i: usize) -> u8 { self[i] } }";
        assert_eq!(
            index_verdicts(code),
            [
                false, true, false, true, false, true, true, false, false, false, true, true,
                false, true, false, true, false, true, false, false
            ]
        );
    }

    #[test]
    fn a_reference_with_a_lifetime_is_read_as_what_it_refers_to() {
        let code = "fn f<'a>(s: &'a str, b: &'a [u8], m: &'a mut Vec<u8>, i: usize) {\n\
                    let _ = (&s[1..], &b[i..], m[i]);\n}";
        assert_eq!(index_verdicts(code), [false, true, true]);
        let code = "fn f<'a>(n: &'a u64, m: &'a mut u32) { let _ = (*n as u8, *m as u64); }";
        assert_eq!(verdicts(code), [true, false]);
        assert_eq!(dereferenced("&'a mut &'b [u8]"), "[u8]");
        assert_eq!(dereferenced(" & mut str "), "str");
    }

    #[test]
    fn a_match_arm_types_what_it_binds_from_a_tuple_variant_of_the_file() {
        let code = "enum Seq { One(Range), Two([Range; 2]), Many(Vec<Range>), Named { s: String } }\n\
                    fn f(s: &Seq, i: usize) {\n\
                    match *s {\n\
                    Seq::Two(ref r) => { let _ = (r[0], r[i]); }\n\
                    Seq::Many(ref v) => { let _ = v[0]; }\n\
                    Seq::One(ref o) => { let _ = o[0]; }\n\
                    Seq::Named { s } => { let _ = &s[1..]; }\n\
                    Seq::Named { s: t } => { let _ = &t[1..]; }\n}\n}";
        assert_eq!(
            index_verdicts(code),
            [false, true, true, true, false, false]
        );
    }

    #[test]
    fn a_type_parameter_or_a_type_of_the_file_is_indexed_through_its_own_impl() {
        let code = "struct V(Vec<isize>);\nimpl Index<isize> for V { type Output = isize; }\n\
                    struct Tokens(Vec<u8>);\nimpl Deref for Tokens { type Target = Vec<u8>; }\n\
                    fn f<Old: Index<usize> + ?Sized>(old: &Old, v: &mut V, w: &Other, t: &Tokens, i: usize) {\n\
                    let _ = (&old[i], v[1], w[i], &t[i..]);\n\
                    let _ = (0..2).map(|x| old[x]);\n}\n\
                    struct Lookup<'a, Idx: ?Sized> { lookup: &'a Idx, index: usize }\n\
                    impl<'a, Idx: Index<usize> + ?Sized> Lookup<'a, Idx> {\n\
                    fn value(&self) -> &Idx::Output { &self.lookup[self.index] }\n}";
        assert_eq!(
            index_verdicts(code),
            [false, false, true, true, false, false]
        );
    }

    #[test]
    fn an_index_in_a_macros_arguments_is_judged_by_what_the_code_says_of_the_name() {
        let code = "enum Seq { Two([Range; 2]) }\n\
                    fn f(s: &Seq, v: &[u8], m: &HashMap<u8, u8>, i: usize) {\n\
                    match *s { Two(ref r) => write!(out, \"{:?}{:?}{:?}\", r[0], r[1], r[i]) }\n\
                    println!(\"{} {} {}\", v[0], m[&1], unknown[0]);\n}";
        let tree = crate::rules::matcher::parse(code).expect("parses");
        let source = Source::new(code, tree.root_node());
        let mut verdicts = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            let said = &code[node.byte_range()];
            if node.kind() == "token_tree" && said.starts_with('[') {
                verdicts.push((node.start_byte(), may_panic_index(node, &source)));
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
        verdicts.sort_unstable();
        let verdicts: Vec<bool> = verdicts.into_iter().map(|(_, v)| v).collect();
        assert_eq!(verdicts, [false, false, true, true, false, true]);
    }

    #[test]
    fn a_cast_truncates_when_the_code_says_the_operand_is_wider() {
        let code = "fn f(a: u64, b: &u16, c: usize, d: f64, e: char) {\n\
                    let x = a as u32; let y = *b as u8; let z = c as u32; let w = d as i64;\n\
                    let v = e as u8; let n = a as u128; let m = c as u64; let k = 300u16 as u8;\n\
                    let j = a as usize; let h = (a as u16) as u8; let g = d as f32;\n}";
        assert_eq!(
            verdicts(code),
            [
                true, true, true, true, false, false, false, true, true, true, true, true
            ]
        );
    }

    #[test]
    fn a_loop_over_a_range_walks_numbers_of_its_bounds_type_or_wider() {
        let code = "fn f(n: u64, bytes: &mut [u8]) {\n\
                    for b in 0..256 { bytes[0] = b as u8; }\n\
                    for b in 0..256 { let _ = b as u16; }\n\
                    for b in -200..=100 { let _ = b as i8; }\n\
                    for b in 0..=255 { let _ = b as u8; }\n\
                    for i in 0..n { let _ = i as u32; }\n\
                    for i in 0..n { let _ = i as u64; }\n\
                    for b in 0..256 { let b = 1u8; let _ = b as u8; }\n\
                    let b = 7u8; for _ in 0..256 { let _ = b as u8; }\n\
                    for b in 0..x { let _ = b as u8; }\n}";
        assert_eq!(
            verdicts(code),
            [true, false, true, false, true, false, false, false, false]
        );
    }

    #[test]
    fn an_intrinsic_that_gives_an_integer_is_typed() {
        let code = "fn f(bit: __m128i) -> u16 {\n\
                    let a = _mm_movemask_epi8(bit) as u16;\n\
                    let b = _mm256_movemask_epi8(x) as u8;\n\
                    let c = _mm_movemask_epi8(bit) as i64;\n\
                    let d = _mm_cvtsi128_si64(bit) as u32;\n\
                    let e = _mm_loadu_si128(p) as u8;\n\
                    a\n}";
        assert_eq!(verdicts(code), [true, true, false, true, false]);
    }

    #[test]
    fn masks_shifts_and_constants_narrow_as_clippy_narrows() {
        let code = "const MASK: u64 = 0xFF;\nfn f(a: u64, s: u32) -> u8 {\n\
                    let hi = a >> 56;\n\
                    let _ = (a & 0xFF) as u8; let _ = (a >> 56) as u8; let _ = (a >> 8) as u8;\n\
                    let _ = (a % 256) as u8; let _ = (a & MASK) as u8; let _ = hi as u8;\n\
                    let _ = a.min(255) as u8; let _ = (s / 2) as u16; let _ = (s >> 16) as u16;\n\
                    0\n}";
        assert_eq!(
            verdicts(code),
            [false, false, true, true, false, false, false, true, false]
        );
    }

    #[test]
    fn an_operand_the_code_does_not_type_is_not_reported() {
        let code = "struct S { n: u64 }\nfn f(s: &S, t: &Other, v: &[u32], w: Vec<u8>) {\n\
                    let _ = t.m as u8; let _ = s.n as u8; let _ = g() as u8; let _ = 5 as u8;\n\
                    let _ = v[0] as u16; let _ = w[0] as u16; let _ = v.len() as u32;\n\
                    let _ = u64::from(t.m) as u32; let _ = x.leading_zeros() as u8;\n}\n\
                    impl Low for u16 { fn low(self) -> u8 { self as u8 } }\n\
                    fn wide() -> u64 { 0 } fn g() { let _ = wide() as u8; let _ = S::wide(1) as u8; }";
        assert_eq!(
            verdicts(code),
            [
                false, true, false, false, true, false, true, true, true, true, true, false
            ]
        );
    }
}
