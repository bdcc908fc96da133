//! Queues: their arguments, their ready messages in order, and the round-robin
//! ring of consumers. Unacked messages live on the channel that holds them;
//! the queue only counts them.

mod ready;

use crate::error::AmqpError;
use crate::message::Message;
use crate::protocol::{ChannelId, ConnId, Millis};
use crate::types::{FieldTable, FieldValue};
pub use ready::ReadyList;
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
    /// `x-max-priority` (classic queues): messages of higher `priority`
    /// (clamped to this) go first; 0 means no priorities.
    pub max_priority: u8,
    /// `x-single-active-consumer`: one consumer gets every message; the
    /// others wait their turn.
    pub single_active_consumer: bool,
}

/// The arguments a classic queue accepts, in the order RabbitMQ 3.10 compares
/// them when the queue is declared again (`rabbit_classic_queue:capabilities/0`).
pub const CLASSIC_ARGS: &[&str] = &[
    "x-expires",
    "x-message-ttl",
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-max-length",
    "x-max-length-bytes",
    "x-max-priority",
    "x-overflow",
    "x-queue-mode",
    "x-queue-version",
    "x-single-active-consumer",
    "x-queue-type",
    "x-queue-master-locator",
];

/// The arguments a quorum queue accepts, in RabbitMQ 3.10's comparison order.
pub const QUORUM_ARGS: &[&str] = &[
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-dead-letter-strategy",
    "x-expires",
    "x-max-length",
    "x-max-length-bytes",
    "x-max-in-memory-length",
    "x-max-in-memory-bytes",
    "x-overflow",
    "x-single-active-consumer",
    "x-queue-type",
    "x-quorum-initial-group-size",
    "x-delivery-limit",
    "x-message-ttl",
    "x-queue-leader-locator",
];

/// Arguments only streams accept. With the two lists above they are every
/// argument RabbitMQ knows; a known argument another type owns is refused.
const STREAM_ONLY_ARGS: &[&str] = &[
    "x-max-age",
    "x-stream-max-segment-size-bytes",
    "x-initial-cluster-size",
];

/// The arguments compared when a classic queue is declared again.
pub const EQUIVALENCE_ARGS: &[&str] = CLASSIC_ARGS;

/// The longest `x-message-ttl`, `x-expires` or `expiration` RabbitMQ accepts:
/// ten years in milliseconds.
pub const MAX_TTL: u64 = 315_360_000_000;

/// Reads an `expiration` property as RabbitMQ does (Erlang's
/// `string:to_integer/1`): an optional sign and digits, nothing else, at most
/// ten years. The error is RabbitMQ's reason term, for its 406 text.
pub fn parse_expiration(s: &str) -> Result<u64, String> {
    let digits_at = usize::from(s.starts_with(['+', '-']));
    let digits = s[digits_at..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    if digits == 0 {
        return Err("no_integer".into());
    }
    let (number, rest) = s.split_at(digits_at + digits);
    if !rest.is_empty() {
        return Err(format!("{{leftover_string,\"{rest}\"}}"));
    }
    // Beyond i128 is certainly too large; keep the text as written then.
    match number.parse::<i128>() {
        Ok(n) if n < 0 => Err(format!("{{value_negative,{n}}}")),
        Ok(n) if n > MAX_TTL as i128 => Err(format!("{{value_too_large,{n}}}")),
        Ok(n) => Ok(n as u64),
        Err(_) => Err(format!(
            "{{value_too_large,{}}}",
            number.trim_start_matches('+')
        )),
    }
}

impl QueueType {
    /// The module RabbitMQ names in errors about this type.
    pub fn module(self) -> &'static str {
        match self {
            QueueType::Classic => "rabbit_classic_queue",
            QueueType::Quorum => "rabbit_quorum_queue",
        }
    }

    /// The arguments this type accepts, in comparison order.
    pub fn arguments(self) -> &'static [&'static str] {
        match self {
            QueueType::Classic => CLASSIC_ARGS,
            QueueType::Quorum => QUORUM_ARGS,
        }
    }
}

impl QueueArgs {
    /// Validates and reads declaration arguments with RabbitMQ's error texts,
    /// in its order: each known argument's value (`rabbit_amqqueue:declare_args/0`),
    /// then whether the queue's type accepts it. Unknown arguments are kept
    /// and ignored, as RabbitMQ does.
    pub fn parse(args: &FieldTable, queue: &str, vhost: &str) -> Result<QueueArgs, AmqpError> {
        let invalid = |key: &str, why: String| {
            AmqpError::precondition(format_args!(
                "invalid arg '{key}' for queue '{queue}' in vhost '{vhost}': {why}"
            ))
        };
        let int = |key: &str| -> Result<Option<i64>, AmqpError> {
            match args.get(key) {
                None => Ok(None),
                Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                    invalid(key, format!("\"expected integer, got {}\"", v.type_name()))
                }),
            }
        };
        let non_negative = |key: &str| -> Result<Option<u64>, AmqpError> {
            match int(key)? {
                Some(n) if n < 0 => Err(invalid(key, format!("{{value_negative,{n}}}"))),
                n => Ok(n.map(|n| n as u64)),
            }
        };
        let ttl = |key: &str| -> Result<Option<u64>, AmqpError> {
            match non_negative(key)? {
                Some(n) if n > MAX_TTL => Err(invalid(key, format!("{{value_too_large,{n}}}"))),
                n => Ok(n),
            }
        };
        let text = |key: &str| -> Result<Option<String>, AmqpError> {
            match args.get(key) {
                None => Ok(None),
                Some(FieldValue::LongStr(b)) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
                Some(v) => Err(invalid(
                    key,
                    format!("{{unacceptable_type,{}}}", v.type_name()),
                )),
            }
        };
        let expires = match int("x-expires")? {
            Some(0) => return Err(invalid("x-expires", "{value_zero,0}".into())),
            _ => ttl("x-expires")?,
        };
        let message_ttl = ttl("x-message-ttl")?;
        let dlx = text("x-dead-letter-exchange")?;
        let dlrk = text("x-dead-letter-routing-key")?;
        if dlrk.is_some() && dlx.is_none() {
            return Err(invalid(
                "x-dead-letter-routing-key",
                "routing_key_but_no_dlx_defined".into(),
            ));
        }
        let max_length = non_negative("x-max-length")?;
        let max_length_bytes = non_negative("x-max-length-bytes")?;
        non_negative("x-max-in-memory-length")?;
        non_negative("x-max-in-memory-bytes")?;
        let max_priority = match non_negative("x-max-priority")? {
            Some(p) => u8::try_from(p)
                .map_err(|_| invalid("x-max-priority", format!("{{max_value_exceeded,{p}}}")))?,
            None => 0,
        };
        let overflow = match text("x-overflow")?.as_deref() {
            None | Some("drop-head") => Overflow::DropHead,
            Some("reject-publish") => Overflow::RejectPublish,
            Some("reject-publish-dlx") => Overflow::RejectPublishDlx,
            Some(_) => return Err(invalid("x-overflow", "invalid_overflow".into())),
        };
        match text("x-queue-mode")?.as_deref() {
            None | Some("default") | Some("lazy") => {}
            Some(other) => {
                return Err(invalid(
                    "x-queue-mode",
                    format!("\"unsupported queue mode '{other}'\""),
                ))
            }
        }
        match args.get("x-single-active-consumer") {
            None | Some(FieldValue::Bool(_)) => {}
            Some(v) => {
                return Err(invalid(
                    "x-single-active-consumer",
                    format!("{{unacceptable_type,{}}}", v.type_name()),
                ))
            }
        }
        let kind = match text("x-queue-type")?.as_deref() {
            None | Some("classic") => QueueType::Classic,
            Some("quorum") => QueueType::Quorum,
            // Streams are not modelled: they are refused like an unknown type.
            Some(other) => {
                return Err(invalid(
                    "x-queue-type",
                    format!("\"unsupported queue type '{other}'\""),
                ))
            }
        };
        let accepted = kind.arguments();
        let owned_elsewhere = |k: &str| {
            !accepted.contains(&k)
                && (CLASSIC_ARGS.contains(&k)
                    || QUORUM_ARGS.contains(&k)
                    || STREAM_ONLY_ARGS.contains(&k))
        };
        if let Some((k, _)) = args.iter().find(|(k, _)| owned_elsewhere(k)) {
            return Err(AmqpError::precondition(format_args!(
                "invalid arg '{k}' for queue '{queue}' in vhost '{vhost}' of queue type {}",
                kind.module()
            )));
        }
        // Quorum queues treat reject-publish-dlx as drop-head (RabbitMQ logs a
        // warning and uses its default) and do not validate x-delivery-limit.
        let overflow = match (kind, overflow) {
            (QueueType::Quorum, Overflow::RejectPublishDlx) => Overflow::DropHead,
            (_, o) => o,
        };
        let delivery_limit = args
            .get("x-delivery-limit")
            .and_then(|v| v.as_i64())
            .and_then(|n| u64::try_from(n).ok());
        Ok(QueueArgs {
            kind,
            message_ttl,
            expires,
            max_length,
            max_length_bytes,
            overflow,
            dead_letter_exchange: dlx,
            dead_letter_routing_key: dlrk,
            delivery_limit,
            max_priority,
            single_active_consumer: matches!(
                args.get("x-single-active-consumer"),
                Some(FieldValue::Bool(true))
            ),
        })
    }
}

/// RabbitMQ's 406 for a redeclaration whose argument differs: plain values
/// when both sides have one, typed values or `none` when one side lacks it.
pub fn inequivalent_arg(
    what: &str,
    name: &str,
    vhost: &str,
    key: &str,
    new: Option<&FieldValue>,
    cur: Option<&FieldValue>,
) -> AmqpError {
    let (new, cur) = match (new, cur) {
        (Some(a), Some(b)) => (format!("'{a}'"), format!("'{b}'")),
        (a, b) => {
            let show = |v: Option<&FieldValue>| match v {
                None => "none".to_string(),
                Some(v) => format!("the value '{v}' of type '{}'", v.type_name()),
            };
            (show(a), show(b))
        }
    };
    AmqpError::precondition(format_args!(
        "inequivalent arg '{key}' for {what} '{name}' in vhost '{vhost}': received {new} but current is {cur}"
    ))
}

/// A message in a queue, ready or held by a consumer (unacked). In the ready
/// list it is stored more compactly (see [`ReadyList`]); this is the whole of
/// it, as the broker works with it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub message: Message,
    /// Position in the queue; requeued messages go back to their place by it.
    pub seq: u64,
    pub redelivered: bool,
    /// Times this message was returned to a quorum queue (`x-delivery-count`).
    pub delivery_count: u32,
}

impl Entry {
    /// A message just routed to a queue, at position `seq`.
    pub fn new(message: Message, seq: u64) -> Entry {
        Entry {
            message,
            seq,
            redelivered: false,
            delivery_count: 0,
        }
    }

    /// Broker-wide id of the publish (events, the store).
    pub fn msg_id(&self) -> u64 {
        self.message.id()
    }
}

/// A consumer as the queue's ring knows it; its limits live on its channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerRef {
    pub conn: ConnId,
    pub channel: ChannelId,
    pub tag: Arc<str>,
    /// `x-priority` of basic.consume (default 0): messages go to the
    /// highest-priority consumers that can take them, in turn among equals.
    pub priority: i64,
}

impl ConsumerRef {
    /// The same consumer (a tag is unique on its channel).
    pub fn is(&self, conn: ConnId, channel: ChannelId, tag: &str) -> bool {
        self.conn == conn && self.channel == channel && *self.tag == *tag
    }
}

#[derive(Clone, Debug)]
pub struct Queue {
    pub name: Arc<str>,
    pub durable: bool,
    pub exclusive_owner: Option<ConnId>,
    pub auto_delete: bool,
    pub arguments: FieldTable,
    pub args: QueueArgs,
    pub ready: ReadyList,
    pub unacked: u32,
    /// Consumers cancelled while still holding messages of this quorum queue unacked:
    /// RabbitMQ 3.10's quorum queue keeps counting them as consumers until those
    /// messages are settled (see [`Queue::reported_consumer_count`]).
    pub cancelled_holders: u32,
    /// Consumers in turn order: the head gets the next message.
    pub active: VecDeque<ConsumerRef>,
    /// Consumers skipped because their prefetch was reached; they rejoin the
    /// tail of `active` when their channel acks.
    pub blocked: Vec<ConsumerRef>,
    /// A single-active-consumer queue's other consumers, in the order they
    /// subscribed: not in `active` or `blocked` until their turn comes.
    pub waiting: VecDeque<ConsumerRef>,
    pub exclusive_consumer: bool,
    pub had_consumer: bool,
    pub next_seq: u64,
    /// Last time it was used, for `x-expires`.
    pub last_used: Millis,
    /// Last time anything happened to it (a message in or out, an ack, a
    /// consumer, a declare): RabbitMQ's classic queue reports itself idle a
    /// second after that (`idle_since` in the management API).
    pub last_active: Millis,
    /// How many entries at the head of `ready` are messages a quorum queue
    /// got back (channel closed, or requeued with a delivery limit set): it
    /// serves those first, in the order they came back.
    pub returned: usize,
    /// A quorum queue with `reject-publish` went over its limit and refuses
    /// publishes until it drains to 80% of it (RabbitMQ's soft limit).
    pub rejecting: bool,
    /// Messages routed into it by publishes, and handed out of it.
    pub stats: crate::stats::MessageStats,
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
        let max_priority = args.max_priority;
        Queue {
            name: name.into(),
            durable,
            exclusive_owner,
            auto_delete,
            arguments,
            args,
            // Only a durable queue keeps messages on disk, so only it reports
            // how many of its messages are persistent.
            ready: if durable {
                ReadyList::with_max_priority(max_priority).counting_persistent()
            } else {
                ReadyList::with_max_priority(max_priority)
            },
            unacked: 0,
            cancelled_holders: 0,
            active: VecDeque::new(),
            blocked: Vec::new(),
            waiting: VecDeque::new(),
            exclusive_consumer: false,
            had_consumer: false,
            next_seq: 0,
            last_used: now,
            last_active: now,
            returned: 0,
            rejecting: false,
            stats: Default::default(),
        }
    }

    pub fn consumer_count(&self) -> usize {
        self.active.len() + self.blocked.len() + self.waiting.len()
    }

    /// A new consumer: in the ring, or waiting when this is a
    /// single-active-consumer queue that already has its active one (which
    /// is the first to subscribe, whatever the priorities, as in RabbitMQ 3.10).
    pub fn add_consumer(&mut self, c: ConsumerRef) {
        if self.args.single_active_consumer && self.consumer_count() > 0 {
            self.waiting.push_back(c);
        } else {
            self.rejoin(c);
        }
    }

    /// The consumer count RabbitMQ 3.10 reports (declare-ok, management): a
    /// quorum queue leaves out its waiting single-active consumers, and counts a
    /// cancelled consumer until the messages it still holds are settled.
    pub fn reported_consumer_count(&self) -> usize {
        let subscribed = match (self.args.kind, self.args.single_active_consumer) {
            (QueueType::Quorum, true) => self.active.len() + self.blocked.len(),
            _ => self.consumer_count(),
        };
        // Only ever set on a quorum queue.
        subscribed + self.cancelled_holders as usize
    }

    /// The tag of a single-active-consumer queue's active consumer.
    pub fn single_active_consumer(&self) -> Option<&ConsumerRef> {
        if !self.args.single_active_consumer {
            return None;
        }
        self.active.front().or_else(|| self.blocked.first())
    }

    pub fn push(&mut self, e: Entry) {
        self.ready.push_back(e);
    }

    pub fn pop(&mut self) -> Option<Entry> {
        let e = self.ready.pop_front()?;
        self.returned = self.returned.saturating_sub(1);
        if self.rejecting && self.below_soft_limit() {
            self.rejecting = false;
        }
        Some(e)
    }

    /// Drops every ready message (purge).
    pub fn clear_ready(&mut self) {
        self.ready.clear();
        self.returned = 0;
        self.rejecting = false;
    }

    /// Puts a returned message back at its original position (classic queues).
    pub fn requeue(&mut self, e: Entry) {
        self.ready.insert_in_order(e);
    }

    /// Puts a message a quorum queue got back after those already returned,
    /// ahead of everything else.
    pub fn return_to_front(&mut self, e: Entry) {
        self.ready.insert(self.returned, e);
        self.returned += 1;
    }

    /// Puts a message at the back as if newly published (a quorum queue's
    /// explicit requeue when it has no delivery limit).
    pub fn requeue_at_back(&mut self, mut e: Entry) {
        e.seq = self.next_seq;
        self.next_seq += 1;
        self.push(e);
    }

    /// RabbitMQ's quorum queue soft limit: at most 80% of each limit.
    fn below_soft_limit(&self) -> bool {
        let below = |limit: Option<u64>, n: u64| limit.is_none_or(|m| n <= m * 8 / 10);
        below(self.args.max_length, self.ready.len() as u64)
            && below(self.args.max_length_bytes, self.ready.bytes() as u64)
    }

    /// Whether the queue is over `x-max-length` / `x-max-length-bytes`.
    pub fn over_limit(&self) -> bool {
        self.args
            .max_length
            .is_some_and(|m| self.ready.len() as u64 > m)
            || self
                .args
                .max_length_bytes
                .is_some_and(|m| self.ready.bytes() as u64 > m)
    }

    /// Whether one more message of `size` bytes would go over a limit.
    pub fn full_for(&self, size: usize) -> bool {
        self.args
            .max_length
            .is_some_and(|m| self.ready.len() as u64 >= m)
            || self
                .args
                .max_length_bytes
                .is_some_and(|m| (self.ready.bytes() + size) as u64 > m)
    }

    /// Per-message expiry: the lower of the queue's TTL and the message's own.
    /// Computed rather than stored: the message's publish time plus the
    /// lower TTL. A message's own `expiration` is parsed only when it has one.
    pub fn expiry_of(&self, msg: &Message) -> Option<Millis> {
        let own = msg.own_ttl();
        let ttl = match (self.args.message_ttl, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        ttl.map(|t| msg.published_at().saturating_add(t))
    }

    /// When the message at the head expires, if it does.
    pub fn head_expiry(&self) -> Option<Millis> {
        self.ready.front().and_then(|m| self.expiry_of(m))
    }

    /// Takes a consumer off the queue. When it was a single-active-consumer
    /// queue's active one, a waiting consumer takes over, picked as RabbitMQ
    /// 3.10 picks it: on a classic queue the one of highest priority (the
    /// earliest among equals), on a quorum queue the earliest.
    pub fn remove_consumer(&mut self, conn: ConnId, channel: ChannelId, tag: &str) -> bool {
        let before = self.consumer_count();
        self.active.retain(|x| !x.is(conn, channel, tag));
        self.blocked.retain(|x| !x.is(conn, channel, tag));
        self.waiting.retain(|x| !x.is(conn, channel, tag));
        if self.active.is_empty() && self.blocked.is_empty() {
            let next = match self.args.kind {
                QueueType::Quorum => (!self.waiting.is_empty()).then_some(0),
                QueueType::Classic => {
                    let top = self.waiting.iter().map(|c| c.priority).max();
                    self.waiting.iter().position(|c| Some(c.priority) == top)
                }
            };
            if let Some(c) = next.and_then(|at| self.waiting.remove(at)) {
                self.rejoin(c);
            }
        }
        before != self.consumer_count()
    }

    /// Puts a consumer (back) in the ring: after every consumer of its
    /// priority or higher, so equals take turns and higher ones go first.
    pub fn rejoin(&mut self, c: ConsumerRef) {
        let at = self.active.partition_point(|x| x.priority >= c.priority);
        self.active.insert(at, c);
    }

    /// Compares a redeclaration's arguments with the queue's, as RabbitMQ does.
    pub fn check_equivalent_args(&self, args: &FieldTable, vhost: &str) -> Result<(), AmqpError> {
        for key in self.args.kind.arguments() {
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
                return Err(inequivalent_arg("queue", &self.name, vhost, key, new, cur));
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
        assert!(e.text.ends_with(": invalid_overflow"));
    }

    fn entry(seq: u64) -> Entry {
        let m = Message::new(seq, 0, "", "q", &BasicProperties::default(), &[1, 2, 3]);
        Entry::new(m, seq)
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
        assert_eq!(q.ready.bytes(), 12);
    }

    #[test]
    fn inequivalent_ttl_text() {
        let fa = args(&[("x-message-ttl", FieldValue::I32(1000))]);
        let a = QueueArgs::parse(&fa, "q", "/").unwrap();
        let q = Queue::new("q", false, None, false, fa, a, 0);
        let e = q
            .check_equivalent_args(&args(&[("x-message-ttl", FieldValue::I32(2000))]), "/")
            .unwrap_err();
        assert_eq!(e.text, "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received '2000' but current is '1000'");
        assert!(q.check_equivalent_args(&FieldTable::new(), "/").is_err());
    }
}
