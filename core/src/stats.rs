//! Message counters: what RabbitMQ's management API calls `message_stats`.
//!
//! Each queue, exchange and channel counts the messages that went through it,
//! and each vhost keeps the counts of its closed channels, so the vhost's and
//! the node's totals do not drop when a client disconnects (RabbitMQ's don't).
//! The counters are plain integers bumped on paths the broker walks anyway;
//! rates are the shell's business (it samples the counts over time).

use crate::protocol::{ChannelId, ConnId};
use serde::Serialize;
use std::collections::HashMap;
use std::ops::AddAssign;

/// Counters of a channel, a queue, a vhost or the node. A queue uses
/// `publish` (messages routed into it by a publish) and the delivery group;
/// a channel and a vhost use all of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageStats {
    /// basic.publish on a channel; for a queue, publishes routed into it.
    pub publish: u64,
    /// Publisher confirms (acks) sent.
    pub confirm: u64,
    /// Unroutable mandatory messages returned with basic.return.
    pub return_unroutable: u64,
    /// Unroutable messages without `mandatory`, dropped.
    pub drop_unroutable: u64,
    /// Deliveries to consumers that must ack.
    pub deliver: u64,
    /// Deliveries to no-ack consumers.
    pub deliver_no_ack: u64,
    /// basic.get answered with a message, to be acked.
    pub get: u64,
    /// basic.get with no-ack answered with a message.
    pub get_no_ack: u64,
    /// basic.get answered with get-empty.
    pub get_empty: u64,
    /// Deliveries and gets of messages marked redelivered.
    pub redeliver: u64,
    /// Messages acked.
    pub ack: u64,
}

impl MessageStats {
    /// RabbitMQ's `deliver_get`: every message handed out, however.
    pub fn deliver_get(&self) -> u64 {
        self.deliver + self.deliver_no_ack + self.get + self.get_no_ack
    }

    /// Whether anything of the publishing group happened (RabbitMQ shows the
    /// group's fields only then).
    pub fn any_publish(&self) -> bool {
        self.publish + self.confirm + self.return_unroutable + self.drop_unroutable > 0
    }

    /// Whether anything of the delivering group happened (a basic.get that
    /// found the queue empty counts).
    pub fn any_delivery(&self) -> bool {
        self.deliver_get() + self.get_empty + self.redeliver + self.ack > 0
    }

    /// Counts one message handed out, by consumer delivery or basic.get.
    pub(crate) fn handed_out(&mut self, get: bool, no_ack: bool, redelivered: bool) {
        match (get, no_ack) {
            (false, false) => self.deliver += 1,
            (false, true) => self.deliver_no_ack += 1,
            (true, false) => self.get += 1,
            (true, true) => self.get_no_ack += 1,
        }
        self.redeliver += u64::from(redelivered);
    }
}

impl AddAssign for MessageStats {
    fn add_assign(&mut self, o: MessageStats) {
        self.publish += o.publish;
        self.confirm += o.confirm;
        self.return_unroutable += o.return_unroutable;
        self.drop_unroutable += o.drop_unroutable;
        self.deliver += o.deliver;
        self.deliver_no_ack += o.deliver_no_ack;
        self.get += o.get;
        self.get_no_ack += o.get_no_ack;
        self.get_empty += o.get_empty;
        self.redeliver += o.redeliver;
        self.ack += o.ack;
    }
}

/// Counters of an exchange, for the messages published to it by name.
/// Messages passing through it by an exchange-to-exchange binding or as an
/// alternate exchange are counted on the exchange they were published to,
/// as RabbitMQ does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExchangeStats {
    /// Messages published to it.
    pub publish_in: u64,
    /// Copies of those messages that reached a queue (one per queue).
    pub publish_out: u64,
}

/// How many connections, channels and queues came and went: RabbitMQ's
/// `churn_rates` in the overview and the node's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Churn {
    pub connection_created: u64,
    pub connection_closed: u64,
    pub channel_created: u64,
    pub channel_closed: u64,
    /// queue.declare (not passive), new queue or not.
    pub queue_declared: u64,
    pub queue_created: u64,
    pub queue_deleted: u64,
}

/// Every counter of the broker at one moment, keyed as the management API
/// names objects: what a shell samples to work out rates. Taking one walks
/// the queues, exchanges and channels but no messages.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsSnapshot {
    pub churn: Churn,
    /// Each vhost's totals (its closed channels' and its open ones').
    pub vhosts: HashMap<String, MessageStats>,
    /// By (vhost, queue).
    pub queues: HashMap<(String, String), MessageStats>,
    /// By (vhost, exchange); the default exchange is "".
    pub exchanges: HashMap<(String, String), ExchangeStats>,
    /// Open channels, by (connection, channel).
    pub channels: HashMap<(ConnId, ChannelId), MessageStats>,
    /// Each queue's depth: (ready, unacknowledged), by (vhost, queue).
    pub depths: HashMap<(String, String), (u64, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handing_out_counts_by_kind_and_redelivery() {
        let mut s = MessageStats::default();
        s.handed_out(false, false, false);
        s.handed_out(false, true, true);
        s.handed_out(true, false, false);
        s.handed_out(true, true, true);
        assert_eq!(
            (s.deliver, s.deliver_no_ack, s.get, s.get_no_ack),
            (1, 1, 1, 1)
        );
        assert_eq!((s.deliver_get(), s.redeliver), (4, 2));
        assert!(s.any_delivery() && !s.any_publish());
    }

    #[test]
    fn sums_add_every_counter() {
        let one = MessageStats {
            publish: 1,
            confirm: 2,
            return_unroutable: 3,
            drop_unroutable: 4,
            deliver: 5,
            deliver_no_ack: 6,
            get: 7,
            get_no_ack: 8,
            get_empty: 9,
            redeliver: 10,
            ack: 11,
        };
        let mut sum = one;
        sum += one;
        assert_eq!(sum.ack, 22);
        assert_eq!(sum.publish, 2);
        assert_eq!(sum.get_empty, 18);
        assert_eq!(sum.deliver_get(), 2 * (5 + 6 + 7 + 8));
    }
}
