//! Publisher flow control: a publisher whose messages pile up in a queue that
//! consumers are draining is slowed down until the queue catches up.
//!
//! RabbitMQ does the same thing with credit flow: a queue that cannot keep up
//! stops granting credit, and the publishing connection shows `flow` while its
//! socket is not read. Warren's queues are never too busy to take a message,
//! so the signal here is the backlog itself: a queue with consumers that holds
//! more than [`FLOW_HIGH`] ready messages is not keeping up with its
//! publishers. Without it an unthrottled publisher on a small machine takes
//! the CPU its own consumers need, and the queue only grows.
//!
//! Only the signal is decided here; the server does the slowing (it stops
//! reading the connection's socket for a while). Two limits keep it gentle:
//! - queues without consumers never slow anyone, so "publish now, consume
//!   later" runs at full speed, as on RabbitMQ;
//! - connections that consume themselves are never slowed, since not reading
//!   them would also hold back the acks that drain the queue.

use super::Broker;
use crate::protocol::ConnId;
use crate::queue::Queue;

/// Ready messages in a consumed queue above which its pure publishers are slowed.
pub const FLOW_HIGH: usize = 16_384;
/// Ready messages at or below which a slowed publisher may go on.
pub const FLOW_LOW: usize = FLOW_HIGH / 2;

impl Broker {
    /// Records that `conn` just published into `queue`, which is over
    /// [`FLOW_HIGH`] with consumers, unless `conn` consumes itself.
    pub(crate) fn note_backlog(&mut self, conn: ConnId, queue: &std::sync::Arc<str>) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.backlog.is_none() && !c.consumes() {
            c.backlog = Some(queue.clone());
        }
    }

    /// Whether `conn` should be slowed: it published into a queue that is
    /// over [`FLOW_HIGH`] with consumers and has not yet drained to
    /// [`FLOW_LOW`]. Clears the mark once the queue has caught up, lost its
    /// consumers or gone, and once `conn` consumes itself.
    pub fn publisher_flow(&mut self, conn: ConnId) -> bool {
        let Some(c) = self.conns.get_mut(&conn) else {
            return false;
        };
        let Some(queue) = &c.backlog else {
            return false;
        };
        let behind = !c.consumes()
            && self
                .vhosts
                .get(&c.vhost)
                .and_then(|v| v.queues.get(queue))
                .is_some_and(|q| consumed_above(q, FLOW_LOW));
        if !behind {
            c.backlog = None;
        }
        behind
    }
}

/// Whether `q` is over the flow mark with consumers to drain it.
pub(crate) fn over_high(q: &Queue) -> bool {
    consumed_above(q, FLOW_HIGH)
}

/// Whether `q` has consumers and more than `mark` ready messages.
fn consumed_above(q: &Queue, mark: usize) -> bool {
    q.consumer_count() > 0 && q.ready.len() > mark
}
