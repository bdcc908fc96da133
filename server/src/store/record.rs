//! The store's on-disk records: one [`StoreOp`] each, framed with a length
//! and a CRC so a record torn by a crash (kill -9, power loss) is recognised
//! and everything after it ignored.
//!
//! Record: `u32 len | u32 crc32(kind ++ payload) | u8 kind | payload`, with
//! `len = 1 + payload length`. Payloads are binary, not JSON: field tables and
//! message properties use the AMQP encoding, which keeps every value's exact
//! wire type (JSON would turn a `long` into a `signedint` and break
//! re-declaration equivalence after a restart), and bodies are copied as they
//! are, which keeps writing and recovering a big queue fast.

use crate::codec::{decode_table, encode_table};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::io::Read;
use warren_core::definitions::{BindingDef, ExchangeDef, PermissionDef, QueueDef, UserDef};
use warren_core::protocol::{Millis, StoreOp};
use warren_core::types::{FieldTable, Message, MessageHead};

const EXCHANGE_DECLARED: u8 = 1;
const EXCHANGE_DELETED: u8 = 2;
const QUEUE_DECLARED: u8 = 3;
const QUEUE_DELETED: u8 = 4;
const BINDING_ADDED: u8 = 5;
const BINDING_REMOVED: u8 = 6;
const MESSAGE_ENQUEUED: u8 = 7;
const MESSAGE_REMOVED: u8 = 8;
const QUEUE_PURGED: u8 = 9;
const VHOST_ADDED: u8 = 10;
const VHOST_DELETED: u8 = 11;
const USER_PUT: u8 = 12;
const USER_DELETED: u8 = 13;
const PERMISSION_SET: u8 = 14;
const PERMISSION_CLEARED: u8 = 15;
const MESSAGE_DELIVERED: u8 = 16;
/// A message with its publish time (the server's clock, wall-clock
/// milliseconds), so its TTL keeps counting across a restart, and its BCC
/// keys, so it is dead-lettered by them after a restart too. Written
/// instead of [`MESSAGE_ENQUEUED`], which older data dirs still hold.
const MESSAGE_ENQUEUED_AT: u8 = 17;
/// Closes a snapshot: a snapshot without it is incomplete.
pub const END: u8 = 0xFF;

/// Bytes before a record's kind: length and CRC.
pub const RECORD_HEADER: usize = 8;
/// No single record is allowed to claim more than this (a body is at most
/// 512 MiB); a larger length can only be garbage.
const MAX_RECORD: u32 = 600 << 20;

/// Appends one framed record for `op`.
pub fn write_op(op: &StoreOp, out: &mut BytesMut) {
    let start = out.len();
    out.put_u32(0);
    out.put_u32(0);
    let body_at = out.len();
    match op {
        StoreOp::ExchangeDeclared(x) => {
            out.put_u8(EXCHANGE_DECLARED);
            put_str(out, &x.vhost);
            put_str(out, &x.name);
            put_str(out, &x.kind);
            out.put_u8(flags(&[x.durable, x.auto_delete, x.internal]));
            encode_table(&x.arguments, out);
        }
        StoreOp::ExchangeDeleted { vhost, name } => {
            out.put_u8(EXCHANGE_DELETED);
            put_str(out, vhost);
            put_str(out, name);
        }
        StoreOp::QueueDeclared(q) => {
            out.put_u8(QUEUE_DECLARED);
            put_str(out, &q.vhost);
            put_str(out, &q.name);
            out.put_u8(flags(&[q.durable, q.auto_delete]));
            encode_table(&q.arguments, out);
        }
        StoreOp::QueueDeleted { vhost, name } => {
            out.put_u8(QUEUE_DELETED);
            put_str(out, vhost);
            put_str(out, name);
        }
        StoreOp::BindingAdded(b) | StoreOp::BindingRemoved(b) => {
            out.put_u8(if matches!(op, StoreOp::BindingAdded(_)) {
                BINDING_ADDED
            } else {
                BINDING_REMOVED
            });
            put_binding(out, b);
        }
        StoreOp::MessageEnqueued {
            vhost,
            queue,
            msg_id,
            message,
        } => {
            out.put_u8(MESSAGE_ENQUEUED_AT);
            put_str(out, vhost);
            put_str(out, queue);
            out.put_u64(*msg_id);
            out.put_u64(message.published_at());
            put_str(out, message.exchange());
            put_str(out, message.routing_key());
            put_bytes(out, message.encoded_properties());
            let bcc = message.bcc();
            out.put_u32(bcc.len() as u32);
            for key in bcc {
                put_str(out, key);
            }
            put_bytes(out, message.body());
        }
        StoreOp::MessageDelivered {
            vhost,
            queue,
            msg_id,
        } => {
            out.put_u8(MESSAGE_DELIVERED);
            put_str(out, vhost);
            put_str(out, queue);
            out.put_u64(*msg_id);
        }
        StoreOp::MessageRemoved {
            vhost,
            queue,
            msg_id,
        } => {
            out.put_u8(MESSAGE_REMOVED);
            put_str(out, vhost);
            put_str(out, queue);
            out.put_u64(*msg_id);
        }
        StoreOp::QueuePurged { vhost, queue } => {
            out.put_u8(QUEUE_PURGED);
            put_str(out, vhost);
            put_str(out, queue);
        }
        StoreOp::VhostAdded { name } => {
            out.put_u8(VHOST_ADDED);
            put_str(out, name);
        }
        StoreOp::VhostDeleted { name } => {
            out.put_u8(VHOST_DELETED);
            put_str(out, name);
        }
        StoreOp::UserPut(u) => {
            out.put_u8(USER_PUT);
            put_str(out, &u.name);
            put_str(out, &u.password_hash);
            put_str(out, &u.hashing_algorithm);
            out.put_u32(u32::try_from(u.tags.len()).unwrap_or(u32::MAX));
            for t in &u.tags {
                put_str(out, t);
            }
        }
        StoreOp::UserDeleted { name } => {
            out.put_u8(USER_DELETED);
            put_str(out, name);
        }
        StoreOp::PermissionSet(p) => {
            out.put_u8(PERMISSION_SET);
            for part in [&p.user, &p.vhost, &p.configure, &p.write, &p.read] {
                put_str(out, part);
            }
        }
        StoreOp::PermissionCleared { user, vhost } => {
            out.put_u8(PERMISSION_CLEARED);
            put_str(out, user);
            put_str(out, vhost);
        }
    }
    seal(out, start, body_at);
}

/// Appends the record that closes a snapshot.
pub fn write_end(out: &mut BytesMut) {
    let start = out.len();
    out.put_u32(0);
    out.put_u32(0);
    let body_at = out.len();
    out.put_u8(END);
    seal(out, start, body_at);
}

/// Fills in a record's length and CRC once its kind and payload are written.
fn seal(out: &mut BytesMut, start: usize, body_at: usize) {
    let len = u32::try_from(out.len() - body_at).unwrap_or(u32::MAX);
    let crc = crc32fast::hash(&out[body_at..]);
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
}

/// What reading the next record found.
pub enum Next {
    /// A whole, intact record: its kind and payload.
    Record(u8, Bytes),
    /// Clean end of data.
    End,
    /// A partial or damaged record: the data stops being trustworthy here.
    Torn,
}

/// Takes the next record off the front of `data`.
pub fn next_record(data: &mut Bytes) -> Next {
    if data.is_empty() {
        return Next::End;
    }
    if data.len() < RECORD_HEADER {
        return Next::Torn;
    }
    let len = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let crc = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
    if len == 0 || len > MAX_RECORD || data.len() - RECORD_HEADER < len as usize {
        return Next::Torn;
    }
    data.advance(RECORD_HEADER);
    let mut body = data.split_to(len as usize);
    if crc32fast::hash(&body) != crc {
        return Next::Torn;
    }
    let kind = body.get_u8();
    Next::Record(kind, body)
}

/// Reads the next record from a file. A record cut short by the end of the
/// file, or whose CRC does not match, is [`Next::Torn`].
pub fn read_record(r: &mut impl Read) -> std::io::Result<Next> {
    let mut head = [0u8; RECORD_HEADER];
    let got = read_full(r, &mut head)?;
    if got == 0 {
        return Ok(Next::End);
    }
    if got < RECORD_HEADER {
        return Ok(Next::Torn);
    }
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let crc = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    if len == 0 || len > MAX_RECORD {
        return Ok(Next::Torn);
    }
    let mut body = vec![0u8; len as usize];
    if read_full(r, &mut body)? < body.len() {
        return Ok(Next::Torn);
    }
    if crc32fast::hash(&body) != crc {
        return Ok(Next::Torn);
    }
    let mut body = Bytes::from(body);
    let kind = body.get_u8();
    Ok(Next::Record(kind, body))
}

/// Reads until `buf` is full or the data ends; returns how much was read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut at = 0;
    while at < buf.len() {
        match r.read(&mut buf[at..]) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(at)
}

/// Decodes a record's payload back into the op that wrote it. A message
/// from a record without its publish time counts as published at
/// `recovered_at`: its TTL starts again, as it always did before times
/// were recorded.
pub fn decode_op(kind: u8, payload: Bytes, recovered_at: Millis) -> Result<StoreOp, String> {
    let mut r = Cursor(payload);
    let op = match kind {
        EXCHANGE_DECLARED => {
            let vhost = r.str()?;
            let name = r.str()?;
            let kind = r.str()?;
            let f = r.u8()?;
            StoreOp::ExchangeDeclared(ExchangeDef {
                name,
                vhost,
                kind,
                durable: f & 1 != 0,
                auto_delete: f & 2 != 0,
                internal: f & 4 != 0,
                arguments: r.table()?,
            })
        }
        EXCHANGE_DELETED => StoreOp::ExchangeDeleted {
            vhost: r.str()?,
            name: r.str()?,
        },
        QUEUE_DECLARED => {
            let vhost = r.str()?;
            let name = r.str()?;
            let f = r.u8()?;
            StoreOp::QueueDeclared(QueueDef {
                name,
                vhost,
                durable: f & 1 != 0,
                auto_delete: f & 2 != 0,
                arguments: r.table()?,
            })
        }
        QUEUE_DELETED => StoreOp::QueueDeleted {
            vhost: r.str()?,
            name: r.str()?,
        },
        BINDING_ADDED => StoreOp::BindingAdded(r.binding()?),
        BINDING_REMOVED => StoreOp::BindingRemoved(r.binding()?),
        MESSAGE_ENQUEUED | MESSAGE_ENQUEUED_AT => {
            let vhost = r.str()?;
            let queue = r.str()?;
            let msg_id = r.u64()?;
            let published_at = if kind == MESSAGE_ENQUEUED_AT {
                r.u64()?
            } else {
                recovered_at
            };
            let exchange = r.str()?;
            let routing_key = r.str()?;
            let props = r.bytes()?;
            let mut bcc = Vec::new();
            if kind == MESSAGE_ENQUEUED_AT {
                for _ in 0..r.u32()? {
                    bcc.push(r.str()?);
                }
            }
            let body = r.bytes()?;
            let head = MessageHead {
                id: msg_id,
                published_at,
                exchange: &exchange,
                routing_key: &routing_key,
            };
            let bcc: Vec<&str> = bcc.iter().map(String::as_str).collect();
            let message = Message::from_encoded(&head, &props, &bcc, &body).map_err(|e| e.text)?;
            StoreOp::MessageEnqueued {
                vhost,
                queue,
                msg_id,
                message,
            }
        }
        MESSAGE_DELIVERED => StoreOp::MessageDelivered {
            vhost: r.str()?,
            queue: r.str()?,
            msg_id: r.u64()?,
        },
        MESSAGE_REMOVED => StoreOp::MessageRemoved {
            vhost: r.str()?,
            queue: r.str()?,
            msg_id: r.u64()?,
        },
        VHOST_ADDED => StoreOp::VhostAdded { name: r.str()? },
        VHOST_DELETED => StoreOp::VhostDeleted { name: r.str()? },
        USER_PUT => {
            let name = r.str()?;
            let password_hash = r.str()?;
            let hashing_algorithm = r.str()?;
            let n = r.u32()?;
            let mut tags = Vec::new();
            for _ in 0..n {
                tags.push(r.str()?);
            }
            StoreOp::UserPut(UserDef {
                name,
                password_hash,
                hashing_algorithm,
                tags,
            })
        }
        USER_DELETED => StoreOp::UserDeleted { name: r.str()? },
        PERMISSION_SET => StoreOp::PermissionSet(PermissionDef {
            user: r.str()?,
            vhost: r.str()?,
            configure: r.str()?,
            write: r.str()?,
            read: r.str()?,
        }),
        PERMISSION_CLEARED => StoreOp::PermissionCleared {
            user: r.str()?,
            vhost: r.str()?,
        },
        QUEUE_PURGED => StoreOp::QueuePurged {
            vhost: r.str()?,
            queue: r.str()?,
        },
        other => return Err(format!("unknown record kind {other}")),
    };
    if !r.0.is_empty() {
        return Err(format!("record kind {kind} has trailing bytes"));
    }
    Ok(op)
}

fn flags(bits: &[bool]) -> u8 {
    bits.iter()
        .enumerate()
        .fold(0, |acc, (i, &b)| acc | (u8::from(b) << i))
}

fn put_str(out: &mut BytesMut, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn put_bytes(out: &mut BytesMut, b: &[u8]) {
    out.put_u32(u32::try_from(b.len()).unwrap_or(u32::MAX));
    out.put_slice(b);
}

fn put_binding(out: &mut BytesMut, b: &BindingDef) {
    put_str(out, &b.vhost);
    put_str(out, &b.source);
    put_str(out, &b.destination);
    put_str(out, &b.destination_type);
    put_str(out, &b.routing_key);
    encode_table(&b.arguments, out);
}

/// A bounds-checked reader over a record's payload.
struct Cursor(Bytes);

impl Cursor {
    fn need(&self, n: usize) -> Result<(), String> {
        if self.0.len() < n {
            Err("record payload too short".to_string())
        } else {
            Ok(())
        }
    }

    fn u8(&mut self) -> Result<u8, String> {
        self.need(1)?;
        Ok(self.0.get_u8())
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.need(4)?;
        Ok(self.0.get_u32())
    }

    fn u64(&mut self) -> Result<u64, String> {
        self.need(8)?;
        Ok(self.0.get_u64())
    }

    fn bytes(&mut self) -> Result<Bytes, String> {
        let n = self.u32()? as usize;
        self.need(n)?;
        Ok(self.0.split_to(n))
    }

    fn str(&mut self) -> Result<String, String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| "record string is not UTF-8".to_string())
    }

    fn table(&mut self) -> Result<FieldTable, String> {
        let b = self.bytes()?;
        decode_table(b).map_err(|e| e.text)
    }

    fn binding(&mut self) -> Result<BindingDef, String> {
        Ok(BindingDef {
            vhost: self.str()?,
            source: self.str()?,
            destination: self.str()?,
            destination_type: self.str()?,
            routing_key: self.str()?,
            arguments: self.table()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warren_core::types::{BasicProperties, FieldValue};

    fn round_trip(op: StoreOp) {
        let mut buf = BytesMut::new();
        write_op(&op, &mut buf);
        let mut data = buf.freeze();
        match next_record(&mut data) {
            Next::Record(kind, payload) => assert_eq!(decode_op(kind, payload, 0).unwrap(), op),
            _ => panic!("no record"),
        }
        assert!(matches!(next_record(&mut data), Next::End));
    }

    #[test]
    fn a_message_from_before_publish_times_were_recorded_counts_from_recovery() {
        let mut payload = BytesMut::new();
        put_str(&mut payload, "/");
        put_str(&mut payload, "q");
        payload.put_u64(3);
        put_str(&mut payload, "");
        put_str(&mut payload, "q");
        put_bytes(&mut payload, &[0, 0]);
        put_bytes(&mut payload, b"old");
        let op = decode_op(MESSAGE_ENQUEUED, payload.freeze(), 12_345).unwrap();
        let StoreOp::MessageEnqueued { message, .. } = op else {
            panic!("not a message: {op:?}");
        };
        assert_eq!(message.published_at(), 12_345);
        assert_eq!(message.body(), b"old");
    }

    #[test]
    fn ops_round_trip_with_exact_types() {
        let mut args = FieldTable::new();
        args.insert("x-message-ttl", FieldValue::I64(5000));
        args.insert("x-max-length", FieldValue::I16(3));
        round_trip(StoreOp::QueueDeclared(QueueDef {
            name: "q".into(),
            vhost: "/".into(),
            durable: true,
            auto_delete: false,
            arguments: args.clone(),
        }));
        round_trip(StoreOp::ExchangeDeclared(ExchangeDef {
            name: "x".into(),
            vhost: "v".into(),
            kind: "topic".into(),
            durable: true,
            auto_delete: true,
            internal: false,
            arguments: args.clone(),
        }));
        round_trip(StoreOp::BindingAdded(BindingDef {
            source: "x".into(),
            vhost: "/".into(),
            destination: "q".into(),
            destination_type: "queue".into(),
            routing_key: "a.#".into(),
            arguments: args,
        }));
        let props = BasicProperties {
            delivery_mode: Some(2),
            correlation_id: Some("c".into()),
            ..Default::default()
        };
        round_trip(StoreOp::MessageEnqueued {
            vhost: "/".into(),
            queue: "q".into(),
            msg_id: 7,
            message: Message::with_bcc(
                7,
                1_795_352_742_123,
                "x",
                "k",
                &props,
                &["hidden", "also.hidden"],
                &[1u8, 2, 3],
            ),
        });
        round_trip(StoreOp::MessageDelivered {
            vhost: "/".into(),
            queue: "q".into(),
            msg_id: 7,
        });
        round_trip(StoreOp::MessageRemoved {
            vhost: "/".into(),
            queue: "q".into(),
            msg_id: 7,
        });
        round_trip(StoreOp::QueuePurged {
            vhost: "/".into(),
            queue: "q".into(),
        });
    }

    #[test]
    fn access_control_ops_round_trip() {
        round_trip(StoreOp::VhostAdded { name: "v1".into() });
        round_trip(StoreOp::VhostDeleted { name: "v1".into() });
        round_trip(StoreOp::UserPut(UserDef {
            name: "alice".into(),
            password_hash: "aGFzaA==".into(),
            hashing_algorithm: "rabbit_password_hashing_sha256".into(),
            tags: vec!["management".into(), "monitoring".into()],
        }));
        round_trip(StoreOp::UserDeleted {
            name: "alice".into(),
        });
        round_trip(StoreOp::PermissionSet(PermissionDef {
            user: "alice".into(),
            vhost: "v1".into(),
            configure: "^alice-.*".into(),
            write: ".*".into(),
            read: "".into(),
        }));
        round_trip(StoreOp::PermissionCleared {
            user: "alice".into(),
            vhost: "v1".into(),
        });
    }

    #[test]
    fn a_torn_or_damaged_record_is_detected() {
        let mut buf = BytesMut::new();
        write_op(
            &StoreOp::QueueDeleted {
                vhost: "/".into(),
                name: "q".into(),
            },
            &mut buf,
        );
        let whole = buf.freeze();
        for cut in 1..whole.len() {
            let mut data = whole.slice(..cut);
            assert!(matches!(next_record(&mut data), Next::Torn), "cut at {cut}");
            let mut file = &whole[..cut];
            assert!(
                matches!(read_record(&mut file).unwrap(), Next::Torn),
                "cut at {cut}"
            );
        }
        let mut file = &whole[..];
        assert!(matches!(read_record(&mut file).unwrap(), Next::Record(..)));
        assert!(matches!(read_record(&mut file).unwrap(), Next::End));
        let mut damaged = whole.to_vec();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(matches!(next_record(&mut Bytes::from(damaged)), Next::Torn));
    }
}
