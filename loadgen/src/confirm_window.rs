//! A window of outstanding publisher confirms.
//!
//! A publisher in confirm mode that never waits measures how fast the broker can buffer,
//! not how fast it can make messages safe; one that waits for each confirm measures the
//! round trip. Keeping at most N messages unconfirmed is what real publishers do, and
//! it makes the broker's confirm latency limit the rate the way it would in production.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use amqprs::callbacks::ChannelCallback;
use amqprs::channel::{Channel, ConfirmSelectArguments};
use amqprs::{Ack, BasicProperties, Cancel, CloseChannel, Nack, Return};
use async_trait::async_trait;
use tokio::sync::Semaphore;

/// What amqprs's callbacks return.
type AmqpResult<T> = Result<T, amqprs::error::Error>;

/// Counts confirms from `basic.ack`/`basic.nack` (with or without `multiple`), each
/// delivery tag once, whatever order the broker confirms them in.
#[derive(Default)]
pub struct ConfirmCounter {
    /// Every tag at or below this one is confirmed.
    through: u64,
    /// Confirmed tags above `through` (confirmed one by one, out of order).
    above: BTreeSet<u64>,
}

impl ConfirmCounter {
    /// Records a confirm and returns how many messages it newly confirmed.
    pub fn confirm(&mut self, tag: u64, multiple: bool) -> u64 {
        if tag <= self.through {
            return 0; // a duplicate, or a peer confirming what it already confirmed
        }
        let newly = if multiple {
            let singles_below = self.above.range(..=tag).count() as u64;
            self.above = self.above.split_off(&(tag + 1));
            let newly = tag - self.through - singles_below;
            self.through = tag;
            newly
        } else if self.above.insert(tag) {
            1
        } else {
            0
        };
        while self.above.remove(&(self.through + 1)) {
            self.through += 1;
        }
        newly
    }
}

/// Gives window slots back as confirms arrive, and counts nacks.
pub struct Window {
    /// One permit per message that may still be published without waiting.
    pub slots: Arc<Semaphore>,
    /// Messages published on the channel so far (the publisher counts them, before
    /// sending, so this is the highest delivery tag the broker may confirm).
    pub sent: Arc<AtomicU64>,
    pub nacks: Arc<AtomicU64>,
    counter: ConfirmCounter,
}

/// What a publisher keeps of its window once the callback has it: the slots, the
/// count of messages sent and the count of nacks.
pub type Handles = (Arc<Semaphore>, Arc<AtomicU64>, Arc<AtomicU64>);

impl Window {
    /// Puts `channel` in confirm mode with a window of `size` unconfirmed messages.
    pub async fn enable(channel: &Channel, size: usize) -> Result<Handles, crate::Error> {
        let window = Window::new(size);
        let handles = (
            window.slots.clone(),
            window.sent.clone(),
            window.nacks.clone(),
        );
        channel
            .register_callback(window)
            .await
            .map_err(|e| crate::Error(format!("registering the confirm callback: {e}")))?;
        channel
            .confirm_select(ConfirmSelectArguments::default())
            .await
            .map_err(|e| crate::Error(format!("confirm.select: {e}")))?;
        Ok(handles)
    }

    pub fn new(size: usize) -> Window {
        Window {
            slots: Arc::new(Semaphore::new(size)),
            sent: Arc::new(AtomicU64::new(0)),
            nacks: Arc::new(AtomicU64::new(0)),
            counter: ConfirmCounter::default(),
        }
    }

    /// Frees the slots of the messages this confirm covers; returns how many.
    fn release(&mut self, tag: u64, multiple: bool) -> u64 {
        // A peer could confirm tags it was never sent: count only what was published,
        // so the window never grows past its size.
        let tag = tag.min(self.sent.load(Ordering::Acquire));
        let newly = self.counter.confirm(tag, multiple);
        self.slots.add_permits(usize::try_from(newly).unwrap_or(0));
        newly
    }
}

#[async_trait]
impl ChannelCallback for Window {
    async fn close(&mut self, _: &Channel, close: CloseChannel) -> AmqpResult<()> {
        eprintln!("loadgen: the broker closed a publisher channel: {close}");
        // No more confirms will come: let the publisher run into the closed channel.
        self.slots.close();
        Ok(())
    }
    async fn cancel(&mut self, _: &Channel, _: Cancel) -> AmqpResult<()> {
        Ok(())
    }
    async fn flow(&mut self, _: &Channel, active: bool) -> AmqpResult<bool> {
        Ok(active)
    }
    async fn publish_ack(&mut self, _: &Channel, ack: Ack) {
        self.release(ack.delivery_tag(), ack.mutiple());
    }
    async fn publish_nack(&mut self, _: &Channel, nack: Nack) {
        let newly = self.release(nack.delivery_tag(), nack.multiple());
        self.nacks.fetch_add(newly, Ordering::Relaxed);
    }
    /// Publishes are never `mandatory`, so nothing comes back this way.
    async fn publish_return(&mut self, _: &Channel, _: Return, _: BasicProperties, _: Vec<u8>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multiple_confirms_count_each_tag_once() {
        let mut c = ConfirmCounter::default();
        assert_eq!(c.confirm(2, false), 1);
        assert_eq!(c.confirm(3, false), 1);
        assert_eq!(c.confirm(5, true), 3); // 1, 4, 5
        assert_eq!(c.confirm(5, false), 0);
        assert_eq!(c.confirm(4, true), 0);
        assert_eq!(c.confirm(6, false), 1);
        assert_eq!(c.confirm(8, false), 1);
        assert_eq!(c.confirm(7, false), 1);
        assert_eq!(c.confirm(10, true), 2); // 9, 10
    }
}
