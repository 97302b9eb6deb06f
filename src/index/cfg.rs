//! Whether a `cfg` predicate holds in the builds Nova runs on this machine (`cargo build`,
//! `cargo test`, in the dev profile, for the host): three-valued, because a feature is built in
//! a configuration of its own and a `cfg` a build script sets is not known before it runs.
//!
//! Code under a predicate that is false here (`windows` on Linux, `target_arch = "aarch64"` on
//! x86-64, `not(debug_assertions)`) is compiled by none of the builds that prove a change.

/// `Some(true)` or `Some(false)` where this machine's builds decide `predicate` (the text inside
/// `cfg(...)`, spaces allowed), `None` where they do not (features, a build script's `cfg`s).
pub fn holds(predicate: &str) -> Option<bool> {
    holds_given(predicate, &|_| None, &|_| None)
}

/// [`holds`], with `feature` saying whether a build has each feature on (`None`: it cannot say).
pub fn holds_with(predicate: &str, feature: &dyn Fn(&str) -> Option<bool>) -> Option<bool> {
    holds_given(predicate, feature, &|_| None)
}

/// [`holds_with`], with `named` deciding the names rustc does not set (a build script's
/// `cargo:rustc-cfg=name`, once it has run).
pub fn holds_given(
    predicate: &str,
    feature: &dyn Fn(&str) -> Option<bool>,
    named: &dyn Fn(&str) -> Option<bool>,
) -> Option<bool> {
    let compact: String = predicate.split_whitespace().collect();
    eval(&compact, &Given { feature, named })
}

/// What the caller knows beyond the host.
struct Given<'g> {
    feature: &'g dyn Fn(&str) -> Option<bool>,
    named: &'g dyn Fn(&str) -> Option<bool>,
}

fn eval(predicate: &str, given: &Given<'_>) -> Option<bool> {
    if let Some(inner) = call(predicate, "all") {
        return combine(inner, false, given);
    }
    if let Some(inner) = call(predicate, "any") {
        return combine(inner, true, given);
    }
    if let Some(inner) = call(predicate, "not") {
        return eval(inner, given).map(|b| !b);
    }
    match predicate.split_once('=') {
        Some(("feature", value)) => (given.feature)(value.trim_matches('"')),
        Some((key, value)) => key_value(key, value.trim_matches('"')),
        None => name(predicate).or_else(|| {
            let builtin = matches!(predicate, "test" | "doctest");
            (!builtin).then(|| (given.named)(predicate)).flatten()
        }),
    }
}

/// `all` (one false part decides) or `any` (one true part does); unknown where no part decides
/// and some part is unknown.
fn combine(inner: &str, decisive: bool, given: &Given<'_>) -> Option<bool> {
    let mut known = Some(!decisive);
    for part in split(inner) {
        match eval(part, given) {
            Some(value) if value == decisive => return Some(decisive),
            None => known = None,
            Some(_) => {}
        }
    }
    known
}

/// `name(inner)` -> `inner`.
fn call<'p>(predicate: &'p str, name: &str) -> Option<&'p str> {
    predicate
        .strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')
}

/// The top-level comma-separated parts of `all(...)`'s inside.
fn split(inner: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut quoted) = (0usize, 0, false);
    for (at, c) in inner.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                parts.push(&inner[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

fn name(name: &str) -> Option<bool> {
    match name {
        // `cargo build` and `cargo test` both run: `test` is true in one, false in the other.
        "test" | "doctest" => None,
        // The dev profile, which every build of the proof uses.
        "debug_assertions" => Some(true),
        "unix" => Some(cfg!(unix)),
        "windows" => Some(cfg!(windows)),
        "doc" | "miri" | "rustfmt" | "clippy" => Some(false),
        _ => None,
    }
}

fn key_value(key: &str, value: &str) -> Option<bool> {
    let host = match key {
        "target_os" => std::env::consts::OS,
        "target_family" => std::env::consts::FAMILY,
        "target_arch" => std::env::consts::ARCH,
        "target_pointer_width" => {
            if cfg!(target_pointer_width = "64") {
                "64"
            } else {
                "32"
            }
        }
        "target_endian" => {
            if cfg!(target_endian = "little") {
                "little"
            } else {
                "big"
            }
        }
        "target_env" => {
            if cfg!(target_env = "gnu") {
                "gnu"
            } else if cfg!(target_env = "musl") {
                "musl"
            } else {
                return None;
            }
        }
        "target_vendor" => {
            if cfg!(target_vendor = "apple") {
                "apple"
            } else if cfg!(target_vendor = "pc") {
                "pc"
            } else if cfg!(target_vendor = "unknown") {
                "unknown"
            } else {
                return None;
            }
        }
        "target_has_atomic" => {
            let widths: &[(&str, bool)] = &[
                ("8", cfg!(target_has_atomic = "8")),
                ("16", cfg!(target_has_atomic = "16")),
                ("32", cfg!(target_has_atomic = "32")),
                ("64", cfg!(target_has_atomic = "64")),
                ("ptr", cfg!(target_has_atomic = "ptr")),
            ];
            return widths
                .iter()
                .find(|(width, _)| *width == value)
                .map(|(_, has)| *has);
        }
        "panic" => "unwind",
        // x86-64's baseline; anything else needs `-C target-feature`, which Nova does not pass.
        "target_feature" => {
            let baseline: &[&str] = if cfg!(target_arch = "x86_64") {
                &["fxsr", "sse", "sse2"]
            } else {
                return None;
            };
            return Some(baseline.contains(&value));
        }
        _ => return None,
    };
    Some(host == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_decides_what_it_can_and_leaves_features_open() {
        let other_os = if cfg!(windows) { "linux" } else { "windows" };
        assert_eq!(holds(&format!("target_os = \"{other_os}\"")), Some(false));
        assert_eq!(
            holds(&format!("target_os = \"{}\"", std::env::consts::OS)),
            Some(true)
        );
        assert_eq!(holds("not(debug_assertions)"), Some(false));
        assert_eq!(holds("test"), None);
        assert_eq!(holds("not(test)"), None);
        assert_eq!(holds("feature = \"std\""), None);
        assert_eq!(
            holds("all(feature = \"std\", windows)"),
            holds("windows").filter(|b| !b)
        );
        assert_eq!(
            holds("any(feature = \"std\", unix)"),
            holds("unix").filter(|b| *b)
        );
        assert_eq!(holds("any(httparse_simd, miri)"), None);
        assert_eq!(holds("all(unix, not(unix))"), Some(false));
        assert_eq!(holds("any(doc, docsrs)"), None);
        let std_on = |f: &str| Some(f == "std");
        assert_eq!(holds_with("not(feature = \"std\")", &std_on), Some(false));
        assert_eq!(
            holds_with("any(feature = \"std\", feature = \"alloc\")", &std_on),
            Some(true)
        );
        assert_eq!(
            holds_with("all(feature = \"alloc\", unix)", &std_on),
            Some(false)
        );
        // A build script's names, once it has run; `test` stays open.
        let ran = |name: &str| Some(name == "anyhow_backtrace");
        assert_eq!(
            holds_given("error_generic_member_access", &std_on, &ran),
            Some(false)
        );
        assert_eq!(
            holds_given("not(anyhow_backtrace)", &std_on, &ran),
            Some(false)
        );
        assert_eq!(holds_given("test", &std_on, &ran), None);
    }

    #[test]
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    fn on_x86_64_linux() {
        assert_eq!(holds("target_arch = \"aarch64\""), Some(false));
        assert_eq!(
            holds("all(target_arch = \"x86_64\", target_feature = \"sse2\")"),
            Some(true)
        );
        assert_eq!(holds("target_feature = \"avx2\""), Some(false));
        assert_eq!(holds("target_vendor = \"apple\""), Some(false));
        assert_eq!(
            holds("any(target_vendor = \"apple\", target_os = \"freebsd\")"),
            Some(false)
        );
        assert_eq!(holds("target_has_atomic = \"64\""), Some(true));
        assert_eq!(
            holds("all(unix, target_pointer_width = \"64\")"),
            Some(true)
        );
    }
}
