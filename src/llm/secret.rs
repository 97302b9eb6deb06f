//! The API key: held in one type that never prints itself, and a scrubber for anything that
//! might echo it back (an error body, a recorded reply).

use std::borrow::Cow;
use std::fmt;

/// An API key. `Debug` and `Display` show a redaction; only `ApiKey::expose` gives the key, and
/// only the wire format calls it, to build the request's headers.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    pub(super) fn expose(&self) -> &str {
        &self.0
    }

    /// Enough to tell two keys apart (the first four characters and the length), and no more.
    pub fn redacted(&self) -> String {
        let head: String = self.0.chars().take(4).collect();
        format!("{head}… ({} characters)", self.0.chars().count())
    }

    /// `text` with every occurrence of the key replaced by `[redacted]`.
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        // A key too short to be secret would redact half of every message.
        if self.0.len() < 8 || !text.contains(&self.0) {
            return Cow::Borrowed(text);
        }
        Cow::Owned(text.replace(&self.0, "[redacted]"))
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.redacted())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Scrubs with a key that may be absent.
pub(super) fn scrub<'t>(key: Option<&ApiKey>, text: &'t str) -> Cow<'t, str> {
    match key {
        Some(key) => key.scrub(text),
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shown_whole() {
        let key = ApiKey::new("sk-canary-0123456789");
        for shown in [format!("{key}"), format!("{key:?}"), key.redacted()] {
            assert!(!shown.contains("0123456789"), "{shown}");
        }
        assert_eq!(
            key.scrub("bad key sk-canary-0123456789!"),
            "bad key [redacted]!"
        );
    }
}
