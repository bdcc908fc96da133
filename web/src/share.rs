//! Scenarios in URLs: `#z=<base64url(deflate(json))>` (what Share writes) or
//! `#s=<base64url(json)>` (readable by hand-made links). The fragment never reaches a
//! server, so a shared playground needs no backend.
//!
//! This module is the pure part: the fragment's text and the JSON. The raw DEFLATE of
//! `z=` links is done by the browser (`CompressionStream("deflate-raw")`, see
//! `io::share`): a DEFLATE implementation compiled into the wasm cost 16 KB of the
//! 400 KB gzipped budget. Links made before that (with miniz_oxide) are the same raw
//! DEFLATE, so they still open.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use warren_core::scenario::{self, Scenario};

/// Scenarios larger than this once inflated are refused: a link must not be able to
/// make the page allocate without bound.
pub const MAX_JSON: usize = 1 << 20;

/// What a URL fragment holds.
#[derive(Debug, PartialEq)]
pub enum Link {
    /// `s=`: the scenario itself.
    Plain(Box<Scenario>),
    /// `z=`: raw DEFLATE of the scenario's JSON, still to be inflated.
    Packed(Vec<u8>),
}

/// The scenario's compact JSON, as it goes into links.
pub fn json(scenario: &Scenario) -> String {
    serde_json::to_string(scenario).unwrap_or_default()
}

/// The fragment (without `#`) for raw-DEFLATE-compressed JSON.
pub fn packed_fragment(deflated: &[u8]) -> String {
    format!("z={}", URL_SAFE_NO_PAD.encode(deflated))
}

/// The fragment (without `#`) holding the JSON as it is.
pub fn plain_fragment(scenario: &Scenario) -> String {
    format!("s={}", URL_SAFE_NO_PAD.encode(json(scenario)))
}

/// Reads a fragment (with or without `#`); `Ok(None)` when it holds no scenario.
pub fn read(fragment: &str) -> Result<Option<Link>, String> {
    let fragment = fragment.trim_start_matches('#');
    let (packed, data) = if let Some(d) = fragment.strip_prefix("z=") {
        (true, d)
    } else if let Some(d) = fragment.strip_prefix("s=") {
        (false, d)
    } else {
        return Ok(None);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(data.trim_end_matches('='))
        .map_err(|e| format!("the link is damaged (base64: {e})"))?;
    if packed {
        return Ok(Some(Link::Packed(bytes)));
    }
    from_json(bytes).map(|s| Some(Link::Plain(Box::new(s))))
}

/// The scenario in a link's (inflated) JSON.
pub fn from_json(bytes: Vec<u8>) -> Result<Scenario, String> {
    if bytes.len() > MAX_JSON {
        return Err("the linked scenario is too large".to_string());
    }
    let text =
        String::from_utf8(bytes).map_err(|_| "the link is damaged (not UTF-8)".to_string())?;
    scenario::parse(&text).map_err(|e| format!("the linked scenario is invalid {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_links_round_trip() {
        let s = crate::example::work_queue();
        let f = plain_fragment(&s);
        assert!(f
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=".contains(c)));
        assert_eq!(read(&format!("#{f}")), Ok(Some(Link::Plain(Box::new(s)))));
        assert_eq!(
            read("z=AAEC"),
            Ok(Some(Link::Packed(vec![0, 1, 2]))),
            "packed links are inflated by the browser"
        );
    }

    #[test]
    fn junk_is_an_error_not_a_panic() {
        assert_eq!(read(""), Ok(None));
        assert!(read("z=!!!").is_err());
        assert!(from_json(vec![0xff]).is_err());
        assert!(read(&format!("s={}", URL_SAFE_NO_PAD.encode("{\"version\":9}"))).is_err());
    }
}
