//! The frame layer: protocol header, frame header (type u8, channel u16,
//! size u32), payload, frame-end octet 0xCE.
//!
//! The decoder checks a frame's declared size against the negotiated
//! `frame_max` *before* waiting for (or reserving room for) its payload, so a
//! peer cannot make us buffer more than one legal frame. Like RabbitMQ it
//! tolerates payloads up to `frame_max` itself (clients commonly forget the
//! 8 octets of framing), and it never panics on any input.
//!
//! Frame payloads are only split into their parts here (method ids and raw
//! arguments, raw content header); decoding methods and properties is left to
//! the layers above, which know the channel's state, as RabbitMQ's reader does.

use super::wire::{erlang_binary, Reader};
use super::CodecError;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};
use warren_core::error::{AmqpError, ReplyCode};

pub const FRAME_METHOD: u8 = 1;
pub const FRAME_HEADER: u8 = 2;
pub const FRAME_BODY: u8 = 3;
pub const FRAME_HEARTBEAT: u8 = 8;
pub const FRAME_END: u8 = 0xCE;

/// Octets of framing around a payload: 7 of header, 1 frame-end.
pub const FRAME_OVERHEAD: u32 = 8;
/// The smallest `frame_max` a peer may negotiate, and the limit in force
/// before `connection.tune-ok` (as in RabbitMQ).
pub const FRAME_MIN_SIZE: u32 = 4096;

/// What we send first (and what we answer an unsupported header with).
pub const PROTOCOL_HEADER: [u8; 8] = *b"AMQP\x00\x00\x09\x01";

/// A heartbeat frame, ready to write.
pub const HEARTBEAT_FRAME: [u8; 8] = [FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END];

/// How much buffer to reserve at once while a frame's payload arrives: the
/// buffer grows with data actually received, never by a peer's say-so alone.
const RESERVE_STEP: usize = 64 * 1024;

/// Whether the 8 octets a client opened with ask for a protocol we speak:
/// AMQP 0-9-1, or the 0-9 header `AMQP\x01\x01\x00\x09`, which RabbitMQ treats as
/// 0-9-1. Anything else is answered with [`PROTOCOL_HEADER`] and the socket closed.
pub fn is_supported_protocol_header(header: &[u8]) -> bool {
    header == PROTOCOL_HEADER || header == b"AMQP\x01\x01\x00\x09"
}

/// One frame, its payload split into parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub channel: u16,
    pub payload: FramePayload,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FramePayload {
    /// A method: its ids and its still-encoded arguments.
    Method(MethodFrame),
    /// A content header; properties are decoded once the channel expects them.
    Header(ContentHeader),
    /// A piece of content body.
    Body(Bytes),
    Heartbeat,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MethodFrame {
    pub class_id: u16,
    pub method_id: u16,
    pub args: Bytes,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContentHeader {
    pub class_id: u16,
    /// Always 0 in 0-9-1; RabbitMQ refuses headers with any other weight.
    pub weight: u16,
    pub body_size: u64,
    /// Property flags and property values, not yet decoded.
    pub properties: Bytes,
}

impl Frame {
    pub fn heartbeat() -> Frame {
        Frame {
            channel: 0,
            payload: FramePayload::Heartbeat,
        }
    }

    /// The frame type octet.
    pub fn frame_type(&self) -> u8 {
        match self.payload {
            FramePayload::Method(_) => FRAME_METHOD,
            FramePayload::Header(_) => FRAME_HEADER,
            FramePayload::Body(_) => FRAME_BODY,
            FramePayload::Heartbeat => FRAME_HEARTBEAT,
        }
    }

    /// The payload as it was on the wire.
    pub fn payload_bytes(&self) -> Bytes {
        let mut buf = BytesMut::new();
        match &self.payload {
            FramePayload::Method(m) => {
                buf.put_u16(m.class_id);
                buf.put_u16(m.method_id);
                buf.put_slice(&m.args);
            }
            FramePayload::Header(h) => {
                buf.put_u16(h.class_id);
                buf.put_u16(h.weight);
                buf.put_u64(h.body_size);
                buf.put_slice(&h.properties);
            }
            FramePayload::Body(b) => return b.clone(),
            FramePayload::Heartbeat => {}
        }
        buf.freeze()
    }

    /// Appends the frame, framing included.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_frame(buf, self.frame_type(), self.channel, &self.payload_bytes());
    }

    /// The 505 UNEXPECTED_FRAME RabbitMQ sends for a frame that has no business
    /// where it arrived (a heartbeat on a channel, content on channel 0, any
    /// frame before the connection is open): "type 8, all octets = <<>>".
    pub fn unexpected(&self) -> AmqpError {
        let payload = self.payload_bytes();
        let (which, shown) = snippet(&payload);
        AmqpError::new(
            ReplyCode::UnexpectedFrame,
            format_args!(
                "type {}, {which} octets = {}",
                self.frame_type(),
                erlang_binary(shown)
            ),
        )
    }
}

/// Appends one frame with the given payload.
pub fn write_frame(buf: &mut BytesMut, frame_type: u8, channel: u16, payload: &[u8]) {
    buf.reserve(payload.len() + FRAME_OVERHEAD as usize);
    write_frame_head(buf, frame_type, channel, payload.len());
    buf.put_slice(payload);
    buf.put_u8(FRAME_END);
}

/// Appends a frame's type, channel and payload size; the caller appends the
/// payload and [`FRAME_END`] (or hands the payload over as a piece of its own).
pub fn write_frame_head(buf: &mut BytesMut, frame_type: u8, channel: u16, size: usize) {
    buf.put_u8(frame_type);
    buf.put_u16(channel);
    buf.put_u32(u32::try_from(size).unwrap_or(u32::MAX));
}

/// Appends a frame whose payload `fill` writes straight into `buf` (no
/// intermediate copy); the size field is patched afterwards.
pub(crate) fn write_frame_with(
    buf: &mut BytesMut,
    frame_type: u8,
    channel: u16,
    fill: impl FnOnce(&mut BytesMut),
) {
    buf.put_u8(frame_type);
    buf.put_u16(channel);
    let at = super::wire::begin_u32_len(buf);
    fill(buf);
    super::wire::patch_u32_len(buf, at);
    buf.put_u8(FRAME_END);
}

/// RabbitMQ quotes at most the first 16 octets of a bad frame.
fn snippet(payload: &[u8]) -> (&'static str, &[u8]) {
    match payload.get(..16) {
        Some(first) if payload.len() > 16 => ("first 16", first),
        _ => ("all", payload),
    }
}

/// RabbitMQ's FRAME_ERROR text: "type 1, all octets = <<...>>: reason".
fn frame_error(frame_type: u8, payload: &[u8], reason: impl std::fmt::Display) -> AmqpError {
    let (which, shown) = snippet(payload);
    AmqpError::new(
        ReplyCode::FrameError,
        format_args!(
            "type {frame_type}, {which} octets = {}: {reason}",
            erlang_binary(shown)
        ),
    )
}

/// Takes one frame off the front of `buf`, if a whole one is there.
///
/// `frame_max` is the negotiated maximum frame size (0 = no limit); payloads
/// up to `frame_max` octets are accepted. Errors are connection errors
/// (501 FRAME_ERROR); see [`CodecError::Protocol`] for whether the stream can
/// still be read after one.
pub fn decode_frame(buf: &mut BytesMut, frame_max: u32) -> Result<Option<Frame>, CodecError> {
    let Some(&[frame_type, c0, c1, s0, s1, s2, s3]) = buf.get(..7) else {
        return Ok(None);
    };
    let channel = u16::from_be_bytes([c0, c1]);
    let size = u32::from_be_bytes([s0, s1, s2, s3]);

    if frame_max != 0 && size > frame_max {
        let reason = format!(
            "{{frame_too_large,{size},{}}}",
            frame_max.saturating_sub(FRAME_OVERHEAD)
        );
        return Err(CodecError::Protocol {
            error: frame_error(frame_type, &[], reason),
            lost_sync: true,
        });
    }

    // 7 + size + 1 cannot overflow usize on a 64-bit target, but be exact anyway.
    let Some(total) = (size as usize).checked_add(FRAME_OVERHEAD as usize) else {
        return Err(CodecError::Protocol {
            error: frame_error(frame_type, &[], format_args!("{{frame_too_large,{size}}}")),
            lost_sync: true,
        });
    };
    if buf.len() < total {
        buf.reserve((total - buf.len()).min(RESERVE_STEP));
        return Ok(None);
    }

    let mut whole = buf.split_to(total);
    whole.advance(7);
    let end = whole.get(size as usize).copied();
    whole.truncate(size as usize);
    let payload = whole.freeze();
    if end != Some(FRAME_END) {
        let reason = format!("{{invalid_frame_end_marker,{}}}", end.unwrap_or_default());
        return Err(CodecError::Protocol {
            error: frame_error(frame_type, &payload, reason),
            lost_sync: true,
        });
    }

    match analyze(frame_type, payload.clone()) {
        Some(payload) => Ok(Some(Frame { channel, payload })),
        // The frame was well delimited, so the stream is still in step.
        None => Err(CodecError::Protocol {
            error: frame_error(frame_type, &payload, "unknown_frame"),
            lost_sync: false,
        }),
    }
}

/// Splits a payload by frame type; `None` for what RabbitMQ calls an
/// unknown frame (unknown type, or a payload too short for its type).
fn analyze(frame_type: u8, payload: Bytes) -> Option<FramePayload> {
    let mut r = Reader::new(payload);
    match frame_type {
        FRAME_METHOD => {
            let class_id = r.u16().ok()?;
            let method_id = r.u16().ok()?;
            let args = r.take(r.remaining()).ok()?;
            Some(FramePayload::Method(MethodFrame {
                class_id,
                method_id,
                args,
            }))
        }
        FRAME_HEADER => {
            let class_id = r.u16().ok()?;
            let weight = r.u16().ok()?;
            let body_size = r.u64().ok()?;
            let properties = r.take(r.remaining()).ok()?;
            Some(FramePayload::Header(ContentHeader {
                class_id,
                weight,
                body_size,
                properties,
            }))
        }
        FRAME_BODY => Some(FramePayload::Body(r.take(r.remaining()).ok()?)),
        FRAME_HEARTBEAT if r.is_empty() => Some(FramePayload::Heartbeat),
        _ => None,
    }
}

/// A `tokio_util` codec for frames, holding the negotiated `frame_max`.
///
/// Starts at [`FRAME_MIN_SIZE`], RabbitMQ's limit before tuning; call
/// [`FrameCodec::set_frame_max`] after `connection.tune-ok`.
#[derive(Clone, Debug)]
pub struct FrameCodec {
    frame_max: u32,
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec::new()
    }
}

impl FrameCodec {
    pub fn new() -> FrameCodec {
        FrameCodec {
            frame_max: FRAME_MIN_SIZE,
        }
    }

    pub fn frame_max(&self) -> u32 {
        self.frame_max
    }

    /// 0 means no limit (RabbitMQ's server refuses to negotiate that by default).
    pub fn set_frame_max(&mut self, frame_max: u32) {
        self.frame_max = frame_max;
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        decode_frame(src, self.frame_max)
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        frame.encode(dst);
        Ok(())
    }
}

/// Bytes already framed (e.g. by [`super::output::encode_output`]) pass through.
impl Encoder<Bytes> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, bytes: Bytes, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.extend_from_slice(&bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn protocol_error(r: Result<Option<Frame>, CodecError>) -> (AmqpError, bool) {
        match r {
            Err(CodecError::Protocol { error, lost_sync }) => (error, lost_sync),
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }

    #[test]
    fn protocol_headers() {
        assert!(is_supported_protocol_header(b"AMQP\x00\x00\x09\x01"));
        assert!(is_supported_protocol_header(b"AMQP\x01\x01\x00\x09"));
        assert!(!is_supported_protocol_header(b"AMQP\x00\x01\x00\x00"));
        assert!(!is_supported_protocol_header(b"GET / HT"));
        assert!(!is_supported_protocol_header(b"AMQP"));
    }

    #[test]
    fn decodes_a_heartbeat_and_leaves_the_rest() {
        let mut buf = BytesMut::from(&HEARTBEAT_FRAME[..]);
        buf.extend_from_slice(&[1, 0]);
        let f = decode_frame(&mut buf, 4096).unwrap().unwrap();
        assert_eq!(f, Frame::heartbeat());
        assert_eq!(&buf[..], &[1, 0]);
        assert_eq!(decode_frame(&mut buf, 4096).unwrap(), None);
    }

    #[test]
    fn waits_for_a_whole_frame() {
        let mut whole = BytesMut::new();
        write_frame(&mut whole, FRAME_BODY, 3, b"hello");
        for cut in 0..whole.len() {
            let mut part = BytesMut::from(&whole[..cut]);
            assert_eq!(decode_frame(&mut part, 4096).unwrap(), None, "cut at {cut}");
            assert_eq!(part.len(), cut);
        }
        let mut all = whole.clone();
        let f = decode_frame(&mut all, 4096).unwrap().unwrap();
        assert_eq!(f.channel, 3);
        assert_eq!(f.payload, FramePayload::Body(Bytes::from_static(b"hello")));
        assert!(all.is_empty());
    }

    #[test]
    fn splits_method_and_header_payloads() {
        let mut buf = BytesMut::new();
        write_frame(&mut buf, FRAME_METHOD, 1, &[0, 60, 0, 40, 9, 9]);
        write_frame(
            &mut buf,
            FRAME_HEADER,
            1,
            &[0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0x80, 0],
        );
        let m = decode_frame(&mut buf, 0).unwrap().unwrap();
        assert_eq!(
            m.payload,
            FramePayload::Method(MethodFrame {
                class_id: 60,
                method_id: 40,
                args: Bytes::from_static(&[9, 9])
            })
        );
        let h = decode_frame(&mut buf, 0).unwrap().unwrap();
        assert_eq!(
            h.payload,
            FramePayload::Header(ContentHeader {
                class_id: 60,
                weight: 0,
                body_size: 5,
                properties: Bytes::from_static(&[0x80, 0])
            })
        );
    }

    #[test]
    fn bad_frame_end_is_a_frame_error_that_loses_sync() {
        let mut buf = BytesMut::from(&[1u8, 0, 0, 0, 0, 0, 4, 0, 10, 0, 40, 0xCD][..]);
        let (e, lost) = protocol_error(decode_frame(&mut buf, 4096));
        assert_eq!(e.code, ReplyCode::FrameError);
        assert_eq!(
            e.text,
            "FRAME_ERROR - type 1, all octets = <<0,10,0,40>>: {invalid_frame_end_marker,205}"
        );
        assert!(lost);
    }

    #[test]
    fn oversize_frame_is_refused_from_its_header_alone() {
        // Only the 7-octet header has arrived; it declares 1 GiB.
        let mut buf = BytesMut::from(&[3u8, 0, 1, 0x40, 0, 0, 0][..]);
        let (e, lost) = protocol_error(decode_frame(&mut buf, 131_072));
        assert_eq!(e.code, ReplyCode::FrameError);
        assert!(
            e.text.contains("frame_too_large,1073741824,131064"),
            "{}",
            e.text
        );
        assert!(lost);
        assert!(buf.capacity() < 1024);
    }

    #[test]
    fn payload_of_exactly_frame_max_is_tolerated() {
        let mut buf = BytesMut::new();
        write_frame(&mut buf, FRAME_BODY, 1, &[7; 4096]);
        assert!(decode_frame(&mut buf, 4096).unwrap().is_some());
        let mut buf = BytesMut::new();
        write_frame(&mut buf, FRAME_BODY, 1, &[7; 4097]);
        protocol_error(decode_frame(&mut buf, 4096));
    }

    #[test]
    fn unknown_frame_type_is_consumed_and_reported() {
        let mut buf = BytesMut::new();
        write_frame(&mut buf, 9, 0, b"xyz");
        buf.extend_from_slice(&HEARTBEAT_FRAME);
        let (e, lost) = protocol_error(decode_frame(&mut buf, 4096));
        assert_eq!(e.code, ReplyCode::FrameError);
        assert_eq!(
            e.text,
            "FRAME_ERROR - type 9, all octets = <<\"xyz\">>: unknown_frame"
        );
        assert!(!lost);
        assert_eq!(
            decode_frame(&mut buf, 4096).unwrap(),
            Some(Frame::heartbeat())
        );
    }

    #[test]
    fn short_method_and_header_payloads_are_unknown_frames() {
        for (t, payload) in [
            (FRAME_METHOD, &[0u8, 10, 0][..]),
            (FRAME_HEADER, &[0, 60, 0, 0, 0]),
            (FRAME_HEARTBEAT, &[1]),
        ] {
            let mut buf = BytesMut::new();
            write_frame(&mut buf, t, 0, payload);
            let (e, _) = protocol_error(decode_frame(&mut buf, 4096));
            assert!(e.text.ends_with("unknown_frame"), "{}", e.text);
        }
    }

    #[test]
    fn long_payloads_are_quoted_by_their_first_16_octets() {
        let mut buf = BytesMut::new();
        write_frame(&mut buf, 7, 0, &[1; 40]);
        let (e, _) = protocol_error(decode_frame(&mut buf, 4096));
        assert!(e
            .text
            .starts_with("FRAME_ERROR - type 7, first 16 octets = <<1,1,"));
    }

    #[test]
    fn unexpected_frame_text() {
        let hb = Frame {
            channel: 1,
            payload: FramePayload::Heartbeat,
        };
        let e = hb.unexpected();
        assert_eq!(e.code, ReplyCode::UnexpectedFrame);
        assert_eq!(e.text, "UNEXPECTED_FRAME - type 8, all octets = <<>>");
    }

    #[test]
    fn frames_round_trip_through_the_codec() {
        let frames = vec![
            Frame::heartbeat(),
            Frame {
                channel: 7,
                payload: FramePayload::Method(MethodFrame {
                    class_id: 20,
                    method_id: 10,
                    args: Bytes::from_static(&[0]),
                }),
            },
            Frame {
                channel: 65535,
                payload: FramePayload::Body(Bytes::from_static(b"body")),
            },
        ];
        let mut codec = FrameCodec::new();
        let mut buf = BytesMut::new();
        for f in &frames {
            codec.encode(f.clone(), &mut buf).unwrap();
        }
        for f in &frames {
            assert_eq!(codec.decode(&mut buf).unwrap().as_ref(), Some(f));
        }
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
    }

    proptest! {
        #[test]
        fn decoder_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600),
                                frame_max in prop_oneof![Just(0u32), Just(4096u32), 0u32..700]) {
            let mut buf = BytesMut::from(&data[..]);
            // Keep decoding until it needs more data or fails.
            for _ in 0..data.len() + 1 {
                match decode_frame(&mut buf, frame_max) {
                    Ok(Some(_)) => continue,
                    Ok(None) => break,
                    Err(CodecError::Protocol { lost_sync: false, .. }) => continue,
                    Err(_) => break,
                }
            }
        }

        #[test]
        fn decoder_never_reserves_more_than_a_frame(size in any::<u32>(), frame_max in prop_oneof![Just(0u32), any::<u32>()]) {
            let mut buf = BytesMut::new();
            buf.put_u8(FRAME_BODY);
            buf.put_u16(1);
            buf.put_u32(size);
            let _ = decode_frame(&mut buf, frame_max);
            prop_assert!(buf.capacity() <= 7 + RESERVE_STEP + 64);
        }

        #[test]
        fn well_formed_frames_decode(channel in any::<u16>(), body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut buf = BytesMut::new();
            write_frame(&mut buf, FRAME_BODY, channel, &body);
            let f = decode_frame(&mut buf, 4096).unwrap().unwrap();
            prop_assert_eq!(f.channel, channel);
            prop_assert_eq!(f.payload, FramePayload::Body(Bytes::from(body)));
        }
    }
}
