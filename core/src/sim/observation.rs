//! What simulated clients observe: the facts expectations are checked against,
//! the same facts a real client of a real broker can see.

use crate::protocol::Millis;
use crate::types::{BasicProperties, Message};
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    Delivered {
        at: Millis,
        client: String,
        consumer_tag: String,
        queue: String,
        delivery_tag: u64,
        redelivered: bool,
        exchange: String,
        routing_key: String,
        body: String,
        properties: Arc<BasicProperties>,
    },
    Got {
        at: Millis,
        client: String,
        queue: String,
        delivery_tag: u64,
        redelivered: bool,
        message_count: u32,
        exchange: String,
        routing_key: String,
        body: String,
        properties: Arc<BasicProperties>,
    },
    GetEmpty {
        at: Millis,
        client: String,
        queue: String,
    },
    Returned {
        at: Millis,
        client: String,
        reply_code: u16,
        reply_text: String,
        exchange: String,
        routing_key: String,
        body: String,
    },
    Confirmed {
        at: Millis,
        client: String,
        delivery_tag: u64,
        multiple: bool,
        ack: bool,
    },
    Cancelled {
        at: Millis,
        client: String,
        consumer_tag: String,
    },
    Error {
        at: Millis,
        client: String,
        code: u16,
        text: String,
        connection: bool,
    },
    Declared {
        at: Millis,
        client: String,
        queue: String,
        message_count: u32,
        consumer_count: u32,
    },
    RpcReply {
        at: Millis,
        client: String,
        correlation_id: String,
        body: String,
    },
}

impl Observation {
    pub(crate) fn delivered(
        at: Millis,
        client: String,
        consumer_tag: &str,
        queue: &str,
        delivery_tag: u64,
        redelivered: bool,
        m: &Message,
    ) -> Observation {
        Observation::Delivered {
            at,
            client,
            consumer_tag: consumer_tag.to_string(),
            queue: queue.to_string(),
            delivery_tag,
            redelivered,
            exchange: m.exchange().to_string(),
            routing_key: m.routing_key().to_string(),
            body: String::from_utf8_lossy(m.body()).to_string(),
            properties: m.properties().into(),
        }
    }

    pub(crate) fn got(
        at: Millis,
        client: String,
        queue: &str,
        delivery_tag: u64,
        redelivered: bool,
        message_count: u32,
        m: &Message,
    ) -> Observation {
        Observation::Got {
            at,
            client,
            queue: queue.to_string(),
            delivery_tag,
            redelivered,
            message_count,
            exchange: m.exchange().to_string(),
            routing_key: m.routing_key().to_string(),
            body: String::from_utf8_lossy(m.body()).to_string(),
            properties: m.properties().into(),
        }
    }

    pub fn time(&self) -> Millis {
        match self {
            Observation::Delivered { at, .. }
            | Observation::Got { at, .. }
            | Observation::GetEmpty { at, .. }
            | Observation::Returned { at, .. }
            | Observation::Confirmed { at, .. }
            | Observation::Cancelled { at, .. }
            | Observation::Error { at, .. }
            | Observation::Declared { at, .. }
            | Observation::RpcReply { at, .. } => *at,
        }
    }

    pub fn client(&self) -> &str {
        match self {
            Observation::Delivered { client, .. }
            | Observation::Got { client, .. }
            | Observation::GetEmpty { client, .. }
            | Observation::Returned { client, .. }
            | Observation::Confirmed { client, .. }
            | Observation::Cancelled { client, .. }
            | Observation::Error { client, .. }
            | Observation::Declared { client, .. }
            | Observation::RpcReply { client, .. } => client,
        }
    }

    /// The body a client was given, for deliveries and gets.
    pub fn received_body(&self) -> Option<&str> {
        match self {
            Observation::Delivered { body, .. } | Observation::Got { body, .. } => Some(body),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Observation::Delivered {
                consumer_tag,
                queue,
                delivery_tag,
                redelivered,
                body,
                ..
            } => format!(
                "received {body:?} from '{queue}' (consumer {consumer_tag}, delivery tag {delivery_tag}{})",
                if *redelivered { ", redelivered" } else { "" }
            ),
            Observation::Got {
                queue,
                body,
                message_count,
                redelivered,
                ..
            } => format!(
                "basic.get from '{queue}': {body:?} ({message_count} left{})",
                if *redelivered { ", redelivered" } else { "" }
            ),
            Observation::GetEmpty { queue, .. } => format!("basic.get from '{queue}': empty"),
            Observation::Returned {
                reply_code,
                reply_text,
                body,
                ..
            } => format!("message {body:?} returned: {reply_code} {reply_text}"),
            Observation::Confirmed { delivery_tag, ack, .. } => {
                format!("confirm {} for publish {delivery_tag}", if *ack { "ack" } else { "nack" })
            }
            Observation::Cancelled { consumer_tag, .. } => {
                format!("consumer {consumer_tag} cancelled by the broker")
            }
            Observation::Error {
                code,
                text,
                connection,
                ..
            } => format!(
                "{} closed by the broker: {code} {text}",
                if *connection { "connection" } else { "channel" }
            ),
            Observation::Declared {
                queue,
                message_count,
                consumer_count,
                ..
            } => format!("queue.declare-ok '{queue}' ({message_count} messages, {consumer_count} consumers)"),
            Observation::RpcReply {
                correlation_id, body, ..
            } => format!("RPC reply {body:?} (correlation_id {correlation_id})"),
        }
    }
}
