//! The parts of the connection handshake that are plain data: what we say
//! about ourselves in `connection.start`, what we offer in `connection.tune`,
//! and how the client's `tune-ok` is checked, all as RabbitMQ 3.10 does it.

use warren_core::error::{AmqpError, ReplyCode};
use warren_core::types::{FieldTable, FieldValue};

/// The most channels per connection we offer (RabbitMQ's default).
pub const CHANNEL_MAX: u16 = 2047;
/// The largest frame we offer (RabbitMQ's default).
pub const FRAME_MAX: u32 = 131_072;
/// The heartbeat interval we propose, in seconds (RabbitMQ's default).
pub const HEARTBEAT: u16 = 60;

/// `connection.start`'s server-properties, field for field as RabbitMQ 3.10
/// sends them, so clients that look at them (for capabilities, or to log the
/// product and version) see a RabbitMQ.
pub fn server_properties() -> FieldTable {
    let mut caps = FieldTable::new();
    for cap in [
        "publisher_confirms",
        "exchange_exchange_bindings",
        "basic.nack",
        "consumer_cancel_notify",
        "connection.blocked",
        "consumer_priorities",
        "authentication_failure_close",
        "per_consumer_qos",
        "direct_reply_to",
    ] {
        caps.insert(cap, FieldValue::Bool(true));
    }
    let host = hostname();
    let mut p = FieldTable::new();
    p.insert("capabilities", FieldValue::Table(caps));
    p.insert("cluster_name", FieldValue::str(&format!("rabbit@{host}")));
    p.insert(
        "copyright",
        FieldValue::str("Copyright (c) 2007-2022 VMware, Inc. or its affiliates."),
    );
    p.insert(
        "information",
        FieldValue::str("Licensed under the MPL 2.0. Website: https://rabbitmq.com"),
    );
    p.insert("platform", FieldValue::str("Erlang/OTP 25.2.3"));
    p.insert("product", FieldValue::str("RabbitMQ"));
    p.insert("version", FieldValue::str(warren_core::RABBITMQ_VERSION));
    p
}

/// The short host name, as in RabbitMQ's default node name `rabbit@host`.
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let short = name
        .trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string();
    if short.is_empty() {
        "localhost".to_string()
    } else {
        short
    }
}

/// Whether the client's properties claim a capability (`capabilities.<name>` = true).
pub fn client_has_capability(client_properties: &FieldTable, name: &str) -> bool {
    matches!(
        client_properties.get("capabilities"),
        Some(FieldValue::Table(caps)) if matches!(caps.get(name), Some(FieldValue::Bool(true)))
    )
}

/// What `tune-ok` settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    pub channel_max: u16,
    pub frame_max: u32,
    /// Seconds; 0 = no heartbeats.
    pub heartbeat: u16,
}

/// Checks the client's `tune-ok` as RabbitMQ does: a value may be lower than
/// what we offered but not higher, frame_max not below 4096, and 0 ("no
/// limit") is refused because our offer has limits. The client's heartbeat
/// is taken as it is.
pub fn negotiate(channel_max: u16, frame_max: u32, heartbeat: u16) -> Result<Tuning, AmqpError> {
    check(
        "frame_max",
        frame_max.into(),
        crate::codec::FRAME_MIN_SIZE.into(),
        FRAME_MAX.into(),
    )?;
    check("channel_max", channel_max.into(), 1, CHANNEL_MAX.into())?;
    Ok(Tuning {
        channel_max,
        frame_max,
        heartbeat,
    })
}

fn check(field: &str, client: u64, min: u64, max: u64) -> Result<(), AmqpError> {
    let detail = if client == 0 && field == "channel_max" {
        " (no limit)"
    } else {
        ""
    };
    let (adjective, bound, value) = if client != 0 && client < min {
        ("lower", "minimum", min)
    } else if client == 0 || client > max {
        ("higher", "maximum", max)
    } else {
        return Ok(());
    };
    Err(AmqpError::new(
        ReplyCode::NotAllowed,
        format_args!(
            "negotiated {field} = {client}{detail} is {adjective} than the {bound} allowed value ({value})"
        ),
    )
    .on((10, 31)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_values_are_taken_and_zero_is_refused() {
        assert_eq!(
            negotiate(10, 8192, 5).unwrap(),
            Tuning {
                channel_max: 10,
                frame_max: 8192,
                heartbeat: 5
            }
        );
        assert!(negotiate(0, 8192, 0)
            .unwrap_err()
            .text
            .contains("(no limit)"));
        assert!(negotiate(10, 0, 0).is_err());
        assert!(negotiate(10, 4095, 0).is_err());
        assert!(negotiate(3000, 8192, 0).is_err());
        assert!(negotiate(2047, 131_072, 600).is_ok());
    }

    #[test]
    fn properties_name_rabbitmq() {
        let p = server_properties();
        assert_eq!(p.get("product").and_then(|v| v.as_str()), Some("RabbitMQ"));
        assert_eq!(p.get("version").and_then(|v| v.as_str()), Some("3.10.8"));
        let mut client = FieldTable::new();
        let mut caps = FieldTable::new();
        caps.insert("connection.blocked", FieldValue::Bool(true));
        client.insert("capabilities", FieldValue::Table(caps));
        assert!(client_has_capability(&client, "connection.blocked"));
        assert!(!client_has_capability(
            &client,
            "authentication_failure_close"
        ));
    }
}
