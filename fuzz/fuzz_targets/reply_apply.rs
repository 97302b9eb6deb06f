//! Any reply onto a small fixed tree: applying never panics, and a success changes only files the
//! reply names.
#![no_main]

use libfuzzer_sys::fuzz_target;

const LIB: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\nfn helper() {}\n";
const CRLF: &str = "line one\r\nline two\r\n";

fuzz_target!(|text: &str| {
    let Ok(edits) = nova::edit::reply::parse(text) else {
        return;
    };
    let read = |path: &str| match path {
        "src/lib.rs" => Some(LIB.to_owned()),
        "notes.txt" => Some(CRLF.to_owned()),
        _ => None,
    };
    if let Ok(results) = nova::edit::apply::apply(&edits, &read) {
        for result in results {
            assert!(edits.iter().any(|e| e.path() == result.path.as_str() || matches!(e, nova::edit::reply::Edit::Hunks { move_to: Some(to), .. } if to == result.path.as_str())));
        }
    }
});
