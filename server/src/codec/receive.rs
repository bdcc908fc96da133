//! What the frames of an open connection amount to, channel by channel: the
//! one place that files a received frame, shared by the connection task and
//! the fuzzing harness (`codec::fuzz`) so the harness fuzzes the real thing.

use super::client::ClientMethod;
use super::content::{ContentAssembler, DEFAULT_MAX_MESSAGE_SIZE};
use super::frame::{Frame, FramePayload};
use warren_core::error::AmqpError;

/// One received frame, filed. Returned by value and taken apart at once, so
/// the size of a method is not boxed away (that would allocate per frame).
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Received {
    /// A heartbeat, or a content frame of a message still being assembled.
    Nothing,
    /// A complete method (a publish with its content) on a channel (0 for
    /// the connection's own methods).
    Method(u16, ClientMethod),
    /// Content assembly refused something on this channel (a message over
    /// the size limit): only that channel is closed.
    ChannelError(u16, AmqpError),
    /// A bad frame or method: the connection is closed with it.
    ConnectionError(AmqpError),
}

/// A connection's receiving state: a content assembler per channel.
#[derive(Debug, Default)]
pub struct Receiving {
    /// Keyed by channel number (below 2048): a fast hasher, looked up per frame.
    assemblers: std::collections::HashMap<u16, ContentAssembler, foldhash::fast::RandomState>,
}

impl Receiving {
    /// Files one frame: channel 0 carries connection methods and heartbeats
    /// only; other channels go through their content assembler.
    pub fn file(&mut self, frame: Frame) -> Received {
        let ch = frame.channel;
        if ch == 0 {
            return match frame.payload {
                FramePayload::Heartbeat => Received::Nothing,
                FramePayload::Method(m) => {
                    match ClientMethod::decode(m.class_id, m.method_id, m.args) {
                        Ok(method) => Received::Method(0, method),
                        Err(e) => Received::ConnectionError(e),
                    }
                }
                _ => Received::ConnectionError(frame.unexpected()),
            };
        }
        let assembler = self
            .assemblers
            .entry(ch)
            .or_insert_with(|| ContentAssembler::new(DEFAULT_MAX_MESSAGE_SIZE));
        match assembler.process(ch, frame.payload) {
            Ok(Some(method)) => Received::Method(ch, method),
            Ok(None) => Received::Nothing,
            Err(e) if e.is_connection_error() => Received::ConnectionError(e),
            Err(e) => Received::ChannelError(ch, e),
        }
    }
}
