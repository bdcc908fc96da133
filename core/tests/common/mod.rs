//! A tiny test client for the broker: open connections and channels, send
//! commands, collect what comes back. Expected values in the tests were taken
//! from a real RabbitMQ 3.10.8 (pika scripts against a local broker).

#![allow(dead_code)]

use bytes::Bytes;
use warren_core::{
    AmqpError, BasicProperties, Broker, BrokerConfig, ChannelId, Command, ConnId, Event,
    FieldTable, FieldValue, Message, Millis, Output, Reply, ReplyCode,
};

/// A broker, a clock, and the connections the test opened.
pub struct World {
    pub b: Broker,
    pub now: Millis,
}

/// One open channel of one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ch {
    pub conn: ConnId,
    pub ch: ChannelId,
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

impl World {
    pub fn new() -> World {
        World::with_seed(1)
    }

    pub fn with_seed(seed: u64) -> World {
        World {
            b: Broker::new(BrokerConfig {
                seed,
                ..BrokerConfig::default()
            }),
            now: 1_000,
        }
    }

    /// Opens connection `conn` as guest on `/` and its channel 1.
    pub fn client(&mut self, conn: ConnId) -> Ch {
        self.connect_as(conn, "guest", "/")
            .expect("connection.open");
        self.channel(conn, 1)
    }

    pub fn connect_as(&mut self, conn: ConnId, user: &str, vhost: &str) -> Result<(), AmqpError> {
        self.b.handle_connection_open(self.now, conn, user, vhost)
    }

    pub fn channel(&mut self, conn: ConnId, ch: ChannelId) -> Ch {
        self.b
            .handle_channel_open(self.now, conn, ch)
            .expect("channel.open");
        Ch { conn, ch }
    }

    /// Sends one method and returns every output it caused, in order.
    pub fn send(&mut self, c: Ch, cmd: impl Into<Command>) -> Vec<Output> {
        self.b.handle_command(self.now, c.conn, c.ch, cmd.into());
        self.drain()
    }

    /// Sends a method that must succeed with exactly one reply, and returns it.
    pub fn ok(&mut self, c: Ch, cmd: impl Into<Command>) -> Reply {
        let cmd = cmd.into();
        let name = cmd.name();
        let out = self.send(c, cmd);
        let replies: Vec<Reply> = out
            .iter()
            .filter_map(|o| match o {
                Output::Reply { reply, .. } => Some(reply.clone()),
                _ => None,
            })
            .collect();
        assert!(
            error_of(&out).is_none(),
            "{name} failed: {:?}",
            error_of(&out)
        );
        assert_eq!(replies.len(), 1, "{name}: expected one reply, got {out:?}");
        replies[0].clone()
    }

    /// Sends a method that must fail, and returns (connection error?, code, text).
    pub fn fails(&mut self, c: Ch, cmd: impl Into<Command>) -> (bool, u16, String) {
        let cmd = cmd.into();
        let name = cmd.name();
        let out = self.send(c, cmd);
        error_of(&out).unwrap_or_else(|| panic!("{name} should have failed, got {out:?}"))
    }

    /// Publishes (no reply expected) and returns the outputs.
    pub fn publish(&mut self, c: Ch, exchange: &str, key: &str, body: &str) -> Vec<Output> {
        self.send(c, publish(exchange, key, body))
    }

    pub fn closed(&mut self, c: Ch) -> Vec<Output> {
        self.b.handle_channel_close(self.now, c.conn, c.ch);
        self.drain()
    }

    pub fn disconnect(&mut self, conn: ConnId) -> Vec<Output> {
        self.b
            .handle_connection_closed(self.now, conn, "closed by test");
        self.drain()
    }

    /// Moves the clock forward by `ms`, firing every timeout that falls due
    /// on the way, in time order, as a shell would.
    pub fn advance(&mut self, ms: Millis) -> Vec<Output> {
        let end = self.now + ms;
        let mut out = Vec::new();
        while let Some(t) = self.b.poll_timeout() {
            if t > end {
                break;
            }
            self.now = t.max(self.now);
            self.b.handle_timeout(self.now);
            out.extend(self.drain());
            if self.b.poll_timeout().is_some_and(|n| n <= self.now) {
                break; // nothing more will happen at this instant
            }
        }
        self.now = end;
        self.b.handle_timeout(end);
        out.extend(self.drain());
        out
    }

    pub fn drain(&mut self) -> Vec<Output> {
        let mut v = Vec::new();
        while let Some(o) = self.b.poll_output() {
            v.push(o);
        }
        v
    }

    pub fn events(&mut self) -> Vec<Event> {
        let mut v = Vec::new();
        while let Some(e) = self.b.poll_event() {
            v.push(e);
        }
        v
    }

    /// Ready messages in a queue of vhost `/`, or None if it is gone.
    pub fn count(&self, queue: &str) -> Option<u64> {
        self.b.queue_info("/", queue).map(|i| i.messages_ready)
    }

    pub fn queue_exists(&self, queue: &str) -> bool {
        self.b.queue_info("/", queue).is_some()
    }

    pub fn exchange_exists(&self, exchange: &str) -> bool {
        self.b
            .exchanges()
            .iter()
            .any(|x| x.vhost == "/" && x.name == exchange)
    }

    /// Sends a method and returns what the client sees (no store operations).
    pub fn send_visible(&mut self, c: Ch, cmd: impl Into<Command>) -> Vec<Output> {
        let out = self.send(c, cmd);
        out.into_iter()
            .filter(|o| !matches!(o, Output::Store(_)))
            .collect()
    }

    /// basic.get no-ack; the body as text, or None for get-empty.
    pub fn get_body(&mut self, c: Ch, queue: &str) -> Option<String> {
        let out = self.send_visible(c, get(queue).no_ack());
        match &out[..] {
            [Output::GetOk { message, .. }] => Some(text(message.body())),
            [Output::Reply {
                reply: Reply::BasicGetEmpty,
                ..
            }] => None,
            other => panic!("unexpected basic.get outputs {other:?}"),
        }
    }

    /// Every ready body of a queue, by basic.get no-ack.
    pub fn get_all(&mut self, c: Ch, queue: &str) -> Vec<String> {
        std::iter::from_fn(|| self.get_body(c, queue)).collect()
    }

    /// basic.get with ack; returns the whole GetOk output.
    pub fn get_msg(&mut self, c: Ch, queue: &str) -> Got {
        let out = self.send_visible(c, get(queue));
        match &out[..] {
            [Output::GetOk {
                delivery_tag,
                redelivered,
                message_count,
                message,
                ..
            }] => Got {
                tag: *delivery_tag,
                redelivered: *redelivered,
                message_count: *message_count,
                message: message.clone(),
            },
            other => panic!("expected basic.get-ok, got {other:?}"),
        }
    }

    pub fn declare_queue(&mut self, c: Ch, queue: &str) {
        self.ok(c, QueueDecl::new(queue));
    }

    pub fn declare_exchange(&mut self, c: Ch, exchange: &str, kind: &str) {
        self.ok(c, ExchangeDecl::new(exchange, kind));
    }

    pub fn bind(&mut self, c: Ch, queue: &str, exchange: &str, key: &str) {
        self.ok(c, bind(queue, exchange, key));
    }

    pub fn consume(&mut self, c: Ch, queue: &str, tag: &str) -> Vec<Output> {
        self.send(c, consume(queue, tag))
    }
}

/// What basic.get returned.
#[derive(Clone, Debug)]
pub struct Got {
    pub tag: u64,
    pub redelivered: bool,
    pub message_count: u32,
    pub message: Message,
}

// ---- reading outputs -------------------------------------------------------

/// The channel or connection error among outputs: (connection?, code, text).
pub fn error_of(out: &[Output]) -> Option<(bool, u16, String)> {
    out.iter().find_map(|o| match o {
        Output::ChannelClose { error, .. } => Some((false, error.code.code(), error.text.clone())),
        Output::ConnectionClose { error, .. } => {
            Some((true, error.code.code(), error.text.clone()))
        }
        _ => None,
    })
}

pub fn chan_err(code: ReplyCode, text: &str) -> (bool, u16, String) {
    (false, code.code(), text.to_string())
}

pub fn conn_err(code: ReplyCode, text: &str) -> (bool, u16, String) {
    (true, code.code(), text.to_string())
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A delivery: (consumer tag, delivery tag, redelivered, body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct D {
    pub consumer: String,
    pub tag: u64,
    pub redelivered: bool,
    pub body: String,
    pub conn: ConnId,
    pub channel: ChannelId,
}

pub fn deliveries(out: &[Output]) -> Vec<D> {
    out.iter()
        .filter_map(|o| match o {
            Output::Deliver {
                conn,
                channel,
                consumer_tag,
                delivery_tag,
                redelivered,
                message,
            } => Some(D {
                consumer: consumer_tag.to_string(),
                tag: *delivery_tag,
                redelivered: *redelivered,
                body: text(message.body()),
                conn: *conn,
                channel: *channel,
            }),
            _ => None,
        })
        .collect()
}

/// (consumer tag, body) of each delivery, in order.
pub fn who_got(out: &[Output]) -> Vec<(String, String)> {
    deliveries(out)
        .into_iter()
        .map(|d| (d.consumer, d.body))
        .collect()
}

pub fn delivered_messages(out: &[Output]) -> Vec<Message> {
    out.iter()
        .filter_map(|o| match o {
            Output::Deliver { message, .. } | Output::GetOk { message, .. } => {
                Some(message.clone())
            }
            _ => None,
        })
        .collect()
}

/// Publisher confirms: (delivery tag, multiple, ack).
pub fn confirms(out: &[Output]) -> Vec<(u64, bool, bool)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Confirm {
                delivery_tag,
                multiple,
                ack,
                ..
            } => Some((*delivery_tag, *multiple, *ack)),
            _ => None,
        })
        .collect()
}

/// A short name for each client-visible output, for order checks.
pub fn kinds(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| {
            Some(match o {
                Output::Reply { reply, .. } => format!("{reply:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                Output::Deliver { .. } => "Deliver".into(),
                Output::GetOk { .. } => "GetOk".into(),
                Output::Return { .. } => "Return".into(),
                Output::Confirm { ack: true, .. } => "Ack".into(),
                Output::Confirm { ack: false, .. } => "Nack".into(),
                Output::CancelConsumer { .. } => "Cancel".into(),
                Output::ChannelClose { .. } => "ChannelClose".into(),
                Output::ConnectionClose { .. } => "ConnectionClose".into(),
                Output::Store(_) => return None,
                #[allow(unreachable_patterns)]
                _ => "Other".into(),
            })
        })
        .collect()
}

pub fn header(m: &Message, key: &str) -> Option<FieldValue> {
    m.properties().headers.and_then(|h| h.get(key).cloned())
}

pub fn header_keys(m: &Message) -> Vec<String> {
    m.properties()
        .headers
        .as_ref()
        .map(|h| h.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default()
}

// ---- values ----------------------------------------------------------------

pub fn s(v: &str) -> FieldValue {
    FieldValue::str(v)
}

/// An integer as pika sends a small Python int: `I`, signed 32-bit.
pub fn int(v: i32) -> FieldValue {
    FieldValue::I32(v)
}

pub fn table(pairs: &[(&str, FieldValue)]) -> FieldTable {
    pairs.iter().cloned().collect()
}

pub fn array(items: &[&str]) -> FieldValue {
    FieldValue::Array(items.iter().map(|i| s(i)).collect())
}

// ---- command builders ------------------------------------------------------

#[derive(Clone, Debug)]
pub struct QueueDecl(Command);

impl QueueDecl {
    pub fn new(name: &str) -> QueueDecl {
        QueueDecl(Command::QueueDeclare {
            queue: name.to_string(),
            passive: false,
            durable: false,
            exclusive: false,
            auto_delete: false,
            nowait: false,
            arguments: FieldTable::new(),
        })
    }

    fn with(
        mut self,
        f: impl FnOnce(&mut bool, &mut bool, &mut bool, &mut bool, &mut FieldTable),
    ) -> Self {
        if let Command::QueueDeclare {
            passive,
            durable,
            exclusive,
            auto_delete,
            arguments,
            ..
        } = &mut self.0
        {
            f(passive, durable, exclusive, auto_delete, arguments);
        }
        self
    }

    pub fn passive(self) -> Self {
        self.with(|p, _, _, _, _| *p = true)
    }

    pub fn durable(self) -> Self {
        self.with(|_, d, _, _, _| *d = true)
    }

    pub fn exclusive(self) -> Self {
        self.with(|_, _, e, _, _| *e = true)
    }

    pub fn auto_delete(self) -> Self {
        self.with(|_, _, _, a, _| *a = true)
    }

    pub fn arg(self, key: &str, value: FieldValue) -> Self {
        self.with(|_, _, _, _, args| args.insert(key, value))
    }

    /// A durable quorum queue.
    pub fn quorum(self) -> Self {
        self.durable().arg("x-queue-type", s("quorum"))
    }
}

impl From<QueueDecl> for Command {
    fn from(q: QueueDecl) -> Command {
        q.0
    }
}

#[derive(Clone, Debug)]
pub struct ExchangeDecl(Command);

impl ExchangeDecl {
    pub fn new(name: &str, kind: &str) -> ExchangeDecl {
        ExchangeDecl(Command::ExchangeDeclare {
            exchange: name.to_string(),
            kind: kind.to_string(),
            passive: false,
            durable: false,
            auto_delete: false,
            internal: false,
            nowait: false,
            arguments: FieldTable::new(),
        })
    }

    fn with(
        mut self,
        f: impl FnOnce(&mut bool, &mut bool, &mut bool, &mut bool, &mut FieldTable),
    ) -> Self {
        if let Command::ExchangeDeclare {
            passive,
            durable,
            auto_delete,
            internal,
            arguments,
            ..
        } = &mut self.0
        {
            f(passive, durable, auto_delete, internal, arguments);
        }
        self
    }

    pub fn passive(self) -> Self {
        self.with(|p, _, _, _, _| *p = true)
    }

    pub fn durable(self) -> Self {
        self.with(|_, d, _, _, _| *d = true)
    }

    pub fn auto_delete(self) -> Self {
        self.with(|_, _, a, _, _| *a = true)
    }

    pub fn internal(self) -> Self {
        self.with(|_, _, _, i, _| *i = true)
    }

    pub fn arg(self, key: &str, value: FieldValue) -> Self {
        self.with(|_, _, _, _, args| args.insert(key, value))
    }

    pub fn alternate(self, ae: &str) -> Self {
        self.arg("alternate-exchange", s(ae))
    }
}

impl From<ExchangeDecl> for Command {
    fn from(x: ExchangeDecl) -> Command {
        x.0
    }
}

pub fn bind(queue: &str, exchange: &str, key: &str) -> Command {
    bind_args(queue, exchange, key, FieldTable::new())
}

pub fn bind_args(queue: &str, exchange: &str, key: &str, arguments: FieldTable) -> Command {
    Command::QueueBind {
        queue: queue.to_string(),
        exchange: exchange.to_string(),
        routing_key: key.to_string(),
        nowait: false,
        arguments,
    }
}

pub fn unbind(queue: &str, exchange: &str, key: &str) -> Command {
    Command::QueueUnbind {
        queue: queue.to_string(),
        exchange: exchange.to_string(),
        routing_key: key.to_string(),
        arguments: FieldTable::new(),
    }
}

pub fn e2e_bind(destination: &str, source: &str, key: &str) -> Command {
    Command::ExchangeBind {
        destination: destination.to_string(),
        source: source.to_string(),
        routing_key: key.to_string(),
        nowait: false,
        arguments: FieldTable::new(),
    }
}

pub fn e2e_unbind(destination: &str, source: &str, key: &str) -> Command {
    Command::ExchangeUnbind {
        destination: destination.to_string(),
        source: source.to_string(),
        routing_key: key.to_string(),
        nowait: false,
        arguments: FieldTable::new(),
    }
}

pub fn exchange_delete(exchange: &str, if_unused: bool) -> Command {
    Command::ExchangeDelete {
        exchange: exchange.to_string(),
        if_unused,
        nowait: false,
    }
}

pub fn queue_delete(queue: &str, if_unused: bool, if_empty: bool) -> Command {
    Command::QueueDelete {
        queue: queue.to_string(),
        if_unused,
        if_empty,
        nowait: false,
    }
}

pub fn purge(queue: &str) -> Command {
    Command::QueuePurge {
        queue: queue.to_string(),
        nowait: false,
    }
}

#[derive(Clone, Debug)]
pub struct Publish(Command);

pub fn publish(exchange: &str, key: &str, body: &str) -> Publish {
    Publish(Command::BasicPublish {
        exchange: exchange.to_string(),
        routing_key: key.to_string(),
        mandatory: false,
        immediate: false,
        properties: BasicProperties::default(),
        body: Bytes::copy_from_slice(body.as_bytes()),
    })
}

impl Publish {
    pub fn mandatory(mut self) -> Self {
        if let Command::BasicPublish { mandatory, .. } = &mut self.0 {
            *mandatory = true;
        }
        self
    }

    pub fn immediate(mut self) -> Self {
        if let Command::BasicPublish { immediate, .. } = &mut self.0 {
            *immediate = true;
        }
        self
    }

    pub fn props(mut self, p: BasicProperties) -> Self {
        if let Command::BasicPublish { properties, .. } = &mut self.0 {
            *properties = p;
        }
        self
    }

    fn props_mut(&mut self) -> &mut BasicProperties {
        match &mut self.0 {
            Command::BasicPublish { properties, .. } => properties,
            _ => unreachable!("a Publish builder always holds basic.publish"),
        }
    }

    pub fn header(mut self, key: &str, value: FieldValue) -> Self {
        self.props_mut()
            .headers
            .get_or_insert_with(FieldTable::new)
            .insert(key, value);
        self
    }

    pub fn persistent(mut self) -> Self {
        self.props_mut().delivery_mode = Some(2);
        self
    }

    pub fn expiration(mut self, ms: &str) -> Self {
        self.props_mut().expiration = Some(ms.to_string());
        self
    }

    pub fn user_id(mut self, user: &str) -> Self {
        self.props_mut().user_id = Some(user.to_string());
        self
    }
}

impl From<Publish> for Command {
    fn from(p: Publish) -> Command {
        p.0
    }
}

#[derive(Clone, Debug)]
pub struct Consume(Command);

pub fn consume(queue: &str, tag: &str) -> Consume {
    Consume(Command::BasicConsume {
        queue: queue.to_string(),
        consumer_tag: tag.to_string(),
        no_local: false,
        no_ack: false,
        exclusive: false,
        nowait: false,
        arguments: FieldTable::new(),
    })
}

impl Consume {
    pub fn no_ack(mut self) -> Self {
        if let Command::BasicConsume { no_ack, .. } = &mut self.0 {
            *no_ack = true;
        }
        self
    }

    pub fn exclusive(mut self) -> Self {
        if let Command::BasicConsume { exclusive, .. } = &mut self.0 {
            *exclusive = true;
        }
        self
    }

    /// basic.consume's `x-priority` argument, any field value.
    pub fn priority(mut self, value: FieldValue) -> Self {
        if let Command::BasicConsume { arguments, .. } = &mut self.0 {
            arguments.insert("x-priority", value);
        }
        self
    }
}

impl From<Consume> for Command {
    fn from(c: Consume) -> Command {
        c.0
    }
}

pub fn cancel(tag: &str) -> Command {
    Command::BasicCancel {
        consumer_tag: tag.to_string(),
        nowait: false,
    }
}

#[derive(Clone, Debug)]
pub struct Get(Command);

pub fn get(queue: &str) -> Get {
    Get(Command::BasicGet {
        queue: queue.to_string(),
        no_ack: false,
    })
}

impl Get {
    pub fn no_ack(mut self) -> Self {
        if let Command::BasicGet { no_ack, .. } = &mut self.0 {
            *no_ack = true;
        }
        self
    }
}

impl From<Get> for Command {
    fn from(g: Get) -> Command {
        g.0
    }
}

pub fn qos(prefetch_count: u16, global: bool) -> Command {
    Command::BasicQos {
        prefetch_size: 0,
        prefetch_count,
        global,
    }
}

pub fn ack(tag: u64) -> Command {
    Command::BasicAck {
        delivery_tag: tag,
        multiple: false,
    }
}

pub fn ack_multiple(tag: u64) -> Command {
    Command::BasicAck {
        delivery_tag: tag,
        multiple: true,
    }
}

pub fn nack(tag: u64, multiple: bool, requeue: bool) -> Command {
    Command::BasicNack {
        delivery_tag: tag,
        multiple,
        requeue,
    }
}

pub fn reject(tag: u64, requeue: bool) -> Command {
    Command::BasicReject {
        delivery_tag: tag,
        requeue,
    }
}

pub fn recover() -> Command {
    Command::BasicRecover { requeue: true }
}

pub fn confirm_select() -> Command {
    Command::ConfirmSelect { nowait: false }
}
