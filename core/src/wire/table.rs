//! Field tables and field values with RabbitMQ's type letters.
//!
//! Tables carry queue and exchange arguments, client properties and message
//! headers. Values keep their wire type (see `FieldValue`), so headers are sent
//! on exactly as they arrived. Anything malformed inside a table is a
//! 502 SYNTAX_ERROR, including an unknown type letter. Nesting is limited to
//! [`MAX_DEPTH`] levels so a small hostile frame cannot exhaust the stack.

use super::primitives::{
    begin_u32_len, patch_u32_len, put_longstr, put_shortstr, ParseError, Reader,
};
use crate::error::{AmqpError, ReplyCode};
use crate::types::{FieldTable, FieldValue};
use bytes::{BufMut, Bytes, BytesMut};

/// How deeply tables and arrays may nest. Real clients use two or three levels;
/// the limit only exists to bound recursion on peer data.
pub const MAX_DEPTH: usize = 64;

/// Decodes a table's contents (the bytes after its u32 length prefix, or an
/// AMQPLAIN response, which is such contents without the prefix).
pub fn decode_table(data: Bytes) -> Result<FieldTable, AmqpError> {
    parse_table_contents(data, 0).map_err(syntax_error)
}

/// Encodes a table with its u32 length prefix, as it appears in methods.
pub fn encode_table(table: &FieldTable, buf: &mut BytesMut) {
    let at = begin_u32_len(buf);
    encode_table_contents(table, buf);
    patch_u32_len(buf, at);
}

/// Encodes a table's entries without the length prefix (AMQPLAIN responses).
pub fn encode_table_contents(table: &FieldTable, buf: &mut BytesMut) {
    for (key, value) in table.iter() {
        put_shortstr(buf, key);
        encode_field_value(value, buf);
    }
}

/// Encodes one value: its type letter, then the value.
pub fn encode_field_value(value: &FieldValue, buf: &mut BytesMut) {
    match value {
        FieldValue::Bool(b) => {
            buf.put_u8(b't');
            buf.put_u8(u8::from(*b));
        }
        FieldValue::I8(v) => {
            buf.put_u8(b'b');
            buf.put_i8(*v);
        }
        FieldValue::U8(v) => {
            buf.put_u8(b'B');
            buf.put_u8(*v);
        }
        FieldValue::I16(v) => {
            buf.put_u8(b's');
            buf.put_i16(*v);
        }
        FieldValue::U16(v) => {
            buf.put_u8(b'u');
            buf.put_u16(*v);
        }
        FieldValue::I32(v) => {
            buf.put_u8(b'I');
            buf.put_i32(*v);
        }
        FieldValue::U32(v) => {
            buf.put_u8(b'i');
            buf.put_u32(*v);
        }
        FieldValue::I64(v) => {
            buf.put_u8(b'l');
            buf.put_i64(*v);
        }
        FieldValue::F32(v) => {
            buf.put_u8(b'f');
            buf.put_f32(*v);
        }
        FieldValue::F64(v) => {
            buf.put_u8(b'd');
            buf.put_f64(*v);
        }
        FieldValue::Decimal(scale, v) => {
            buf.put_u8(b'D');
            buf.put_u8(*scale);
            buf.put_u32(*v);
        }
        FieldValue::LongStr(s) => {
            buf.put_u8(b'S');
            put_longstr(buf, s);
        }
        FieldValue::Array(items) => {
            buf.put_u8(b'A');
            let at = begin_u32_len(buf);
            for item in items {
                encode_field_value(item, buf);
            }
            patch_u32_len(buf, at);
        }
        FieldValue::Timestamp(t) => {
            buf.put_u8(b'T');
            buf.put_u64(*t);
        }
        FieldValue::Table(t) => {
            buf.put_u8(b'F');
            encode_table(t, buf);
        }
        FieldValue::Void => buf.put_u8(b'V'),
        FieldValue::Bytes(b) => {
            buf.put_u8(b'x');
            put_longstr(buf, b);
        }
    }
}

/// Reads a length-prefixed table from method arguments or properties. A prefix
/// that runs past the data is `Truncated` (the caller's context decides the
/// code); anything wrong inside is a `Syntax` error.
pub fn read_table(r: &mut Reader) -> Result<FieldTable, ParseError> {
    let contents = r.longstr()?;
    parse_table_contents(contents, 0)
}

fn syntax_error(e: ParseError) -> AmqpError {
    match e {
        ParseError::Truncated => AmqpError::new(ReplyCode::SyntaxError, "malformed field table"),
        ParseError::Syntax(text) => AmqpError::new(ReplyCode::SyntaxError, text),
    }
}

/// Inside a table every length is bounded by the table's own, so running out
/// of bytes is a syntax error, not a truncated method.
fn inside(e: ParseError) -> ParseError {
    match e {
        ParseError::Truncated => ParseError::Syntax("malformed field table".into()),
        other => other,
    }
}

fn parse_table_contents(data: Bytes, depth: usize) -> Result<FieldTable, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::Syntax(format!(
            "field table nested more than {MAX_DEPTH} levels deep"
        )));
    }
    let mut r = Reader::new(data);
    let mut entries = Vec::new();
    while !r.is_empty() {
        let key = r.shortstr().map_err(inside)?;
        let value = parse_value(&mut r, depth).map_err(inside)?;
        // Kept as a list in received order; duplicates are kept too, as
        // RabbitMQ keeps them (lookups find the first).
        entries.push((key, value));
    }
    Ok(FieldTable(entries))
}

fn parse_array(data: Bytes, depth: usize) -> Result<Vec<FieldValue>, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::Syntax(format!(
            "field array nested more than {MAX_DEPTH} levels deep"
        )));
    }
    let mut r = Reader::new(data);
    let mut items = Vec::new();
    while !r.is_empty() {
        items.push(parse_value(&mut r, depth).map_err(inside)?);
    }
    Ok(items)
}

fn parse_value(r: &mut Reader, depth: usize) -> Result<FieldValue, ParseError> {
    let letter = r.u8()?;
    Ok(match letter {
        b't' => FieldValue::Bool(r.u8()? != 0),
        b'b' => FieldValue::I8(r.i8()?),
        b'B' => FieldValue::U8(r.u8()?),
        b's' => FieldValue::I16(r.i16()?),
        b'u' => FieldValue::U16(r.u16()?),
        b'I' => FieldValue::I32(r.i32()?),
        b'i' => FieldValue::U32(r.u32()?),
        // RabbitMQ reads 'L' as a signed 64-bit long too (0-9-1 errata).
        b'l' | b'L' => FieldValue::I64(r.i64()?),
        b'f' => FieldValue::F32(r.f32()?),
        b'd' => FieldValue::F64(r.f64()?),
        b'D' => {
            let scale = r.u8()?;
            FieldValue::Decimal(scale, r.u32()?)
        }
        b'S' => FieldValue::LongStr(r.longstr()?),
        b'A' => FieldValue::Array(parse_array(r.longstr()?, depth + 1)?),
        b'T' => FieldValue::Timestamp(r.u64()?),
        b'F' => FieldValue::Table(parse_table_contents(r.longstr()?, depth + 1)?),
        b'V' => FieldValue::Void,
        b'x' => FieldValue::Bytes(r.longstr()?),
        other => {
            return Err(ParseError::Syntax(format!(
                "unknown field type {} in field table",
                describe_letter(other)
            )))
        }
    })
}

fn describe_letter(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("0x{b:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn every_type() -> FieldTable {
        let inner: FieldTable = [("k", FieldValue::str("v"))].into_iter().collect();
        FieldTable(vec![
            ("bool".into(), FieldValue::Bool(true)),
            ("i8".into(), FieldValue::I8(-5)),
            ("u8".into(), FieldValue::U8(250)),
            ("i16".into(), FieldValue::I16(-300)),
            ("u16".into(), FieldValue::U16(60000)),
            ("i32".into(), FieldValue::I32(-70000)),
            ("u32".into(), FieldValue::U32(4_000_000_000)),
            ("i64".into(), FieldValue::I64(-5_000_000_000)),
            ("f32".into(), FieldValue::F32(1.5)),
            ("f64".into(), FieldValue::F64(-2.25)),
            ("dec".into(), FieldValue::Decimal(2, 12345)),
            ("str".into(), FieldValue::str("héllo")),
            (
                "arr".into(),
                FieldValue::Array(vec![
                    FieldValue::I32(1),
                    FieldValue::str("x"),
                    FieldValue::Void,
                ]),
            ),
            ("ts".into(), FieldValue::Timestamp(1_700_000_000)),
            ("tab".into(), FieldValue::Table(inner)),
            ("void".into(), FieldValue::Void),
            (
                "bin".into(),
                FieldValue::Bytes(Bytes::from_static(&[0, 255, 7])),
            ),
        ])
    }

    fn round_trip(t: &FieldTable) -> FieldTable {
        let mut buf = BytesMut::new();
        encode_table(t, &mut buf);
        let mut r = Reader::new(buf.freeze());
        let back = read_table(&mut r).expect("decodes");
        assert!(r.is_empty());
        back
    }

    #[test]
    fn every_type_round_trips() {
        let t = every_type();
        assert_eq!(round_trip(&t), t);
    }

    #[test]
    fn known_bytes_for_a_small_table() {
        let t: FieldTable = [("a", FieldValue::I32(1)), ("b", FieldValue::Bool(false))]
            .into_iter()
            .collect();
        let mut buf = BytesMut::new();
        encode_table(&t, &mut buf);
        let expected: &[u8] = &[0, 0, 0, 11, 1, b'a', b'I', 0, 0, 0, 1, 1, b'b', b't', 0];
        assert_eq!(&buf[..], expected);
    }

    #[test]
    fn capital_l_reads_as_a_signed_long() {
        let data = Bytes::from_static(&[1, b'n', b'L', 255, 255, 255, 255, 255, 255, 255, 254]);
        let t = decode_table(data).unwrap();
        assert_eq!(t.get("n"), Some(&FieldValue::I64(-2)));
    }

    #[test]
    fn unknown_type_letter_is_a_syntax_error() {
        let err = decode_table(Bytes::from_static(&[1, b'k', b'Q', 0])).unwrap_err();
        assert_eq!(err.code, ReplyCode::SyntaxError);
        assert!(
            err.text
                .starts_with("SYNTAX_ERROR - unknown field type 'Q'"),
            "{}",
            err.text
        );
    }

    #[test]
    fn truncated_contents_are_a_syntax_error() {
        for data in [
            &[1u8][..],
            &[3, b'a', b'b'],
            &[1, b'a', b'I', 0, 0],
            &[1, b'a', b'S', 0, 0, 0, 5, b'x'],
            &[1, b'a'],
        ] {
            let err = decode_table(Bytes::copy_from_slice(data)).unwrap_err();
            assert_eq!(err.code, ReplyCode::SyntaxError, "{data:?}");
        }
    }

    #[test]
    fn a_prefix_past_the_end_is_truncated_for_the_caller_to_judge() {
        let mut r = Reader::new(Bytes::from_static(&[0, 0, 0, 10, 1]));
        assert_eq!(read_table(&mut r), Err(ParseError::Truncated));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // 10,000 nested arrays in 50 kB, written directly (building them as
        // values would make the test itself recurse that deep).
        const LEVELS: u32 = 10_000;
        let mut contents = BytesMut::new();
        put_shortstr(&mut contents, "deep");
        for level in 0..LEVELS {
            contents.put_u8(b'A');
            contents.put_u32(5 * (LEVELS - level - 1) + 1);
        }
        contents.put_u8(b'V');
        let err = decode_table(contents.freeze()).unwrap_err();
        assert_eq!(err.code, ReplyCode::SyntaxError);
        assert!(err.text.contains("nested"), "{}", err.text);
    }

    fn any_value() -> impl Strategy<Value = FieldValue> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(FieldValue::Bool),
            any::<i8>().prop_map(FieldValue::I8),
            any::<u8>().prop_map(FieldValue::U8),
            any::<i16>().prop_map(FieldValue::I16),
            any::<u16>().prop_map(FieldValue::U16),
            any::<i32>().prop_map(FieldValue::I32),
            any::<u32>().prop_map(FieldValue::U32),
            any::<i64>().prop_map(FieldValue::I64),
            (-1e6f32..1e6).prop_map(FieldValue::F32),
            (-1e12f64..1e12).prop_map(FieldValue::F64),
            (any::<u8>(), any::<u32>()).prop_map(|(s, v)| FieldValue::Decimal(s, v)),
            proptest::collection::vec(any::<u8>(), 0..20)
                .prop_map(|v| FieldValue::LongStr(Bytes::from(v))),
            any::<u64>().prop_map(FieldValue::Timestamp),
            Just(FieldValue::Void),
            proptest::collection::vec(any::<u8>(), 0..20)
                .prop_map(|v| FieldValue::Bytes(Bytes::from(v))),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(FieldValue::Array),
                proptest::collection::vec(("[a-z-]{0,12}", inner), 0..5)
                    .prop_map(|kv| FieldValue::Table(FieldTable(kv))),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_table_round_trips(entries in proptest::collection::vec(("[a-zA-Z0-9_.-]{0,30}", any_value()), 0..8)) {
            let t = FieldTable(entries);
            prop_assert_eq!(round_trip(&t), t);
        }

        #[test]
        fn any_bytes_decode_without_panicking(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_table(Bytes::from(data));
        }
    }

    #[test]
    fn nesting_within_the_limit_is_fine() {
        let mut value = FieldValue::I32(7);
        for _ in 0..MAX_DEPTH {
            value = FieldValue::Table([("n", value)].into_iter().collect());
        }
        let t: FieldTable = [("top", value)].into_iter().collect();
        assert_eq!(round_trip(&t), t);
    }
}
