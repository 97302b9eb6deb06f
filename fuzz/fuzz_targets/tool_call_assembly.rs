//! Any sequence of streamed tool-call pieces: assembly never panics, a finished call always has a
//! name and an object for arguments, and one call's fragments give what parsing them joined gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nova::llm::ToolCalls;

fuzz_target!(|pieces: Vec<(u8, bool, String)>| {
    let mut calls = ToolCalls::default();
    for (index, starts, text) in &pieces {
        let index = usize::from(index % 4);
        if *starts {
            calls.start(index, Some(text), Some(text));
        } else {
            calls.append(index, text);
        }
    }
    if let Ok(done) = calls.finish() {
        for call in done {
            assert!(!call.name.is_empty());
            assert!(call.arguments.is_object());
        }
    }

    let mut one = ToolCalls::default();
    one.start(0, Some("id"), Some("tool"));
    let mut joined = String::new();
    for (_, _, text) in &pieces {
        one.append(0, text);
        joined.push_str(text);
    }
    let expected = match joined.trim() {
        "" => Some(serde_json::json!({})),
        text => serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(serde_json::Value::is_object),
    };
    let got = one.finish().ok().map(|mut calls| calls.remove(0).arguments);
    assert_eq!(got, expected);
});
