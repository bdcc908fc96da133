//! A message as the broker keeps it: one reference-counted allocation holding
//! the publish's id and time, the exchange and routing key it was published
//! with, its properties in their AMQP encoding, and the body.
//!
//! Why one allocation and encoded properties: a queue may hold millions of
//! messages, and what each costs beyond its body is the broker's memory
//! overhead (the goal is at most 64 bytes, measured by `benches/memory.rs`).
//! A struct of `Arc<str>` names, an `Arc` of decoded properties and a `Bytes`
//! body costs more than that before the queue entry is counted. RabbitMQ
//! itself keeps `properties_bin` and decodes only when it must; so do we:
//! the wire server sends the encoded properties to consumers as they are, and
//! the broker decodes them only to dead-letter, to show, or to answer
//! `basic.get` in the simulator.
//!
//! Layout of the byte slice (after the reference count and the slice length
//! that `triomphe::ThinArc` keeps): the id and the publish time, then the
//! lengths of exchange, routing key and properties, all five as LEB128
//! varints; then those three and the body, back to back. Varints because the
//! usual values are small: a few bytes of id, one byte per length, and a few
//! bytes of time in the simulator (6 on the server, whose clock is wall-clock
//! milliseconds).
//!
//! The routing key's length is shifted left one bit: the low bit says the
//! message has BCC keys, which then sit between the properties and the body
//! (a varint of their bytes, then each key as a varint length and its
//! bytes). They are kept apart from the properties because RabbitMQ strips
//! the `BCC` header before anyone sees the message, yet still routes a dead
//! letter by those keys; a message without them pays nothing.

use crate::protocol::Millis;
use crate::types::BasicProperties;
use crate::wire::properties::{decode_properties, encode_properties, scan_properties};
use bytes::{Bytes, BytesMut};
use std::fmt;
use std::mem::MaybeUninit;
use triomphe::{Arc, HeaderSlice, HeaderWithLength, ThinArc, UniqueArc};

/// A published message, cheap to clone (one pointer) and shared by every
/// queue it was routed to; what differs per queue lives in the queue's entry.
#[derive(Clone)]
pub struct Message(ThinArc<(), u8>);

/// Where each part lies in the slice.
struct Parts {
    exchange: (usize, usize),
    routing_key: (usize, usize),
    properties: (usize, usize),
    /// The BCC keys' region (empty when there are none).
    bcc: (usize, usize),
    body: usize,
}

impl Message {
    /// A message from decoded properties (a publish, a dead letter, a test).
    pub fn new(
        id: u64,
        published_at: Millis,
        exchange: &str,
        routing_key: &str,
        properties: &BasicProperties,
        body: &[u8],
    ) -> Message {
        Message::with_bcc(
            id,
            published_at,
            exchange,
            routing_key,
            properties,
            &[],
            body,
        )
    }

    /// A message that keeps the BCC keys it was published with (taken out
    /// of its headers already) for dead-lettering.
    pub fn with_bcc(
        id: u64,
        published_at: Millis,
        exchange: &str,
        routing_key: &str,
        properties: &BasicProperties,
        bcc: &[&str],
        body: &[u8],
    ) -> Message {
        let head = MessageHead {
            id,
            published_at,
            exchange,
            routing_key,
        };
        // Most messages carry no properties: their encoding is two zero flag
        // octets, with no buffer to allocate.
        if properties.is_empty() {
            return Message::assemble(&head, &[0, 0], bcc, body);
        }
        let mut props = BytesMut::with_capacity(32);
        encode_properties(properties, &mut props);
        Message::assemble(&head, &props, bcc, body)
    }

    /// A message from properties already in their AMQP encoding (the store
    /// reading its log). Refuses bytes that do not decode, so every message
    /// in the broker has properties that do.
    pub fn from_encoded(
        head: &MessageHead<'_>,
        encoded_properties: &[u8],
        bcc: &[&str],
        body: &[u8],
    ) -> Result<Message, crate::AmqpError> {
        decode_properties(Bytes::copy_from_slice(encoded_properties))?;
        Ok(Message::assemble(head, encoded_properties, bcc, body))
    }

    fn assemble(head: &MessageHead<'_>, props: &[u8], bcc: &[&str], body: &[u8]) -> Message {
        let mut prefix = [0u8; 50];
        let mut n = 0;
        let rk_len = (head.routing_key.len() << 1) | usize::from(!bcc.is_empty());
        for v in [head.id, head.published_at] {
            n += put_varint(&mut prefix[n..], v);
        }
        for len in [head.exchange.len(), rk_len, props.len()] {
            n += put_varint(&mut prefix[n..], len as u64);
        }
        // Rare (a header only some publishers set), so a plain Vec is fine.
        let mut keys = Vec::new();
        if !bcc.is_empty() {
            let mut list = Vec::new();
            for key in bcc {
                push_varint(&mut list, key.len() as u64);
                list.extend_from_slice(key.as_bytes());
            }
            push_varint(&mut keys, list.len() as u64);
            keys.extend_from_slice(&list);
        }
        let parts: [&[u8]; 6] = [
            prefix.get(..n).unwrap_or_default(),
            head.exchange.as_bytes(),
            head.routing_key.as_bytes(),
            props,
            &keys,
            body,
        ];
        let len: usize = parts.iter().map(|p| p.len()).sum();
        // The parts are copied straight into the new allocation, one memcpy
        // each. triomphe's own constructors would either fill it from an
        // iterator one byte at a time or copy from a slice we would first
        // have to gather the parts in: a second copy of the body, which
        // with 4 KiB bodies was a tenth of the server's CPU.
        let mut fresh: UniqueArc<HeaderSlice<HeaderWithLength<()>, [MaybeUninit<u8>]>> =
            UniqueArc::from_header_and_uninit_slice(HeaderWithLength::new((), len), len);
        let mut at = 0;
        for part in parts {
            // In range: the parts' lengths add up to `len`.
            let dst = &mut fresh.slice[at..at + part.len()];
            // SAFETY: `dst` is `part.len()` writable bytes of the allocation
            // just made, which cannot overlap `part` (borrowed from the caller).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    part.as_ptr(),
                    dst.as_mut_ptr().cast::<u8>(),
                    part.len(),
                );
            }
            at += part.len();
        }
        assert_eq!(at, len, "every byte of a message is written before use");
        // SAFETY: the loop above wrote all `len` bytes (checked just above).
        let arc = unsafe { fresh.assume_init_slice_with_header() }.shareable();
        Message(Arc::into_thin(arc))
    }

    fn bytes(&self) -> &[u8] {
        &self.0.slice
    }

    /// Where the parts lie. Runs on every delivery, several times, so the
    /// id and the publish time (6 bytes on the server) are stepped over
    /// rather than decoded.
    fn parts(&self) -> Parts {
        let b = self.bytes();
        let mut at = varint_end(b, varint_end(b, 0));
        let mut next = || {
            let (v, used) = get_varint(b.get(at..).unwrap_or_default());
            at += used;
            v
        };
        let lens = [next(), next(), next()].map(|l| usize::try_from(l).unwrap_or(usize::MAX));
        let has_bcc = lens[1] & 1 == 1;
        let exchange = (at, at.saturating_add(lens[0]));
        let routing_key = (exchange.1, exchange.1.saturating_add(lens[1] >> 1));
        let properties = (routing_key.1, routing_key.1.saturating_add(lens[2]));
        let mut bcc = (properties.1, properties.1);
        if has_bcc {
            let (len, used) = get_varint(b.get(properties.1..).unwrap_or_default());
            bcc.0 = properties.1 + used;
            bcc.1 = bcc
                .0
                .saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
        }
        Parts {
            exchange,
            routing_key,
            properties,
            bcc,
            body: bcc.1,
        }
    }

    fn text(&self, (from, to): (usize, usize)) -> &str {
        // Written from `&str`s by `assemble`, so always UTF-8.
        std::str::from_utf8(self.bytes().get(from..to).unwrap_or_default()).unwrap_or_default()
    }

    pub fn id(&self) -> u64 {
        get_varint(self.bytes()).0
    }

    pub fn published_at(&self) -> Millis {
        let b = self.bytes();
        get_varint(b.get(varint_end(b, 0)..).unwrap_or_default()).0
    }

    /// The exchange it was published to (what consumers see in `basic.deliver`).
    pub fn exchange(&self) -> &str {
        self.text(self.parts().exchange)
    }

    pub fn routing_key(&self) -> &str {
        self.text(self.parts().routing_key)
    }

    /// The properties as a content header carries them (flags, then values).
    pub fn encoded_properties(&self) -> &[u8] {
        let (from, to) = self.parts().properties;
        self.bytes().get(from..to).unwrap_or_default()
    }

    /// The properties, decoded (allocates: for dead-lettering and display).
    pub fn properties(&self) -> BasicProperties {
        // Every message's properties were encoded by us or checked on the way in.
        decode_properties(Bytes::copy_from_slice(self.encoded_properties())).unwrap_or_default()
    }

    /// The BCC keys it was published with (gone from its headers).
    pub fn bcc(&self) -> Vec<&str> {
        let (from, to) = self.parts().bcc;
        let mut region = self.bytes().get(from..to).unwrap_or_default();
        let mut keys = Vec::new();
        while !region.is_empty() {
            let (len, used) = get_varint(region);
            let end = used.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
            // Written from `&str`s by `assemble`, so always UTF-8.
            let key = region.get(used..end).unwrap_or_default();
            keys.push(std::str::from_utf8(key).unwrap_or_default());
            region = region.get(end..).unwrap_or_default();
        }
        keys
    }

    pub fn body(&self) -> &[u8] {
        self.bytes().get(self.parts().body..).unwrap_or_default()
    }

    /// Bytes counted against `x-max-length-bytes`: the body only, as RabbitMQ does.
    pub fn body_size(&self) -> usize {
        self.bytes().len() - self.parts().body
    }

    /// `delivery_mode` 2: the message goes to disk if its queue is durable.
    pub fn persistent(&self) -> bool {
        scan_properties(self.encoded_properties()).delivery_mode == Some(2)
    }

    /// The `priority` property (0 when absent), for priority queues.
    pub fn priority(&self) -> u8 {
        scan_properties(self.encoded_properties())
            .priority
            .unwrap_or(0)
    }

    /// The message's own TTL in milliseconds (its `expiration` property),
    /// if it has a valid one.
    pub fn own_ttl(&self) -> Option<Millis> {
        let scan = scan_properties(self.encoded_properties());
        scan.expiration
            .and_then(|e| crate::queue::parse_expiration(e).ok())
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.bytes() == other.bytes()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id())
            .field("published_at", &self.published_at())
            .field("exchange", &self.exchange())
            .field("routing_key", &self.routing_key())
            .field("properties", &self.properties())
            .field("body", &String::from_utf8_lossy(self.body()))
            .finish()
    }
}

/// Who published a message, where to and when: what every constructor takes.
pub struct MessageHead<'a> {
    pub id: u64,
    pub published_at: Millis,
    pub exchange: &'a str,
    pub routing_key: &'a str,
}

/// Writes `v` as LEB128 into `out`; returns the bytes used (at most 10).
fn put_varint(out: &mut [u8], mut v: u64) -> usize {
    let mut n = 0;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if let Some(slot) = out.get_mut(n) {
            *slot = if v == 0 { byte } else { byte | 0x80 };
        }
        n += 1;
        if v == 0 {
            return n;
        }
    }
}

/// Appends `v` as LEB128 to `out`.
fn push_varint(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 10];
    let used = put_varint(&mut buf, v);
    out.extend_from_slice(buf.get(..used).unwrap_or_default());
}

/// Reads a LEB128 varint: its value and how many bytes it took. Called
/// several times per message on every delivery, so the usual one-byte case
/// (lengths, small ids) returns at once.
#[inline]
fn get_varint(b: &[u8]) -> (u64, usize) {
    match b.first() {
        Some(&byte) if byte & 0x80 == 0 => (u64::from(byte), 1),
        _ => get_long_varint(b),
    }
}

/// Where the varint that starts at `at` ends (at most 10 bytes, as
/// [`get_varint`] reads).
fn varint_end(b: &[u8], at: usize) -> usize {
    // Eight bytes at once: the first whose high bit is clear ends the varint.
    if let Some(word) = b.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let last_bytes = !u64::from_le_bytes(word) & 0x8080_8080_8080_8080;
        if last_bytes != 0 {
            return at + (last_bytes.trailing_zeros() / 8) as usize + 1;
        }
    }
    // Near the end of the slice, or longer than eight bytes: the plain way.
    at + get_long_varint(b.get(at..).unwrap_or_default()).1
}

fn get_long_varint(b: &[u8]) -> (u64, usize) {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return (v, i + 1);
        }
    }
    (v, b.len().min(10))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{FieldTable, FieldValue};

    #[test]
    fn parts_round_trip() {
        let mut headers = FieldTable::new();
        headers.insert("k", FieldValue::str("v"));
        let props = BasicProperties {
            delivery_mode: Some(2),
            expiration: Some("1500".into()),
            headers: Some(headers),
            ..BasicProperties::default()
        };
        let m = Message::new(7, 42, "amq.topic", "a.b", &props, b"hello");
        assert_eq!(m.id(), 7);
        assert_eq!(m.published_at(), 42);
        assert_eq!(m.exchange(), "amq.topic");
        assert_eq!(m.routing_key(), "a.b");
        assert_eq!(m.properties(), props);
        assert_eq!(m.body(), b"hello");
        assert_eq!(m.body_size(), 5);
        assert!(m.persistent());
        assert_eq!(m.own_ttl(), Some(1500));
    }

    #[test]
    fn parts_are_found_after_ids_and_times_of_every_length() {
        let props = BasicProperties::default();
        for (id, time) in [
            (0, 0),
            (127, 128),
            (u64::MAX, 1_764_892_800_000),
            (300, u64::MAX),
        ] {
            let m = Message::new(id, time, "ex", "rk", &props, b"body");
            assert_eq!((m.id(), m.published_at()), (id, time));
            assert_eq!((m.exchange(), m.routing_key()), ("ex", "rk"));
            assert_eq!((m.body(), m.body_size()), (&b"body"[..], 4));
        }
    }

    #[test]
    fn long_names_and_large_bodies_keep_their_lengths() {
        let key = "k".repeat(255);
        let body = vec![9u8; 300_000];
        let m = Message::new(1, 0, "", &key, &BasicProperties::default(), &body);
        assert_eq!(m.exchange(), "");
        assert_eq!(m.routing_key(), key);
        assert_eq!(m.body(), &body[..]);
        assert!(!m.persistent());
        assert_eq!(m.own_ttl(), None);
    }

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 255, 16_383, 16_384, 1 << 40, u64::MAX] {
            let mut buf = [0u8; 10];
            let n = put_varint(&mut buf, v);
            assert_eq!(get_varint(&buf[..n]), (v, n), "{v}");
        }
    }

    #[test]
    fn encoded_properties_that_do_not_decode_are_refused() {
        let head = MessageHead {
            id: 1,
            published_at: 0,
            exchange: "",
            routing_key: "q",
        };
        assert!(Message::from_encoded(&head, &[0x80, 0x00, 5], &[], b"").is_err());
        let ok = Message::from_encoded(&head, &[0, 0], &[], b"x").expect("empty flags");
        assert_eq!(ok.properties(), BasicProperties::default());
    }

    #[test]
    fn bcc_keys_are_kept_apart_from_properties_and_body() {
        let key = "r".repeat(200);
        let props = BasicProperties {
            delivery_mode: Some(2),
            ..BasicProperties::default()
        };
        let m = Message::with_bcc(3, 9, "x", &key, &props, &["a.b", "", "long key"], b"body");
        assert_eq!(m.routing_key(), key);
        assert_eq!(m.bcc(), ["a.b", "", "long key"]);
        assert_eq!(m.properties(), props);
        assert_eq!(m.body(), b"body");
        assert_eq!(m.body_size(), 4);
        let plain = Message::new(3, 9, "x", &key, &props, b"body");
        assert!(plain.bcc().is_empty());
        assert_eq!(plain.body(), b"body");
    }

    #[test]
    fn a_message_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Message>(), std::mem::size_of::<usize>());
    }
}
