//! Class and method ids of AMQP 0-9-1 (RabbitMQ's edition of the spec, which
//! adds `exchange.bind/unbind`, `basic.nack`, `confirm` and the connection
//! `blocked`/`update-secret` methods), and their names for error texts.
//!
//! One table, so the decoder can tell "a method the server never receives"
//! from "no such method".

pub const CONNECTION: u16 = 10;
pub const CHANNEL: u16 = 20;
pub const ACCESS: u16 = 30;
pub const EXCHANGE: u16 = 40;
pub const QUEUE: u16 = 50;
pub const BASIC: u16 = 60;
pub const CONFIRM: u16 = 85;
pub const TX: u16 = 90;

/// Every method of the spec: (class id, method id, name).
pub const METHODS: &[(u16, u16, &str)] = &[
    (10, 10, "connection.start"),
    (10, 11, "connection.start-ok"),
    (10, 20, "connection.secure"),
    (10, 21, "connection.secure-ok"),
    (10, 30, "connection.tune"),
    (10, 31, "connection.tune-ok"),
    (10, 40, "connection.open"),
    (10, 41, "connection.open-ok"),
    (10, 50, "connection.close"),
    (10, 51, "connection.close-ok"),
    (10, 60, "connection.blocked"),
    (10, 61, "connection.unblocked"),
    (10, 70, "connection.update-secret"),
    (10, 71, "connection.update-secret-ok"),
    (20, 10, "channel.open"),
    (20, 11, "channel.open-ok"),
    (20, 20, "channel.flow"),
    (20, 21, "channel.flow-ok"),
    (20, 40, "channel.close"),
    (20, 41, "channel.close-ok"),
    (30, 10, "access.request"),
    (30, 11, "access.request-ok"),
    (40, 10, "exchange.declare"),
    (40, 11, "exchange.declare-ok"),
    (40, 20, "exchange.delete"),
    (40, 21, "exchange.delete-ok"),
    (40, 30, "exchange.bind"),
    (40, 31, "exchange.bind-ok"),
    (40, 40, "exchange.unbind"),
    (40, 51, "exchange.unbind-ok"),
    (50, 10, "queue.declare"),
    (50, 11, "queue.declare-ok"),
    (50, 20, "queue.bind"),
    (50, 21, "queue.bind-ok"),
    (50, 30, "queue.purge"),
    (50, 31, "queue.purge-ok"),
    (50, 40, "queue.delete"),
    (50, 41, "queue.delete-ok"),
    (50, 50, "queue.unbind"),
    (50, 51, "queue.unbind-ok"),
    (60, 10, "basic.qos"),
    (60, 11, "basic.qos-ok"),
    (60, 20, "basic.consume"),
    (60, 21, "basic.consume-ok"),
    (60, 30, "basic.cancel"),
    (60, 31, "basic.cancel-ok"),
    (60, 40, "basic.publish"),
    (60, 50, "basic.return"),
    (60, 60, "basic.deliver"),
    (60, 70, "basic.get"),
    (60, 71, "basic.get-ok"),
    (60, 72, "basic.get-empty"),
    (60, 80, "basic.ack"),
    (60, 90, "basic.reject"),
    (60, 100, "basic.recover-async"),
    (60, 110, "basic.recover"),
    (60, 111, "basic.recover-ok"),
    (60, 120, "basic.nack"),
    (85, 10, "confirm.select"),
    (85, 11, "confirm.select-ok"),
    (90, 10, "tx.select"),
    (90, 11, "tx.select-ok"),
    (90, 20, "tx.commit"),
    (90, 21, "tx.commit-ok"),
    (90, 30, "tx.rollback"),
    (90, 31, "tx.rollback-ok"),
];

/// The spec name of a method (`"basic.publish"`), if it exists.
pub fn method_name(class_id: u16, method_id: u16) -> Option<&'static str> {
    METHODS
        .iter()
        .find(|(c, m, _)| *c == class_id && *m == method_id)
        .map(|(_, _, name)| *name)
}

/// Whether a method carries content (header and body frames follow it).
pub fn has_content(class_id: u16, method_id: u16) -> bool {
    class_id == BASIC && matches!(method_id, 40 | 50 | 60 | 71)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        for (i, a) in METHODS.iter().enumerate() {
            for b in &METHODS[i + 1..] {
                assert!((a.0, a.1) != (b.0, b.1), "{a:?} {b:?}");
                assert_ne!(a.2, b.2);
            }
        }
    }

    #[test]
    fn names_are_found() {
        assert_eq!(method_name(40, 51), Some("exchange.unbind-ok"));
        assert_eq!(method_name(40, 41), None);
        assert!(has_content(60, 40) && !has_content(60, 80));
    }
}
