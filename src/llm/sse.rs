//! Server-sent events, parsed incrementally from bytes as they arrive (the WHATWG "event stream"
//! rules): lines end in LF, CRLF or CR; `event:` and `data:` fields; `:` comments; an event is
//! dispatched at a blank line; a partial event at the end of the stream is dropped.
//!
//! Sans-IO: the HTTP layer feeds chunks in, whatever their boundaries.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, empty when the server sent none.
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// Why the stream cannot be read as events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("a server-sent event line is not UTF-8")]
    NotUtf8,
    #[error("a server-sent event line is longer than {LINE_LIMIT} bytes")]
    LineTooLong,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// No real event comes near this; a stream that does is broken, not slow.
pub const LINE_LIMIT: usize = 16 << 20;

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the line not yet ended.
    line: Vec<u8>,
    /// The previous chunk ended in CR: a LF starting this one belongs to it.
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
    /// The stream's first bytes were read: a BOM is only skipped at the very start.
    started: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `chunk`, appending every event it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.started {
            return self.feed_started(chunk, out);
        }
        // A byte-order mark may only open the stream, and may arrive cut in pieces.
        self.line.extend_from_slice(chunk);
        if self.line.len() < BOM.len() && BOM.starts_with(&self.line) {
            return Ok(());
        }
        self.started = true;
        let pending = std::mem::take(&mut self.line);
        self.feed_started(pending.strip_prefix(BOM).unwrap_or(&pending), out)
    }

    fn feed_started(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut chunk = chunk;
        if self.after_cr {
            self.after_cr = false;
            chunk = chunk.strip_prefix(b"\n").unwrap_or(chunk);
        }
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&chunk[..end]);
            let crlf = chunk[end] == b'\r';
            chunk = &chunk[end + 1..];
            if crlf {
                match chunk.first() {
                    Some(b'\n') => chunk = &chunk[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            self.line_ended(&line, out)?;
            self.line = line;
            self.line.clear();
        }
        if self.line.len() + chunk.len() > LINE_LIMIT {
            return Err(SseError::LineTooLong);
        }
        self.line.extend_from_slice(chunk);
        Ok(())
    }

    fn line_ended(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            if self.has_data {
                out.push(SseEvent {
                    event: std::mem::take(&mut self.event),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // `id` and `retry` steer browser reconnection, which Nova does its own way.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(chunks: &[&[u8]], expected: &[(&str, &str)]) {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out).expect("valid stream");
        }
        let got: Vec<(&str, &str)> = out
            .iter()
            .map(|e| (e.event.as_str(), e.data.as_str()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn events_and_data() {
        check(
            &[b"event: a\ndata: 1\n\ndata: 2\ndata: 3\n\n"],
            &[("a", "1"), ("", "2\n3")],
        );
    }

    #[test]
    fn any_chunking_gives_the_same_events() {
        let stream = b"\xEF\xBB\xBF: comment\r\nevent: x\r\ndata:no space\r\n\r\ndata: {\"a\": 1}\r\rdata\n\n";
        let expected = [("x", "no space"), ("", "{\"a\": 1}"), ("", "")];
        for split in 0..stream.len() {
            let (a, b) = stream.split_at(split);
            check(&[a, b], &expected);
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        check(&bytes, &expected);
    }

    #[test]
    fn random_streams_cut_randomly_give_the_same_events() {
        let alphabet: &[&[u8]] = &[
            b"data: ",
            b"event: ",
            b":",
            b"x",
            b"{}",
            b"\n",
            b"\r",
            b"\r\n",
            b" ",
            b"\xEF\xBB\xBF",
            b"\xC3\xBC",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..2000 {
            let stream: Vec<u8> = (0..next(40))
                .flat_map(|_| alphabet[next(alphabet.len())].iter().copied())
                .collect();
            let parse = |chunks: &[&[u8]]| {
                let mut parser = SseParser::new();
                let mut out = Vec::new();
                for chunk in chunks {
                    parser.feed(chunk, &mut out).expect("UTF-8 by construction");
                }
                out
            };
            let whole = parse(&[&stream]);
            let (a, b) = stream.split_at(next(stream.len() + 1));
            assert_eq!(
                parse(&[a, b]),
                whole,
                "{:?}",
                String::from_utf8_lossy(&stream)
            );
        }
    }

    #[test]
    fn a_partial_event_at_the_end_is_dropped() {
        check(&[b"data: 1\n\ndata: 2\n"], &[("", "1")]);
    }

    #[test]
    fn bad_lines_are_errors() {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        assert_eq!(
            parser.feed(b"data: \xff\n", &mut out),
            Err(SseError::NotUtf8)
        );
    }
}
