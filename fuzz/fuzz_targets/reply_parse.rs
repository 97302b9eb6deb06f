//! Any text: parsing a reply never panics, and every edit it finds names a path.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(edits) = nova::edit::reply::parse(text) {
        for edit in edits {
            assert!(!edit.path().is_empty());
        }
    }
});
