//! Scenarios in URLs: `#z=<base64url(deflate(json))>` (what Share writes) or
//! `#s=<base64url(json)>` (readable by hand-made links). The fragment never reaches a
//! server, so a shared playground needs no backend.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use warren_core::scenario::{self, Scenario};

/// Scenarios larger than this once inflated are refused: a link must not be able to
/// make the page allocate without bound.
const MAX_JSON: usize = 1 << 20;

/// The fragment (without `#`) that opens `scenario`.
pub fn encode(scenario: &Scenario) -> String {
    let json = serde_json::to_string(scenario).unwrap_or_default();
    let packed = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 9);
    format!("z={}", URL_SAFE_NO_PAD.encode(packed))
}

/// Reads a fragment (with or without `#`); `Ok(None)` when it holds no scenario.
pub fn decode(fragment: &str) -> Result<Option<Scenario>, String> {
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
    let bytes = if packed {
        miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes, MAX_JSON)
            .map_err(|e| format!("the link is damaged (deflate: {e})"))?
    } else {
        bytes
    };
    let text =
        String::from_utf8(bytes).map_err(|_| "the link is damaged (not UTF-8)".to_string())?;
    scenario::parse(&text)
        .map(Some)
        .map_err(|e| format!("the linked scenario is invalid {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = crate::example::work_queue();
        let f = encode(&s);
        assert!(f
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=".contains(c)));
        assert_eq!(decode(&format!("#{f}")), Ok(Some(s.clone())));
        let plain = format!(
            "s={}",
            URL_SAFE_NO_PAD.encode(serde_json::to_string(&s).unwrap())
        );
        assert_eq!(decode(&plain), Ok(Some(s)));
    }

    #[test]
    fn junk_is_an_error_not_a_panic() {
        assert_eq!(decode(""), Ok(None));
        assert!(decode("z=!!!").is_err());
        assert!(decode("z=AAAA").is_err());
        assert!(decode(&format!("s={}", URL_SAFE_NO_PAD.encode("{\"version\":9}"))).is_err());
    }
}
