//! The words of a task and of code, made comparable: identifiers split at case changes and
//! underscores, lowercased and lightly stemmed (`loading`, `loads` and `load` are one term), and
//! the focus a task's plain words give (`nova map --task`).

/// Words too common in requests to say what one is about. Words of two letters never count.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "but", "not", "are", "was", "has", "had", "its", "all", "any", "can",
    "may", "who", "why", "how", "out", "off", "our", "via", "per", "yet", "too", "one", "two",
    "his", "her", "you", "did", "let", "got", "about", "after", "again", "also", "always",
    "because", "been", "before", "being", "both", "cannot", "change", "changes", "could", "does",
    "doing", "done", "each", "else", "every", "first", "from", "have", "here", "into", "it's",
    "just", "like", "make", "makes", "many", "more", "most", "must", "need", "needs", "never",
    "only", "other", "over", "same", "should", "some", "such", "than", "that", "their", "them",
    "then", "there", "these", "they", "this", "those", "through", "under", "until", "very", "were",
    "what", "when", "where", "which", "while", "will", "with", "without", "would", "your",
    "instead", "now", "still", "using", "used", "uses", "want", "wants", "whether", "fixes",
    "fixed", "issue", "issues",
];

/// Splits `identifier` into its lowercase words: `RepoMap` -> `repo`, `map`; `fit_budget` ->
/// `fit`, `budget`; `HTTPServer2` -> `http`, `server2`.
pub fn split_identifier(identifier: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in identifier.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = part.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (prev, here) = (chars[i - 1], chars[i]);
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
            // `repoMap`, and `HTTPServer` (an upper case letter that starts a lower case word).
            if (prev.is_lowercase() && here.is_uppercase())
                || (prev.is_uppercase() && here.is_uppercase() && next_lower)
            {
                words.push(chars[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        if start < chars.len() {
            words.push(chars[start..].iter().collect::<String>().to_lowercase());
        }
    }
    words.retain(|w| !w.is_empty());
    words
}

/// The stem of a lowercase word: plural and verb endings taken off where enough is left
/// (`files` -> `file`, `matches` -> `match`, `loading` -> `load`, `skipped` -> `skip`).
pub fn stem(word: &str) -> String {
    let cut = |suffix: &str, keep: usize| -> Option<&str> {
        word.strip_suffix(suffix).filter(|rest| rest.len() >= keep)
    };
    let undouble = |rest: &str| -> String {
        let bytes = rest.as_bytes();
        let n = bytes.len();
        if n >= 4 && bytes[n - 1] == bytes[n - 2] && !b"aeioulsz".contains(&bytes[n - 1]) {
            rest[..n - 1].to_owned()
        } else {
            rest.to_owned()
        }
    };
    if let Some(rest) = cut("ies", 3) {
        return format!("{rest}y");
    }
    if let Some(rest) = cut("ing", 4) {
        return undouble(rest);
    }
    if let Some(rest) = cut("ed", 4) {
        return undouble(rest);
    }
    if let Some(rest) = cut("es", 3)
        && (rest.ends_with("ch")
            || rest.ends_with("sh")
            || rest.ends_with('x')
            || rest.ends_with('s'))
    {
        return rest.to_owned();
    }
    if let Some(rest) = cut("s", 3)
        && !rest.ends_with('s')
        && !rest.ends_with('u')
        && !rest.ends_with('i')
    {
        return rest.to_owned();
    }
    word.to_owned()
}

/// The terms of an identifier or a path: its words, stemmed, of three letters or more.
pub fn terms_of(text: &str) -> Vec<String> {
    split_identifier(text)
        .into_iter()
        .filter(|w| w.len() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(|w| stem(&w))
        .collect()
}

/// The terms of prose: its words and the words of its identifiers, stemmed, without stopwords,
/// each once, in order of appearance.
pub fn terms_of_prose(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '\'')) {
        let word = word.trim_matches('\'');
        if word.len() < 3 || STOPWORDS.contains(&word.to_lowercase().as_str()) {
            continue;
        }
        for term in terms_of(word) {
            if !STOPWORDS.contains(&term.as_str()) && !out.contains(&term) {
                out.push(term);
            }
        }
    }
    out
}

/// Whether `word` looks like code rather than prose: `snake_case`, `CamelCase`, `a::b`, `f()`.
pub fn looks_like_code(word: &str) -> bool {
    let inner_upper =
        word.chars().skip(1).any(char::is_uppercase) && word.chars().any(char::is_lowercase);
    word.contains('_') || word.contains("::") || word.ends_with("()") || inner_upper
}

/// The names a path's directories and file answer to, stemmed, `-` and `_` alike: each one's
/// own (a file's without its extension) and, for a crate's directory (a top-level one, or one
/// under `crates/`) named after its family (`clap_mangen`, `regex-automata`), its name without
/// the family's word (`mangen`, `automata`): a commit's `fix(mangen):` or `automata:` names that
/// crate.
pub fn component_names(path: &str) -> Vec<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let last = parts.len().saturating_sub(1);
    let mut out = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        if k == last {
            out.extend(names_of(
                part.rsplit_once('.').map_or(*part, |(s, _)| s),
                false,
            ));
        } else {
            out.extend(names_of(part, is_crate_dir(&parts[..=k])));
        }
    }
    out
}

/// The names the directory `dir` itself answers to (its last component's, as in
/// [`component_names`]).
pub fn directory_names(dir: &str) -> Vec<String> {
    let parts: Vec<&str> = dir.split('/').collect();
    names_of(parts.last().copied().unwrap_or(dir), is_crate_dir(&parts))
}

/// Whether the directory made of `parts` is where a workspace keeps a crate: a top-level one, or
/// one under `crates/`.
fn is_crate_dir(parts: &[&str]) -> bool {
    parts.len() == 1 || (parts.len() == 2 && parts[0] == "crates")
}

/// A component's names: its own, stemmed, and a crate directory's without its family's word.
fn names_of(component: &str, crate_dir: bool) -> Vec<String> {
    let name = component.to_lowercase().replace('-', "_");
    let family = crate_dir
        .then(|| name.split_once('_'))
        .flatten()
        .map(|(_, rest)| stem(rest));
    family.into_iter().chain([stem(&name)]).collect()
}

/// The directories a commit-style prefix names: `ignore,globset: increase ...` -> `ignore`,
/// `globset`; a conventional commit's scope, `fix(mangen)!: ...` -> `mangen` (its type, `fix`,
/// names no directory); none when the first line has no such prefix.
pub fn prefix_scopes(text: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or("");
    let Some((prefix, rest)) = first.split_once(':') else {
        return Vec::new();
    };
    if !rest.starts_with(' ') || prefix.contains("::") {
        return Vec::new();
    }
    let prefix = prefix.strip_suffix('!').unwrap_or(prefix);
    let prefix = match prefix.split_once('(') {
        Some((kind, scope))
            if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            match scope.strip_suffix(')') {
                Some(scope) => scope,
                None => return Vec::new(),
            }
        }
        _ => prefix,
    };
    let parts: Vec<&str> = prefix.split([',', '/']).map(str::trim).collect();
    let valid = |p: &&str| {
        !p.is_empty()
            && p.len() <= 40
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if parts.len() > 4 || !parts.iter().all(valid) {
        return Vec::new();
    }
    parts.into_iter().map(str::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_at_case_and_underscores() {
        assert_eq!(split_identifier("RepoMap"), ["repo", "map"]);
        assert_eq!(split_identifier("fit_budget"), ["fit", "budget"]);
        assert_eq!(split_identifier("HTTPServer"), ["http", "server"]);
        assert_eq!(split_identifier("Index::map"), ["index", "map"]);
        assert_eq!(split_identifier("walk.rs"), ["walk", "rs"]);
    }

    #[test]
    fn stems_join_the_forms_of_a_word() {
        for (word, stemmed) in [
            ("files", "file"),
            ("matches", "match"),
            ("loading", "load"),
            ("skipped", "skip"),
            ("directories", "directory"),
            ("status", "status"),
            ("class", "class"),
            ("string", "string"),
            ("used", "used"),
            ("walk", "walk"),
        ] {
            assert_eq!(stem(word), stemmed, "{word}");
        }
    }

    #[test]
    fn prose_gives_its_content_words_once() {
        assert_eq!(
            terms_of_prose("Skip loading unreachable ignore files when the `WalkBuilder` skips"),
            [
                "skip",
                "load",
                "unreachable",
                "ignore",
                "file",
                "walk",
                "builder"
            ]
        );
    }

    #[test]
    fn a_crate_directory_answers_to_its_name_without_its_family() {
        assert_eq!(
            component_names("clap_mangen/src/render.rs"),
            ["mangen", "clap_mangen", "src", "render"]
        );
        assert!(component_names("crates/grep-cli/src/lib.rs").contains(&String::from("cli")));
        assert!(component_names("regex-automata/src/meta/mod.rs").contains(&stem("automata")));
        // Only a crate's directory: a file or a nested directory answers to its own name.
        assert!(!component_names("src/task_map.rs").contains(&String::from("map")));
        assert!(!component_names("src/index/repo_map/x.rs").contains(&String::from("map")));
        assert_eq!(directory_names("clap_mangen"), ["mangen", "clap_mangen"]);
        assert_eq!(directory_names("regex-automata/src/meta"), ["meta"]);
        assert_eq!(directory_names("crates/grep-cli"), ["cli", "grep_cli"]);
    }

    #[test]
    fn a_prefix_names_directories() {
        assert_eq!(
            prefix_scopes("ignore,globset: increase pool capacity"),
            ["ignore", "globset"]
        );
        assert_eq!(prefix_scopes("walk: Flush stdout in batches"), ["walk"]);
        assert!(prefix_scopes("Fix the bug: it crashed").is_empty());
        assert_eq!(
            prefix_scopes("fix(mangen): Hide hidden positionals"),
            ["mangen"]
        );
        assert_eq!(
            prefix_scopes("feat(complete,derive)!: Expose completers"),
            ["complete", "derive"]
        );
        assert!(prefix_scopes("fix(oops: no closing parenthesis").is_empty());
        assert!(prefix_scopes("Use `Index::map` here").is_empty());
        assert!(prefix_scopes("No prefix at all").is_empty());
    }
}
