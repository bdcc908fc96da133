//! Read-only views of the broker for the management API, the CLI and the
//! playground's inspector. Figures are computed on demand, so they are never stale.

use super::Broker;
use crate::exchange::Dest;
use crate::protocol::{ChannelId, ConnId};
use crate::stats::{ExchangeStats, MessageStats, StatsSnapshot};
use crate::types::FieldTable;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueInfo {
    pub name: String,
    pub vhost: String,
    pub durable: bool,
    pub auto_delete: bool,
    pub exclusive: bool,
    pub arguments: FieldTable,
    #[serde(rename = "type")]
    pub kind: String,
    pub messages: u64,
    pub messages_ready: u64,
    pub messages_unacknowledged: u64,
    pub message_bytes_ready: u64,
    /// Body bytes of the messages delivered and not yet acked.
    pub message_bytes_unacknowledged: u64,
    /// Persistent messages (ready or unacked) of a durable queue, and their
    /// body bytes: what RabbitMQ keeps on disk for it.
    pub messages_persistent: u64,
    pub message_bytes_persistent: u64,
    pub consumers: u64,
    /// The active consumer of a single-active-consumer queue.
    pub single_active_consumer_tag: Option<String>,
    pub state: String,
    /// The `timestamp` property of the message at the head of the queue, which
    /// RabbitMQ's management API shows for a classic queue (the server's view
    /// adds it there; it is not part of this struct's own serialization).
    #[serde(skip)]
    pub head_message_timestamp: Option<u64>,
    /// Messages routed into it and handed out of it (the server's view shows
    /// them as `message_stats`, with rates).
    #[serde(skip)]
    pub message_stats: MessageStats,
    /// When anything last happened to it (see [`crate::queue::Queue::last_active`]).
    #[serde(skip)]
    pub last_active: crate::protocol::Millis,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExchangeInfo {
    pub name: String,
    pub vhost: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: FieldTable,
    #[serde(skip)]
    pub message_stats: ExchangeStats,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BindingInfo {
    pub source: String,
    pub vhost: String,
    pub destination: String,
    pub destination_type: String,
    pub routing_key: String,
    pub arguments: FieldTable,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConnectionInfo {
    pub conn: ConnId,
    pub user: String,
    pub vhost: String,
    pub channels: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelInfo {
    pub conn: ConnId,
    pub channel: ChannelId,
    pub consumer_count: usize,
    pub messages_unacknowledged: usize,
    pub prefetch_count: u16,
    pub global_prefetch_count: u16,
    pub confirm: bool,
    pub transactional: bool,
    #[serde(skip)]
    pub message_stats: MessageStats,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsumerInfo {
    pub queue: String,
    pub vhost: String,
    pub conn: ConnId,
    pub channel: ChannelId,
    pub consumer_tag: String,
    pub ack_required: bool,
    pub exclusive: bool,
    pub prefetch_count: u16,
    pub unacked: u32,
    /// False for a single-active-consumer queue's waiting consumers.
    pub active: bool,
    /// RabbitMQ's `activity_status`: `up`, or `single_active` / `waiting`
    /// on a single-active-consumer queue.
    pub activity_status: &'static str,
}

impl Broker {
    pub fn queue_info(&self, vhost: &str, name: &str) -> Option<QueueInfo> {
        let q = self.vhosts.get(vhost)?.queues.get(name)?;
        let unacked: Vec<&crate::Message> = self
            .conns
            .values()
            .filter(|c| c.vhost == vhost)
            .flat_map(|c| c.channels.values())
            .flat_map(|ch| ch.unacked.values())
            .filter(|u| &*u.queue == name)
            .map(|u| &u.entry.message)
            .collect();
        Some(Self::info_of(vhost, q, &unacked))
    }

    /// A queue's figures, given its messages out to consumers (`unacked`).
    fn info_of(vhost: &str, q: &crate::queue::Queue, unacked: &[&crate::Message]) -> QueueInfo {
        let unacked_bytes: u64 = unacked.iter().map(|m| m.body_size() as u64).sum();
        // A durable queue counts its ready persistent messages as they come
        // and go; the unacked ones are looked at here.
        let (mut persistent, mut persistent_bytes) = q
            .ready
            .persistent()
            .map_or((0, 0), |(n, b)| (n as u64, b as u64));
        if q.durable {
            for m in unacked.iter().filter(|m| m.persistent()) {
                persistent += 1;
                persistent_bytes += m.body_size() as u64;
            }
        }
        QueueInfo {
            name: q.name.to_string(),
            vhost: vhost.to_string(),
            durable: q.durable,
            auto_delete: q.auto_delete,
            exclusive: q.exclusive_owner.is_some(),
            arguments: q.arguments.clone(),
            kind: q.args.kind.as_str().to_string(),
            messages: q.ready.len() as u64 + q.unacked as u64,
            messages_ready: q.ready.len() as u64,
            messages_unacknowledged: q.unacked as u64,
            message_bytes_ready: q.ready.bytes() as u64,
            message_bytes_unacknowledged: unacked_bytes,
            messages_persistent: persistent,
            message_bytes_persistent: persistent_bytes,
            consumers: q.reported_consumer_count() as u64,
            single_active_consumer_tag: q.single_active_consumer().map(|c| c.tag.to_string()),
            state: "running".to_string(),
            head_message_timestamp: q.ready.front().and_then(|m| m.properties().timestamp),
            message_stats: q.stats,
            last_active: q.last_active,
        }
    }

    /// Whether `vhost` has a queue called `name`: what callers that only need
    /// to know should ask, since [`Broker::queue_info`] walks the queue's
    /// messages (memcacheq asks before every `get` and `set`).
    pub fn has_queue(&self, vhost: &str, name: &str) -> bool {
        self.vhosts
            .get(vhost)
            .is_some_and(|v| v.queues.contains_key(name))
    }

    /// Body bytes of the ready messages of every queue, from each queue's
    /// running count. The server weighs this against its memory watermark ten
    /// times a second, so it must not cost what [`Broker::queues`] does: that
    /// walks every message of a durable queue (to count the persistent ones)
    /// and every unacked message once per queue.
    pub fn ready_bytes(&self) -> u64 {
        self.vhosts
            .values()
            .flat_map(|v| v.queues.values())
            .map(|q| q.ready.bytes() as u64)
            .sum()
    }

    /// A vhost's message counts: its closed channels' and its open ones'.
    pub fn vhost_stats(&self, vhost: &str) -> Option<MessageStats> {
        let mut sum = self.vhosts.get(vhost)?.retired;
        for c in self.conns.values().filter(|c| c.vhost == vhost) {
            for ch in c.channels.values() {
                sum += ch.stats;
            }
        }
        Some(sum)
    }

    /// Connections, channels and queues that came and went since the start.
    pub fn churn(&self) -> crate::stats::Churn {
        self.churn
    }

    /// Every message counter at once (see [`StatsSnapshot`]).
    pub fn stats_snapshot(&self) -> StatsSnapshot {
        let mut s = StatsSnapshot {
            churn: self.churn,
            ..StatsSnapshot::default()
        };
        for (vn, v) in &self.vhosts {
            s.vhosts.insert(vn.clone(), v.retired);
            for (qn, q) in &v.queues {
                let key = (vn.clone(), qn.to_string());
                s.depths
                    .insert(key.clone(), (q.ready.len() as u64, u64::from(q.unacked)));
                s.queues.insert(key, q.stats);
            }
            s.exchanges
                .insert((vn.clone(), String::new()), v.default_exchange_stats);
            for (xn, x) in &v.exchanges {
                s.exchanges.insert((vn.clone(), xn.to_string()), x.stats);
            }
        }
        for c in self.conns.values() {
            for (id, ch) in &c.channels {
                s.channels.insert((c.id, *id), ch.stats);
                if let Some(v) = s.vhosts.get_mut(&c.vhost) {
                    *v += ch.stats;
                }
            }
        }
        s
    }

    /// Every queue, by vhost then name.
    pub fn queues(&self) -> Vec<QueueInfo> {
        // Every channel's unacked messages, gathered by queue in one pass (not
        // once per queue).
        let mut unacked: HashMap<(&str, &str), Vec<&crate::Message>> = HashMap::new();
        for c in self.conns.values() {
            for u in c.channels.values().flat_map(|ch| ch.unacked.values()) {
                unacked
                    .entry((c.vhost.as_str(), &*u.queue))
                    .or_default()
                    .push(&u.entry.message);
            }
        }
        self.vhosts
            .iter()
            .flat_map(|(vn, v)| v.queues.iter().map(move |(qn, q)| (vn, qn, q)))
            .map(|(vn, qn, q)| {
                let out = unacked
                    .get(&(vn.as_str(), &**qn))
                    .map_or(&[][..], Vec::as_slice);
                Self::info_of(vn, q, out)
            })
            .collect()
    }

    /// Every exchange including the default one (named "") and the built-ins.
    pub fn exchanges(&self) -> Vec<ExchangeInfo> {
        let mut out = Vec::new();
        for (vn, v) in &self.vhosts {
            out.push(ExchangeInfo {
                name: String::new(),
                vhost: vn.clone(),
                kind: "direct".to_string(),
                durable: true,
                auto_delete: false,
                internal: false,
                arguments: FieldTable::new(),
                message_stats: v.default_exchange_stats,
            });
            for x in v.exchanges.values() {
                out.push(ExchangeInfo {
                    name: x.name.to_string(),
                    vhost: vn.clone(),
                    kind: x.kind.as_str().to_string(),
                    durable: x.durable,
                    auto_delete: x.auto_delete,
                    internal: x.internal,
                    arguments: x.arguments.clone(),
                    message_stats: x.stats,
                });
            }
        }
        out
    }

    /// Every binding, with the default exchange's implicit one per queue first
    /// for each vhost, as RabbitMQ lists them.
    pub fn bindings(&self) -> Vec<BindingInfo> {
        let mut out = Vec::new();
        for (vn, v) in &self.vhosts {
            for q in v.queues.keys() {
                out.push(BindingInfo {
                    source: String::new(),
                    vhost: vn.clone(),
                    destination: q.to_string(),
                    destination_type: "queue".to_string(),
                    routing_key: q.to_string(),
                    arguments: FieldTable::new(),
                });
            }
            for x in v.exchanges.values() {
                for b in x.bindings() {
                    out.push(BindingInfo {
                        source: x.name.to_string(),
                        vhost: vn.clone(),
                        destination: b.dest.name().to_string(),
                        destination_type: match b.dest {
                            Dest::Queue(_) => "queue",
                            Dest::Exchange(_) => "exchange",
                        }
                        .to_string(),
                        routing_key: b.routing_key.to_string(),
                        arguments: b.arguments.clone(),
                    });
                }
            }
        }
        out
    }

    pub fn connections(&self) -> Vec<ConnectionInfo> {
        self.conns
            .values()
            .map(|c| ConnectionInfo {
                conn: c.id,
                user: c.user.clone(),
                vhost: c.vhost.clone(),
                channels: c.channels.len(),
            })
            .collect()
    }

    pub fn channels(&self) -> Vec<ChannelInfo> {
        self.conns
            .values()
            .flat_map(|c| {
                c.channels.iter().map(|(id, ch)| ChannelInfo {
                    conn: c.id,
                    channel: *id,
                    consumer_count: ch.consumers.len(),
                    messages_unacknowledged: ch.unacked.len(),
                    prefetch_count: ch.prefetch,
                    global_prefetch_count: ch.global_prefetch,
                    confirm: ch.confirm,
                    transactional: ch.tx.is_some(),
                    message_stats: ch.stats,
                })
            })
            .collect()
    }

    pub fn consumers(&self) -> Vec<ConsumerInfo> {
        self.conns
            .values()
            .flat_map(|c| {
                c.channels.iter().flat_map(move |(id, ch)| {
                    ch.consumers.iter().map(move |(tag, k)| {
                        let queue = self
                            .vhosts
                            .get(&c.vhost)
                            .and_then(|v| v.queues.get(&k.queue));
                        let (active, activity_status) = match queue {
                            Some(q) if q.args.single_active_consumer => {
                                if q.single_active_consumer()
                                    .is_some_and(|a| a.is(c.id, *id, tag))
                                {
                                    (true, "single_active")
                                } else {
                                    (false, "waiting")
                                }
                            }
                            _ => (true, "up"),
                        };
                        ConsumerInfo {
                            queue: k.queue.to_string(),
                            vhost: c.vhost.clone(),
                            conn: c.id,
                            channel: *id,
                            consumer_tag: tag.to_string(),
                            ack_required: !k.no_ack,
                            exclusive: k.exclusive,
                            prefetch_count: k.prefetch,
                            unacked: k.unacked,
                            active,
                            activity_status,
                        }
                    })
                })
            })
            .collect()
    }

    /// When `message` expires in `queue` (its TTL or the queue's, counted
    /// from its publish), for inspectors; None without a TTL.
    pub fn expiry_in(&self, vhost: &str, queue: &str, message: &crate::Message) -> Option<u64> {
        self.vhosts
            .get(vhost)
            .and_then(|v| v.queues.get(queue))
            .and_then(|q| q.expiry_of(message))
    }

    /// The ready messages of a queue, head first (for inspectors).
    pub fn peek_messages(&self, vhost: &str, queue: &str) -> Vec<crate::queue::Entry> {
        self.vhosts
            .get(vhost)
            .and_then(|v| v.queues.get(queue))
            .map(|q| q.ready.iter().collect())
            .unwrap_or_default()
    }
}
