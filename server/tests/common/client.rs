//! amqprs helpers: a real Rust client, as users of warren would use it.
#![allow(dead_code)]

use amqprs::callbacks::ChannelCallback;
use amqprs::channel::{
    BasicConsumeArguments, BasicGetArguments, BasicPublishArguments, Channel,
    ConfirmSelectArguments, ConsumerMessage, QueueDeclareArguments,
};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::{
    Ack, BasicProperties, Cancel, CloseChannel, FieldName, FieldTable, FieldValue, Nack, Return,
};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

pub async fn connect(port: u16) -> Connection {
    Connection::open(&OpenConnectionArguments::new(
        "127.0.0.1",
        port,
        "guest",
        "guest",
    ))
    .await
    .expect("connect")
}

pub async fn channel(conn: &Connection) -> Channel {
    conn.open_channel(None).await.expect("open channel")
}

pub fn quorum_args() -> FieldTable {
    let mut t = FieldTable::new();
    t.insert(
        FieldName::try_from("x-queue-type").expect("name"),
        FieldValue::from("quorum".to_string()),
    );
    t
}

/// Declares a queue; `kind` "classic" or "quorum" (quorum queues are durable).
pub async fn declare(ch: &Channel, name: &str, kind: &str, durable: bool) -> (String, u32) {
    let mut args = QueueDeclareArguments::new(name);
    args.durable(durable || kind == "quorum");
    if kind == "quorum" {
        args.arguments(quorum_args());
    }
    let (q, count, _) = ch
        .queue_declare(args.finish())
        .await
        .expect("queue.declare")
        .expect("declare-ok");
    (q, count)
}

/// How many messages a queue holds (passive declare).
pub async fn count(ch: &Channel, name: &str) -> u32 {
    let mut args = QueueDeclareArguments::new(name);
    args.passive(true);
    ch.queue_declare(args.finish())
        .await
        .expect("passive declare")
        .expect("ok")
        .1
}

pub async fn publish(ch: &Channel, exchange: &str, key: &str, body: &[u8], props: BasicProperties) {
    ch.basic_publish(
        props,
        body.to_vec(),
        BasicPublishArguments::new(exchange, key),
    )
    .await
    .expect("publish");
}

pub fn persistent() -> BasicProperties {
    BasicProperties::default().with_delivery_mode(2).finish()
}

pub async fn consume(
    ch: &Channel,
    queue: &str,
    auto_ack: bool,
) -> UnboundedReceiver<ConsumerMessage> {
    let mut args = BasicConsumeArguments::new(queue, "");
    args.manual_ack(!auto_ack);
    ch.basic_consume_rx(args.finish()).await.expect("consume").1
}

/// The next delivery (panics after 5 s).
pub async fn next(rx: &mut UnboundedReceiver<ConsumerMessage>) -> ConsumerMessage {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a delivery in time")
        .expect("consumer open")
}

pub fn body(m: &ConsumerMessage) -> String {
    String::from_utf8_lossy(m.content.as_deref().unwrap_or_default()).into_owned()
}

pub fn tag(m: &ConsumerMessage) -> u64 {
    m.deliver.as_ref().expect("deliver").delivery_tag()
}

/// Nothing arrives within `ms`.
pub async fn quiet(rx: &mut UnboundedReceiver<ConsumerMessage>, ms: u64) -> bool {
    tokio::time::timeout(Duration::from_millis(ms), rx.recv())
        .await
        .is_err()
}

pub async fn get(ch: &Channel, queue: &str) -> Option<Vec<u8>> {
    let mut args = BasicGetArguments::new(queue);
    args.no_ack(true);
    ch.basic_get(args.finish())
        .await
        .expect("basic.get")
        .map(|(_, _, body)| body)
}

/// Publisher confirms as they arrive.
#[derive(Clone, Default)]
pub struct Confirms {
    state: Arc<Mutex<(u64, BTreeSet<u64>, u64)>>,
}

impl Confirms {
    /// Puts the channel in confirm mode, with this collecting its confirms.
    pub async fn enable(ch: &Channel) -> Confirms {
        let c = Confirms::default();
        ch.register_callback(c.clone()).await.expect("callback");
        ch.confirm_select(ConfirmSelectArguments::default())
            .await
            .expect("confirm.select");
        c
    }

    fn acked(&self, tag: u64) -> bool {
        let s = self.state.lock().expect("lock");
        tag <= s.0 || s.1.contains(&tag)
    }

    /// Waits until publishes 1..=n are all acked.
    pub async fn wait(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !(1..=n).all(|t| self.acked(t)) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "confirms did not arrive"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(self.state.lock().expect("lock").2, 0, "nacks");
    }
}

#[async_trait::async_trait]
impl ChannelCallback for Confirms {
    async fn close(&mut self, _: &Channel, _: CloseChannel) -> Result<(), amqprs::error::Error> {
        Ok(())
    }
    async fn cancel(&mut self, _: &Channel, _: Cancel) -> Result<(), amqprs::error::Error> {
        Ok(())
    }
    async fn flow(&mut self, _: &Channel, active: bool) -> Result<bool, amqprs::error::Error> {
        Ok(active)
    }
    async fn publish_ack(&mut self, _: &Channel, ack: Ack) {
        let mut s = self.state.lock().expect("lock");
        if ack.mutiple() {
            s.0 = s.0.max(ack.delivery_tag());
        } else {
            s.1.insert(ack.delivery_tag());
        }
    }
    async fn publish_nack(&mut self, _: &Channel, _: Nack) {
        self.state.lock().expect("lock").2 += 1;
    }
    async fn publish_return(&mut self, _: &Channel, _: Return, _: BasicProperties, _: Vec<u8>) {}
}
