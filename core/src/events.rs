//! Events: what the broker did and why, one per step. The playground animates
//! and explains them, the server streams them, traces print them.

use crate::protocol::{ChannelId, ConnId, Millis};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the broker's event stream, from 0.
    pub seq: u64,
    pub time: Millis,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    ConnectionOpened {
        conn: ConnId,
        user: String,
        vhost: String,
    },
    ConnectionClosed {
        conn: ConnId,
        reason: String,
    },
    ChannelOpened {
        conn: ConnId,
        channel: ChannelId,
    },
    ChannelClosed {
        conn: ConnId,
        channel: ChannelId,
        reason: String,
    },
    /// A client method arrived.
    Method {
        conn: ConnId,
        channel: ChannelId,
        method: String,
        summary: String,
    },
    ExchangeDeclared {
        vhost: String,
        exchange: String,
        kind: String,
    },
    ExchangeDeleted {
        vhost: String,
        exchange: String,
        reason: String,
    },
    QueueDeclared {
        vhost: String,
        queue: String,
        server_named: bool,
    },
    QueueDeleted {
        vhost: String,
        queue: String,
        reason: String,
    },
    Bound {
        vhost: String,
        source: String,
        destination: String,
        destination_type: String,
        routing_key: String,
    },
    Unbound {
        vhost: String,
        source: String,
        destination: String,
        destination_type: String,
        routing_key: String,
    },
    Published {
        msg_id: u64,
        conn: ConnId,
        channel: ChannelId,
        exchange: String,
        routing_key: String,
    },
    /// The exchange chose these queues; `why` explains each match in words.
    Routed {
        msg_id: u64,
        exchange: String,
        queues: Vec<String>,
        why: Vec<String>,
    },
    Unroutable {
        msg_id: u64,
        exchange: String,
        routing_key: String,
        mandatory: bool,
    },
    Returned {
        msg_id: u64,
        conn: ConnId,
        channel: ChannelId,
    },
    Enqueued {
        msg_id: u64,
        queue: String,
        depth: usize,
    },
    /// A queue at its limit with `reject-publish` refused the message.
    PublishRejected {
        msg_id: u64,
        queue: String,
    },
    Delivered {
        msg_id: u64,
        queue: String,
        conn: ConnId,
        channel: ChannelId,
        consumer_tag: String,
        delivery_tag: u64,
        redelivered: bool,
    },
    Got {
        msg_id: u64,
        queue: String,
        conn: ConnId,
        channel: ChannelId,
        delivery_tag: u64,
        redelivered: bool,
    },
    ConsumerSkipped {
        queue: String,
        consumer_tag: String,
        reason: String,
    },
    ConsumerAdded {
        queue: String,
        conn: ConnId,
        channel: ChannelId,
        consumer_tag: String,
    },
    ConsumerRemoved {
        queue: String,
        conn: ConnId,
        channel: ChannelId,
        consumer_tag: String,
        reason: String,
    },
    Acked {
        msg_id: u64,
        queue: String,
        conn: ConnId,
        channel: ChannelId,
        delivery_tag: u64,
    },
    Rejected {
        msg_id: u64,
        queue: String,
        delivery_tag: u64,
        requeue: bool,
    },
    Requeued {
        msg_id: u64,
        queue: String,
        reason: String,
    },
    Expired {
        msg_id: u64,
        queue: String,
    },
    /// Left the queue for its dead-letter exchange (or was dropped, when `exchange` is None).
    DeadLettered {
        msg_id: u64,
        queue: String,
        reason: String,
        exchange: Option<String>,
    },
    Dropped {
        msg_id: u64,
        queue: String,
        reason: String,
    },
    Purged {
        queue: String,
        count: u32,
    },
    Confirmed {
        conn: ConnId,
        channel: ChannelId,
        delivery_tag: u64,
        ack: bool,
    },
    /// The broker closed a channel or connection with an error.
    Error {
        conn: ConnId,
        channel: ChannelId,
        code: u16,
        text: String,
        connection: bool,
    },
    BrokerRestarted {
        queues_kept: usize,
        messages_kept: usize,
    },
}

impl Event {
    /// One line in words, for traces and the playground's log.
    pub fn describe(&self) -> String {
        use EventKind::*;
        match &self.kind {
            ConnectionOpened { conn, user, vhost } => {
                format!("connection {conn} opened as '{user}' on vhost '{vhost}'")
            }
            ConnectionClosed { conn, reason } => format!("connection {conn} closed: {reason}"),
            ChannelOpened { conn, channel } => format!("channel {conn}/{channel} opened"),
            ChannelClosed {
                conn,
                channel,
                reason,
            } => format!("channel {conn}/{channel} closed: {reason}"),
            Method {
                conn,
                channel,
                method,
                summary,
            } => format!("{conn}/{channel} → {method} {summary}"),
            ExchangeDeclared { exchange, kind, .. } => {
                format!("exchange '{exchange}' ({kind}) declared")
            }
            ExchangeDeleted {
                exchange, reason, ..
            } => format!("exchange '{exchange}' deleted: {reason}"),
            QueueDeclared {
                queue,
                server_named,
                ..
            } => {
                if *server_named {
                    format!("queue '{queue}' declared (name chosen by the broker)")
                } else {
                    format!("queue '{queue}' declared")
                }
            }
            QueueDeleted { queue, reason, .. } => format!("queue '{queue}' deleted: {reason}"),
            Bound {
                source,
                destination,
                destination_type,
                routing_key,
                ..
            } => format!(
                "{destination_type} '{destination}' bound to exchange '{source}' with key '{routing_key}'"
            ),
            Unbound {
                source,
                destination,
                destination_type,
                routing_key,
                ..
            } => format!(
                "{destination_type} '{destination}' unbound from exchange '{source}' (key '{routing_key}')"
            ),
            Published {
                msg_id,
                exchange,
                routing_key,
                ..
            } => format!(
                "message #{msg_id} published to exchange '{}' with routing key '{routing_key}'",
                shown_exchange(exchange)
            ),
            Routed {
                msg_id,
                exchange,
                queues,
                why,
            } => format!(
                "message #{msg_id}: exchange '{}' routed to {}{}",
                shown_exchange(exchange),
                queues
                    .iter()
                    .map(|q| format!("'{q}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", why.join("; "))
                }
            ),
            Unroutable {
                msg_id,
                exchange,
                routing_key,
                mandatory,
            } => format!(
                "message #{msg_id}: no binding of exchange '{}' matched '{routing_key}' — {}",
                shown_exchange(exchange),
                if *mandatory {
                    "returned to the publisher, mandatory was true"
                } else {
                    "dropped, mandatory was false"
                }
            ),
            Returned { msg_id, .. } => {
                format!("message #{msg_id} returned to its publisher (312 NO_ROUTE)")
            }
            Enqueued {
                msg_id,
                queue,
                depth,
            } => format!("message #{msg_id} enqueued on '{queue}' ({depth} ready)"),
            PublishRejected { msg_id, queue } => format!(
                "message #{msg_id} refused by '{queue}': queue full and x-overflow is reject-publish"
            ),
            Delivered {
                msg_id,
                queue,
                consumer_tag,
                delivery_tag,
                redelivered,
                ..
            } => format!(
                "message #{msg_id} from '{queue}' delivered to consumer {consumer_tag} (delivery tag {delivery_tag}{})",
                if *redelivered { ", redelivered" } else { "" }
            ),
            Got {
                msg_id,
                queue,
                delivery_tag,
                ..
            } => format!("message #{msg_id} taken from '{queue}' by basic.get (delivery tag {delivery_tag})"),
            ConsumerSkipped {
                queue,
                consumer_tag,
                reason,
            } => format!("'{queue}': consumer {consumer_tag} skipped: {reason}"),
            ConsumerAdded {
                queue,
                consumer_tag,
                ..
            } => format!("consumer {consumer_tag} subscribed to '{queue}'"),
            ConsumerRemoved {
                queue,
                consumer_tag,
                reason,
                ..
            } => format!("consumer {consumer_tag} left '{queue}': {reason}"),
            Acked {
                msg_id,
                queue,
                delivery_tag,
                ..
            } => format!("message #{msg_id} acked (delivery tag {delivery_tag}), removed from '{queue}'"),
            Rejected {
                msg_id,
                queue,
                requeue,
                ..
            } => format!(
                "message #{msg_id} rejected by its consumer on '{queue}'{}",
                if *requeue { ", requeued" } else { ", not requeued" }
            ),
            Requeued {
                msg_id,
                queue,
                reason,
            } => format!("message #{msg_id} back in '{queue}' at its original place: {reason}"),
            Expired { msg_id, queue } => format!("message #{msg_id} expired at the head of '{queue}'"),
            DeadLettered {
                msg_id,
                queue,
                reason,
                exchange,
            } => match exchange {
                Some(x) => format!(
                    "message #{msg_id} dead-lettered from '{queue}' ({reason}) to exchange '{}'",
                    shown_exchange(x)
                ),
                None => format!("message #{msg_id} dropped from '{queue}' ({reason}), no dead-letter exchange"),
            },
            Dropped {
                msg_id,
                queue,
                reason,
            } => format!("message #{msg_id} dropped from '{queue}': {reason}"),
            Purged { queue, count } => format!("queue '{queue}' purged: {count} messages removed"),
            Confirmed {
                delivery_tag, ack, ..
            } => format!(
                "publisher confirm: basic.{} for publish #{delivery_tag}",
                if *ack { "ack" } else { "nack" }
            ),
            Error {
                code,
                text,
                connection,
                ..
            } => format!(
                "{} closed by the broker: {code} {text}",
                if *connection { "connection" } else { "channel" }
            ),
            BrokerRestarted {
                queues_kept,
                messages_kept,
            } => format!(
                "broker restarted: {queues_kept} durable queues and {messages_kept} persistent messages recovered"
            ),
        }
    }
}

fn shown_exchange(name: &str) -> &str {
    if name.is_empty() {
        "(default)"
    } else {
        name
    }
}
