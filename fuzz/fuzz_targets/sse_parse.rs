//! Any bytes, cut anywhere: parsing server-sent events never panics, and where the stream is cut
//! into chunks does not change the events it gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nova::llm::sse::{SseEvent, SseParser};

fn parse(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, ()> {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    for chunk in chunks {
        parser.feed(chunk, &mut events).map_err(|_| ())?;
    }
    Ok(events)
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let whole = parse(&[stream]);
    let at = usize::from(cut) % (stream.len() + 1);
    let (a, b) = stream.split_at(at);
    assert_eq!(whole, parse(&[a, b]));
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(whole, parse(&bytes));
});
