//! Queues: their arguments, their ready messages in order, and the round-robin
//! ring of consumers. Unacked messages live on the channel that holds them;
//! the queue only counts them.

use crate::error::AmqpError;
use crate::protocol::{ChannelId, ConnId, Millis};
use crate::types::{FieldTable, FieldValue, Message};
use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueType {
    Classic,
    Quorum,
}

impl QueueType {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueType::Classic => "classic",
            QueueType::Quorum => "quorum",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    DropHead,
    RejectPublish,
    RejectPublishDlx,
}

/// The arguments the broker acts on, read once at declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueArgs {
    pub kind: QueueType,
    pub message_ttl: Option<u64>,
    pub expires: Option<u64>,
    pub max_length: Option<u64>,
    pub max_length_bytes: Option<u64>,
    pub overflow: Overflow,
    pub dead_letter_exchange: Option<String>,
    pub dead_letter_routing_key: Option<String>,
    pub delivery_limit: Option<u64>,
}

/// The arguments compared when a queue is declared again (RabbitMQ's list).
pub const EQUIVALENCE_ARGS: &[&str] = &[
    "x-expires",
    "x-message-ttl",
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-max-length",
    "x-max-length-bytes",
    "x-max-priority",
    "x-overflow",
    "x-queue-mode",
    "x-queue-type",
    "x-delivery-limit",
];

impl QueueArgs {
    /// Validates and reads declaration arguments, with RabbitMQ's error texts.
    pub fn parse(args: &FieldTable, queue: &str, vhost: &str) -> Result<QueueArgs, AmqpError> {
        let invalid = |key: &str, why: String| {
            AmqpError::precondition(format_args!(
                "invalid arg '{key}' for queue '{queue}' in vhost '{vhost}': {why}"
            ))
        };
        let int = |key: &str, min: i64| -> Result<Option<u64>, AmqpError> {
            match args.get(key) {
                None => Ok(None),
                Some(v) => match v.as_i64() {
                    Some(n) if n >= min => Ok(Some(n as u64)),
                    Some(n) if n < 0 => Err(invalid(key, format!("{{value_negative,{n}}}"))),
                    Some(n) => Err(invalid(key, format!("{{value_zero,{n}}}"))),
                    None => Err(invalid(
                        key,
                        format!("{{unacceptable_type,{}}}", v.type_name()),
                    )),
                },
            }
        };
        let text = |key: &str| -> Result<Option<String>, AmqpError> {
            match args.get(key) {
                None => Ok(None),
                Some(v) => match v.as_str() {
                    Some(s) => Ok(Some(s.to_string())),
                    None => Err(invalid(
                        key,
                        format!("{{unacceptable_type,{}}}", v.type_name()),
                    )),
                },
            }
        };
        let kind = match text("x-queue-type")?.as_deref() {
            None | Some("classic") => QueueType::Classic,
            Some("quorum") => QueueType::Quorum,
            Some(other) => {
                return Err(invalid(
                    "x-queue-type",
                    format!("{{unacceptable_value,{other}}}"),
                ))
            }
        };
        let overflow = match text("x-overflow")?.as_deref() {
            None | Some("drop-head") => Overflow::DropHead,
            Some("reject-publish") => Overflow::RejectPublish,
            Some("reject-publish-dlx") => Overflow::RejectPublishDlx,
            Some(other) => {
                return Err(invalid(
                    "x-overflow",
                    format!("{{unacceptable_value,{other}}}"),
                ))
            }
        };
        let dlrk = text("x-dead-letter-routing-key")?;
        let dlx = text("x-dead-letter-exchange")?;
        if dlrk.is_some() && dlx.is_none() {
            return Err(invalid(
                "x-dead-letter-routing-key",
                "Key x-dead-letter-routing-key should be specified with x-dead-letter-exchange, got none"
                    .into(),
            ));
        }
        Ok(QueueArgs {
            kind,
            message_ttl: int("x-message-ttl", 0)?,
            expires: int("x-expires", 1)?,
            max_length: int("x-max-length", 0)?,
            max_length_bytes: int("x-max-length-bytes", 0)?,
            overflow,
            dead_letter_exchange: dlx,
            dead_letter_routing_key: dlrk,
            delivery_limit: int("x-delivery-limit", 0)?,
        })
    }
}

/// A message waiting in a queue (ready) or held by a consumer (unacked).
#[derive(Clone, Debug)]
pub struct Entry {
    /// Position in the queue; requeued messages go back to their place by it.
    pub seq: u64,
    /// Broker-wide id of the publish, for traces and the store.
    pub msg_id: u64,
    pub message: Arc<Message>,
    pub redelivered: bool,
    /// Times this message was returned to a quorum queue (`x-delivery-count`).
    pub delivery_count: u32,
    pub enqueued_at: Millis,
    pub expires_at: Option<Millis>,
}

/// A consumer as the queue's ring knows it; its limits live on its channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerRef {
    pub conn: ConnId,
    pub channel: ChannelId,
    pub tag: Arc<str>,
}

#[derive(Clone, Debug)]
pub struct Queue {
    pub name: Arc<str>,
    pub durable: bool,
    pub exclusive_owner: Option<ConnId>,
    pub auto_delete: bool,
    pub arguments: FieldTable,
    pub args: QueueArgs,
    pub ready: VecDeque<Entry>,
    pub ready_bytes: usize,
    pub unacked: u32,
    /// Consumers in turn order: the head gets the next message.
    pub active: VecDeque<ConsumerRef>,
    /// Consumers skipped because their prefetch was reached; they rejoin the
    /// tail of `active` when their channel acks.
    pub blocked: Vec<ConsumerRef>,
    pub exclusive_consumer: bool,
    pub had_consumer: bool,
    pub next_seq: u64,
    /// Last time it was used, for `x-expires`.
    pub last_used: Millis,
}

impl Queue {
    pub fn new(
        name: &str,
        durable: bool,
        exclusive_owner: Option<ConnId>,
        auto_delete: bool,
        arguments: FieldTable,
        args: QueueArgs,
        now: Millis,
    ) -> Queue {
        Queue {
            name: name.into(),
            durable,
            exclusive_owner,
            auto_delete,
            arguments,
            args,
            ready: VecDeque::new(),
            ready_bytes: 0,
            unacked: 0,
            active: VecDeque::new(),
            blocked: Vec::new(),
            exclusive_consumer: false,
            had_consumer: false,
            next_seq: 0,
            last_used: now,
        }
    }

    pub fn consumer_count(&self) -> usize {
        self.active.len() + self.blocked.len()
    }

    pub fn push(&mut self, e: Entry) {
        self.ready_bytes += e.message.body_size();
        self.ready.push_back(e);
    }

    pub fn pop(&mut self) -> Option<Entry> {
        let e = self.ready.pop_front()?;
        self.ready_bytes -= e.message.body_size();
        Some(e)
    }

    /// Puts a returned message back at its original position.
    pub fn requeue(&mut self, e: Entry) {
        self.ready_bytes += e.message.body_size();
        let at = self.ready.partition_point(|x| x.seq < e.seq);
        self.ready.insert(at, e);
    }

    /// Whether the queue is over `x-max-length` / `x-max-length-bytes`.
    pub fn over_limit(&self) -> bool {
        self.args
            .max_length
            .is_some_and(|m| self.ready.len() as u64 > m)
            || self
                .args
                .max_length_bytes
                .is_some_and(|m| self.ready_bytes as u64 > m)
    }

    /// Whether one more message of `size` bytes would go over a limit.
    pub fn full_for(&self, size: usize) -> bool {
        self.args
            .max_length
            .is_some_and(|m| self.ready.len() as u64 >= m)
            || self
                .args
                .max_length_bytes
                .is_some_and(|m| (self.ready_bytes + size) as u64 > m)
    }

    /// Per-message expiry: the lower of the queue's TTL and the message's own.
    pub fn expiry_for(&self, msg: &Message, now: Millis) -> Option<Millis> {
        let own = msg
            .properties
            .expiration
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok());
        let ttl = match (self.args.message_ttl, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        ttl.map(|t| now.saturating_add(t))
    }

    pub fn remove_consumer(&mut self, c: &ConsumerRef) -> bool {
        let before = self.consumer_count();
        self.active.retain(|x| x != c);
        self.blocked.retain(|x| x != c);
        before != self.consumer_count()
    }

    /// Compares a redeclaration's arguments with the queue's, as RabbitMQ does.
    pub fn check_equivalent_args(&self, args: &FieldTable, vhost: &str) -> Result<(), AmqpError> {
        for key in EQUIVALENCE_ARGS {
            let (new, cur) = (args.get(key), self.arguments.get(key));
            let same = match (new, cur) {
                (None, None) => true,
                (Some(a), Some(b)) => a.loosely_equals(b),
                // A queue declared as classic by default equals an explicit "classic".
                (None, Some(v)) | (Some(v), None) => {
                    *key == "x-queue-type" && v.as_str() == Some("classic")
                }
            };
            if !same {
                let show = |v: Option<&FieldValue>| match v {
                    None => "none".to_string(),
                    Some(v) => format!("the value '{v}' of type '{}'", v.type_name()),
                };
                return Err(AmqpError::precondition(format_args!(
                    "inequivalent arg '{key}' for queue '{}' in vhost '{vhost}': received {} but current is {}",
                    self.name,
                    show(new),
                    show(cur)
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::BasicProperties;

    fn args(pairs: &[(&str, FieldValue)]) -> FieldTable {
        pairs.iter().cloned().collect()
    }

    #[test]
    fn parses_arguments() {
        let a = QueueArgs::parse(
            &args(&[
                ("x-message-ttl", FieldValue::I32(1000)),
                ("x-overflow", FieldValue::str("reject-publish")),
                ("x-queue-type", FieldValue::str("quorum")),
            ]),
            "q",
            "/",
        )
        .unwrap();
        assert_eq!(a.message_ttl, Some(1000));
        assert_eq!(a.overflow, Overflow::RejectPublish);
        assert_eq!(a.kind, QueueType::Quorum);
    }

    #[test]
    fn rejects_bad_arguments() {
        let e = QueueArgs::parse(&args(&[("x-message-ttl", FieldValue::I32(-1))]), "q", "/")
            .unwrap_err();
        assert_eq!(e.code.code(), 406);
        assert_eq!(
            e.text,
            "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"
        );
        let e =
            QueueArgs::parse(&args(&[("x-expires", FieldValue::I32(0))]), "q", "/").unwrap_err();
        assert!(e.text.contains("value_zero"));
        let e = QueueArgs::parse(&args(&[("x-overflow", FieldValue::str("nope"))]), "q", "/")
            .unwrap_err();
        assert!(e.text.contains("unacceptable_value"));
    }

    fn entry(seq: u64) -> Entry {
        Entry {
            seq,
            msg_id: seq,
            message: Message::new("", "q", BasicProperties::default(), vec![1, 2, 3]),
            redelivered: false,
            delivery_count: 0,
            enqueued_at: 0,
            expires_at: None,
        }
    }

    #[test]
    fn requeue_goes_back_to_its_place() {
        let a = QueueArgs::parse(&FieldTable::new(), "q", "/").unwrap();
        let mut q = Queue::new("q", false, None, false, FieldTable::new(), a, 0);
        for s in [0, 1, 2, 3] {
            q.push(entry(s));
        }
        let e0 = q.pop().unwrap();
        let e1 = q.pop().unwrap();
        q.requeue(e1);
        q.requeue(e0);
        let order: Vec<u64> = q.ready.iter().map(|e| e.seq).collect();
        assert_eq!(order, vec![0, 1, 2, 3]);
        assert_eq!(q.ready_bytes, 12);
    }

    #[test]
    fn inequivalent_ttl_text() {
        let fa = args(&[("x-message-ttl", FieldValue::I32(1000))]);
        let a = QueueArgs::parse(&fa, "q", "/").unwrap();
        let q = Queue::new("q", false, None, false, fa, a, 0);
        let e = q
            .check_equivalent_args(&args(&[("x-message-ttl", FieldValue::I32(2000))]), "/")
            .unwrap_err();
        assert_eq!(e.text, "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received the value '2000' of type 'signedint' but current is the value '1000' of type 'signedint'");
        assert!(q.check_equivalent_args(&FieldTable::new(), "/").is_err());
    }
}
