//! The broker's per-connection and per-channel state.

use crate::protocol::{ChannelId, Command, ConnId};
use crate::queue::Entry;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Connection {
    pub id: ConnId,
    pub user: String,
    pub vhost: String,
    pub channels: BTreeMap<ChannelId, Channel>,
    /// A consumed queue this connection's publishes are piling up in (see
    /// [`super::flow`]); the server slows the connection while it is set.
    pub backlog: Option<Arc<str>>,
}

impl Connection {
    /// Whether any of its channels has a consumer.
    pub fn consumes(&self) -> bool {
        self.channels.values().any(|ch| !ch.consumers.is_empty())
    }
}

/// A consumer's own state; the queue's ring holds a [`crate::queue::ConsumerRef`] to it.
#[derive(Clone, Debug)]
pub struct Consumer {
    pub queue: Arc<str>,
    pub no_ack: bool,
    pub exclusive: bool,
    /// Per-consumer prefetch (basic.qos global=false at the time of consume); 0 = none.
    pub prefetch: u16,
    pub unacked: u32,
}

/// A delivered message waiting for ack, reject or nack.
#[derive(Clone, Debug)]
pub struct Unacked {
    pub queue: Arc<str>,
    pub entry: Entry,
    /// Set for consumer deliveries (counted against prefetch), None for basic.get.
    pub consumer: Option<Arc<str>>,
}

#[derive(Clone, Debug, Default)]
pub struct Channel {
    pub next_delivery_tag: u64,
    pub unacked: BTreeMap<u64, Unacked>,
    pub consumers: BTreeMap<Arc<str>, Consumer>,
    /// basic.qos global=false: applies to consumers created afterwards.
    pub prefetch: u16,
    /// basic.qos global=true: shared by all consumers of the channel.
    pub global_prefetch: u16,
    /// Consumer deliveries not yet acked (what the global limit counts).
    pub consumer_unacked: u32,
    pub confirm: bool,
    pub next_publish_seq: u64,
    /// Commands held back by a transaction until tx.commit.
    pub tx: Option<Vec<Command>>,
    /// The last queue declared on this channel: what an empty queue name means.
    pub last_queue: Option<Arc<str>>,
    /// Consumers of quorum queues cancelled while holding unacked messages: tag →
    /// (queue, how many they still hold). The queue counts them as consumers until
    /// the last is settled ([`crate::queue::Queue::cancelled_holders`]).
    pub cancelled_holding: BTreeMap<Arc<str>, (Arc<str>, u32)>,
    /// What went through this channel; added to its vhost's totals when it closes.
    pub stats: crate::stats::MessageStats,
}

impl Channel {
    pub fn new() -> Channel {
        Channel {
            next_delivery_tag: 1,
            next_publish_seq: 1,
            ..Channel::default()
        }
    }

    /// Whether a consumer may be given one more message now.
    pub fn can_send(&self, c: &Consumer) -> bool {
        c.no_ack
            || ((c.prefetch == 0 || c.unacked < c.prefetch as u32)
                && (self.global_prefetch == 0
                    || self.consumer_unacked < self.global_prefetch as u32))
    }
}
