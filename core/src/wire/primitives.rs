//! AMQP's primitive types: octets, big-endian integers, short and long strings,
//! packed bits.
//!
//! Everything read here comes from a peer, so the [`Reader`] checks every length
//! before it slices and never panics: a short read is [`ParseError::Truncated`],
//! which each caller turns into the reply code RabbitMQ uses in its context
//! (501 for method arguments, 502 inside field tables and properties).
//! The writers work on our own data and append to a `BytesMut`.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt::Write as _;

/// Why some bytes could not be parsed. Callers map this to an `AmqpError`,
/// because the right reply code depends on where the bytes were.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The data ended before a field did, or a declared length ran past the end.
    Truncated,
    /// Structurally wrong data, with an explanation for the reply text.
    Syntax(String),
}

/// A cursor over received bytes. Slices share the frame's buffer (no copies
/// for long strings and bodies).
#[derive(Clone, Debug)]
pub struct Reader {
    data: Bytes,
}

impl Reader {
    pub fn new(data: Bytes) -> Reader {
        Reader { data }
    }

    pub fn remaining(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next `n` bytes, or `Truncated` if there are fewer.
    pub fn take(&mut self, n: usize) -> Result<Bytes, ParseError> {
        if self.data.len() < n {
            return Err(ParseError::Truncated);
        }
        Ok(self.data.split_to(n))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let head = self.data.get(..N).ok_or(ParseError::Truncated)?;
        let out: [u8; N] = head.try_into().map_err(|_| ParseError::Truncated)?;
        self.data.advance(N);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, ParseError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, ParseError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, ParseError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub fn i8(&mut self) -> Result<i8, ParseError> {
        Ok(i8::from_be_bytes(self.array()?))
    }

    pub fn i16(&mut self) -> Result<i16, ParseError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> Result<i32, ParseError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> Result<i64, ParseError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    pub fn f32(&mut self) -> Result<f32, ParseError> {
        Ok(f32::from_be_bytes(self.array()?))
    }

    pub fn f64(&mut self) -> Result<f64, ParseError> {
        Ok(f64::from_be_bytes(self.array()?))
    }

    /// A short string's raw bytes (u8 length prefix).
    pub fn shortstr_bytes(&mut self) -> Result<Bytes, ParseError> {
        let len = self.u8()? as usize;
        self.take(len)
    }

    /// A short string as text. AMQP short strings are bytes; the core keeps
    /// names as `String`, so invalid UTF-8 is replaced rather than refused
    /// (RabbitMQ accepts any bytes in most short strings).
    pub fn shortstr(&mut self) -> Result<String, ParseError> {
        let raw = self.shortstr_bytes()?;
        // The usual, valid case takes the plain check (every publish carries
        // two short strings); only invalid text goes through the replacing one.
        Ok(match std::str::from_utf8(&raw) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(&raw).into_owned(),
        })
    }

    /// A long string (u32 length prefix), as bytes.
    pub fn longstr(&mut self) -> Result<Bytes, ParseError> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

/// Whether bit `index` (0 = least significant) of a packed-bits octet is set.
pub fn bit(octet: u8, index: u8) -> bool {
    octet & (1u8 << (index & 7)) != 0
}

/// Writes a short string, cut to 255 bytes at a character boundary if longer
/// (reply texts are ours and can be long; names are limited to 255 by the core).
pub fn put_shortstr(buf: &mut BytesMut, s: &str) {
    let mut end = s.len().min(255);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let bytes = s.as_bytes().get(..end).unwrap_or_default();
    buf.put_u8(end as u8);
    buf.put_slice(bytes);
}

/// Writes a long string (u32 length prefix). Anything we send is far below
/// 4 GiB; the length saturates rather than wraps if that ever stops being true.
pub fn put_longstr(buf: &mut BytesMut, s: &[u8]) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    buf.put_u32(len);
    buf.put_slice(s.get(..len as usize).unwrap_or(s));
}

/// Packs consecutive bit fields into one octet, first field in the least
/// significant bit, as AMQP 0-9-1 requires. At most 8 bits (no method has more
/// than 5 in a row).
pub fn put_bits(buf: &mut BytesMut, bits: &[bool]) {
    let mut octet = 0u8;
    for (i, &b) in bits.iter().take(8).enumerate() {
        if b {
            octet |= 1 << i;
        }
    }
    buf.put_u8(octet);
}

/// Reserves a u32 length slot; returns its position for [`patch_u32_len`].
pub fn begin_u32_len(buf: &mut BytesMut) -> usize {
    let at = buf.len();
    buf.put_u32(0);
    at
}

/// Fills a slot from [`begin_u32_len`] with the number of bytes written since.
pub fn patch_u32_len(buf: &mut BytesMut, at: usize) {
    let len = buf.len().saturating_sub(at + 4);
    let len = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    if let Some(slot) = buf.get_mut(at..at + 4) {
        slot.copy_from_slice(&len);
    }
}

/// Renders bytes the way Erlang prints a binary with `~p` (text when printable,
/// otherwise a list of octets), as RabbitMQ quotes frames in FRAME_ERROR texts.
/// Long binaries are cut, so a reply text stays short.
pub fn erlang_binary(bytes: &[u8]) -> String {
    const LIMIT: usize = 64;
    let shown = bytes.get(..LIMIT).unwrap_or(bytes);
    let more = if bytes.len() > LIMIT { ",..." } else { "" };
    let printable = !shown.is_empty() && shown.iter().all(|&b| (0x20..0x7f).contains(&b));
    if printable {
        let text: String = shown
            .iter()
            .map(|&b| match b {
                b'"' => "\\\"".to_string(),
                b'\\' => "\\\\".to_string(),
                _ => (b as char).to_string(),
            })
            .collect();
        if more.is_empty() {
            format!("<<\"{text}\">>")
        } else {
            format!("<<\"{text}\"{more}>>")
        }
    } else {
        let mut out = String::from("<<");
        for (i, b) in shown.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{b}");
        }
        out.push_str(more);
        out.push_str(">>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_short_data_without_panicking() {
        let mut r = Reader::new(Bytes::from_static(&[0, 1, 2]));
        assert_eq!(r.u32(), Err(ParseError::Truncated));
        assert_eq!(r.u16(), Ok(1));
        assert_eq!(r.shortstr_bytes(), Err(ParseError::Truncated));
        let mut r = Reader::new(Bytes::from_static(&[0, 0, 0, 9, 1]));
        assert_eq!(r.longstr(), Err(ParseError::Truncated));
    }

    #[test]
    fn bits_pack_least_significant_first() {
        let mut buf = BytesMut::new();
        put_bits(&mut buf, &[true, false, true, true]);
        assert_eq!(&buf[..], &[0b1101]);
        assert!(bit(0b1101, 0) && !bit(0b1101, 1) && bit(0b1101, 3));
    }

    #[test]
    fn shortstr_text_replaces_invalid_utf8_and_keeps_valid_text() {
        let mut r = Reader::new(Bytes::from_static(b"\x03a\xffb\x05caf\xc3\xa9"));
        assert_eq!(r.shortstr().as_deref(), Ok("a\u{fffd}b"));
        assert_eq!(r.shortstr().as_deref(), Ok("caf\u{e9}"));
    }

    #[test]
    fn shortstr_is_cut_at_a_char_boundary() {
        let long = "é".repeat(200); // 400 bytes
        let mut buf = BytesMut::new();
        put_shortstr(&mut buf, &long);
        assert_eq!(buf[0], 254);
        assert!(std::str::from_utf8(&buf[1..]).is_ok());
    }

    #[test]
    fn length_slots_are_patched() {
        let mut buf = BytesMut::new();
        let at = begin_u32_len(&mut buf);
        buf.put_slice(b"abc");
        patch_u32_len(&mut buf, at);
        assert_eq!(&buf[..], &[0, 0, 0, 3, b'a', b'b', b'c']);
    }

    #[test]
    fn binaries_render_like_erlang() {
        assert_eq!(erlang_binary(b"abc"), "<<\"abc\">>");
        assert_eq!(erlang_binary(&[1, 2, 206]), "<<1,2,206>>");
        assert_eq!(erlang_binary(&[]), "<<>>");
    }
}
