//! Frames on their way to one socket: small frames encoded into a buffer,
//! large message bodies shared with the queued message instead of copied.
//!
//! A queued [`Message`] already holds its body in one reference-counted
//! allocation. Copying a 4 KiB body into an output buffer (and the buffer
//! growing under it) was the largest user-space cost of delivering large
//! messages, so a body of [`SHARE_MIN`] octets or more goes out as a slice of
//! the message itself: the writer hands the pieces to one `writev`.

use super::content::{body_frame_payload, encode_content_header, encode_encoded_content};
use super::frame::{write_frame_head, FRAME_BODY, FRAME_END};
use bytes::{BufMut, Bytes, BytesMut};
use warren_core::Message;

/// Bodies from this size on are shared rather than copied; below it a copy is
/// cheaper than a separate piece for the writer.
pub const SHARE_MIN: usize = 1024;

/// Where encoded frames go: a plain buffer (everything copied) or
/// [`OutFrames`] (large bodies shared).
pub trait FrameSink {
    /// The buffer the next frames are written into.
    fn buf(&mut self) -> &mut BytesMut;
    /// Appends a message's content header and body frames.
    fn content(&mut self, channel: u16, message: &Message, frame_max: u32);
}

impl FrameSink for BytesMut {
    fn buf(&mut self) -> &mut BytesMut {
        self
    }

    fn content(&mut self, channel: u16, message: &Message, frame_max: u32) {
        encode_encoded_content(
            self,
            channel,
            message.encoded_properties(),
            message.body(),
            frame_max,
        );
    }
}

/// A message kept alive as the owner of its body's bytes.
struct SharedBody(Message);

impl AsRef<[u8]> for SharedBody {
    fn as_ref(&self) -> &[u8] {
        self.0.body()
    }
}

/// The buffer's first size. `bytes` remembers it: once sealed pieces share
/// the buffer, the next one is allocated at least this big, rather than just
/// big enough for the next frame and then doubled frame by frame.
const FIRST_CAPACITY: usize = 4096;

/// Encoded frames in order: sealed pieces, then the buffer being written.
#[derive(Debug)]
pub struct OutFrames {
    pieces: Vec<Bytes>,
    cur: BytesMut,
}

impl Default for OutFrames {
    fn default() -> Self {
        OutFrames::new()
    }
}

impl OutFrames {
    pub fn new() -> OutFrames {
        OutFrames {
            pieces: Vec::new(),
            cur: BytesMut::with_capacity(FIRST_CAPACITY),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty() && self.cur.is_empty()
    }

    /// Appends bytes as a piece of their own, after what is buffered.
    pub fn share(&mut self, piece: Bytes) {
        self.seal();
        self.pieces.push(piece);
    }

    /// Appends everything in `other`, in order.
    pub fn append(&mut self, mut other: OutFrames) {
        self.seal();
        other.seal();
        self.pieces.append(&mut other.pieces);
    }

    /// Everything so far, in order; leaves this empty (the buffer's spare
    /// room is kept for the next frames).
    pub fn take(&mut self) -> Vec<Bytes> {
        self.seal();
        std::mem::take(&mut self.pieces)
    }

    fn seal(&mut self) {
        if !self.cur.is_empty() {
            self.pieces.push(self.cur.split().freeze());
        }
    }
}

impl FrameSink for OutFrames {
    fn buf(&mut self) -> &mut BytesMut {
        &mut self.cur
    }

    fn content(&mut self, channel: u16, message: &Message, frame_max: u32) {
        let size = message.body().len();
        if size < SHARE_MIN {
            self.cur.content(channel, message, frame_max);
            return;
        }
        encode_content_header(
            &mut self.cur,
            channel,
            message.encoded_properties(),
            size as u64,
        );
        let body = Bytes::from_owner(SharedBody(message.clone()));
        let chunk = body_frame_payload(frame_max);
        let mut at = 0;
        while at < size {
            let end = (at + chunk).min(size);
            write_frame_head(&mut self.cur, FRAME_BODY, channel, end - at);
            self.share(body.slice(at..end));
            self.cur.put_u8(FRAME_END);
            at = end;
        }
    }
}
