//! The JSON objects of RabbitMQ's management API, built from the core's
//! read-only views. Field names follow RabbitMQ 3.10 so its tools and
//! scripts read ours; message counts and rates come from [`Rates`]. Erlang
//! internals (memory, reductions, garbage collection) have no meaning here
//! and are left out.

use super::auth::User;
use crate::admin::{Admin, INTERNAL_CONN_BASE};
use serde_json::{json, Value};
use warren_core::broker::{BindingInfo, QueueInfo};
use warren_core::protocol::ConnId;
use warren_core::stats::MessageStats;
use warren_core::RABBITMQ_VERSION;

/// The node name RabbitMQ would show; one node, always running.
pub const NODE: &str = "warren@localhost";

/// RabbitMQ's connection name, "peer -> local", and the peer's host and port.
pub fn conn_name(admin: &Admin<'_>, conn: ConnId) -> (String, Value, Value) {
    match admin.conn_meta(conn) {
        Some((m, _, _)) => {
            let peer = m.peer.map(|p| p.to_string()).unwrap_or_default();
            let local = m.local.map(|p| p.to_string()).unwrap_or_default();
            (
                format!("{peer} -> {local}"),
                m.peer.map_or(Value::Null, |p| json!(p.ip().to_string())),
                m.peer.map_or(Value::Null, |p| json!(p.port())),
            )
        }
        None => (format!("connection {conn}"), Value::Null, Value::Null),
    }
}

/// A classic queue reports itself idle a second after anything last happened
/// to it (when RabbitMQ's queue process would hibernate).
const IDLE_AFTER_MS: u64 = 1000;

/// A time as RabbitMQ 3.10's management API writes it:
/// `2026-12-05T12:27:24.723+00:00`.
pub fn timestamp(ms: u64) -> Value {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+00:00"
    );
    i64::try_from(ms)
        .ok()
        .and_then(|ms| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        })
        .and_then(|t| t.format(&format).ok())
        .map_or(Value::Null, Value::String)
}

pub fn queue(admin: &Admin<'_>, q: &QueueInfo) -> Value {
    let mut v = serde_json::to_value(q).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        if let Some(stats) = admin.rates().queue(&q.vhost, &q.name, &q.message_stats) {
            m.insert("message_stats".into(), stats);
        }
        admin.rates().queue_depth(&q.vhost, &q.name).put(m);
        let idle_at = q.last_active.saturating_add(IDLE_AFTER_MS);
        if q.kind == "classic" && admin.now() >= idle_at {
            m.insert("idle_since".into(), timestamp(idle_at));
        }
        m.insert("node".into(), json!(NODE));
        m.insert("policy".into(), Value::Null);
        m.insert("exclusive_consumer_tag".into(), Value::Null);
        // Everything is in memory: RabbitMQ's RAM figures are the totals, and
        // nothing is paged out.
        let bytes = q.message_bytes_ready + q.message_bytes_unacknowledged;
        m.insert("message_bytes".into(), json!(bytes));
        m.insert("message_bytes_ram".into(), json!(bytes));
        m.insert("messages_ram".into(), json!(q.messages));
        m.insert("messages_ready_ram".into(), json!(q.messages_ready));
        m.insert(
            "messages_unacknowledged_ram".into(),
            json!(q.messages_unacknowledged),
        );
        m.insert("messages_paged_out".into(), json!(0));
        m.insert("message_bytes_paged_out".into(), json!(0));
        m.insert("operator_policy".into(), Value::Null);
        m.insert("effective_policy_definition".into(), json!({}));
        // RabbitMQ 3.10 shows it for classic queues only (null when the head
        // message has no timestamp, or there is none).
        if q.kind == "classic" {
            m.insert(
                "head_message_timestamp".into(),
                json!(q.head_message_timestamp),
            );
        }
    }
    v
}

/// One queue as `GET /api/queues/{vhost}/{name}` shows it, with its consumers.
pub fn queue_detail(admin: &Admin<'_>, q: &QueueInfo) -> Value {
    let mut v = queue(admin, q);
    let consumers: Vec<Value> = admin
        .broker()
        .consumers()
        .into_iter()
        .filter(|c| c.vhost == q.vhost && c.queue == q.name)
        .map(|c| consumer(admin, &c))
        .collect();
    if let Value::Object(m) = &mut v {
        m.insert("consumer_details".into(), json!(consumers));
    }
    v
}

pub fn exchange(admin: &Admin<'_>, x: &warren_core::broker::ExchangeInfo) -> Value {
    let mut v = serde_json::to_value(x).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        if let Some(stats) = admin.rates().exchange(&x.vhost, &x.name, &x.message_stats) {
            m.insert("message_stats".into(), stats);
        }
        m.insert("user_who_performed_action".into(), json!("rmq-internal"));
    }
    v
}

/// RabbitMQ's `properties_key`: how a binding is named in its URL.
pub fn properties_key(b: &BindingInfo) -> String {
    if b.arguments.is_empty() {
        if b.routing_key.is_empty() {
            "~".to_string()
        } else {
            b.routing_key.clone()
        }
    } else {
        let args = serde_json::to_string(&b.arguments).unwrap_or_default();
        let hash = args.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, c| {
            (h ^ u64::from(c)).wrapping_mul(0x100_0000_01b3)
        });
        format!("{}~{:x}", b.routing_key, hash & 0xffff_ffff)
    }
}

pub fn binding(b: &BindingInfo) -> Value {
    json!({
        "source": b.source,
        "vhost": b.vhost,
        "destination": b.destination,
        "destination_type": b.destination_type,
        "routing_key": b.routing_key,
        "arguments": b.arguments,
        "properties_key": properties_key(b),
    })
}

/// Client connections (internal management connections are not shown).
pub fn connections(admin: &Admin<'_>, user: &User) -> Vec<Value> {
    let b = admin.broker();
    b.connections()
        .into_iter()
        .filter(|c| c.conn < INTERNAL_CONN_BASE && user.sees(b, &c.vhost))
        .map(|c| {
            let (name, host, port) = conn_name(admin, c.conn);
            let meta = admin.conn_meta(c.conn);
            let (connected_at, frame_max, channel_max, props, local) = match meta {
                Some((m, f, ch)) => (m.connected_at, f, ch, json!(m.client_properties), m.local),
                None => (0, 0, 0, json!({}), None),
            };
            // The name a client gave its connection (pika's and the Java
            // client's `connection_name`), shown as RabbitMQ shows it.
            let given = props
                .get("connection_name")
                .filter(|n| n.is_string())
                .cloned();
            let mut v = json!({
                "name": name,
                "node": NODE,
                "user": c.user,
                "user_who_performed_action": c.user,
                "vhost": c.vhost,
                "channels": c.channels,
                "state": if admin.in_flow(c.conn) { "flow" } else { "running" },
                "type": "network",
                "protocol": "AMQP 0-9-1",
                "auth_mechanism": "PLAIN",
                "peer_host": host,
                "peer_port": port,
                "host": local.map(|a| a.ip().to_string()),
                "port": local.map(|a| a.port()),
                "ssl": false,
                "connected_at": connected_at,
                "frame_max": frame_max,
                "channel_max": channel_max,
                "client_properties": props,
            });
            if let Value::Object(fields) = &mut v {
                // No TLS listener: RabbitMQ shows these as null on a plain socket.
                for k in [
                    "ssl_protocol",
                    "ssl_key_exchange",
                    "ssl_cipher",
                    "ssl_hash",
                    "peer_cert_subject",
                    "peer_cert_issuer",
                    "peer_cert_validity",
                ] {
                    fields.insert(k.into(), Value::Null);
                }
                if let Some(given) = given {
                    fields.insert("user_provided_name".into(), given);
                }
                if let Some((t, pending, heartbeat)) = admin.conn_traffic(c.conn) {
                    let (recv_rate, send_rate) = admin.rates().conn_traffic(c.conn);
                    for (k, x) in [
                        ("recv_oct", json!(t.recv_oct)),
                        ("recv_oct_details", json!({ "rate": recv_rate })),
                        ("recv_cnt", json!(t.recv_cnt)),
                        ("send_oct", json!(t.send_oct)),
                        ("send_oct_details", json!({ "rate": send_rate })),
                        ("send_cnt", json!(t.send_cnt)),
                        ("send_pend", json!(pending)),
                        ("timeout", json!(heartbeat)),
                    ] {
                        fields.insert(k.into(), x);
                    }
                }
            }
            v
        })
        .collect()
}

pub fn channels(admin: &Admin<'_>, user: &User) -> Vec<Value> {
    let b = admin.broker();
    let conns = b.connections();
    b.channels()
        .into_iter()
        .filter(|c| c.conn < INTERNAL_CONN_BASE)
        .filter_map(|c| {
            let owner = conns.iter().find(|k| k.conn == c.conn)?;
            if !user.sees(b, &owner.vhost) {
                return None;
            }
            let (cname, host, port) = conn_name(admin, c.conn);
            let mut v = json!({
                "name": format!("{cname} ({})", c.channel),
                "number": c.channel,
                "node": NODE,
                "user": owner.user,
                "user_who_performed_action": owner.user,
                "vhost": owner.vhost,
                "connection_details": {"name": cname, "peer_host": host, "peer_port": port},
                "consumer_count": c.consumer_count,
                "messages_unacknowledged": c.messages_unacknowledged,
                "messages_unconfirmed": 0,
                "messages_uncommitted": 0,
                "acks_uncommitted": 0,
                "prefetch_count": c.prefetch_count,
                "global_prefetch_count": c.global_prefetch_count,
                "confirm": c.confirm,
                "transactional": c.transactional,
                "state": "running",
            });
            let stats = admin.rates().channel(c.conn, c.channel, &c.message_stats);
            if let (Some(stats), Value::Object(m)) = (stats, &mut v) {
                m.insert("message_stats".into(), stats);
            }
            Some(v)
        })
        .collect()
}

pub fn consumer(admin: &Admin<'_>, c: &warren_core::broker::ConsumerInfo) -> Value {
    let (cname, host, port) = conn_name(admin, c.conn);
    let user = admin
        .broker()
        .connections()
        .into_iter()
        .find(|k| k.conn == c.conn)
        .map(|k| k.user)
        .unwrap_or_default();
    json!({
        "consumer_tag": c.consumer_tag,
        "queue": {"name": c.queue, "vhost": c.vhost},
        "channel_details": {
            "name": format!("{cname} ({})", c.channel),
            "number": c.channel,
            "connection_name": cname,
            "peer_host": host,
            "peer_port": port,
            "user": user,
            "node": NODE,
        },
        "ack_required": c.ack_required,
        "exclusive": c.exclusive,
        "prefetch_count": c.prefetch_count,
        "arguments": {},
        "active": c.active,
        "activity_status": c.activity_status,
    })
}

pub fn consumers(admin: &Admin<'_>, user: &User) -> Vec<Value> {
    let b = admin.broker();
    b.consumers()
        .into_iter()
        .filter(|c| c.conn < INTERNAL_CONN_BASE && user.sees(b, &c.vhost))
        .map(|c| consumer(admin, &c))
        .collect()
}

pub fn vhost(admin: &Admin<'_>, name: &str) -> Value {
    let (mut messages, mut ready, mut unacked) = (0u64, 0u64, 0u64);
    for q in admin.broker().queues().iter().filter(|q| q.vhost == name) {
        messages += q.messages;
        ready += q.messages_ready;
        unacked += q.messages_unacknowledged;
    }
    let description = if name == "/" {
        "Default virtual host"
    } else {
        ""
    };
    let mut v = json!({
        "name": name,
        "description": description,
        "tags": [],
        "metadata": {"description": description, "tags": []},
        // RabbitMQ 3.10 shows the unset default this way.
        "default_queue_type": "undefined",
        "tracing": false,
        "cluster_state": {NODE: "running"},
        "messages": messages,
        "messages_ready": ready,
        "messages_unacknowledged": unacked,
    });
    let counts = admin.broker().vhost_stats(name).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        if let Some(stats) = admin.rates().vhost(name, &counts) {
            m.insert("message_stats".into(), stats);
        }
        admin.rates().total_depth(&[name.to_string()]).put(m);
        let (recv, send) = admin.vhost_traffic(name);
        let (recv_rate, send_rate) = admin.rates().vhost_traffic(name);
        m.insert("recv_oct".into(), json!(recv));
        m.insert("recv_oct_details".into(), json!({ "rate": recv_rate }));
        m.insert("send_oct".into(), json!(send));
        m.insert("send_oct_details".into(), json!({ "rate": send_rate }));
    }
    v
}

pub fn user(u: &warren_core::definitions::UserDef) -> Value {
    json!({
        "name": u.name,
        "password_hash": u.password_hash,
        "hashing_algorithm": u.hashing_algorithm,
        "tags": u.tags,
        "limits": {},
    })
}

/// The exchange types, as the overview and a node list them.
pub fn exchange_types() -> Vec<Value> {
    ["direct", "fanout", "headers", "topic"]
        .iter()
        .map(|t| {
            json!({
                "name": t,
                "description": format!("AMQP {t} exchange, as per the AMQP specification"),
                "enabled": true,
            })
        })
        .collect()
}

pub fn overview(admin: &Admin<'_>, user: &User, amqp_port: u16, http_port: u16) -> Value {
    let b = admin.broker();
    let queues: Vec<QueueInfo> = b
        .queues()
        .into_iter()
        .filter(|q| user.sees(b, &q.vhost))
        .collect();
    let (mut messages, mut ready, mut unacked) = (0u64, 0u64, 0u64);
    for q in &queues {
        messages += q.messages;
        ready += q.messages_ready;
        unacked += q.messages_unacknowledged;
    }
    let exchanges = b
        .exchanges()
        .into_iter()
        .filter(|x| user.sees(b, &x.vhost))
        .count();
    let visible: Vec<String> = b
        .vhost_names()
        .into_iter()
        .filter(|v| user.sees(b, v))
        .collect();
    let mut counts = MessageStats::default();
    for v in &visible {
        counts += b.vhost_stats(v).unwrap_or_default();
    }
    let message_stats = admin.rates().overview(&visible, &counts);
    let mut queue_totals = json!({
        "messages": messages,
        "messages_ready": ready,
        "messages_unacknowledged": unacked,
    });
    if let Value::Object(m) = &mut queue_totals {
        admin.rates().total_depth(&visible).put(m);
    }
    json!({
        "management_version": RABBITMQ_VERSION,
        "rabbitmq_version": RABBITMQ_VERSION,
        "product_version": RABBITMQ_VERSION,
        "product_name": "RabbitMQ",
        "warren_version": env!("CARGO_PKG_VERSION"),
        "cluster_name": NODE,
        "node": NODE,
        "rates_mode": "basic",
        "disable_stats": false,
        "enable_queue_totals": true,
        "exchange_types": exchange_types(),
        "message_stats": message_stats,
        "queue_totals": queue_totals,
        "churn_rates": admin.rates().churn(&admin.churn()),
        "object_totals": {
            "connections": connections(admin, user).len(),
            "channels": channels(admin, user).len(),
            "consumers": consumers(admin, user).len(),
            "exchanges": exchanges,
            "queues": queues.len(),
        },
        "listeners": [
            {"node": NODE, "protocol": "amqp", "ip_address": "::", "port": amqp_port},
            {"node": NODE, "protocol": "http", "ip_address": "::", "port": http_port},
        ],
        "contexts": [{"node": NODE, "description": "RabbitMQ Management", "path": "/", "port": http_port.to_string()}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_rabbitmq_writes_them() {
        assert_eq!(
            timestamp(1_796_480_844_723),
            "2026-12-05T14:27:24.723+00:00"
        );
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(timestamp(u64::MAX), Value::Null);
    }
}
