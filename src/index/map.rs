//! The repo map: the highest-ranked definitions, as a compact outline per file, fitted to a token
//! budget. Tokens are counted exactly with the `o200k_base` tokenizer (the GPT-4o family's).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Serialize;

use super::rank::Ranked;
use super::tags::FileTags;

/// The tokenizer maps are measured with.
pub const TOKENIZER: &str = "o200k_base";

/// Exact token count of `text` with `o200k_base`. The tokenizer is built once per process.
pub fn count_tokens(text: &str) -> usize {
    static BPE: OnceLock<Option<tiktoken_rs::CoreBPE>> = OnceLock::new();
    match BPE.get_or_init(|| tiktoken_rs::o200k_base().ok()) {
        Some(bpe) => bpe.encode_ordinary(text).len(),
        // Never happens with the embedded vocabulary; bytes are a bound no tokenizer exceeds.
        None => text.len(),
    }
}

/// A rendered map.
#[derive(Debug, Clone, Serialize)]
pub struct RepoMap {
    pub text: String,
    pub tokens: usize,
    pub budget: usize,
    pub tokenizer: &'static str,
    /// Definitions shown, of how many ranked.
    pub shown: usize,
    pub ranked: usize,
    pub files: usize,
    /// The files shown, in the map's order.
    pub paths: Vec<String>,
}

/// Renders the definitions `chosen` (indices into `ranked`) of `files`: files in order of their
/// best definition, definitions in line order, methods indented under their type.
fn render(
    files: &[(&str, &FileTags)],
    ranked: &[Ranked],
    chosen: &[usize],
) -> (String, Vec<String>) {
    let mut per_file: BTreeMap<usize, (usize, Vec<usize>)> = BTreeMap::new();
    for (order, &i) in chosen.iter().enumerate() {
        let r = ranked[i];
        let entry = per_file.entry(r.file).or_insert((order, Vec::new()));
        entry.1.push(r.def);
    }
    let mut order: Vec<(usize, usize, Vec<usize>)> = per_file
        .into_iter()
        .map(|(file, (first, defs))| (first, file, defs))
        .collect();
    order.sort();
    let mut out = String::new();
    let mut paths = Vec::with_capacity(order.len());
    for (_, file, mut defs) in order {
        let (path, tags) = files[file];
        defs.sort_by_key(|&d| (tags.defs[d].line, d));
        out.push_str(path);
        out.push_str(":\n");
        paths.push(path.to_owned());
        for d in defs {
            out.push_str(&def_line(tags, d));
        }
    }
    (out, paths)
}

/// The widest signature a map shows, in characters; a longer one is cut with `…`.
pub const SIGNATURE_WIDTH: usize = 100;

/// The line a definition renders as (its file's header is separate): its line number, `│`, and
/// its signature, indented under its type when it is a method, made compact
/// ([`compact_signature`]).
fn def_line(tags: &FileTags, def: usize) -> String {
    let def = &tags.defs[def];
    let indent = if def.scope.is_some() { "  " } else { "" };
    format!(
        "{}│{indent}{}\n",
        def.line,
        compact_signature(&def.signature)
    )
}

/// A signature as the map shows it: no `where` clause, no space inside parentheses that the
/// source's line breaks left, at most [`SIGNATURE_WIDTH`] characters.
pub fn compact_signature(signature: &str) -> String {
    let head = signature
        .split_once(" where ")
        .map_or(signature, |(head, _)| head);
    let mut text = head
        .replace("( ", "(")
        .replace(", )", ")")
        .replace(" )", ")")
        .replace(",)", ")");
    if text.chars().count() > SIGNATURE_WIDTH {
        text = text.chars().take(SIGNATURE_WIDTH - 1).collect::<String>() + "…";
    }
    text
}

/// The best map of `ranked` definitions that fits `budget` tokens. Definitions are taken in rank
/// order while the sum of their lines' token counts fits a target; the map is then counted
/// exactly, and the target adjusted until the exact count fits the budget and fills most of it.
pub fn fit(files: &[(&str, &FileTags)], ranked: &[Ranked], budget: usize) -> RepoMap {
    let mut line_costs: Vec<Option<usize>> = vec![None; ranked.len()];
    let mut header_costs: BTreeMap<usize, usize> = BTreeMap::new();
    let mut select = |target: usize| -> Vec<usize> {
        let mut chosen = Vec::new();
        let mut headers = std::collections::HashSet::new();
        let mut estimate = 0;
        let mut misses = 0;
        for (i, r) in ranked.iter().enumerate() {
            let line = *line_costs[i]
                .get_or_insert_with(|| count_tokens(&def_line(files[r.file].1, r.def)));
            let header = if headers.contains(&r.file) {
                0
            } else {
                *header_costs
                    .entry(r.file)
                    .or_insert_with(|| count_tokens(&format!("{}:\n", files[r.file].0)))
            };
            if estimate + line + header <= target {
                estimate += line + header;
                headers.insert(r.file);
                chosen.push(i);
            } else {
                misses += 1;
                if misses > 64 {
                    break;
                }
            }
        }
        chosen
    };
    let mut best: Option<(String, usize, usize, Vec<String>)> = None;
    let mut target = budget;
    for _ in 0..6 {
        let chosen = select(target);
        let (text, files_shown) = render(files, ranked, &chosen);
        let tokens = count_tokens(&text);
        if tokens <= budget {
            let better = best.as_ref().is_none_or(|b| tokens > b.1);
            if better {
                best = Some((text, tokens, chosen.len(), files_shown));
            }
            if tokens * 100 >= budget * 95 || chosen.len() == ranked.len() {
                break;
            }
            // Lines counted alone overestimate the whole: aim higher.
            target = (target as f64 * budget as f64 / tokens.max(1) as f64).ceil() as usize;
        } else {
            target = (target as f64 * budget as f64 / tokens as f64 * 0.98).floor() as usize;
        }
    }
    let (text, tokens, shown, paths) = best.unwrap_or_default();
    RepoMap {
        text,
        tokens,
        budget,
        tokenizer: TOKENIZER,
        shown,
        ranked: ranked.len(),
        files: paths.len(),
        paths,
    }
}
