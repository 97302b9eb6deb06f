//! What a file's text must contain before a pattern can match it, read from the pattern's own
//! predicates, so that a file none of the rules can match is never parsed (the pre-filter
//! semgrep and ripgrep-style tools use). `(#eq? @name "unwrap")` needs the word `unwrap`,
//! `(#any-of? @name "print" "println")` one of its words, `(#match? @c "TODO|FIXME")` one of the
//! literals every match of the expression starts with. A predicate counts only when its capture
//! is taken on every match of the pattern (not inside an alternation, not under `?` or `*`):
//! tree-sitter holds a text predicate of a capture that took no node as true.
//!
//! The same words say where in the tree a pattern can start. The node a pattern matches holds
//! the nodes it captures, so a pattern that needs a word starts at a node around one of the
//! word's places: when every pattern a file leaves possible needs a word and starts at known
//! kinds of node, the query runs only at those nodes on the way down to each place
//! ([`Prefilter::starts`]), not over the whole tree.
//!
//! Sound by construction (a pattern this reader does not understand needs nothing and starts
//! anywhere), and checked: every rule's examples go through the filter, and a test compares
//! the filtered scan of Nova's own files with the whole one.

use std::collections::HashSet;
use std::ops::Range;

use aho_corasick::AhoCorasick;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use tree_sitter::{Language, Node};

/// The words each pattern of a query needs, one automaton over all of them, and the kinds of
/// node each pattern starts at.
#[derive(Debug)]
pub struct Prefilter {
    words: Option<AhoCorasick>,
    /// Per pattern: clauses that must all hold, each held when one of its words (indexes into
    /// the automaton's words) is in the text. No clause: the pattern can match any text.
    needs: Vec<Vec<Vec<usize>>>,
    /// Per pattern: the kinds of node its matches start at, when they are known.
    roots: Vec<Option<Vec<u16>>>,
    /// Per word: the kinds of node where a pattern that needs it can start.
    word_roots: Vec<Vec<u16>>,
}

/// What one text holds of a filter's words.
#[derive(Debug)]
pub struct Seen {
    /// Per pattern: whether the text has what it needs.
    pub possible: Vec<bool>,
    /// Every place of every word, as the word's index and its bytes.
    places: Vec<(usize, Range<usize>)>,
}

impl Prefilter {
    /// The filter of a query of `language` whose source is `source`: pattern `n` is
    /// `source[spans[n].clone()]`.
    pub fn new(language: &Language, source: &str, spans: &[Range<usize>]) -> Prefilter {
        let mut words: Vec<String> = Vec::new();
        let mut needs: Vec<Vec<Vec<usize>>> = Vec::new();
        let mut roots = Vec::new();
        for span in spans {
            let read = source
                .get(span.clone())
                .map(read_pattern)
                .unwrap_or_default();
            roots.push(read.roots.and_then(|kinds| kind_ids(language, &kinds)));
            let clauses = read
                .needs
                .into_iter()
                .map(|clause| {
                    clause
                        .into_iter()
                        .map(|word| match words.iter().position(|w| *w == word) {
                            Some(at) => at,
                            None => {
                                words.push(word);
                                words.len() - 1
                            }
                        })
                        .collect()
                })
                .collect();
            needs.push(clauses);
        }
        // An automaton that cannot be built (never, for these sizes) filters nothing.
        let automaton = (!words.is_empty())
            .then(|| AhoCorasick::new(&words).ok())
            .flatten();
        if automaton.is_none() {
            needs.iter_mut().for_each(Vec::clear);
        }
        let mut word_roots: Vec<Vec<u16>> = vec![Vec::new(); words.len()];
        for (clauses, kinds) in needs.iter().zip(&roots) {
            for &word in clauses.iter().flatten() {
                word_roots[word].extend(kinds.iter().flatten());
            }
        }
        for kinds in &mut word_roots {
            kinds.sort_unstable();
            kinds.dedup();
        }
        Prefilter {
            words: automaton,
            needs,
            roots,
            word_roots,
        }
    }

    /// A filter that lets everything through, for `count` patterns.
    #[cfg(test)]
    pub fn none(count: usize) -> Prefilter {
        Prefilter {
            words: None,
            needs: vec![Vec::new(); count],
            roots: vec![None; count],
            word_roots: Vec::new(),
        }
    }

    /// What `text` holds of the words: which patterns it leaves possible, and where the words
    /// are.
    pub fn read(&self, text: &str) -> Seen {
        let mut present = vec![false; self.word_roots.len()];
        let mut places = Vec::new();
        if let Some(words) = &self.words {
            for found in words.find_overlapping_iter(text) {
                let word = found.pattern().as_usize();
                present[word] = true;
                places.push((word, found.range()));
            }
        }
        let possible = self
            .needs
            .iter()
            .map(|clauses| {
                clauses
                    .iter()
                    .all(|clause| clause.iter().any(|&word| present[word]))
            })
            .collect();
        Seen { possible, places }
    }

    /// Whether the matches of the patterns in `patterns` that `seen` leaves possible can all be
    /// found from the places of their words ([`Prefilter::starts`]): each needs a word and
    /// starts at known kinds of node.
    pub fn anchored(&self, seen: &Seen, patterns: Range<usize>) -> bool {
        patterns.into_iter().all(|pattern| {
            !seen.possible.get(pattern).copied().unwrap_or(true)
                || (!self.needs[pattern].is_empty() && self.roots[pattern].is_some())
        })
    }

    /// Whether every pattern needs a word and starts at known kinds of node: then any text
    /// that leaves one possible is read only where the words are.
    #[cfg(test)]
    pub fn keyed(&self) -> bool {
        self.needs
            .iter()
            .zip(&self.roots)
            .all(|(needs, roots)| !needs.is_empty() && roots.is_some())
    }

    /// The nodes under `root` where a pattern that needs a word can start: every node around a
    /// place of a word whose kind starts such a pattern, outermost first on each way down. Run
    /// with the query's start depth held to the node itself, the query finds there every match
    /// the whole tree holds of the patterns [`Prefilter::anchored`] vouches for.
    pub fn starts<'t>(&self, seen: &Seen, root: Node<'t>) -> Vec<Node<'t>> {
        let mut starts = Vec::new();
        let mut taken = HashSet::new();
        let mut cursor = root.walk();
        for (word, place) in &seen.places {
            let kinds = &self.word_roots[*word];
            if kinds.is_empty() {
                continue;
            }
            cursor.reset(root);
            loop {
                let node = cursor.node();
                if kinds.binary_search(&node.kind_id()).is_ok() && taken.insert(node.id()) {
                    starts.push(node);
                }
                // Down to the child that holds the whole place, while there is one.
                if cursor.goto_first_child_for_byte(place.start).is_none() {
                    break;
                }
                let child = cursor.node();
                if child.start_byte() > place.start || child.end_byte() < place.end {
                    break;
                }
            }
        }
        starts
    }
}

/// The ids of the visible node kinds named `kinds` (named or anonymous), or nothing when one
/// is not such a kind (a supertype, a hidden rule, a name the grammar does not have).
fn kind_ids(language: &Language, kinds: &[(String, bool)]) -> Option<Vec<u16>> {
    let mut ids = Vec::new();
    for (name, named) in kinds {
        let before = ids.len();
        for id in 0..u16::try_from(language.node_kind_count()).ok()? {
            if language.node_kind_for_id(id) == Some(name.as_str())
                && language.node_kind_is_named(id) == *named
            {
                if !language.node_kind_is_visible(id) || language.node_kind_is_supertype(id) {
                    return None;
                }
                ids.push(id);
            }
        }
        if ids.len() == before {
            return None;
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Some(ids)
}

/// What the reader makes of one pattern's text.
#[derive(Debug, Default)]
struct Read {
    /// Clauses that must all hold, each a list of words one of which must appear.
    needs: Vec<Vec<String>>,
    /// The kinds of node (name, named) its matches start at, when the reader knows them.
    roots: Option<Vec<(String, bool)>>,
}

/// Reads one pattern's text. Nothing when it is not exactly one pattern this reader
/// understands.
fn read_pattern(pattern: &str) -> Read {
    let Some(tokens) = tokens(pattern) else {
        return Read::default();
    };
    let mut reader = Reader {
        tokens: &tokens,
        at: 0,
        certain: Vec::new(),
        predicates: Vec::new(),
    };
    if reader.item(true).is_none() || reader.at != tokens.len() {
        return Read::default();
    }
    Read {
        needs: reader
            .predicates
            .iter()
            .filter_map(|(name, args)| predicate_needs(name, args, &reader.certain))
            .collect(),
        roots: roots(&tokens),
    }
}

/// The kinds of node the one item `tokens` hold starts at: a node's kind, each branch of an
/// alternation, the one node of a group (its predicates aside); nothing for a wildcard, a
/// quantified item, or a group of several nodes in a row.
fn roots(tokens: &[Token<'_>]) -> Option<Vec<(String, bool)>> {
    let body = body_end(tokens, 0)?;
    // The item is all of `tokens`; captures may follow it, a quantifier may not.
    if item_end(tokens, 0)? != tokens.len()
        || tokens[body..]
            .iter()
            .any(|token| matches!(token, Token::Quantifier(_)))
    {
        return None;
    }
    match tokens.first()? {
        Token::Str(text) => Some(vec![(text.clone(), false)]),
        Token::Open('(') => match tokens.get(1)? {
            Token::Word(kind) if *kind != "_" && !kind.ends_with(':') => {
                Some(vec![((*kind).to_owned(), true)])
            }
            Token::Open(_) | Token::Str(_) => {
                // A group: exactly one item that is not a predicate.
                let mut at = 1;
                let mut found = None;
                while tokens.get(at) != Some(&Token::Close(')')) {
                    let next = item_end(tokens, at)?;
                    let predicate = matches!(tokens.get(at + 1), Some(Token::Predicate(_)));
                    if !predicate {
                        if found.is_some() {
                            return None;
                        }
                        found = Some(roots(&tokens[at..next])?);
                    }
                    at = next;
                }
                found
            }
            _ => None,
        },
        Token::Open('[') => {
            let mut at = 1;
            let mut kinds = Vec::new();
            while tokens.get(at) != Some(&Token::Close(']')) {
                let next = item_end(tokens, at)?;
                kinds.extend(roots(&tokens[at..next])?);
                at = next;
            }
            Some(kinds)
        }
        _ => None,
    }
}

/// Where the item starting at `at` ends, its quantifiers and captures included.
fn item_end(tokens: &[Token<'_>], at: usize) -> Option<usize> {
    let mut end = body_end(tokens, at)?;
    while matches!(
        tokens.get(end),
        Some(Token::Capture(_) | Token::Quantifier(_))
    ) {
        end += 1;
    }
    Some(end)
}

/// Where the item starting at `at` ends, before its quantifiers and captures.
fn body_end(tokens: &[Token<'_>], at: usize) -> Option<usize> {
    match tokens.get(at)? {
        Token::Open(_) => {
            let mut depth = 0usize;
            for (end, token) in tokens.iter().enumerate().skip(at) {
                match token {
                    Token::Open(_) => depth += 1,
                    Token::Close(_) => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(end + 1);
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        Token::Str(_) | Token::Word(_) => Some(at + 1),
        _ => None,
    }
}

/// What one predicate needs, when its capture is certain.
fn predicate_needs(name: &str, args: &[Token], certain: &[&str]) -> Option<Vec<String>> {
    let (Token::Capture(capture), rest) = args.split_first()? else {
        return None;
    };
    if !certain.contains(capture) {
        return None;
    }
    let strings: Vec<&str> = rest
        .iter()
        .map(|arg| match arg {
            Token::Str(text) => Some(text.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let words: Vec<String> = match (name, strings.as_slice()) {
        ("#eq?" | "#any-eq?", [word]) => vec![(*word).to_owned()],
        ("#any-of?", words) if !words.is_empty() => words.iter().map(|w| (*w).to_owned()).collect(),
        ("#match?" | "#any-match?", [expression]) => prefixes(expression)?,
        _ => return None,
    };
    // An empty word is in every text: no need at all.
    (!words.iter().any(String::is_empty)).then_some(words)
}

/// The literals every match of `expression` starts with, if they are finitely many.
fn prefixes(expression: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::parse(expression).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    seq.literals()?
        .iter()
        .map(|literal| String::from_utf8(literal.as_bytes().to_vec()).ok())
        .collect()
}

/// One token of tree-sitter's query language.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'q> {
    Open(char),
    Close(char),
    Str(String),
    Capture(&'q str),
    /// `?`, `*` or `+` after an item.
    Quantifier(char),
    /// A predicate's name, `#eq?`.
    Predicate(&'q str),
    /// A node kind, a field name with its colon, `_`, an anchor, a negated field.
    Word(&'q str),
}

/// The tokens of `text`, or nothing when it holds something this reader does not know.
fn tokens(text: &str) -> Option<Vec<Token<'_>>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    let name_end = |from: usize, extra: &[u8]| {
        let mut end = from;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric()
                || matches!(bytes[end], b'_' | b'-' | b'.')
                || extra.contains(&bytes[end]))
        {
            end += 1;
        }
        end
    };
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b if b.is_ascii_whitespace() => at += 1,
            b';' => {
                at = text[at..]
                    .find('\n')
                    .map_or(bytes.len(), |end| at + end + 1);
            }
            b'(' | b'[' => {
                out.push(Token::Open(char::from(byte)));
                at += 1;
            }
            b')' | b']' => {
                out.push(Token::Close(char::from(byte)));
                at += 1;
            }
            b'?' | b'*' | b'+' => {
                out.push(Token::Quantifier(char::from(byte)));
                at += 1;
            }
            b'"' => {
                let (string, end) = string(text, at + 1)?;
                out.push(Token::Str(string));
                at = end;
            }
            b'@' => {
                let end = name_end(at + 1, &[]);
                out.push(Token::Capture(text.get(at + 1..end)?));
                at = end;
            }
            b'#' => {
                let end = name_end(at + 1, b"?!");
                out.push(Token::Predicate(text.get(at..end)?));
                at = end;
            }
            b'.' => {
                out.push(Token::Word("."));
                at += 1;
            }
            b'!' => {
                let end = name_end(at + 1, &[]);
                out.push(Token::Word(text.get(at..end)?));
                at = end;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' => {
                let mut end = name_end(at, &[]);
                if bytes.get(end) == Some(&b':') {
                    end += 1;
                }
                out.push(Token::Word(text.get(at..end)?));
                at = end;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A string literal starting after its opening quote at `from`: its value and the index after
/// its closing quote.
fn string(text: &str, from: usize) -> Option<(String, usize)> {
    let mut value = String::new();
    let mut chars = text.get(from..)?.char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => return Some((value, from + offset + 1)),
            '\\' => {
                let (_, escaped) = chars.next()?;
                value.push(match escaped {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    other => other,
                });
            }
            c => value.push(c),
        }
    }
    None
}

/// Reads one pattern's tokens: which captures every match takes, and its predicates.
struct Reader<'t, 'q> {
    tokens: &'t [Token<'q>],
    at: usize,
    certain: Vec<&'q str>,
    predicates: Vec<(&'q str, Vec<Token<'q>>)>,
}

impl<'q> Reader<'_, 'q> {
    fn next(&mut self) -> Option<Token<'q>> {
        let token = self.tokens.get(self.at)?.clone();
        self.at += 1;
        Some(token)
    }

    fn peek(&self) -> Option<&Token<'q>> {
        self.tokens.get(self.at)
    }

    /// One item and the quantifiers and captures after it; `certain` when every match of the
    /// pattern holds it.
    fn item(&mut self, certain: bool) -> Option<()> {
        let start = self.at;
        match self.next()? {
            Token::Open('(') if matches!(self.peek(), Some(Token::Predicate(_))) => {
                let Some(Token::Predicate(name)) = self.next() else {
                    return None;
                };
                let mut args = Vec::new();
                loop {
                    match self.next()? {
                        Token::Close(')') => break,
                        Token::Open(_) | Token::Close(_) => return None,
                        arg => args.push(arg),
                    }
                }
                self.predicates.push((name, args));
                return Some(());
            }
            Token::Open(open) => {
                let close = if open == '(' { ')' } else { ']' };
                // The quantifier comes after the children: read them once it is known.
                let children = self.at;
                self.skip_to(close)?;
                let whole = self.suffixes(certain);
                let end = self.at;
                self.at = children;
                while self.peek() != Some(&Token::Close(close)) {
                    self.item(whole && open == '(')?;
                }
                self.at = end;
            }
            Token::Str(_) | Token::Word(_) => {
                self.suffixes(certain);
            }
            _ => return None,
        }
        (self.at > start).then_some(())
    }

    /// Moves past the `close` that ends the group just opened.
    fn skip_to(&mut self, close: char) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Token::Open(_) => depth += 1,
                Token::Close(c) if depth == 0 => return (c == close).then_some(()),
                Token::Close(_) => depth -= 1,
                _ => {}
            }
        }
    }

    /// The quantifiers and captures after an item; whether the item is still certain.
    fn suffixes(&mut self, certain: bool) -> bool {
        let mut certain = certain;
        let mut captures = Vec::new();
        loop {
            match self.peek() {
                Some(Token::Quantifier('?' | '*')) => certain = false,
                Some(Token::Quantifier(_)) => {}
                Some(Token::Capture(name)) => captures.push(*name),
                _ => break,
            }
            self.at += 1;
        }
        if certain {
            self.certain.extend(captures);
        }
        certain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(pattern: &str) -> Vec<Vec<String>> {
        read_pattern(pattern).needs
    }

    fn words(list: &[&[&str]]) -> Vec<Vec<String>> {
        list.iter()
            .map(|clause| clause.iter().map(|w| (*w).to_owned()).collect())
            .collect()
    }

    #[test]
    fn predicates_on_certain_captures_need_their_words() {
        assert_eq!(
            needs(
                r#"(call_expression
                     function: (field_expression field: (field_identifier) @name)
                     (#eq? @name "unwrap")) @match"#
            ),
            words(&[&["unwrap"]])
        );
        assert_eq!(
            needs(r#"(macro_invocation macro: (identifier) @n (#any-of? @n "print" "println"))"#),
            words(&[&["print", "println"]])
        );
        assert_eq!(
            needs(r#"((line_comment) @c (#match? @c "(TODO|FIXME|XXX)"))"#),
            words(&[&["TODO", "FIXME", "XXX"]])
        );
        let exit = needs(
            r#"(call_expression function: [(scoped_identifier) (identifier)] @f
                 (#match? @f "(^|::)process::exit$"))"#,
        );
        assert_eq!(exit.len(), 1);
        assert!(
            exit[0].iter().all(|w| w.contains("process::exit")),
            "{exit:?}"
        );
    }

    #[test]
    fn captures_that_may_take_no_node_need_nothing() {
        // In one branch of an alternation, or under `?` or `*`, a capture can be empty, and
        // tree-sitter holds a predicate of an empty capture as true.
        for pattern in [
            r#"[(identifier) @a (string_literal)] (#eq? @a "x")"#,
            r#"((call_expression [(identifier) @f (scoped_identifier)]) (#eq? @f "x"))"#,
            r#"((function_item (attribute_item)? @a) (#eq? @a "x"))"#,
            r#"((block (line_comment)* @c) (#match? @c "TODO"))"#,
            r#"((block ((line_comment) @c)?) (#match? @c "TODO"))"#,
        ] {
            assert_eq!(needs(pattern), words(&[]), "{pattern}");
        }
        // `+` takes at least one node.
        assert_eq!(
            needs(r#"((block (line_comment)+ @c) (#match? @c "TODO"))"#),
            words(&[&["TODO"]])
        );
    }

    #[test]
    fn predicates_that_say_nothing_of_the_text_need_nothing() {
        for pattern in [
            r#"((identifier) @a (#not-eq? @a "x"))"#,
            r#"((identifier) @a (#not-match? @a "x"))"#,
            r#"((binary_expression left: (_) @a right: (_) @b) (#eq? @a @b))"#,
            r#"((identifier) @a (#match? @a "^[a-z]+$"))"#,
            r#"((identifier) @a (#match? @a "x?"))"#,
            "(unsafe_block) @match",
            "(function_item name: (identifier) @n) @match",
        ] {
            assert_eq!(needs(pattern), words(&[]), "{pattern}");
        }
    }

    #[test]
    fn what_this_reader_does_not_know_needs_nothing() {
        for pattern in [
            r#"((identifier) @a (#eq? @a "x")"#,
            r#"(identifier) @a (identifier) @b (#eq? @a "x")"#,
            r#"((identifier) @a (#eq? @a "unterminated))"#,
            r#"((identifier) @a {#eq? @a "x"})"#,
        ] {
            assert_eq!(needs(pattern), words(&[]), "{pattern}");
        }
    }

    #[test]
    fn escapes_comments_and_anchors_are_read() {
        assert_eq!(
            needs(
                "; a comment (with parens\n((token_tree . (identifier) @m . (token_tree))\n \
                 (#eq? @m \"a\\\"b\"))"
            ),
            words(&[&["a\"b"]])
        );
    }

    /// The spans of `source`'s lines: one pattern a line.
    fn line_spans(source: &str) -> Vec<Range<usize>> {
        source
            .lines()
            .scan(0, |at, line| {
                let span = *at..*at + line.len();
                *at += line.len() + 1;
                Some(span)
            })
            .collect()
    }

    fn roots_of(pattern: &str) -> Option<Vec<(String, bool)>> {
        read_pattern(pattern).roots
    }

    #[test]
    fn a_pattern_starts_at_its_node_or_its_groups_one_node_or_each_branch() {
        let kind = |name: &str| Some(vec![(name.to_owned(), true)]);
        assert_eq!(
            roots_of("(call_expression) @match"),
            kind("call_expression")
        );
        assert_eq!(
            roots_of(r#"((line_comment) @m (#match? @m "TODO"))"#),
            kind("line_comment")
        );
        assert_eq!(
            roots_of("[(identifier) (\"unsafe\")] @x"),
            Some(vec![
                (String::from("identifier"), true),
                (String::from("unsafe"), false)
            ])
        );
        for unknown in [
            "(_) @x",
            "_ @x",
            "(identifier)? @x",
            "((identifier) (identifier))",
            "[(identifier) (_)]",
            "(identifier) (identifier)",
        ] {
            assert_eq!(roots_of(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn words_anchor_the_query_at_the_nodes_around_their_places() {
        let source = r#"((call_expression function: (field_expression field: (field_identifier) @n)) @match (#eq? @n "unwrap"))
((macro_invocation macro: (identifier) @n) @match (#eq? @n "dbg"))
(function_item) @f"#;
        let spans = line_spans(source);
        let language: Language = tree_sitter_rust::LANGUAGE.into();
        let filter = Prefilter::new(&language, source, &spans);
        let text = "fn f() -> u8 { g(a.unwrap()).unwrap() + h() }\nfn g() {}\n";
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&language).expect("Rust");
        let tree = parser.parse(text, None).expect("parses");
        let seen = filter.read(text);
        assert_eq!(seen.possible, [true, false, true]);
        // The third pattern needs no word: the whole tree is read.
        assert!(!filter.anchored(&seen, 0..3));
        assert!(filter.anchored(&seen, 0..2));
        let starts: Vec<&str> = filter
            .starts(&seen, tree.root_node())
            .iter()
            .map(|node| &text[node.byte_range()])
            .collect();
        // The three calls around the inner `unwrap`, outermost first; the outer `unwrap`'s
        // call only once; nothing around `h()`, which has no word.
        assert_eq!(
            starts,
            ["g(a.unwrap()).unwrap()", "g(a.unwrap())", "a.unwrap()"]
        );
    }

    #[test]
    fn the_filter_says_which_patterns_a_text_leaves_possible() {
        let source = r#"((identifier) @a (#eq? @a "unwrap"))
((identifier) @a (#any-of? @a "print" "eprint"))
(unsafe_block) @u
((identifier) @a (#eq? @a "lock") (identifier) @b (#eq? @b "unwrap"))"#;
        let spans = line_spans(source);
        let filter = Prefilter::new(&tree_sitter_rust::LANGUAGE.into(), source, &spans);
        assert_eq!(
            filter.read("x.unwrap()").possible,
            [true, false, true, false]
        );
        assert_eq!(
            filter.read("eprintln!()").possible,
            [false, true, true, false]
        );
        assert_eq!(
            filter.read("m.lock().unwrap()").possible,
            [true, false, true, true]
        );
        assert_eq!(filter.read("").possible, [false, false, true, false]);
        assert_eq!(Prefilter::none(2).read("").possible, [true, true]);
    }
}
