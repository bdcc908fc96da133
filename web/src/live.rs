//! Live mode's pure part: what a `warren serve` event stream says about the real
//! broker, kept as a [`World`] and drawn by turning it into a scenario, so the
//! simulator's diagram code (`model::nodes`, `model::edges`, `anim`) draws it unchanged.
//!
//! The socket (`/api/events`) sends `{"snapshot": {...}}` first, then one serialized
//! `warren_core::Event` per message; [`read`] tells them apart.
//!
//! Messages are read as a `serde_json::Value` and picked apart by hand. Why not derived
//! `Deserialize` structs (or `Event`'s own, a flattened internally tagged enum): each
//! derived type adds its own copy of serde_json's parsing code, and measured, the typed
//! version of this module cost about 40 KB more wasm than one `Value` parser shared by
//! every message (the playground has a 400 KB gzipped budget).

use crate::model::NodeId;
use serde_json::Value;
use warren_core::events::{Event, EventKind};
use warren_core::scenario::{
    Action, BindingSpec, ClientSpec, ExchangeSpec, QueueSpec, Scenario, Step, Topology,
};

/// Only this vhost is drawn: the diagram has no way to show two queues of one name.
pub const VHOST: &str = "/";

/// Connection ids from here up are the server's own (the HTTP API's publishes); see
/// `INTERNAL_CONN_BASE` in server/src/admin.rs.
const INTERNAL_CONN_BASE: u64 = 1 << 48;

/// `GET /api/warren`, present only on a warren server: the event socket's path when
/// the server says it is live.
pub fn server_events(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    if !v.get("live").and_then(Value::as_bool).unwrap_or(false) {
        return None;
    }
    Some(
        v.get("events")
            .and_then(Value::as_str)
            .unwrap_or("/api/events")
            .to_string(),
    )
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn num(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn texts(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The objects of the array `v[key]`.
fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
}

#[derive(Clone, Debug, PartialEq)]
pub struct LiveExchange {
    pub name: String,
    pub vhost: String,
    pub kind: String,
}

/// A queue's figures, as in the snapshot and in `GET /api/queues`.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveQueue {
    pub name: String,
    pub vhost: String,
    pub messages_ready: u64,
    pub messages_unacknowledged: u64,
    pub consumers: u64,
}

impl LiveQueue {
    fn from_json(v: &Value) -> LiveQueue {
        LiveQueue {
            name: text(v, "name"),
            vhost: text(v, "vhost"),
            messages_ready: num(v, "messages_ready"),
            messages_unacknowledged: num(v, "messages_unacknowledged"),
            consumers: num(v, "consumers"),
        }
    }
}

/// The queues of a `GET /api/queues` answer.
pub fn read_queues(text: &str) -> Option<Vec<LiveQueue>> {
    let v: Value = serde_json::from_str(text).ok()?;
    Some(v.as_array()?.iter().map(LiveQueue::from_json).collect())
}

#[derive(Clone, Debug, PartialEq)]
pub struct LiveBinding {
    pub source: String,
    pub vhost: String,
    pub destination: String,
    pub destination_type: String,
    pub routing_key: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LiveConsumer {
    pub queue: String,
    pub vhost: String,
    pub conn: u64,
    pub consumer_tag: String,
}

fn root() -> String {
    VHOST.to_string()
}

/// The first message on the socket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub exchanges: Vec<LiveExchange>,
    pub queues: Vec<LiveQueue>,
    pub bindings: Vec<LiveBinding>,
    pub consumers: Vec<LiveConsumer>,
}

impl Snapshot {
    fn from_json(v: &Value) -> Snapshot {
        Snapshot {
            exchanges: items(v, "exchanges")
                .map(|x| LiveExchange {
                    name: text(x, "name"),
                    vhost: text(x, "vhost"),
                    kind: text(x, "type"),
                })
                .collect(),
            queues: items(v, "queues").map(LiveQueue::from_json).collect(),
            bindings: items(v, "bindings")
                .map(|b| LiveBinding {
                    source: text(b, "source"),
                    vhost: text(b, "vhost"),
                    destination: text(b, "destination"),
                    destination_type: text(b, "destination_type"),
                    routing_key: text(b, "routing_key"),
                })
                .collect(),
            consumers: items(v, "consumers")
                .map(|c| LiveConsumer {
                    queue: text(c, "queue"),
                    vhost: text(c, "vhost"),
                    conn: num(c, "conn"),
                    consumer_tag: text(c, "consumer_tag"),
                })
                .collect(),
        }
    }
}

/// One message from the socket.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    Snapshot(Snapshot),
    Event(Box<Event>),
    /// The page fell this many events behind and the server skipped them.
    Lagged(u64),
    Unknown(String),
}

/// Reads one socket message.
pub fn read(message: &str) -> Incoming {
    let v: Value = match serde_json::from_str(message) {
        Ok(v) => v,
        Err(e) => return Incoming::Unknown(e.to_string()),
    };
    if let Some(snapshot) = v.get("snapshot") {
        return Incoming::Snapshot(Snapshot::from_json(snapshot));
    }
    if let Some(n) = v.get("lagged").and_then(Value::as_u64) {
        return Incoming::Lagged(n);
    }
    match FlatEvent::from_json(&v).into_event() {
        Ok(e) => Incoming::Event(Box::new(e)),
        Err(kind) => Incoming::Unknown(format!("an event of unknown kind '{kind}'")),
    }
}

/// Every field any event kind has, side by side, read from the message; turned into
/// the same `warren_core::Event` the server serialized (the tests check this for every
/// kind the simulator emits), so its `describe()` words the log as in the simulator.
#[derive(Default)]
struct FlatEvent {
    seq: u64,
    time: u64,
    event: String,
    conn: u64,
    channel: u16,
    user: String,
    vhost: String,
    reason: String,
    method: String,
    summary: String,
    exchange: Option<String>,
    kind: String,
    queue: String,
    server_named: bool,
    source: String,
    destination: String,
    destination_type: String,
    routing_key: String,
    msg_id: u64,
    queues: Vec<String>,
    why: Vec<String>,
    mandatory: bool,
    depth: usize,
    consumer_tag: String,
    delivery_tag: u64,
    redelivered: bool,
    requeue: bool,
    count: u32,
    ack: bool,
    code: u16,
    text: String,
    connection: bool,
    queues_kept: usize,
    messages_kept: usize,
}

impl FlatEvent {
    fn from_json(v: &Value) -> FlatEvent {
        FlatEvent {
            seq: num(v, "seq"),
            time: num(v, "time"),
            event: text(v, "event"),
            conn: num(v, "conn"),
            channel: num(v, "channel") as u16,
            user: text(v, "user"),
            vhost: text(v, "vhost"),
            reason: text(v, "reason"),
            method: text(v, "method"),
            summary: text(v, "summary"),
            exchange: v
                .get("exchange")
                .and_then(Value::as_str)
                .map(str::to_string),
            kind: text(v, "kind"),
            queue: text(v, "queue"),
            server_named: flag(v, "server_named"),
            source: text(v, "source"),
            destination: text(v, "destination"),
            destination_type: text(v, "destination_type"),
            routing_key: text(v, "routing_key"),
            msg_id: num(v, "msg_id"),
            queues: texts(v, "queues"),
            why: texts(v, "why"),
            mandatory: flag(v, "mandatory"),
            depth: num(v, "depth") as usize,
            consumer_tag: text(v, "consumer_tag"),
            delivery_tag: num(v, "delivery_tag"),
            redelivered: flag(v, "redelivered"),
            requeue: flag(v, "requeue"),
            count: num(v, "count") as u32,
            ack: flag(v, "ack"),
            code: num(v, "code") as u16,
            text: text(v, "text"),
            connection: flag(v, "connection"),
            queues_kept: num(v, "queues_kept") as usize,
            messages_kept: num(v, "messages_kept") as usize,
        }
    }

    /// The event, or its kind's name when this page does not know it.
    fn into_event(self) -> Result<Event, String> {
        use EventKind::*;
        let f = self;
        let exchange = f.exchange.clone().unwrap_or_default();
        let kind = match f.event.as_str() {
            "connection_opened" => ConnectionOpened {
                conn: f.conn,
                user: f.user,
                vhost: f.vhost,
            },
            "connection_closed" => ConnectionClosed {
                conn: f.conn,
                reason: f.reason,
            },
            "channel_opened" => ChannelOpened {
                conn: f.conn,
                channel: f.channel,
            },
            "channel_closed" => ChannelClosed {
                conn: f.conn,
                channel: f.channel,
                reason: f.reason,
            },
            "method" => Method {
                conn: f.conn,
                channel: f.channel,
                method: f.method,
                summary: f.summary,
            },
            "exchange_declared" => ExchangeDeclared {
                vhost: f.vhost,
                exchange,
                kind: f.kind,
            },
            "exchange_deleted" => ExchangeDeleted {
                vhost: f.vhost,
                exchange,
                reason: f.reason,
            },
            "queue_declared" => QueueDeclared {
                vhost: f.vhost,
                queue: f.queue,
                server_named: f.server_named,
            },
            "queue_deleted" => QueueDeleted {
                vhost: f.vhost,
                queue: f.queue,
                reason: f.reason,
            },
            "bound" => Bound {
                vhost: f.vhost,
                source: f.source,
                destination: f.destination,
                destination_type: f.destination_type,
                routing_key: f.routing_key,
            },
            "unbound" => Unbound {
                vhost: f.vhost,
                source: f.source,
                destination: f.destination,
                destination_type: f.destination_type,
                routing_key: f.routing_key,
            },
            "published" => Published {
                msg_id: f.msg_id,
                conn: f.conn,
                channel: f.channel,
                exchange,
                routing_key: f.routing_key,
            },
            "routed" => Routed {
                msg_id: f.msg_id,
                exchange,
                queues: f.queues,
                why: f.why,
            },
            "unroutable" => Unroutable {
                msg_id: f.msg_id,
                exchange,
                routing_key: f.routing_key,
                mandatory: f.mandatory,
            },
            "returned" => Returned {
                msg_id: f.msg_id,
                conn: f.conn,
                channel: f.channel,
            },
            "enqueued" => Enqueued {
                msg_id: f.msg_id,
                queue: f.queue,
                depth: f.depth,
            },
            "publish_rejected" => PublishRejected {
                msg_id: f.msg_id,
                queue: f.queue,
            },
            "delivered" => Delivered {
                msg_id: f.msg_id,
                queue: f.queue,
                conn: f.conn,
                channel: f.channel,
                consumer_tag: f.consumer_tag,
                delivery_tag: f.delivery_tag,
                redelivered: f.redelivered,
            },
            "got" => Got {
                msg_id: f.msg_id,
                queue: f.queue,
                conn: f.conn,
                channel: f.channel,
                delivery_tag: f.delivery_tag,
                redelivered: f.redelivered,
            },
            "consumer_skipped" => ConsumerSkipped {
                queue: f.queue,
                consumer_tag: f.consumer_tag,
                reason: f.reason,
            },
            "consumer_added" => ConsumerAdded {
                queue: f.queue,
                conn: f.conn,
                channel: f.channel,
                consumer_tag: f.consumer_tag,
            },
            "consumer_removed" => ConsumerRemoved {
                queue: f.queue,
                conn: f.conn,
                channel: f.channel,
                consumer_tag: f.consumer_tag,
                reason: f.reason,
            },
            "acked" => Acked {
                msg_id: f.msg_id,
                queue: f.queue,
                conn: f.conn,
                channel: f.channel,
                delivery_tag: f.delivery_tag,
            },
            "rejected" => Rejected {
                msg_id: f.msg_id,
                queue: f.queue,
                delivery_tag: f.delivery_tag,
                requeue: f.requeue,
            },
            "requeued" => Requeued {
                msg_id: f.msg_id,
                queue: f.queue,
                reason: f.reason,
            },
            "expired" => Expired {
                msg_id: f.msg_id,
                queue: f.queue,
            },
            "dead_lettered" => DeadLettered {
                msg_id: f.msg_id,
                queue: f.queue,
                reason: f.reason,
                exchange: f.exchange,
            },
            "dropped" => Dropped {
                msg_id: f.msg_id,
                queue: f.queue,
                reason: f.reason,
            },
            "purged" => Purged {
                queue: f.queue,
                count: f.count,
            },
            "confirmed" => Confirmed {
                conn: f.conn,
                channel: f.channel,
                delivery_tag: f.delivery_tag,
                ack: f.ack,
            },
            "error" => Error {
                conn: f.conn,
                channel: f.channel,
                code: f.code,
                text: f.text,
                connection: f.connection,
            },
            "broker_restarted" => BrokerRestarted {
                queues_kept: f.queues_kept,
                messages_kept: f.messages_kept,
            },
            _ => return Err(f.event),
        };
        Ok(Event {
            seq: f.seq,
            time: f.time,
            kind,
        })
    }
}

/// The real broker as the stream has shown it so far (vhost `/`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct World {
    pub exchanges: Vec<(String, String)>,
    pub queues: Vec<LiveQueue>,
    pub bindings: Vec<LiveBinding>,
    pub consumers: Vec<LiveConsumer>,
    /// Connections seen publishing: id and first (exchange, routing key).
    pub publishers: Vec<(u64, String, String)>,
    /// Publishing connections that closed since the last [`World::flush`], and those
    /// that closed before it: a publisher stays drawn for one batch after it closes, so
    /// the dots of a short-lived connection (each HTTP API publish is one) have a start.
    closing: Vec<u64>,
    closed: Vec<u64>,
    /// Messages published per connection. (Vecs, not maps: a BTreeMap of a new key
    /// type costs kilobytes of wasm, and there are only a few connections.)
    pub sent: Vec<(u64, u64)>,
    /// Messages delivered per (connection, consumer tag).
    pub got: Vec<((u64, String), u64)>,
}

fn dec(v: &mut u64) {
    *v = v.saturating_sub(1);
}

/// Adds one to the count kept for `key`.
fn bump<K: PartialEq>(counts: &mut Vec<(K, u64)>, key: K) {
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += 1,
        None => counts.push((key, 1)),
    }
}

/// The count kept for `key`.
pub fn count<K: PartialEq>(counts: &[(K, u64)], key: &K) -> u64 {
    counts.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
}

impl World {
    pub fn from_snapshot(s: Snapshot) -> World {
        World {
            exchanges: s
                .exchanges
                .into_iter()
                .filter(|x| x.vhost == VHOST)
                .map(|x| (x.name, x.kind))
                .collect(),
            queues: s.queues.into_iter().filter(|q| q.vhost == VHOST).collect(),
            bindings: s
                .bindings
                .into_iter()
                .filter(|b| b.vhost == VHOST)
                .collect(),
            consumers: s
                .consumers
                .into_iter()
                .filter(|c| c.vhost == VHOST)
                .collect(),
            ..World::default()
        }
    }

    fn queue(&mut self, name: &str) -> Option<&mut LiveQueue> {
        self.queues.iter_mut().find(|q| q.name == name)
    }

    /// Takes the figures of a fresh `GET /api/queues`, which settle whatever the
    /// events could only estimate (auto-ack deliveries, requeues on a crash).
    pub fn set_queues(&mut self, queues: Vec<LiveQueue>) {
        self.queues = queues.into_iter().filter(|q| q.vhost == VHOST).collect();
    }

    /// Follows one event. Returns whether queue figures may have moved in a way only
    /// `GET /api/queues` can tell exactly.
    pub fn apply(&mut self, e: &Event) -> bool {
        use EventKind::*;
        match &e.kind {
            ExchangeDeclared {
                vhost,
                exchange,
                kind,
            } if vhost == VHOST && !self.exchanges.iter().any(|(n, _)| n == exchange) => {
                self.exchanges.push((exchange.clone(), kind.clone()));
            }
            ExchangeDeleted {
                vhost, exchange, ..
            } if vhost == VHOST => {
                self.exchanges.retain(|(n, _)| n != exchange);
                self.bindings.retain(|b| {
                    &b.source != exchange
                        && !(b.destination_type == "exchange" && &b.destination == exchange)
                });
            }
            QueueDeclared { vhost, queue, .. }
                if vhost == VHOST && !self.queues.iter().any(|q| &q.name == queue) =>
            {
                self.queues.push(LiveQueue {
                    name: queue.clone(),
                    vhost: vhost.clone(),
                    messages_ready: 0,
                    messages_unacknowledged: 0,
                    consumers: 0,
                });
            }
            QueueDeleted { vhost, queue, .. } if vhost == VHOST => {
                self.queues.retain(|q| &q.name != queue);
                self.bindings
                    .retain(|b| !(b.destination_type == "queue" && &b.destination == queue));
                self.consumers.retain(|c| &c.queue != queue);
            }
            Bound {
                vhost,
                source,
                destination,
                destination_type,
                routing_key,
            } if vhost == VHOST => {
                let b = LiveBinding {
                    source: source.clone(),
                    vhost: vhost.clone(),
                    destination: destination.clone(),
                    destination_type: destination_type.clone(),
                    routing_key: routing_key.clone(),
                };
                if !self.bindings.contains(&b) {
                    self.bindings.push(b);
                }
            }
            Unbound {
                vhost,
                source,
                destination,
                destination_type,
                routing_key,
            } if vhost == VHOST => self.bindings.retain(|b| {
                !(&b.source == source
                    && &b.destination == destination
                    && &b.destination_type == destination_type
                    && &b.routing_key == routing_key)
            }),
            ConsumerAdded {
                queue,
                conn,
                consumer_tag,
                ..
            } => {
                self.consumers.push(LiveConsumer {
                    queue: queue.clone(),
                    vhost: root(),
                    conn: *conn,
                    consumer_tag: consumer_tag.clone(),
                });
                if let Some(q) = self.queue(queue) {
                    q.consumers += 1;
                }
            }
            ConsumerRemoved {
                queue,
                conn,
                consumer_tag,
                ..
            } => {
                self.consumers
                    .retain(|c| !(c.conn == *conn && &c.consumer_tag == consumer_tag));
                if let Some(q) = self.queue(queue) {
                    dec(&mut q.consumers);
                }
            }
            ConnectionClosed { conn, .. } => {
                if self.publishers.iter().any(|p| p.0 == *conn) {
                    self.closing.push(*conn);
                }
                self.consumers.retain(|c| c.conn != *conn);
                return true;
            }
            Published {
                conn,
                exchange,
                routing_key,
                ..
            } => {
                if !self.publishers.iter().any(|p| p.0 == *conn) {
                    self.publishers
                        .push((*conn, exchange.clone(), routing_key.clone()));
                }
                bump(&mut self.sent, *conn);
            }
            Enqueued { queue, depth, .. } => {
                if let Some(q) = self.queue(queue) {
                    q.messages_ready = *depth as u64;
                }
            }
            Delivered {
                queue,
                conn,
                consumer_tag,
                ..
            } => {
                bump(&mut self.got, (*conn, consumer_tag.clone()));
                if let Some(q) = self.queue(queue) {
                    dec(&mut q.messages_ready);
                    q.messages_unacknowledged += 1;
                }
                return true;
            }
            Got { queue, .. } => {
                if let Some(q) = self.queue(queue) {
                    dec(&mut q.messages_ready);
                }
                return true;
            }
            Acked { queue, .. } => {
                if let Some(q) = self.queue(queue) {
                    dec(&mut q.messages_unacknowledged);
                }
            }
            Purged { queue, .. } => {
                if let Some(q) = self.queue(queue) {
                    q.messages_ready = 0;
                }
            }
            Rejected { .. }
            | Requeued { .. }
            | Expired { .. }
            | DeadLettered { .. }
            | Dropped { .. }
            | BrokerRestarted { .. } => return true,
            _ => {}
        }
        false
    }

    /// A new batch of events is about to be animated: publishers closed before the
    /// previous batch go.
    pub fn flush(&mut self) {
        let gone = std::mem::replace(&mut self.closed, std::mem::take(&mut self.closing));
        self.publishers.retain(|p| !gone.contains(&p.0));
    }

    /// The diagram name of a publishing connection.
    pub fn publisher_name(conn: u64) -> String {
        if conn >= INTERNAL_CONN_BASE {
            "HTTP API".to_string()
        } else {
            format!("connection {conn}")
        }
    }

    /// The diagram name of a consumer: its tag, with the connection when two share one.
    pub fn consumer_name(&self, conn: u64, tag: &str) -> String {
        let shared = self
            .consumers
            .iter()
            .filter(|c| c.consumer_tag == tag)
            .count()
            > 1;
        if shared {
            format!("{tag} ({conn})")
        } else {
            tag.to_string()
        }
    }

    /// The node a connection's publish or a consumer's delivery is drawn at.
    pub fn node_of(&self, conn: u64, tag: Option<&str>) -> Option<NodeId> {
        match tag {
            Some(tag) => self
                .consumers
                .iter()
                .any(|c| c.conn == conn && c.consumer_tag == tag)
                .then(|| NodeId::Client(self.consumer_name(conn, tag))),
            None => self
                .publishers
                .iter()
                .any(|p| p.0 == conn)
                .then(|| NodeId::Client(Self::publisher_name(conn))),
        }
    }

    /// The world as a scenario with no run: the topology, a publishing client per
    /// connection seen publishing, a consuming client per consumer. The built-in
    /// `amq.*` exchanges are left out unless something uses them.
    pub fn scenario(&self) -> Scenario {
        let used = |name: &str| {
            self.bindings
                .iter()
                .any(|b| b.source == name || b.destination == name)
                || self.publishers.iter().any(|p| p.1 == name)
        };
        let exchanges = self
            .exchanges
            .iter()
            .filter(|(n, _)| !n.is_empty() && (!n.starts_with("amq.") || used(n)))
            .map(|(name, kind)| ExchangeSpec {
                name: name.clone(),
                kind: kind.clone(),
                durable: false,
                auto_delete: false,
                internal: false,
                arguments: Default::default(),
            })
            .collect();
        let queues = self
            .queues
            .iter()
            .map(|q| QueueSpec {
                name: q.name.clone(),
                durable: false,
                auto_delete: false,
                arguments: Default::default(),
            })
            .collect();
        let bindings = self
            .bindings
            .iter()
            .filter(|b| !b.source.is_empty())
            .map(|b| BindingSpec {
                source: b.source.clone(),
                destination: b.destination.clone(),
                destination_type: b.destination_type.clone(),
                routing_key: b.routing_key.clone(),
                arguments: Default::default(),
            })
            .collect();
        let mut clients = Vec::new();
        let mut script = Vec::new();
        let mut client = |name: String, action: Action| {
            clients.push(ClientSpec {
                name: name.clone(),
                user: String::new(),
                password: String::new(),
                vhost: root(),
            });
            script.push(Step {
                at: 0,
                client: Some(name),
                action,
            });
        };
        let mut drawn: Vec<String> = Vec::new();
        for (conn, exchange, routing_key) in &self.publishers {
            // The HTTP API's connections all share one node.
            let name = Self::publisher_name(*conn);
            if drawn.contains(&name) {
                continue;
            }
            drawn.push(name.clone());
            client(
                name,
                Action::Publish {
                    exchange: exchange.clone(),
                    routing_key: routing_key.clone(),
                    body: String::new(),
                    properties: Default::default(),
                    persistent: false,
                    mandatory: false,
                    count: 1,
                    interval_ms: 0,
                },
            );
        }
        for c in &self.consumers {
            client(
                self.consumer_name(c.conn, &c.consumer_tag),
                Action::Consume {
                    queue: c.queue.clone(),
                    tag: c.consumer_tag.clone(),
                    auto_ack: false,
                    exclusive: false,
                    processing_ms: 0,
                    on_message: Default::default(),
                    requeue: false,
                    reply: None,
                    priority: None,
                },
            );
        }
        Scenario {
            version: warren_core::scenario::FORMAT_VERSION,
            name: "live".to_string(),
            description: String::new(),
            seed: 0,
            topology: Topology {
                exchanges,
                queues,
                bindings,
            },
            clients,
            script,
            expect: Vec::new(),
            layout: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    const SNAPSHOT: &str = r#"{"snapshot":{"exchanges":[{"name":"","vhost":"/","type":"direct","durable":true,"auto_delete":false,"internal":false,"arguments":{}},{"name":"logs","vhost":"/","type":"fanout","durable":true,"auto_delete":false,"internal":false,"arguments":{}},{"name":"amq.topic","vhost":"/","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}],
      "queues":[{"name":"q1","vhost":"/","durable":true,"auto_delete":false,"exclusive":false,"arguments":{},"type":"classic","messages":2,"messages_ready":2,"messages_unacknowledged":0,"message_bytes_ready":4,"consumers":1,"state":"running"}],
      "bindings":[{"source":"logs","vhost":"/","destination":"q1","destination_type":"queue","routing_key":"","arguments":{},"properties_key":"~"}],
      "consumers":[{"queue":"q1","vhost":"/","conn":3,"channel":1,"consumer_tag":"ctag-1","ack_required":true,"exclusive":false,"prefetch_count":0,"unacked":0}],
      "connections":[{"conn":3,"user":"guest","vhost":"/","channels":1}]}}"#;

    fn world() -> World {
        match read(SNAPSHOT) {
            Incoming::Snapshot(s) => World::from_snapshot(s),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_event_the_simulator_emits_reads_back_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios");
        let mut kinds = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(root).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let mut sim =
                warren_core::sim::Simulation::new(warren_core::scenario::parse(&text).unwrap());
            sim.run();
            for line in sim.trace() {
                if let warren_core::sim::TraceLine::Broker(e) = line {
                    let json = serde_json::to_string(e).unwrap();
                    assert_eq!(read(&json), Incoming::Event(Box::new(e.clone())), "{json}");
                    kinds.insert(
                        json.split("\"event\":\"")
                            .nth(1)
                            .unwrap_or("")
                            .split('"')
                            .next()
                            .unwrap_or("")
                            .to_string(),
                    );
                }
            }
        }
        assert!(kinds.len() > 20, "{kinds:?}");
    }

    #[test]
    fn the_snapshot_draws_as_nodes_and_edges() {
        let w = world();
        let s = w.scenario();
        let nodes = model::nodes(&s);
        let labels: Vec<String> = nodes.iter().map(|n| n.aria_label()).collect();
        for want in ["exchange logs", "queue q1", "consumer ctag-1"] {
            assert!(labels.iter().any(|l| l == want), "{want} in {labels:?}");
        }
        assert!(!labels.iter().any(|l| l.contains("amq.topic")));
        let edges = model::edges(&s, &nodes);
        assert_eq!(edges.len(), 2, "{edges:?}");
    }

    #[test]
    fn events_update_the_world_and_fly() {
        let mut w = world();
        let lines = [
            r#"{"seq":1,"time":5,"event":"published","msg_id":7,"conn":9,"channel":1,"exchange":"logs","routing_key":""}"#,
            r#"{"seq":2,"time":5,"event":"routed","msg_id":7,"exchange":"logs","queues":["q1"],"why":[]}"#,
            r#"{"seq":3,"time":5,"event":"enqueued","msg_id":7,"queue":"q1","depth":3}"#,
            r#"{"seq":4,"time":6,"event":"delivered","msg_id":7,"queue":"q1","conn":3,"channel":1,"consumer_tag":"ctag-1","delivery_tag":1,"redelivered":false}"#,
        ];
        let events: Vec<Event> = lines
            .iter()
            .map(|l| match read(l) {
                Incoming::Event(e) => *e,
                other => panic!("{other:?}"),
            })
            .collect();
        for e in &events {
            w.apply(e);
        }
        assert!(events[0]
            .describe()
            .contains("published to exchange 'logs'"));
        assert_eq!(w.queues[0].messages_ready, 2);
        assert_eq!(w.queues[0].messages_unacknowledged, 1);
        let s = w.scenario();
        let nodes = model::nodes(&s);
        let edges = model::edges(&s, &nodes);
        let flights =
            crate::anim::event_flights(&mut events.iter(), &|c, t| w.node_of(c, t), &nodes, &edges);
        assert_eq!(flights.len(), 1);
        assert_eq!(flights[0].path.len(), 4, "{:?}", flights[0].path);
        assert_eq!(read(r#"{"lagged":12}"#), Incoming::Lagged(12));
    }
}
