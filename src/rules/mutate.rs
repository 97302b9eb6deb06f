//! Seeded defects: small rewrites that change what Rust code does and often still compile (a
//! comparison flipped, a range's end moved by one, two arguments swapped, a statement dropped, a
//! condition inverted, an operator replaced), found with tree-sitter in code that is not test
//! code. Deterministic: the same text gives the same mutants in the same order, and the same seed
//! the same sample. Whether a mutant builds and makes a test fail is for the caller to prove (the
//! task sets of `nova bench make` keep only those).

use std::ops::Range;

use tree_sitter::Node;

use crate::index::attributes;

/// How a mutant changes the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// `a < b` to `a >= b`, `==` to `!=`, ...
    FlipComparison,
    /// `a..b` to `a..=b` and back.
    OffByOne,
    /// `f(a, b)` to `f(b, a)`.
    SwapArguments,
    /// A call or an assignment, as a statement, removed.
    DropStatement,
    /// `if c` to `if !(c)`.
    InvertCondition,
    /// `+` to `-`, `*` to `/`, `&&` to `||`, and back.
    WrongOperator,
}

impl Operator {
    pub fn name(self) -> &'static str {
        match self {
            Operator::FlipComparison => "flip-comparison",
            Operator::OffByOne => "off-by-one",
            Operator::SwapArguments => "swap-arguments",
            Operator::DropStatement => "drop-statement",
            Operator::InvertCondition => "invert-condition",
            Operator::WrongOperator => "wrong-operator",
        }
    }
}

/// One seeded defect: `bytes` of the text replaced by `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    pub operator: Operator,
    /// 1-based line where the replaced text starts.
    pub line: usize,
    pub bytes: Range<usize>,
    pub replacement: String,
}

impl Mutant {
    /// `text` with the defect in it.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + self.replacement.len());
        out.push_str(&text[..self.bytes.start]);
        out.push_str(&self.replacement);
        out.push_str(&text[self.bytes.end..]);
        out
    }

    /// `flip-comparison at line 12: `<` -> `>=``.
    pub fn describe(&self, text: &str) -> String {
        let before = text.get(self.bytes.clone()).unwrap_or_default();
        let shown = |s: &str| {
            let line = s.lines().next().unwrap_or_default().trim();
            if line.is_empty() {
                String::from("(nothing)")
            } else {
                format!("`{line}`")
            }
        };
        format!(
            "{} at line {}: {} -> {}",
            self.operator.name(),
            self.line,
            shown(before),
            shown(&self.replacement)
        )
    }
}

/// Every mutant of `text` outside test code, in source order; none when it does not parse.
pub fn mutants(text: &str) -> Vec<Mutant> {
    let Some(tree) = super::matcher::parse(text) else {
        return Vec::new();
    };
    let tests = attributes::of_parsed(&tree, text);
    let mut found = Vec::new();
    let mut cursor = tree.walk();
    let mut descending = true;
    loop {
        let node = cursor.node();
        if descending {
            let line = node.start_position().row + 1;
            let end = node.end_position().row + 1;
            if tests.touches_test(&(line..=end)) && node.kind() != "source_file" {
                // Test code judges the mutants: it is never one.
                descending = false;
                continue;
            }
            of_node(node, text, &mut found);
            if node.kind() != "macro_invocation" && cursor.goto_first_child() {
                continue;
            }
        }
        if cursor.goto_next_sibling() {
            descending = true;
        } else if cursor.goto_parent() {
            descending = false;
        } else {
            break;
        }
    }
    found
}

/// The mutants `node` itself offers.
fn of_node(node: Node<'_>, text: &str, found: &mut Vec<Mutant>) {
    let at = |operator, bytes: Range<usize>, replacement: String| Mutant {
        operator,
        line: text[..bytes.start].matches('\n').count() + 1,
        bytes,
        replacement,
    };
    match node.kind() {
        "binary_expression" => {
            let Some(op) = node.child_by_field_name("operator") else {
                return;
            };
            let (operator, other) = match &text[op.byte_range()] {
                "<" => (Operator::FlipComparison, ">="),
                "<=" => (Operator::FlipComparison, ">"),
                ">" => (Operator::FlipComparison, "<="),
                ">=" => (Operator::FlipComparison, "<"),
                "==" => (Operator::FlipComparison, "!="),
                "!=" => (Operator::FlipComparison, "=="),
                "+" => (Operator::WrongOperator, "-"),
                "-" => (Operator::WrongOperator, "+"),
                "*" => (Operator::WrongOperator, "/"),
                "/" => (Operator::WrongOperator, "*"),
                "&&" => (Operator::WrongOperator, "||"),
                "||" => (Operator::WrongOperator, "&&"),
                _ => return,
            };
            // A `let` chain (`if let Some(x) = y && z`) joins with `&&` only, whichever of its
            // `&&`s: the chain may hold binary expressions of binary expressions.
            let mut up = node.parent();
            while let Some(parent) = up.filter(|p| p.kind() == "binary_expression") {
                up = parent.parent();
            }
            let in_let_chain =
                up.is_some_and(|p| matches!(p.kind(), "let_chain" | "let_condition"));
            if !(in_let_chain && operator == Operator::WrongOperator) {
                found.push(at(operator, op.byte_range(), other.to_owned()));
            }
        }
        "range_expression" if node.named_child_count() == 2 => {
            let mut cursor = node.walk();
            let op = node
                .children(&mut cursor)
                .find(|c| matches!(c.kind(), ".." | "..="));
            if let Some(op) = op {
                let other = if op.kind() == ".." { "..=" } else { ".." };
                found.push(at(Operator::OffByOne, op.byte_range(), other.to_owned()));
            }
        }
        "arguments" => {
            let mut cursor = node.walk();
            let args: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
            if let [a, b] = args[..]
                && [a, b].iter().all(|n| simple(*n))
                && text[a.byte_range()] != text[b.byte_range()]
            {
                let swapped = format!(
                    "{}{}{}",
                    &text[b.byte_range()],
                    &text[a.end_byte()..b.start_byte()],
                    &text[a.byte_range()]
                );
                found.push(at(
                    Operator::SwapArguments,
                    a.start_byte()..b.end_byte(),
                    swapped,
                ));
            }
        }
        "expression_statement" => {
            let droppable = node.named_child(0).is_some_and(|e| {
                matches!(
                    e.kind(),
                    "call_expression" | "assignment_expression" | "compound_assignment_expr"
                )
            });
            if droppable && node.parent().is_some_and(|p| p.kind() == "block") {
                found.push(at(
                    Operator::DropStatement,
                    node.byte_range(),
                    String::new(),
                ));
            }
        }
        "if_expression" => {
            let Some(condition) = node.child_by_field_name("condition") else {
                return;
            };
            if !matches!(condition.kind(), "let_condition" | "let_chain") {
                let inverted = format!("!({})", &text[condition.byte_range()]);
                found.push(at(
                    Operator::InvertCondition,
                    condition.byte_range(),
                    inverted,
                ));
            }
        }
        _ => {}
    }
}

/// An argument whose place can move without changing how it is evaluated.
fn simple(node: Node<'_>) -> bool {
    matches!(
        node.kind(),
        "identifier"
            | "field_expression"
            | "integer_literal"
            | "float_literal"
            | "string_literal"
            | "boolean_literal"
            | "char_literal"
            | "reference_expression"
    )
}

/// `n` of `mutants` (all when there are fewer), chosen by `seed` alone, in source order.
pub fn sample(mutants: &[Mutant], seed: u64, n: usize) -> Vec<&Mutant> {
    let mut chosen: Vec<usize> = shuffled(mutants.len(), seed).into_iter().take(n).collect();
    chosen.sort_unstable();
    chosen.into_iter().map(|i| &mutants[i]).collect()
}

/// `0..len` in an order chosen by `seed` alone: the order `nova bench make` tries mutants in.
pub fn shuffled(len: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut state = seed;
    // Fisher-Yates with splitmix64: the same seed, the same order, on every machine.
    for i in (1..order.len()).rev() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let j = usize::try_from(z % (i as u64 + 1)).unwrap_or(0);
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "pub fn f(v: &[u8], lo: usize, hi: usize) -> usize {
    let mut n = 0;
    for i in lo..hi {
        if v[i] < 10 && i != 3 {
            n += 1;
            g(lo, hi);
        }
    }
    n * 2
}

#[cfg(test)]
mod tests {
    #[test]
    fn t() {
        let small = 1 < 2;
        assert!(small);
    }
}
";

    fn described(text: &str) -> Vec<String> {
        mutants(text).iter().map(|m| m.describe(text)).collect()
    }

    #[test]
    fn each_operator_finds_its_defects_outside_test_code() {
        assert_eq!(
            described(CODE),
            [
                "off-by-one at line 3: `..` -> `..=`",
                "invert-condition at line 4: `v[i] < 10 && i != 3` -> `!(v[i] < 10 && i != 3)`",
                "wrong-operator at line 4: `&&` -> `||`",
                "flip-comparison at line 4: `<` -> `>=`",
                "flip-comparison at line 4: `!=` -> `==`",
                "drop-statement at line 5: `n += 1;` -> (nothing)",
                "drop-statement at line 6: `g(lo, hi);` -> (nothing)",
                "swap-arguments at line 6: `lo, hi` -> `hi, lo`",
                "wrong-operator at line 9: `*` -> `/`",
            ]
        );
        let swapped = mutants(CODE)
            .into_iter()
            .find(|m| m.operator == Operator::SwapArguments)
            .expect("a swap");
        assert!(swapped.apply(CODE).contains("g(hi, lo);"));
    }

    #[test]
    fn every_mutant_of_real_code_still_parses() {
        for text in [
            include_str!("../edit/mod.rs"),
            include_str!("../validate/testing.rs"),
            include_str!("literals.rs"),
            // A `let` chain with three conditions before its `let`.
            "fn f(a: u8, b: bool, c: Option<u8>) {\n    if a == 1\n        && !b\n        && a < 3\n        && let Some(x) = c\n    {\n        g(x);\n    }\n}\n",
        ] {
            let all = mutants(text);
            assert!(all.len() > 20 || text.starts_with("fn f"), "{}", all.len());
            for mutant in &all {
                let tree = super::super::matcher::parse(&mutant.apply(text)).expect("parses");
                assert!(!tree.root_node().has_error(), "{}", mutant.describe(text));
            }
        }
    }

    #[test]
    fn a_seed_chooses_the_same_mutants_every_time() {
        let all = mutants(include_str!("../edit/mod.rs"));
        let one = sample(&all, 7, 5);
        assert_eq!(one, sample(&all, 7, 5));
        assert_ne!(one, sample(&all, 8, 5));
        assert_eq!(one.len(), 5);
        assert!(one.windows(2).all(|w| w[0].bytes.start <= w[1].bytes.start));
        assert_eq!(sample(&all[..2], 1, 5).len(), 2);
    }
}
