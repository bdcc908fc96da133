//! The 14 `basic` content properties ↔ the property flags and values of a
//! content header frame.
//!
//! Flags are a u16 with the first property in the most significant bit; bit 0
//! says another flags word follows. Only present properties are on the wire,
//! in flag order. Anything malformed is a 502 SYNTAX_ERROR.

use super::primitives::{put_shortstr, ParseError, Reader};
use super::table::{encode_table, read_table};
use crate::error::{AmqpError, ReplyCode};
use crate::types::BasicProperties;
use bytes::{BufMut, Bytes, BytesMut};

const CONTENT_TYPE: u16 = 1 << 15;
const CONTENT_ENCODING: u16 = 1 << 14;
const HEADERS: u16 = 1 << 13;
const DELIVERY_MODE: u16 = 1 << 12;
const PRIORITY: u16 = 1 << 11;
const CORRELATION_ID: u16 = 1 << 10;
const REPLY_TO: u16 = 1 << 9;
const EXPIRATION: u16 = 1 << 8;
const MESSAGE_ID: u16 = 1 << 7;
const TIMESTAMP: u16 = 1 << 6;
const TYPE: u16 = 1 << 5;
const USER_ID: u16 = 1 << 4;
const APP_ID: u16 = 1 << 3;
const CLUSTER_ID: u16 = 1 << 2;
const CONTINUATION: u16 = 1;

/// Decodes property flags and values (a content header's payload after class
/// id, weight and body size).
pub fn decode_properties(data: Bytes) -> Result<BasicProperties, AmqpError> {
    parse(data).map_err(|e| {
        let text = match e {
            ParseError::Truncated => "malformed content properties".to_string(),
            ParseError::Syntax(text) => text,
        };
        AmqpError::new(ReplyCode::SyntaxError, text)
    })
}

fn parse(data: Bytes) -> Result<BasicProperties, ParseError> {
    let mut r = Reader::new(data);
    let flags = r.u16()?;
    // Further flag words would describe properties `basic` does not have.
    let mut more = flags & CONTINUATION != 0;
    while more {
        let extra = r.u16()?;
        if extra & !CONTINUATION != 0 {
            return Err(ParseError::Syntax(format!(
                "unknown content property flags {extra:#06x}"
            )));
        }
        more = extra & CONTINUATION != 0;
    }
    if flags & 0b10 != 0 {
        return Err(ParseError::Syntax(format!(
            "unknown content property flags {flags:#06x}"
        )));
    }
    let has = |flag: u16| flags & flag != 0;
    let mut p = BasicProperties::default();
    if has(CONTENT_TYPE) {
        p.content_type = Some(r.shortstr()?);
    }
    if has(CONTENT_ENCODING) {
        p.content_encoding = Some(r.shortstr()?);
    }
    if has(HEADERS) {
        p.headers = Some(read_table(&mut r)?);
    }
    if has(DELIVERY_MODE) {
        p.delivery_mode = Some(r.u8()?);
    }
    if has(PRIORITY) {
        p.priority = Some(r.u8()?);
    }
    if has(CORRELATION_ID) {
        p.correlation_id = Some(r.shortstr()?);
    }
    if has(REPLY_TO) {
        p.reply_to = Some(r.shortstr()?);
    }
    if has(EXPIRATION) {
        p.expiration = Some(r.shortstr()?);
    }
    if has(MESSAGE_ID) {
        p.message_id = Some(r.shortstr()?);
    }
    if has(TIMESTAMP) {
        p.timestamp = Some(r.u64()?);
    }
    if has(TYPE) {
        p.kind = Some(r.shortstr()?);
    }
    if has(USER_ID) {
        p.user_id = Some(r.shortstr()?);
    }
    if has(APP_ID) {
        p.app_id = Some(r.shortstr()?);
    }
    if has(CLUSTER_ID) {
        p.cluster_id = Some(r.shortstr()?);
    }
    if !r.is_empty() {
        return Err(ParseError::Syntax(
            "content properties longer than their flags say".into(),
        ));
    }
    Ok(p)
}

/// The properties the broker looks at on queued messages, read
/// from the encoded form without decoding (or allocating) anything else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scan<'a> {
    pub delivery_mode: Option<u8>,
    pub priority: Option<u8>,
    pub expiration: Option<&'a str>,
}

/// Skips to `delivery_mode`, `priority` and `expiration`. Bytes that do not parse give
/// what was found so far (messages in the broker always parse: see
/// `Message::from_encoded`).
pub fn scan_properties(data: &[u8]) -> Scan<'_> {
    let mut scan = Scan::default();
    let Some(&[hi, lo]) = data.get(..2) else {
        return scan;
    };
    let flags = u16::from_be_bytes([hi, lo]);
    if flags & (DELIVERY_MODE | PRIORITY | EXPIRATION) == 0 {
        return scan;
    }
    let mut at = 2;
    let short = |at: &mut usize| -> Option<&[u8]> {
        let len = *data.get(*at)? as usize;
        let s = data.get(*at + 1..*at + 1 + len)?;
        *at += 1 + len;
        Some(s)
    };
    let has = |flag: u16| flags & flag != 0;
    for flag in [CONTENT_TYPE, CONTENT_ENCODING] {
        if has(flag) && short(&mut at).is_none() {
            return scan;
        }
    }
    if has(HEADERS) {
        let Some(&[a, b, c, d]) = data.get(at..at + 4) else {
            return scan;
        };
        at += 4 + u32::from_be_bytes([a, b, c, d]) as usize;
    }
    if has(DELIVERY_MODE) {
        scan.delivery_mode = data.get(at).copied();
        at += 1;
    }
    if has(PRIORITY) {
        scan.priority = data.get(at).copied();
        at += 1;
    }
    for flag in [CORRELATION_ID, REPLY_TO] {
        if has(flag) && short(&mut at).is_none() {
            return scan;
        }
    }
    if has(EXPIRATION) {
        scan.expiration = short(&mut at).and_then(|s| std::str::from_utf8(s).ok());
    }
    scan
}

/// Appends property flags and the present properties.
pub fn encode_properties(p: &BasicProperties, buf: &mut BytesMut) {
    let mut flags = 0u16;
    let mut set = |present: bool, flag: u16| {
        if present {
            flags |= flag;
        }
    };
    set(p.content_type.is_some(), CONTENT_TYPE);
    set(p.content_encoding.is_some(), CONTENT_ENCODING);
    set(p.headers.is_some(), HEADERS);
    set(p.delivery_mode.is_some(), DELIVERY_MODE);
    set(p.priority.is_some(), PRIORITY);
    set(p.correlation_id.is_some(), CORRELATION_ID);
    set(p.reply_to.is_some(), REPLY_TO);
    set(p.expiration.is_some(), EXPIRATION);
    set(p.message_id.is_some(), MESSAGE_ID);
    set(p.timestamp.is_some(), TIMESTAMP);
    set(p.kind.is_some(), TYPE);
    set(p.user_id.is_some(), USER_ID);
    set(p.app_id.is_some(), APP_ID);
    set(p.cluster_id.is_some(), CLUSTER_ID);
    buf.put_u16(flags);

    let short = |buf: &mut BytesMut, v: &Option<String>| {
        if let Some(s) = v {
            put_shortstr(buf, s);
        }
    };
    short(buf, &p.content_type);
    short(buf, &p.content_encoding);
    if let Some(h) = &p.headers {
        encode_table(h, buf);
    }
    if let Some(v) = p.delivery_mode {
        buf.put_u8(v);
    }
    if let Some(v) = p.priority {
        buf.put_u8(v);
    }
    short(buf, &p.correlation_id);
    short(buf, &p.reply_to);
    short(buf, &p.expiration);
    short(buf, &p.message_id);
    if let Some(v) = p.timestamp {
        buf.put_u64(v);
    }
    short(buf, &p.kind);
    short(buf, &p.user_id);
    short(buf, &p.app_id);
    short(buf, &p.cluster_id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{FieldTable, FieldValue};

    fn all_set() -> BasicProperties {
        BasicProperties {
            content_type: Some("text/plain".into()),
            content_encoding: Some("gzip".into()),
            headers: Some([("x", FieldValue::I32(1))].into_iter().collect()),
            delivery_mode: Some(2),
            priority: Some(9),
            correlation_id: Some("corr".into()),
            reply_to: Some("amq.rabbitmq.reply-to".into()),
            expiration: Some("60000".into()),
            message_id: Some("m-1".into()),
            timestamp: Some(1_700_000_000),
            kind: Some("order.created".into()),
            user_id: Some("guest".into()),
            app_id: Some("tests".into()),
            cluster_id: Some("c".into()),
        }
    }

    fn round_trip(p: &BasicProperties) -> BasicProperties {
        let mut buf = BytesMut::new();
        encode_properties(p, &mut buf);
        decode_properties(buf.freeze()).expect("decodes")
    }

    #[test]
    fn scan_finds_delivery_mode_and_expiration_past_every_earlier_field() {
        let scan_of = |p: &BasicProperties| {
            let mut buf = BytesMut::new();
            encode_properties(p, &mut buf);
            let s = scan_properties(&buf);
            (s.delivery_mode, s.expiration.map(str::to_string))
        };
        let full = all_set();
        assert_eq!(scan_of(&full), (Some(2), Some("60000".into())));
        let mut buf = BytesMut::new();
        encode_properties(&full, &mut buf);
        assert_eq!(scan_properties(&buf).priority, Some(9));
        assert_eq!(scan_of(&BasicProperties::default()), (None, None));
        let only_ttl = BasicProperties {
            reply_to: Some("r".into()),
            expiration: Some("5".into()),
            ..Default::default()
        };
        assert_eq!(scan_of(&only_ttl), (None, Some("5".into())));
        let no_ttl = BasicProperties {
            expiration: None,
            ..full
        };
        assert_eq!(scan_of(&no_ttl), (Some(2), None));
        // Cut short: what was found so far, no panic.
        assert_eq!(scan_properties(&[0x10]), Scan::default());
        assert_eq!(scan_properties(&[0x31, 0x00, 0, 0]).delivery_mode, None);
    }

    #[test]
    fn every_property_round_trips() {
        let p = all_set();
        assert_eq!(round_trip(&p), p);
        assert_eq!(
            round_trip(&BasicProperties::default()),
            BasicProperties::default()
        );
    }

    #[test]
    fn each_property_alone_round_trips() {
        let full = all_set();
        let singles = [
            BasicProperties {
                content_type: full.content_type.clone(),
                ..Default::default()
            },
            BasicProperties {
                headers: Some(FieldTable::new()),
                ..Default::default()
            },
            BasicProperties {
                delivery_mode: Some(1),
                ..Default::default()
            },
            BasicProperties {
                timestamp: Some(0),
                ..Default::default()
            },
            BasicProperties {
                cluster_id: Some(String::new()),
                ..Default::default()
            },
        ];
        for p in singles {
            assert_eq!(round_trip(&p), p);
        }
    }

    #[test]
    fn known_bytes_for_content_type_and_delivery_mode() {
        let p = BasicProperties {
            content_type: Some("text/plain".into()),
            delivery_mode: Some(2),
            ..Default::default()
        };
        let mut buf = BytesMut::new();
        encode_properties(&p, &mut buf);
        let mut expected = vec![0x90, 0x00, 10];
        expected.extend_from_slice(b"text/plain");
        expected.push(2);
        assert_eq!(&buf[..], &expected[..]);
    }

    #[test]
    fn empty_continuation_words_are_accepted() {
        let data = Bytes::from_static(&[0x10, 0x01, 0x00, 0x00, 2]);
        assert_eq!(decode_properties(data).unwrap().delivery_mode, Some(2));
    }

    #[test]
    fn malformed_properties_are_syntax_errors() {
        for data in [
            &[][..],
            &[0x80],
            &[0x80, 0, 5, b'a'],
            &[0x10, 0, 2, 99],
            &[0x00, 0x02],
            &[0x00, 0x01, 0x80, 0x00],
            &[0x20, 0, 0, 0, 0, 9, 1, b'k', b'Z'],
        ] {
            let err = decode_properties(Bytes::copy_from_slice(data)).unwrap_err();
            assert_eq!(err.code, ReplyCode::SyntaxError, "{data:?}");
        }
    }
}
