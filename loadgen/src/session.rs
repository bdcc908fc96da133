//! What every workload does around its measurement: a queue of its own, channels on
//! their own connections, and cleaning up afterwards.
//!
//! Each publisher and consumer gets its own connection, as separate client processes
//! would: a shared connection would serialize them on one socket and one writer task in
//! the client, and measure amqprs rather than the broker.

use std::time::{SystemTime, UNIX_EPOCH};

use amqprs::channel::{BasicConsumeArguments, BasicQosArguments, Channel, ConsumerMessage};
use amqprs::channel::{QueueDeclareArguments, QueueDeleteArguments};
use amqprs::connection::Connection;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::target::Target;
use crate::Error;

/// A queue name no earlier run (or concurrent run) used: `loadgen-<workload>-<pid>-<time>`.
pub fn fresh_queue_name(workload: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("loadgen-{workload}-{}-{nanos:09}", std::process::id())
}

/// A connection with one open channel.
pub struct Link {
    pub connection: Connection,
    pub channel: Channel,
}

impl Link {
    pub async fn open(target: &Target, name: &str) -> Result<Link, Error> {
        let connection = target.connect(name).await?;
        let channel = connection
            .open_channel(None)
            .await
            .map_err(|e| Error(format!("{name}: opening a channel: {e}")))?;
        Ok(Link {
            connection,
            channel,
        })
    }

    /// Closes politely; a broker that already dropped us is not an error at this point.
    pub async fn close(self) {
        let _ = self.channel.close().await;
        let _ = self.connection.close().await;
    }
}

/// Declares the workload's queue: durable when the messages are persistent, so the
/// broker really has to write them (RabbitMQ ignores persistence on transient queues).
pub async fn declare_queue(channel: &Channel, name: &str, durable: bool) -> Result<(), Error> {
    let args = QueueDeclareArguments::new(name).durable(durable).finish();
    channel
        .queue_declare(args)
        .await
        .map_err(|e| Error(format!("declaring queue {name}: {e}")))?;
    Ok(())
}

/// How many messages the broker says are ready in `name` (a passive declare).
pub async fn queued(channel: &Channel, name: &str) -> Result<u64, Error> {
    let args = QueueDeclareArguments::new(name).passive(true).finish();
    match channel.queue_declare(args).await {
        Ok(Some((_, count, _))) => Ok(u64::from(count)),
        Ok(None) => Err(Error(format!("no declare-ok for queue {name}"))),
        Err(e) => Err(Error(format!("asking for the depth of {name}: {e}"))),
    }
}

/// Deletes the workload's queue so the next workload starts from an empty broker.
pub async fn delete_queue(target: &Target, name: &str) -> Result<(), Error> {
    let link = Link::open(target, "loadgen-cleanup").await?;
    let deleted = link
        .channel
        .queue_delete(QueueDeleteArguments::new(name))
        .await
        .map_err(|e| Error(format!("deleting queue {name}: {e}")));
    link.close().await;
    deleted.map(|_| ())
}

/// Starts consuming `queue`: `no_ack` when `ack_every` is 0, else manual acks with the
/// given prefetch (0: unlimited).
pub async fn consume(
    channel: &Channel,
    queue: &str,
    ack_every: u64,
    prefetch: u16,
) -> Result<UnboundedReceiver<ConsumerMessage>, Error> {
    if ack_every > 0 && prefetch > 0 {
        channel
            .basic_qos(BasicQosArguments::new(0, prefetch, false))
            .await
            .map_err(|e| Error(format!("basic.qos: {e}")))?;
    }
    let args = BasicConsumeArguments::new(queue, "")
        .manual_ack(ack_every > 0)
        .finish();
    let (_tag, deliveries) = channel
        .basic_consume_rx(args)
        .await
        .map_err(|e| Error(format!("consuming from {queue}: {e}")))?;
    Ok(deliveries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_are_valid_and_say_whose_they_are() {
        let name = fresh_queue_name("memory");
        assert!(name.starts_with("loadgen-memory-"));
        assert!(name.len() < 256 && name.is_ascii());
    }
}
