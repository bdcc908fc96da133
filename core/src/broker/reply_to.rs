//! Direct reply-to (`amq.rabbitmq.reply-to`), RabbitMQ's queue-less RPC replies.
//!
//! A requester consumes from the pseudo-queue `amq.rabbitmq.reply-to` in
//! no-ack mode; that consumer lives on its channel only, no queue holds it.
//! When the requester publishes with `reply_to = amq.rabbitmq.reply-to`, the
//! property is rewritten to `amq.rabbitmq.reply-to.<token>`, the token naming
//! the requester's connection, channel and consumer. A reply published to the
//! default exchange with that routing key goes straight to that consumer:
//! never queued, never stored, gone if the requester is.

use super::state::Consumer;
use super::Broker;
use crate::error::{AmqpError, ReplyCode};
use crate::protocol::{ChannelId, ConnId, Output, Reply};
use crate::types::{BasicProperties, Message};
use std::sync::Arc;

/// The pseudo-queue a requester consumes from and names in `reply_to`.
pub(crate) const PSEUDO_QUEUE: &str = "amq.rabbitmq.reply-to";
/// What a rewritten `reply_to` (a reply's routing key) starts with.
const PREFIX: &str = "amq.rabbitmq.reply-to.";

/// `<conn>.<channel>.<consumer tag>`: enough to find the consumer, and
/// checked against it, so a stale or forged token reaches no one.
fn token(conn: ConnId, ch: ChannelId, tag: &str) -> String {
    format!("{conn:x}.{ch:x}.{tag}")
}

fn parse_token(token: &str) -> Option<(ConnId, ChannelId, &str)> {
    let mut parts = token.splitn(3, '.');
    let conn = ConnId::from_str_radix(parts.next()?, 16).ok()?;
    let ch = ChannelId::from_str_radix(parts.next()?, 16).ok()?;
    Some((conn, ch, parts.next()?))
}

impl Broker {
    /// basic.consume on `amq.rabbitmq.reply-to`.
    pub(crate) fn reply_to_consume(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        tag: String,
        no_ack: bool,
        nowait: bool,
    ) -> Result<(), AmqpError> {
        if !no_ack {
            return Err(AmqpError::precondition("reply consumer cannot acknowledge"));
        }
        let tag: Arc<str> = if tag.is_empty() {
            self.rng.name("amq.ctag").into()
        } else {
            tag.into()
        };
        let chan = self.channel_mut(conn, ch)?;
        if chan.consumers.values().any(|c| &*c.queue == PSEUDO_QUEUE) {
            return Err(AmqpError::precondition("reply consumer already set"));
        }
        if chan.consumers.contains_key(&tag) {
            return Err(AmqpError::new(
                ReplyCode::NotAllowed,
                format_args!("attempt to reuse consumer tag '{tag}'"),
            ));
        }
        chan.consumers.insert(
            tag.clone(),
            Consumer {
                queue: PSEUDO_QUEUE.into(),
                no_ack: true,
                exclusive: false,
                prefetch: 0,
                unacked: 0,
            },
        );
        if !nowait {
            self.reply(
                conn,
                ch,
                Reply::BasicConsumeOk {
                    consumer_tag: tag.to_string(),
                },
            );
        }
        Ok(())
    }

    /// A publish whose `reply_to` is the pseudo-queue gets the channel's token
    /// instead; without a reply consumer on the channel it is refused.
    pub(crate) fn reply_to_rewrite(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        props: &mut BasicProperties,
    ) -> Result<(), AmqpError> {
        if props.reply_to.as_deref() != Some(PSEUDO_QUEUE) {
            return Ok(());
        }
        let chan = self.channel_mut(conn, ch)?;
        let Some(tag) = chan
            .consumers
            .iter()
            .find(|(_, c)| &*c.queue == PSEUDO_QUEUE)
            .map(|(t, _)| t.clone())
        else {
            return Err(AmqpError::precondition(
                "fast reply consumer does not exist",
            ));
        };
        props.reply_to = Some(format!("{PREFIX}{}", token(conn, ch, &tag)));
        Ok(())
    }

    /// Delivers a reply published to the default exchange with a reply-to
    /// routing key. False when the key is not one, or its requester is gone
    /// (the publish then routes as usual, to no queue).
    pub(crate) fn reply_to_deliver(&mut self, routing_key: &str, message: &Message) -> bool {
        let Some((conn, ch, tag)) = routing_key.strip_prefix(PREFIX).and_then(parse_token) else {
            return false;
        };
        let Some(chan) = self
            .conns
            .get_mut(&conn)
            .and_then(|c| c.channels.get_mut(&ch))
        else {
            return false;
        };
        let Some((tag, _)) = chan
            .consumers
            .get_key_value(tag)
            .filter(|(_, c)| &*c.queue == PSEUDO_QUEUE)
        else {
            return false;
        };
        let consumer_tag = tag.clone();
        let delivery_tag = chan.next_delivery_tag;
        chan.next_delivery_tag += 1;
        self.journal.out(Output::Deliver {
            conn,
            channel: ch,
            consumer_tag,
            delivery_tag,
            redelivered: false,
            message: message.clone(),
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Command;
    use crate::BrokerConfig;

    fn consume(b: &mut Broker, conn: ConnId, queue: &str, no_ack: bool) {
        b.handle_command(
            0,
            conn,
            1,
            Command::BasicConsume {
                queue: queue.into(),
                consumer_tag: String::new(),
                no_local: false,
                no_ack,
                exclusive: false,
                nowait: false,
                arguments: Default::default(),
            },
        );
    }

    fn publish(b: &mut Broker, conn: ConnId, key: &str, reply_to: Option<&str>) {
        b.handle_command(
            0,
            conn,
            1,
            Command::BasicPublish {
                exchange: String::new(),
                routing_key: key.into(),
                mandatory: false,
                immediate: false,
                properties: BasicProperties {
                    reply_to: reply_to.map(String::from),
                    ..Default::default()
                },
                body: "x".into(),
            },
        );
    }

    fn outputs(b: &mut Broker) -> Vec<Output> {
        std::iter::from_fn(|| b.poll_output()).collect()
    }

    #[test]
    fn a_reply_reaches_the_requesters_channel() {
        let mut b = Broker::new(BrokerConfig::default());
        for conn in [1, 2] {
            b.handle_connection_open(0, conn, "guest", "/").unwrap();
            b.handle_channel_open(0, conn, 1).unwrap();
        }
        b.handle_command(
            0,
            2,
            1,
            Command::QueueDeclare {
                queue: "rpc".into(),
                passive: false,
                durable: false,
                exclusive: false,
                auto_delete: false,
                nowait: false,
                arguments: Default::default(),
            },
        );
        consume(&mut b, 1, PSEUDO_QUEUE, true);
        outputs(&mut b);
        publish(&mut b, 1, "rpc", Some(PSEUDO_QUEUE));
        b.handle_command(
            0,
            2,
            1,
            Command::BasicGet {
                queue: "rpc".into(),
                no_ack: true,
            },
        );
        let reply_to = outputs(&mut b)
            .into_iter()
            .find_map(|o| match o {
                Output::GetOk { message, .. } => message.properties().reply_to.clone(),
                _ => None,
            })
            .expect("the request");
        assert!(reply_to.starts_with(PREFIX), "{reply_to}");
        publish(&mut b, 2, &reply_to, None);
        let out = outputs(&mut b);
        assert!(
            matches!(
                &out[..],
                [Output::Deliver {
                    conn: 1,
                    channel: 1,
                    ..
                }]
            ),
            "{out:?}"
        );
        // Once the requester is gone, a reply goes nowhere.
        b.handle_channel_close(0, 1, 1);
        publish(&mut b, 2, &reply_to, None);
        assert!(outputs(&mut b).is_empty());
    }

    #[test]
    fn reply_consumers_must_be_no_ack_and_present() {
        let mut b = Broker::new(BrokerConfig::default());
        b.handle_connection_open(0, 1, "guest", "/").unwrap();
        b.handle_channel_open(0, 1, 1).unwrap();
        publish(&mut b, 1, "q", Some(PSEUDO_QUEUE));
        assert!(
            matches!(&outputs(&mut b)[..], [Output::ChannelClose { error, .. }]
            if error.text == "PRECONDITION_FAILED - fast reply consumer does not exist")
        );
        b.handle_channel_open(0, 1, 1).unwrap();
        consume(&mut b, 1, PSEUDO_QUEUE, false);
        assert!(
            matches!(&outputs(&mut b)[..], [Output::ChannelClose { error, .. }]
            if error.code == ReplyCode::PreconditionFailed)
        );
    }
}
