//! Function bodies of Rust source, found by a lexer instead of the parser, with the names they
//! use.
//!
//! A function body is most of a Rust file's parse (45% of the bytes of Nova's dependencies, 60% of
//! tree-sitter's time), and the index needs only one thing from it: which names it uses. So the
//! index lexes the file once, hands tree-sitter everything but the bodies' insides (tree-sitter's
//! included ranges), and takes a body's references from its tokens, with the rules the syntax
//! tree would apply: a name counts where it is called (`f(`), invoked as a macro (`m!`), part of a
//! path (`a::b`), a method or field (`.name`), or capitalized like a type or variant; a local
//! variable does not. Items nested inside a body (a helper `fn` in a `fn`) are not tagged.
//!
//! Sans-IO. The lexer knows comments (nested), strings (raw, byte, C), characters and lifetimes,
//! so that braces inside them never count.

use rustc_hash::FxHashMap;

/// What the lexer found.
#[derive(Debug, Default, PartialEq)]
pub struct Bodies<'t> {
    /// The insides of function bodies (between their braces), as byte ranges, in order.
    pub ranges: Vec<(usize, usize)>,
    /// Names used inside those bodies, with how many times.
    pub refs: FxHashMap<&'t str, u32>,
}

/// Keywords and names that never point at a definition.
const IGNORED: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
    "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true",
    "type", "union", "unsafe", "use", "where", "while", "yield",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token<'t> {
    Ident(&'t str),
    Punct(u8),
    /// `::`
    Path,
    /// A literal, a lifetime or anything else that names nothing.
    Other,
}

/// Finds the function bodies of `text` and the names they use.
pub fn scan(text: &str) -> Bodies<'_> {
    let tokens = lex(text);
    let mut bodies = Bodies::default();
    let mut i = 0;
    while i < tokens.len() {
        let (_, token) = tokens[i];
        i += 1;
        // An item `fn` is followed by its name; a function pointer type (`fn(u8)`) is not.
        if token != Token::Ident("fn") || !matches!(tokens.get(i), Some((_, Token::Ident(_)))) {
            continue;
        }
        let Some(open) = body_start(&tokens, i) else {
            continue;
        };
        let Some(close) = matching_close(&tokens, open) else {
            // Unbalanced: leave the rest to the parser.
            break;
        };
        let (start, end) = (tokens[open].0 + 1, tokens[close].0);
        if end > start {
            bodies.ranges.push((start, end));
            count_refs(&tokens[open + 1..close], &mut bodies.refs);
        }
        i = close + 1;
    }
    bodies
}

/// The index of the `{` that opens the body of the `fn` whose name is at `i`; `None` for a
/// declaration without a body (`fn f();`).
fn body_start(tokens: &[(usize, Token<'_>)], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, (_, token)) in tokens.iter().enumerate().skip(i) {
        match token {
            Token::Punct(b'(' | b'[') => depth += 1,
            Token::Punct(b')' | b']') => depth = depth.saturating_sub(1),
            Token::Punct(b'{') if depth == 0 => return Some(j),
            Token::Punct(b';' | b'}') if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

fn matching_close(tokens: &[(usize, Token<'_>)], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, (_, token)) in tokens.iter().enumerate().skip(open) {
        match token {
            Token::Punct(b'{') => depth += 1,
            Token::Punct(b'}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// The references among a body's tokens.
fn count_refs<'t>(tokens: &[(usize, Token<'t>)], refs: &mut FxHashMap<&'t str, u32>) {
    for (k, &(_, token)) in tokens.iter().enumerate() {
        let Token::Ident(name) = token else { continue };
        if name.len() < 2 || IGNORED.contains(&name) {
            continue;
        }
        let at = |offset: isize| {
            k.checked_add_signed(offset)
                .and_then(|j| tokens.get(j))
                .map(|t| t.1)
        };
        let call_or_path = matches!(at(1), Some(Token::Punct(b'(') | Token::Path));
        // `m!(…)` but not `a != b`.
        let macro_call = at(1) == Some(Token::Punct(b'!')) && at(2) != Some(Token::Punct(b'='));
        // `.name` but not the end of a range `a..name`.
        let member = at(-1) == Some(Token::Punct(b'.')) && at(-2) != Some(Token::Punct(b'.'));
        let counts = call_or_path
            || macro_call
            || member
            || at(-1) == Some(Token::Path)
            || name.starts_with(|c: char| c.is_uppercase());
        if counts {
            *refs.entry(name).or_default() += 1;
        }
    }
}

/// The tokens of `text` that matter here, with their byte offsets.
fn lex(text: &str) -> Vec<(usize, Token<'_>)> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(bytes.len() / 4);
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr(b'\n', bytes, i).unwrap_or(bytes.len());
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = block_comment_end(bytes, i),
            b'"' => {
                i = string_end(bytes, i + 1);
                tokens.push((start, Token::Other));
            }
            b'\'' => {
                i = quote_end(text, i);
                tokens.push((start, Token::Other));
            }
            b'0'..=b'9' => {
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || (bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
                {
                    i += 1;
                }
                tokens.push((start, Token::Other));
            }
            b':' if bytes.get(i + 1) == Some(&b':') => {
                i += 2;
                tokens.push((start, Token::Path));
            }
            _ if b == b'_' || b.is_ascii_alphabetic() || b >= 0x80 => {
                if let Some(end) = prefixed_literal_end(text, i) {
                    i = end;
                    tokens.push((start, Token::Other));
                    continue;
                }
                // A raw identifier (`r#type`) is the identifier.
                let name_start = if bytes[i..].starts_with(b"r#") {
                    i + 2
                } else {
                    i
                };
                i = name_start;
                while i < bytes.len()
                    && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric() || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                if i == name_start {
                    // `r#` followed by nothing that names: skip the `r`.
                    i = start + 1;
                    tokens.push((start, Token::Other));
                    continue;
                }
                tokens.push((start, Token::Ident(&text[name_start..i])));
            }
            _ => {
                i += 1;
                tokens.push((start, Token::Punct(b)));
            }
        }
    }
    tokens
}

fn memchr(needle: u8, bytes: &[u8], from: usize) -> Option<usize> {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map(|at| from + at)
}

/// The end of a `/* */` comment starting at `i`; comments nest.
fn block_comment_end(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The end of a `"` string whose contents start at `i`.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of a character literal, or of a lifetime or label, starting at the `'` at `i`.
fn quote_end(text: &str, i: usize) -> usize {
    let bytes = text.as_bytes();
    // The quote is one byte: the next character starts right after it.
    match text[i + 1..].chars().next() {
        Some('\\') => {
            // An escape: up to the closing quote (`'\n'`, `'\u{1F600}'`).
            memchr(b'\'', bytes, i + 2).map_or(bytes.len(), |end| end + 1)
        }
        Some(c) => {
            // One character, however many bytes, then `'` makes a literal; else a lifetime.
            let after = i + 1 + c.len_utf8();
            if bytes.get(after) == Some(&b'\'') {
                return after + 1;
            }
            let mut end = i + 1;
            while end < bytes.len() && (bytes[end] == b'_' || bytes[end].is_ascii_alphanumeric()) {
                end += 1;
            }
            end
        }
        None => bytes.len(),
    }
}

/// The end of a literal with a prefix starting at `i`: `b"…"`, `b'…'`, `c"…"`, and the raw
/// strings `r"…"`, `r#"…"#`, `br#"…"#`, `cr#"…"#`. `None` when `i` starts an identifier.
fn prefixed_literal_end(text: &str, i: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let rest = &bytes[i..];
    let after_prefix = match rest {
        [b'b' | b'c', b'r', ..] => 2,
        [b'b' | b'c' | b'r', ..] => 1,
        _ => return None,
    };
    let raw = rest[..after_prefix].contains(&b'r');
    let mut j = i + after_prefix;
    if raw {
        let hashes = bytes[j..].iter().take_while(|&&b| b == b'#').count();
        if bytes.get(j + hashes) != Some(&b'"') {
            return None;
        }
        j += hashes + 1;
        let mut closing = vec![b'"'];
        closing.extend(std::iter::repeat_n(b'#', hashes));
        return Some(
            bytes[j..]
                .windows(closing.len())
                .position(|w| w == closing.as_slice())
                .map_or(bytes.len(), |at| j + at + closing.len()),
        );
    }
    match bytes.get(j) {
        Some(b'"') => Some(string_end(bytes, j + 1)),
        Some(b'\'') if bytes[i] == b'b' => Some(quote_end(text, j)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insides<'t>(text: &'t str, bodies: &Bodies<'_>) -> Vec<&'t str> {
        bodies.ranges.iter().map(|&(s, e)| &text[s..e]).collect()
    }

    fn refs(bodies: &Bodies<'_>) -> Vec<(String, u32)> {
        let mut refs: Vec<(String, u32)> = bodies
            .refs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        refs.sort();
        refs
    }

    #[test]
    fn bodies_of_functions_and_methods_not_of_declarations_or_types() {
        let text = r#"
trait T { fn decl(&self) -> u8; fn default_method(&self) { helper() } }
struct S { callback: fn(u8) -> u8 }
impl<F: Fn() -> u8> T for S where F: Clone {
    pub(crate) async fn method(&self, x: [u8; 2]) -> Result<(), E> { Ok(()) }
}
fn outer() { fn nested() { deep() } nested() }
"#;
        let bodies = scan(text);
        assert_eq!(
            insides(text, &bodies),
            [
                " helper() ",
                " Ok(()) ",
                " fn nested() { deep() } nested() "
            ]
        );
        assert_eq!(
            refs(&bodies),
            [
                ("Ok".to_owned(), 1),
                ("deep".to_owned(), 1),
                ("helper".to_owned(), 1),
                ("nested".to_owned(), 2)
            ]
        );
    }

    #[test]
    fn braces_in_literals_and_comments_do_not_count() {
        let text = concat!(
            "fn f() {\n",
            "    let a = \"}\"; let b = '}'; let c = r#\"}\"#; let d = b'{';\n",
            "    // }\n",
            "    /* } /* nested } */ still comment } */\n",
            "    let e: &'static str = \"\\\"}\"; let ch = '\\u{7D}';\n",
            "    'outer: loop { break 'outer; }\n",
            "    let u = 'ü'; let f = 1.5e3; let g = br\"}\";\n",
            "}\n",
            "fn g() { x() }\n",
        );
        let bodies = scan(text);
        assert_eq!(bodies.ranges.len(), 2, "{:?}", insides(text, &bodies));
        assert_eq!(insides(text, &bodies)[1], " x() ");
    }

    #[test]
    fn what_counts_as_a_reference() {
        let text = "fn f() { let path = other::join(path); path.push(Item::New); \
                    vec![local]; Config { field: value }; format!(\"{x}\"); value.len; \
                    if count != limit { 0..limit } }";
        let bodies = scan(text);
        assert_eq!(
            refs(&bodies),
            [
                ("Config".to_owned(), 1),
                ("Item".to_owned(), 1),
                ("New".to_owned(), 1),
                ("format".to_owned(), 1),
                ("join".to_owned(), 1),
                ("len".to_owned(), 1),
                ("other".to_owned(), 1),
                ("push".to_owned(), 1),
                ("vec".to_owned(), 1),
            ]
        );
    }

    #[test]
    fn unbalanced_text_stops_the_scan_without_panicking() {
        for text in [
            "fn f() { {",
            "fn",
            "fn f(",
            "fn f() { '",
            "fn f() { r#",
            "fn f() { \"",
            "'",
        ] {
            let _ = scan(text);
        }
        assert!(scan("fn f() { { }").ranges.is_empty());
    }
}
