//! What the attributes of a Rust file say about its code, from one tree-sitter parse: which
//! lines are test code (`#[cfg(test)]`, `#[test]` and kin), which are compiled only under a
//! feature (`#[cfg(feature = "x")]`), and which lints it silences (`allow`, `expect`).
//!
//! The acceptance rule reads these: test code judges a change and is protected like `tests/`; a
//! change under a feature is built with that feature; a new `allow` is not a fixed warning.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::RangeInclusive;
use std::rc::Rc;

use tree_sitter::{Node, Parser};

use super::package::RustVersion;

/// An item and the attributes on it, by 1-based lines (attributes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub lines: RangeInclusive<usize>,
    /// Test code: under `cfg(test)`, or a `#[test]`-like function.
    pub test: bool,
    /// The features a `cfg` on it requires (outside any `not(...)`).
    pub features: Vec<String>,
    /// The predicates (inside `cfg(...)`, as written) on it that this machine's builds do not
    /// all satisfy for certain: `windows` on Linux (none does), `not(feature = "std")` (it
    /// depends on the build's features), a build script's `cfg`. What declares the file counts.
    pub cfgs: Vec<String>,
}

/// A lint silenced by an `allow` or `expect` attribute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Silenced {
    /// 1-based line of the attribute.
    pub line: usize,
    /// `clippy::needless_return`, `dead_code`, `warnings`.
    pub lint: String,
    /// `allow` or `expect`.
    pub how: String,
    /// It carries a `reason = "..."`.
    pub reason: bool,
    /// The first and last line of the code it applies to (0 to `usize::MAX`: the whole file).
    pub covers: (usize, usize),
}

/// The attributes of one file.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    pub regions: Vec<Region>,
    pub silenced: Vec<Silenced>,
    /// The lints silenced for the whole file by the `mod` items that declare it, and theirs in
    /// turn, up to the crate root (`#![allow(clippy::x)]` in `lib.rs`).
    pub inherited_silenced: Vec<String>,
}

impl Attributes {
    /// Whether any line of `lines` is test code.
    pub fn touches_test(&self, lines: &RangeInclusive<usize>) -> bool {
        self.regions
            .iter()
            .any(|region| region.test && overlaps(&region.lines, lines))
    }

    /// The features required by the items that any line of `lines` lies in.
    pub fn features(&self, lines: &RangeInclusive<usize>) -> BTreeSet<String> {
        self.regions
            .iter()
            .filter(|region| overlaps(&region.lines, lines))
            .flat_map(|region| region.features.iter().cloned())
            .collect()
    }

    /// The `cfg` predicates over any line of `lines` that this machine's builds may not satisfy.
    pub fn cfgs(&self, lines: &RangeInclusive<usize>) -> impl Iterator<Item = &str> {
        self.regions
            .iter()
            .filter(|region| overlaps(&region.lines, lines))
            .flat_map(|region| region.cfgs.iter().map(String::as_str))
    }

    /// Whether `lint` (`clippy::unwrap_used`, `missing_docs`) is allowed or expected over any
    /// line of `lines`, here or by a declaring module.
    pub fn silences(&self, lint: &str, lines: &RangeInclusive<usize>) -> bool {
        let lint = lint.strip_prefix("rustc::").unwrap_or(lint);
        let named = |said: &str| said == lint || said == "warnings";
        self.inherited_silenced.iter().any(|said| named(said))
            || self
                .silenced
                .iter()
                .any(|s| named(&s.lint) && overlaps(&(s.covers.0..=s.covers.1), lines))
    }

    /// Whether the whole file is test code or feature code (an inner `#![cfg(...)]`), as a region.
    pub fn whole_file(&self) -> Option<&Region> {
        self.regions
            .iter()
            .find(|region| *region.lines.start() == 0)
    }
}

/// The attributes of the Rust file at `path` (relative to the repository root) with text
/// `text`, including what it inherits from the `mod` item that declares it in its parent
/// (`#[cfg(test)] mod tests;` makes all of `tests.rs` test code). `read` gives other files' text.
pub fn for_file(
    path: &str,
    text: &str,
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<Attributes> {
    Some(for_parsed(path, text, &parse(text)?, read))
}

/// [`for_file`], for a file already parsed into `tree`.
pub fn for_parsed(
    path: &str,
    text: &str,
    tree: &tree_sitter::Tree,
    read: &dyn Fn(&str) -> Option<String>,
) -> Attributes {
    for_parsed_with(path, text, tree, &Parents::new(read))
}

/// [`for_parsed`], with the declaring files read and parsed through `parents`, once for all the
/// files that ask about them.
pub fn for_parsed_with(
    path: &str,
    text: &str,
    tree: &tree_sitter::Tree,
    parents: &Parents<'_>,
) -> Attributes {
    with_parents(path, text, tree, of_parsed(tree, text), parents)
}

/// A file's `own` attributes (from [`of_parsed`] or [`of_items`]) with what its declaring
/// modules say of it, through `parents`.
pub fn with_parents(
    path: &str,
    text: &str,
    tree: &tree_sitter::Tree,
    mut own: Attributes,
    parents: &Parents<'_>,
) -> Attributes {
    parents.remember(path, tree, text, &own);
    if let Some(inherited) = parents.inherited(path, 8) {
        own.regions.insert(0, inherited);
    }
    own.inherited_silenced = parents.silenced_above(path, 8).to_vec();
    own
}

/// The file's own attributes from its `attribute_item`s and `inner_attribute_item`s, in order,
/// found by a walk the caller made anyway (a query's).
pub fn of_items(items: &[Node<'_>], text: &str) -> Attributes {
    let mut out = Attributes::default();
    for item in items {
        visit(*item, text, &mut out);
    }
    finished(out)
}

/// The files that declare modules, each read and parsed once however many of its modules ask
/// what it says of them; and what each file inherits, once.
pub struct Parents<'r> {
    read: &'r dyn Fn(&str) -> Option<String>,
    /// The files parsed for their own sake are `read`'s: keep them as declaring files.
    remembers: bool,
    parsed: RefCell<HashMap<String, Option<Rc<Declaring>>>>,
    inherited: RefCell<HashMap<String, Option<Region>>>,
    /// The `rust-version` of each directory's package.
    rust_versions: RefCell<HashMap<String, Option<RustVersion>>>,
    /// How much of each file's module can be reached from outside the crate.
    exported: RefCell<HashMap<String, Exposure>>,
    /// The lints each file's declaring modules silence for all of it.
    silenced_above: RefCell<HashMap<String, Rc<[String]>>>,
}

impl std::fmt::Debug for Parents<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parents")
            .field("parsed", &self.parsed.borrow().len())
            .finish_non_exhaustive()
    }
}

/// What a declaring file says: the line of each `mod name;` in it, and its attributes.
struct Declaring {
    declarations: HashMap<String, usize>,
    /// How much of each declared module the crate exports.
    exposed: HashMap<String, Exposure>,
    attributes: Attributes,
}

impl<'r> Parents<'r> {
    /// `read` gives a file's text by its path from the repository root.
    pub fn new(read: &'r dyn Fn(&str) -> Option<String>) -> Self {
        Parents {
            read,
            remembers: false,
            parsed: RefCell::new(HashMap::new()),
            inherited: RefCell::new(HashMap::new()),
            rust_versions: RefCell::new(HashMap::new()),
            exported: RefCell::new(HashMap::new()),
            silenced_above: RefCell::new(HashMap::new()),
        }
    }

    /// What reads the tree's files.
    pub fn read(&self) -> &'r dyn Fn(&str) -> Option<String> {
        self.read
    }

    /// The oldest Rust that the package of the file at `path` says it builds with.
    pub fn rust_version(&self, path: &str) -> Option<RustVersion> {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        if let Some(known) = self.rust_versions.borrow().get(dir) {
            return *known;
        }
        let version = super::package::of(path, self.read).and_then(|p| p.rust_version);
        self.rust_versions
            .borrow_mut()
            .insert(dir.to_owned(), version);
        version
    }

    /// The files that could declare `path` as a module, nearest first: what it inherits depends
    /// on them (and on theirs, in turn).
    pub fn candidates(path: &str) -> Vec<String> {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
        let Some(stem) = file.strip_suffix(".rs") else {
            return Vec::new();
        };
        // `a/b.rs` is module `b` of `a`; `a/b/mod.rs` is module `b` of `a` too.
        let parent_dir = if stem == "mod" {
            dir.rsplit_once('/').map_or("", |(up, _)| up)
        } else if matches!(stem, "lib" | "main") {
            return Vec::new();
        } else {
            dir
        };
        let join = |dir: &str, file: &str| {
            if dir.is_empty() {
                file.to_owned()
            } else {
                format!("{dir}/{file}")
            }
        };
        let mut parents = vec![
            join(parent_dir, "lib.rs"),
            join(parent_dir, "main.rs"),
            join(parent_dir, "mod.rs"),
        ];
        if let Some((up, name)) = parent_dir.rsplit_once('/').or(Some(("", parent_dir)))
            && !name.is_empty()
        {
            parents.push(join(up, &format!("{name}.rs")));
        }
        parents
    }

    /// [`Parents::new`], for a walk over files as `read` gives them: each file parsed for its
    /// own sake is kept as a declaring file too, not parsed again when a module of it asks.
    pub fn remembering(read: &'r dyn Fn(&str) -> Option<String>) -> Self {
        Parents {
            remembers: true,
            ..Parents::new(read)
        }
    }

    /// Keeps what `path` (as `read` gives it, parsed into `tree`) says as a declaring file.
    fn remember(&self, path: &str, tree: &tree_sitter::Tree, text: &str, own: &Attributes) {
        if !self.remembers || self.parsed.borrow().contains_key(path) {
            return;
        }
        let declaring = Rc::new(Declaring {
            declarations: declarations(tree, text),
            exposed: exposed(tree, text),
            attributes: own.clone(),
        });
        self.parsed
            .borrow_mut()
            .insert(path.to_owned(), Some(declaring));
    }

    fn declaring(&self, path: &str) -> Option<Rc<Declaring>> {
        if let Some(known) = self.parsed.borrow().get(path) {
            return known.clone();
        }
        let parsed = (self.read)(path).and_then(|text| {
            let tree = parse(&text)?;
            Some(Rc::new(Declaring {
                declarations: declarations(&tree, &text),
                exposed: exposed(&tree, &text),
                attributes: of_parsed(&tree, &text),
            }))
        });
        self.parsed
            .borrow_mut()
            .insert(path.to_owned(), parsed.clone());
        parsed
    }

    /// What the declaring `mod` items of `path`, up to `depth` levels, say of the whole file.
    fn inherited(&self, path: &str, depth: usize) -> Option<Region> {
        if depth == 0 {
            return None;
        }
        if let Some(known) = self.inherited.borrow().get(path) {
            return known.clone();
        }
        let found = self.inherit(path, depth);
        self.inherited
            .borrow_mut()
            .insert(path.to_owned(), found.clone());
        found
    }

    /// The file that declares `path` as a module, what it says, and the line of the `mod`.
    fn declarer(&self, path: &str) -> Option<(String, Rc<Declaring>, usize)> {
        let module = module_name(path)?;
        Parents::candidates(path).into_iter().find_map(|parent| {
            let declaring = self.declaring(&parent)?;
            let line = *declaring.declarations.get(module)?;
            Some((parent, declaring, line))
        })
    }

    /// The file at the top of `path`'s module tree, as far as the files say: its crate root
    /// (`lib.rs`, `main.rs`, `src/bin/x.rs`), or `path` itself when nothing declares it.
    pub fn root_of(&self, path: &str) -> String {
        let mut at = path.to_owned();
        for _ in 0..8 {
            match self.declarer(&at) {
                Some((parent, _, _)) => at = parent,
                None => break,
            }
        }
        at
    }

    /// The types `path`'s file imports by `use crate::...::T` or `use super::T` (a list in
    /// braces too, not renamed) that the crate exports: the declaring module exports `T` and
    /// declares it `pub` at its top. An inherent `impl T` in a private module adds public API
    /// for such a `T` (`anyhow`'s `impl Chain` in its private `chain` module).
    pub fn imported_exported_types(&self, path: &str, text: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (file, names) in self.imported_modules(path, text) {
            for name in names {
                if self.exports_type(&file, name) {
                    found.insert(name.to_owned());
                }
            }
        }
        found
    }

    /// The files of the modules `path`'s plain imports name (`use crate::a::T`, `use super::T`),
    /// each with the names imported from it: what [`Parents::imported_exported_types`] reads.
    pub fn imported_modules<'t>(&self, path: &str, text: &'t str) -> Vec<(String, Vec<&'t str>)> {
        imports(text)
            .into_iter()
            .filter_map(|(module, names)| {
                let file = match module.split_first() {
                    Some((&"crate", rest)) => self.module_file(&self.root_of(path), rest),
                    Some((&"super", [])) => self.declarer(path).map(|(parent, _, _)| parent),
                    _ => None,
                };
                Some((file?, names))
            })
            .collect()
    }

    /// The file of module `segments` under the crate root `root` (`src/lib.rs`): `a/b.rs` or
    /// `a/b/mod.rs` beside it; the root itself for none.
    fn module_file(&self, root: &str, segments: &[&str]) -> Option<String> {
        if segments.is_empty() {
            return Some(root.to_owned());
        }
        let dir = root.rsplit_once('/').map_or("", |(dir, _)| dir);
        let joined = segments.join("/");
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        [
            format!("{prefix}{joined}.rs"),
            format!("{prefix}{joined}/mod.rs"),
        ]
        .into_iter()
        .find(|file| (self.read)(file).is_some())
    }

    /// Whether the module at `path` exports `name` and declares it `pub` at its top.
    fn exports_type(&self, path: &str, name: &str) -> bool {
        let exposed = match self.exported(path) {
            Exposure::All => true,
            Exposure::Names(names) => names.contains(name),
            Exposure::None => false,
        };
        exposed
            && (self.read)(path).is_some_and(|text| {
                text.lines().any(|line| {
                    [
                        "pub struct ",
                        "pub enum ",
                        "pub union ",
                        "pub type ",
                        "pub trait ",
                    ]
                    .iter()
                    .any(|kind| {
                        line.strip_prefix(kind).is_some_and(|rest| {
                            rest.strip_prefix(name).is_some_and(|after| {
                                !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                            })
                        })
                    })
                })
            })
    }

    /// Whether the file at `path` is in its crate's module tree: a crate root (`lib.rs`,
    /// `main.rs`, a file nothing could declare), or declared by a `mod` of a file that could.
    /// A file no `mod` names (`// mod old;` commented out) is compiled by nothing.
    pub fn declared(&self, path: &str) -> bool {
        Parents::candidates(path).is_empty() || self.declarer(path).is_some()
    }

    /// How much of the module of the file at `path` can be reached from outside its crate: each
    /// `mod` that declares it, up to the crate root, is `pub`, or a `pub use` re-exports from it
    /// (some items, or all). A file nothing declares (a crate root) exports all it makes public.
    pub fn exported(&self, path: &str) -> Exposure {
        self.exported_at(path, 8)
    }

    fn exported_at(&self, path: &str, depth: usize) -> Exposure {
        if let Some(known) = self.exported.borrow().get(path) {
            return known.clone();
        }
        let found = match self.declarer(path) {
            None => Exposure::All,
            Some(_) if depth == 0 => Exposure::All,
            Some((parent, declaring, _)) => {
                let declared = module_name(path)
                    .and_then(|m| declaring.exposed.get(m))
                    .cloned()
                    .unwrap_or(Exposure::None);
                match self.exported_at(&parent, depth - 1) {
                    Exposure::All => declared,
                    Exposure::Names(names)
                        if module_name(path).is_some_and(|m| names.contains(m)) =>
                    {
                        declared
                    }
                    _ => Exposure::None,
                }
            }
        };
        self.exported
            .borrow_mut()
            .insert(path.to_owned(), found.clone());
        found
    }

    /// The lints silenced for all of `path` by the `mod` that declares it (its attributes, the
    /// declaring file's inner ones) and, in turn, by that file's declaring modules.
    fn silenced_above(&self, path: &str, depth: usize) -> Rc<[String]> {
        if let Some(known) = self.silenced_above.borrow().get(path) {
            return known.clone();
        }
        let mut lints = Vec::new();
        if let Some((parent, declaring, line)) = self.declarer(path).filter(|_| depth > 0) {
            lints.extend(
                declaring
                    .attributes
                    .silenced
                    .iter()
                    .filter(|s| s.covers.0 <= line && line <= s.covers.1)
                    .map(|s| s.lint.clone()),
            );
            lints.extend(self.silenced_above(&parent, depth - 1).iter().cloned());
            lints.sort();
            lints.dedup();
        }
        let lints: Rc<[String]> = lints.into();
        self.silenced_above
            .borrow_mut()
            .insert(path.to_owned(), lints.clone());
        lints
    }

    fn inherit(&self, path: &str, depth: usize) -> Option<Region> {
        let (parent, declaring, line) = self.declarer(path)?;
        let mut test = false;
        let mut features = Vec::new();
        let mut cfgs = Vec::new();
        let above = self.inherited(&parent, depth - 1);
        let covering = declaring
            .attributes
            .regions
            .iter()
            .filter(|r| r.lines.contains(&line))
            .chain(above.as_ref());
        for region in covering {
            test |= region.test;
            features.extend(region.features.iter().cloned());
            cfgs.extend(region.cfgs.iter().cloned());
        }
        features.sort();
        features.dedup();
        cfgs.sort();
        cfgs.dedup();
        (test || !features.is_empty() || !cfgs.is_empty()).then_some(Region {
            lines: 0..=usize::MAX,
            test,
            features,
            cfgs,
        })
    }
}

/// The module a file is: `a/b.rs` and `a/b/mod.rs` are `b`; a crate root is none.
fn module_name(path: &str) -> Option<&str> {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let stem = file.strip_suffix(".rs")?;
    if stem == "mod" {
        Some(dir.rsplit_once('/').map_or(dir, |(_, name)| name))
    } else {
        Some(stem)
    }
}

/// How much of a module its crate exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// Its public items: a `pub mod` (or a crate root), or a glob `pub use m::*`.
    All,
    /// The items of these names only: a private module some of whose items a `pub use` names.
    Names(BTreeSet<String>),
    /// Nothing: a private module nothing is re-exported from.
    None,
}

/// The top-level `use` declarations of `text` that name items plainly: the module path's
/// segments and the names (`use crate::a::T;` is `(["crate", "a"], ["T"])`, `use super::{A,
/// B};` is `(["super"], ["A", "B"])`); renamed, glob and nested imports are left out.
fn imports(text: &str) -> Vec<(Vec<&str>, Vec<&str>)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        let Some(path) = line
            .strip_prefix("use ")
            .and_then(|rest| rest.trim_end().strip_suffix(';'))
        else {
            continue;
        };
        let (module, names) = match path.split_once("::{") {
            Some((module, list)) => {
                let Some(list) = list.strip_suffix('}') else {
                    continue;
                };
                (module, list.split(',').map(str::trim).collect::<Vec<_>>())
            }
            None => match path.rsplit_once("::") {
                Some((module, name)) => (module, vec![name.trim()]),
                None => continue,
            },
        };
        let plain =
            |name: &&str| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if names.iter().all(plain) {
            out.push((module.split("::").map(str::trim).collect(), names));
        }
    }
    out
}

/// How much of each module `text` declares (`mod name;`) it exports: all of a `pub mod`, what
/// its `pub use` declarations name through `name::`, or nothing.
fn exposed(tree: &tree_sitter::Tree, text: &str) -> HashMap<String, Exposure> {
    let root = tree.root_node();
    let mut cursor = root.walk();
    let mut declared = Vec::new();
    let mut reexports = Vec::new();
    for item in root.named_children(&mut cursor) {
        let public = item
            .named_child(0)
            .is_some_and(|v| v.kind() == "visibility_modifier" && &text[v.byte_range()] == "pub");
        match item.kind() {
            "mod_item" if item.child_by_field_name("body").is_none() => {
                if let Some(name) = item.child_by_field_name("name") {
                    declared.push((&text[name.byte_range()], public));
                }
            }
            "use_declaration" if public => {
                let said: Vec<&str> = text[item.byte_range()].split_whitespace().collect();
                reexports.push(said.join(" "));
            }
            _ => {}
        }
    }
    declared
        .into_iter()
        .map(|(name, public)| {
            let exposure = if public {
                Exposure::All
            } else {
                reexported(name, &reexports)
            };
            (name.to_owned(), exposure)
        })
        .collect()
}

/// What `pub use` declarations (each space run one space) re-export from module `name`:
/// `name::*` is all, `name::Item` and `name::{A, B as C}` name items.
fn reexported(name: &str, uses: &[String]) -> Exposure {
    let mut names = BTreeSet::new();
    let prefix = format!("{name}::");
    for used in uses {
        for (at, _) in used.match_indices(&prefix) {
            if used[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &used[at + prefix.len()..];
            if rest.starts_with('*') {
                return Exposure::All;
            }
            let list = match rest.strip_prefix('{') {
                Some(inner) => inner.split('}').next().unwrap_or(inner),
                None => rest.split([';', ',', '}']).next().unwrap_or(rest),
            };
            for path in list.split(',') {
                let path = path.split(" as ").next().unwrap_or(path).trim();
                let last = path.rsplit("::").next().unwrap_or(path);
                let last = last.trim_end_matches(';').trim();
                if last == "*" {
                    return Exposure::All;
                }
                if !last.is_empty() {
                    names.insert(last.to_owned());
                }
            }
        }
    }
    if names.is_empty() {
        Exposure::None
    } else {
        Exposure::Names(names)
    }
}

/// The 1-based line of each `mod name;` (a declaration without a body) in `text`.
fn declarations(tree: &tree_sitter::Tree, text: &str) -> HashMap<String, usize> {
    let mut found = HashMap::new();
    // Items only: the file's, and those of inline modules.
    let mut stack = vec![tree.root_node()];
    while let Some(items) = stack.pop() {
        let mut cursor = items.walk();
        for node in items.named_children(&mut cursor) {
            if node.kind() != "mod_item" {
                continue;
            }
            match (
                node.child_by_field_name("body"),
                node.child_by_field_name("name"),
            ) {
                (Some(body), _) => stack.push(body),
                (None, Some(name)) => {
                    found
                        .entry(text[name.byte_range()].to_owned())
                        .or_insert(node.start_position().row + 1);
                }
                (None, None) => {}
            }
        }
    }
    found
}

fn parse(text: &str) -> Option<tree_sitter::Tree> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .ok()?;
    parser.parse(text, None)
}

fn overlaps(a: &RangeInclusive<usize>, b: &RangeInclusive<usize>) -> bool {
    a.start() <= b.end() && b.start() <= a.end()
}

/// Reads the attributes of Rust source `text` alone; `None` if it cannot be parsed at all.
pub fn read_text(text: &str) -> Option<Attributes> {
    Some(of_parsed(&parse(text)?, text))
}

/// The file's own attributes, `text` parsed into `tree`, without what declares it.
pub fn of_parsed(tree: &tree_sitter::Tree, text: &str) -> Attributes {
    let mut out = Attributes::default();
    // One cursor over the whole tree: attributes may sit on statements, fields, arms, anywhere.
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        if matches!(node.kind(), "attribute_item" | "inner_attribute_item") {
            visit(node, text, &mut out);
        } else if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    finished(out)
}

/// Attributes in the order their users search them.
fn finished(mut out: Attributes) -> Attributes {
    out.regions
        .sort_by_key(|r| (*r.lines.start(), *r.lines.end()));
    out.silenced.sort();
    out
}

/// One attribute: what it says, and the lines it covers.
fn visit(node: Node<'_>, text: &str, out: &mut Attributes) {
    let Some(attribute) = node.named_child(0).filter(|n| n.kind() == "attribute") else {
        return;
    };
    let source = &text[attribute.byte_range()];
    let line = node.start_position().row + 1;
    let inner = node.kind() == "inner_attribute_item";
    let item = if inner { None } else { annotated(node) };
    let lines = if inner {
        // `#![...]` applies to what contains it: the file, or the module whose body it opens.
        match node.parent().and_then(|p| p.parent()) {
            Some(item) if node.parent().is_some_and(|p| p.kind() != "source_file") => {
                item.start_position().row + 1..=item.end_position().row + 1
            }
            _ => 0..=usize::MAX,
        }
    } else {
        // From the item's first attribute or doc comment: `#[allow(...)]` above `#[cfg(test)]`
        // is the test item's, and the docs above `#[cfg(feature = "x")]` (their doctests) are
        // compiled with `x` only.
        let mut first = node;
        while let Some(above) = first
            .prev_named_sibling()
            .filter(|s| s.kind() == "attribute_item" || is_outer_doc(*s, text))
        {
            first = above;
        }
        let start = first.start_position().row + 1;
        match item {
            Some(item) => start..=item.end_position().row + 1,
            None => line..=line,
        }
    };
    collect_silenced(source, line, (*lines.start(), *lines.end()), out);
    let (test, features) = meaning(source);
    let cfgs: Vec<String> = source
        .trim()
        .strip_prefix("cfg")
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix('('))
        .and_then(|rest| rest.strip_suffix(')'))
        .filter(|predicate| super::cfg::holds(predicate) != Some(true))
        .map(|predicate| {
            // One line, as people write it short: `all(unix, feature = "x")`.
            let words: Vec<&str> = predicate.split_whitespace().collect();
            words
                .join(" ")
                .replace("( ", "(")
                .replace(" )", ")")
                .replace(",)", ")")
        })
        .into_iter()
        .collect();
    if !test && features.is_empty() && cfgs.is_empty() {
        return;
    }
    if !inner && item.is_none() {
        return;
    }
    out.regions.push(Region {
        lines,
        test,
        features,
        cfgs,
    });
}

/// Whether a comment is an outer doc comment (`/// ...`, `/** ... */`), which belongs to the
/// item below it.
fn is_outer_doc(node: Node<'_>, text: &str) -> bool {
    let comment = &text[node.byte_range()];
    match node.kind() {
        "line_comment" => comment.starts_with("///") && !comment.starts_with("////"),
        "block_comment" => {
            comment.starts_with("/**") && !comment.starts_with("/***") && comment != "/**/"
        }
        _ => false,
    }
}

/// The item an outer attribute belongs to: the next sibling that is neither an attribute nor a
/// comment.
fn annotated(node: Node<'_>) -> Option<Node<'_>> {
    let mut next = node.next_named_sibling();
    while let Some(sibling) = next {
        match sibling.kind() {
            "attribute_item" | "line_comment" | "block_comment" => {
                next = sibling.next_named_sibling();
            }
            _ => return Some(sibling),
        }
    }
    None
}

/// Whether an attribute's text (`cfg(test)`, `tokio::test`, `cfg(feature = "x")`) marks test
/// code, and the features it requires.
fn meaning(attribute: &str) -> (bool, Vec<String>) {
    let compact: String = attribute.split_whitespace().collect();
    let path = compact.split('(').next().unwrap_or(&compact);
    let last = path.rsplit("::").next().unwrap_or(path);
    if matches!(last, "test" | "bench") || matches!(path, "rstest" | "test_case" | "quickcheck") {
        return (true, Vec::new());
    }
    let Some(predicate) = compact
        .strip_prefix("cfg(")
        .and_then(|rest| rest.strip_suffix(')'))
    else {
        return (false, Vec::new());
    };
    let test = only_in_tests(predicate);
    let positive = outside_not(predicate);
    let mut features = Vec::new();
    let mut rest = positive.as_str();
    while let Some(at) = rest.find("feature=\"") {
        // `feature = "x"`, not `target_feature = "x"`.
        let own = at == 0 || rest[..at].ends_with(['(', ',']);
        rest = &rest[at + "feature=\"".len()..];
        if let Some(end) = rest.find('"') {
            if own {
                features.push(rest[..end].to_owned());
            }
            rest = &rest[end..];
        }
    }
    (test, features)
}

/// Whether a `cfg` predicate (without spaces) holds only when compiling tests: `test`, an
/// `all(...)` with such a part, an `any(...)` whose every part is such. `any(feature = "alloc",
/// test)` is compiled outside tests too.
fn only_in_tests(predicate: &str) -> bool {
    if predicate == "test" {
        return true;
    }
    let parts = |inner: &str| -> Vec<String> {
        let mut parts = Vec::new();
        let mut depth = 0;
        let mut current = String::new();
        for c in inner.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        if !current.is_empty() {
            parts.push(current);
        }
        parts
    };
    if let Some(inner) = predicate
        .strip_prefix("all(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return parts(inner).iter().any(|part| only_in_tests(part));
    }
    if let Some(inner) = predicate
        .strip_prefix("any(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let parts = parts(inner);
        return !parts.is_empty() && parts.iter().all(|part| only_in_tests(part));
    }
    false
}

/// A `cfg` predicate with every `not(...)` cut out.
fn outside_not(predicate: &str) -> String {
    let mut out = String::new();
    let mut rest = predicate;
    while let Some(at) = rest.find("not(") {
        out.push_str(&rest[..at]);
        let mut depth = 0;
        let mut end = rest.len();
        for (offset, c) in rest[at + 3..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = at + 3 + offset + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The lints `allow(...)` or `expect(...)` silence, also inside `cfg_attr(..., allow(...))`.
fn collect_silenced(attribute: &str, line: usize, covers: (usize, usize), out: &mut Attributes) {
    let compact: String = attribute.split_whitespace().collect();
    for how in ["allow", "expect"] {
        let mut rest = compact.as_str();
        while let Some(at) = rest.find(&format!("{how}(")) {
            let before = rest[..at].chars().last();
            rest = &rest[at + how.len() + 1..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let body = balanced(rest);
            let reason = body.contains("reason=");
            for lint in body.split(',') {
                let lint = lint.trim();
                if lint.is_empty() || lint.contains('=') {
                    continue;
                }
                out.silenced.push(Silenced {
                    lint: lint.to_owned(),
                    how: how.to_owned(),
                    line,
                    covers,
                    reason,
                });
            }
        }
    }
}

/// The text up to the `)` that closes an already opened parenthesis.
fn balanced(text: &str) -> &str {
    let mut depth = 1;
    for (offset, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..offset];
                }
            }
            _ => {}
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_imports_are_read_with_their_module() {
        let text = "use crate::Chain;\npub(crate) use crate::a::b::{X, Y};\nuse super::Z;\n\
                    use crate::c::D as E;\nuse crate::f::*;\nuse std::fmt;\n    use crate::Inner;\n";
        assert_eq!(
            imports(text),
            [
                (vec!["crate"], vec!["Chain"]),
                (vec!["crate", "a", "b"], vec!["X", "Y"]),
                (vec!["super"], vec!["Z"]),
                (vec!["std"], vec!["fmt"]),
            ]
        );
    }

    const SOURCE: &str = r#"//! A crate.
#![allow(clippy::needless_return)]

pub fn one() -> i32 {
    1
}

#[cfg(feature = "extra")]
pub fn extra() -> i32 {
    one() + 1
}

#[cfg(all(unix, not(feature = "slow")))]
#[expect(dead_code, reason = "kept for later")]
fn quick() {}

#[cfg_attr(feature = "strict", allow(unused, clippy::all))]
fn lenient() {}

#[cfg(test)]
mod tests {
    #[test]
    fn one() {
        assert_eq!(super::one(), 1);
    }
}

#[tokio::test]
async fn outside() {}

#[cfg(any(feature = "alloc", test))]
fn shared() {}

#[cfg(all(test, feature = "alloc"))]
fn only_tests() {}
"#;

    #[test]
    fn regions_say_what_is_test_code_and_what_needs_a_feature() {
        let attributes = read_text(SOURCE).expect("parses");
        let test_lines: Vec<usize> = (1..=36)
            .filter(|line| attributes.touches_test(&(*line..=*line)))
            .collect();
        assert_eq!(test_lines, [20, 21, 22, 23, 24, 25, 26, 28, 29, 34, 35]);
        assert_eq!(
            attributes
                .features(&(10..=10))
                .into_iter()
                .collect::<Vec<_>>(),
            ["extra"]
        );
        assert!(attributes.features(&(5..=5)).is_empty());
        assert!(attributes.features(&(15..=15)).is_empty(), "not(feature)");
        assert!(attributes.whole_file().is_none());
    }

    #[test]
    fn an_items_attributes_above_its_cfg_test_are_test_code_too() {
        let text = "fn a() {}\n#[allow(dead_code)]\n#[cfg(test)]\nfn helper() {}\n";
        let attributes = read_text(text).expect("parses");
        let test: Vec<usize> = (1..=4)
            .filter(|line| attributes.touches_test(&(*line..=*line)))
            .collect();
        assert_eq!(test, [2, 3, 4]);
    }

    #[test]
    fn the_docs_above_a_features_item_need_the_feature_too() {
        let text = "//! Crate docs.\n\n// A note.\n/// Doubles.\n///\n/// ```\n/// x::d();\n/// ```\n\
                    #[cfg(feature = \"x\")]\n/** More. */\n#[inline]\npub fn d() {}\n\n\
                    //// Not a doc.\n#[cfg(feature = \"y\")]\nfn e() {}\n";
        let attributes = read_text(text).expect("parses");
        let needs = |line: usize| -> Vec<String> {
            attributes.features(&(line..=line)).into_iter().collect()
        };
        assert_eq!(needs(4), ["x"]);
        assert_eq!(needs(7), ["x"], "the doctest's line");
        assert_eq!(needs(10), ["x"]);
        assert!(needs(3).is_empty(), "a plain comment is not the item's");
        assert!(needs(1).is_empty());
        assert!(needs(14).is_empty(), "four slashes are no doc comment");
        assert_eq!(needs(15), ["y"]);
    }

    #[test]
    fn a_file_no_mod_declares_is_outside_the_module_tree() {
        let read = |path: &str| (path == "src/lib.rs").then(|| "mod a;\n// mod old;\n".to_owned());
        let parents = Parents::new(&read);
        assert!(parents.declared("src/lib.rs"));
        assert!(parents.declared("src/a.rs"));
        assert!(!parents.declared("src/old.rs"));
    }

    #[test]
    fn a_target_feature_is_no_cargo_feature() {
        let (_, features) = meaning("cfg(all(target_feature = \"sse2\", feature = \"std\"))");
        assert_eq!(features, ["std"]);
        let (_, features) = meaning("cfg(any(target_feature=\"avx2\",feature=\"x\"))");
        assert_eq!(features, ["x"]);
    }

    #[test]
    fn every_silenced_lint_is_found() {
        let attributes = read_text(SOURCE).expect("parses");
        let found: Vec<(&str, &str, usize, bool)> = attributes
            .silenced
            .iter()
            .map(|s| (s.lint.as_str(), s.how.as_str(), s.line, s.reason))
            .collect();
        assert_eq!(
            found,
            [
                ("clippy::needless_return", "allow", 2, false),
                ("dead_code", "expect", 14, true),
                ("clippy::all", "allow", 17, false),
                ("unused", "allow", 17, false),
            ]
        );
    }

    #[test]
    fn a_module_declared_under_cfg_test_is_test_code() {
        let files = |path: &str| -> Option<String> {
            match path {
                "src/lib.rs" => Some(String::from(
                    "pub mod util;\n#[cfg(test)]\nmod tests;\n#[cfg(feature = \"x\")]\nmod extra;\n",
                )),
                "src/tests/mod.rs" => Some(String::from("mod helpers;\n")),
                _ => None,
            }
        };
        let of = |path: &str| for_file(path, "fn f() {}\n", &files).expect("parses");
        assert!(of("src/tests/mod.rs").touches_test(&(1..=1)));
        assert!(
            of("src/tests/helpers.rs").touches_test(&(1..=1)),
            "two levels down"
        );
        assert!(!of("src/util.rs").touches_test(&(1..=1)));
        assert_eq!(
            of("src/extra.rs")
                .features(&(1..=1))
                .into_iter()
                .collect::<Vec<_>>(),
            ["x"]
        );
    }

    #[test]
    fn an_inner_cfg_covers_the_whole_file() {
        let attributes = read_text("#![cfg(test)]\nfn helper() {}\n").expect("parses");
        assert!(attributes.whole_file().is_some_and(|r| r.test));
        assert!(attributes.touches_test(&(2..=2)));
    }
}
