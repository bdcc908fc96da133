//! The simulation: simulated clients driving the broker on a virtual clock,
//! following a scenario's script. Deterministic: the same scenario gives the
//! same trace, byte for byte, on every platform. `Clone` is a snapshot, so a
//! caller can step forward and go back.

mod client;
mod observation;

pub use observation::Observation;

use crate::broker::{Broker, BrokerConfig};
use crate::events::Event;
use crate::protocol::{ChannelId, Command, ConnId, Millis, Output, Reply};
use crate::scenario::{Action, Scenario, Step};
use crate::types::{BasicProperties, FieldTable, Message};
use client::{ConsumerPlan, SimClient};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The connection id of the hidden client that declares the topology.
const SETUP_CONN: ConnId = 0;

/// Scheduled work. Ties at the same time run in the order they were scheduled.
#[derive(Clone, Debug)]
enum Task {
    /// Declare the scenario's topology.
    Setup,
    /// Run script step `index`; `repeat` is the message index of a multi-count publish.
    Step { index: usize, repeat: u32 },
    /// A consumer finished processing a delivery.
    Finish {
        client: usize,
        generation: u64,
        consumer_tag: Arc<str>,
        delivery_tag: u64,
        message: Message,
    },
}

/// Runs a scenario to the end and renders its trace as `warren scenario run`
/// prints it. The same text on every platform is the determinism guarantee
/// (checked against the wasm build by `tests/wasm`).
pub fn render_run(scenario: Scenario) -> String {
    let mut out = format!("scenario '{}'", scenario.name);
    if !scenario.description.is_empty() {
        out.push_str(": ");
        out.push_str(&scenario.description);
    }
    out.push('\n');
    let mut sim = Simulation::new(scenario);
    sim.run();
    for line in sim.trace() {
        out.push_str(&line.render());
        out.push('\n');
    }
    out
}

/// One line of a trace: a broker event or something a client saw.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum TraceLine {
    Broker(Event),
    Client(Box<Observation>),
}

impl TraceLine {
    pub fn time(&self) -> Millis {
        match self {
            TraceLine::Broker(e) => e.time,
            TraceLine::Client(o) => o.time(),
        }
    }

    /// The line as `warren scenario run` prints it.
    pub fn render(&self) -> String {
        match self {
            TraceLine::Broker(e) => format!("{:>7}ms  broker  {}", e.time, e.describe()),
            TraceLine::Client(o) => {
                format!("{:>7}ms  {:<7} {}", o.time(), o.client(), o.describe())
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Simulation {
    scenario: Scenario,
    broker: Broker,
    now: Millis,
    agenda: BTreeMap<(Millis, u64), Task>,
    next_task: u64,
    clients: Vec<SimClient>,
    /// Names saved with `as`, used as `$name`.
    vars: BTreeMap<String, String>,
    trace: Vec<TraceLine>,
    observations: Vec<Observation>,
    /// Counts tasks run, to stop a scenario that never ends.
    tasks_run: u64,
}

/// `$name` is a name saved with `as`; anything else is itself.
fn resolve(vars: &BTreeMap<String, String>, name: &str) -> String {
    match name.strip_prefix('$') {
        Some(var) => vars.get(var).cloned().unwrap_or_else(|| name.to_string()),
        None => name.to_string(),
    }
}

/// A scenario that keeps scheduling work forever is cut off here.
const MAX_TASKS: u64 = 1_000_000;

impl Simulation {
    pub fn new(scenario: Scenario) -> Simulation {
        let broker = Broker::new(BrokerConfig {
            seed: scenario.seed,
            events: true,
            default_user: true,
        });
        let clients = scenario
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| SimClient::new(c.clone(), i as ConnId + 1))
            .collect();
        let mut sim = Simulation {
            scenario,
            broker,
            now: 0,
            agenda: BTreeMap::new(),
            next_task: 0,
            clients,
            vars: BTreeMap::new(),
            trace: Vec::new(),
            observations: Vec::new(),
            tasks_run: 0,
        };
        sim.schedule(0, Task::Setup);
        for (index, step) in sim.scenario.script.iter().enumerate() {
            let at = step.at;
            sim.agenda
                .insert((at, sim.next_task), Task::Step { index, repeat: 0 });
            sim.next_task += 1;
        }
        sim
    }

    fn schedule(&mut self, at: Millis, task: Task) {
        self.agenda.insert((at, self.next_task), task);
        self.next_task += 1;
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    pub fn now(&self) -> Millis {
        self.now
    }

    /// Everything that happened so far, in order.
    pub fn trace(&self) -> &[TraceLine] {
        &self.trace
    }

    /// What clients observed so far, in order.
    pub fn observations(&self) -> &[Observation] {
        &self.observations
    }

    /// The connection id a scenario client uses, so views can join broker
    /// figures (consumers, channels) to the client that owns them.
    pub fn conn_of(&self, client: &str) -> Option<ConnId> {
        self.clients
            .iter()
            .find(|c| c.spec.name == client)
            .map(|c| c.conn)
    }

    /// The scenario client on a connection (None for the topology's setup connection).
    pub fn client_of(&self, conn: ConnId) -> Option<&str> {
        self.clients
            .iter()
            .find(|c| c.conn == conn)
            .map(|c| c.spec.name.as_str())
    }

    /// A name saved with `as`, or the text itself.
    pub fn resolve(&self, name: &str) -> String {
        resolve(&self.vars, name)
    }

    /// When the next thing happens: a task or a broker timer.
    pub fn next_time(&self) -> Option<Millis> {
        let task = self.agenda.keys().next().map(|(t, _)| *t);
        match (task, self.broker.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b.max(self.now))),
            (a, b) => a.or(b.map(|b| b.max(self.now))),
        }
    }

    /// Runs the next task or timer. Returns false when nothing is left.
    pub fn step(&mut self) -> bool {
        if self.tasks_run >= MAX_TASKS {
            return false;
        }
        let Some(t) = self.next_time() else {
            return false;
        };
        self.now = t;
        self.tasks_run += 1;
        let timer_due = self.broker.poll_timeout().is_some_and(|x| x <= t);
        if timer_due {
            self.broker.handle_timeout(t);
            self.pump();
            return true;
        }
        let Some((_, task)) = self.agenda.pop_first() else {
            return false;
        };
        self.run_task(task);
        true
    }

    /// Runs everything due at or before `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Millis) {
        while self.next_time().is_some_and(|n| n <= t) {
            if !self.step() {
                break;
            }
        }
        self.now = self.now.max(t);
    }

    /// Runs until nothing is left to do.
    pub fn run(&mut self) {
        while self.step() {}
    }

    fn run_task(&mut self, task: Task) {
        match task {
            Task::Setup => self.setup(),
            Task::Step { index, repeat } => {
                if let Some(step) = self.scenario.script.get(index).cloned() {
                    match step.action {
                        // Back-to-back copies go out together, before later steps at the same time.
                        Action::Publish {
                            count,
                            interval_ms: 0,
                            ..
                        } => (0..count).for_each(|r| self.run_step(index, &step, r)),
                        _ => self.run_step(index, &step, repeat),
                    }
                }
            }
            Task::Finish {
                client,
                generation,
                consumer_tag,
                delivery_tag,
                message,
            } => self.finish(client, generation, &consumer_tag, delivery_tag, &message),
        }
    }

    /// Declares the topology over a hidden setup connection.
    fn setup(&mut self) {
        let topology = self.scenario.topology.clone();
        if topology.exchanges.is_empty()
            && topology.queues.is_empty()
            && topology.bindings.is_empty()
        {
            return;
        }
        let now = self.now;
        if self
            .broker
            .handle_connection_open(now, SETUP_CONN, "guest", "/")
            .is_err()
            || self.broker.handle_channel_open(now, SETUP_CONN, 1).is_err()
        {
            return;
        }
        let mut cmds = Vec::new();
        for x in topology.exchanges {
            cmds.push(Command::ExchangeDeclare {
                exchange: x.name,
                kind: x.kind,
                passive: false,
                durable: x.durable,
                auto_delete: x.auto_delete,
                internal: x.internal,
                nowait: false,
                arguments: x.arguments,
            });
        }
        for q in topology.queues {
            cmds.push(Command::QueueDeclare {
                queue: q.name,
                passive: false,
                durable: q.durable,
                exclusive: false,
                auto_delete: q.auto_delete,
                nowait: false,
                arguments: q.arguments,
            });
        }
        for b in topology.bindings {
            cmds.push(if b.destination_type == "exchange" {
                Command::ExchangeBind {
                    destination: b.destination,
                    source: b.source,
                    routing_key: b.routing_key,
                    nowait: false,
                    arguments: b.arguments,
                }
            } else {
                Command::QueueBind {
                    queue: b.destination,
                    exchange: b.source,
                    routing_key: b.routing_key,
                    nowait: false,
                    arguments: b.arguments,
                }
            });
        }
        for c in cmds {
            self.broker.handle_command(now, SETUP_CONN, 1, c);
            // A topology the broker refuses is a broken scenario: report it as
            // an error of the setup connection (no expectation can name it).
            let mut refused = None;
            while let Some(out) = self.broker.poll_output() {
                if let Output::ChannelClose { error, .. } | Output::ConnectionClose { error, .. } =
                    out
                {
                    refused = Some(error);
                }
            }
            self.pump();
            if let Some(error) = refused {
                self.observe(Observation::Error {
                    at: now,
                    client: "(topology)".to_string(),
                    code: error.code.code(),
                    text: error.text,
                    connection: false,
                });
                break;
            }
        }
        self.broker
            .handle_connection_closed(now, SETUP_CONN, "setup done");
        self.pump();
    }

    fn client_index(&self, name: &str) -> Option<usize> {
        self.clients.iter().position(|c| c.spec.name == name)
    }

    /// Makes sure the client has an open connection and channel; returns them.
    fn ensure_open(&mut self, ci: usize) -> Option<(ConnId, ChannelId)> {
        let now = self.now;
        let c = &mut self.clients[ci];
        if !c.connected {
            let auth = self
                .broker
                .authenticate("PLAIN", &c.spec.user, &c.spec.password, true)
                .and_then(|_| {
                    self.broker
                        .handle_connection_open(now, c.conn, &c.spec.user, &c.spec.vhost)
                });
            if let Err(e) = auth {
                let o = Observation::Error {
                    at: now,
                    client: c.spec.name.clone(),
                    code: e.code.code(),
                    text: e.text,
                    connection: true,
                };
                self.observe(o);
                return None;
            }
            c.connected = true;
            c.channel_open = false;
        }
        let c = &mut self.clients[ci];
        if !c.channel_open {
            c.channel += 1;
            if self
                .broker
                .handle_channel_open(now, c.conn, c.channel)
                .is_err()
            {
                return None;
            }
            c.channel_open = true;
        }
        let c = &self.clients[ci];
        Some((c.conn, c.channel))
    }

    fn send(&mut self, ci: usize, cmd: Command) {
        let Some((conn, ch)) = self.ensure_open(ci) else {
            return;
        };
        self.broker.handle_command(self.now, conn, ch, cmd);
        self.pump();
    }

    fn run_step(&mut self, index: usize, step: &Step, repeat: u32) {
        if let Action::Restart = step.action {
            self.broker.restart(self.now);
            for c in &mut self.clients {
                c.disconnected();
            }
            self.pump();
            return;
        }
        let Some(ci) = step.client.as_deref().and_then(|n| self.client_index(n)) else {
            return;
        };
        let vars = self.vars.clone();
        let r = |s: &str| resolve(&vars, s);
        let cmd = match &step.action {
            Action::Restart => return,
            Action::ExchangeDeclare {
                exchange,
                kind,
                durable,
                auto_delete,
                internal,
                passive,
                arguments,
            } => Command::ExchangeDeclare {
                exchange: r(exchange),
                kind: kind.clone(),
                passive: *passive,
                durable: *durable,
                auto_delete: *auto_delete,
                internal: *internal,
                nowait: false,
                arguments: arguments.clone(),
            },
            Action::ExchangeDelete {
                exchange,
                if_unused,
            } => Command::ExchangeDelete {
                exchange: r(exchange),
                if_unused: *if_unused,
                nowait: false,
            },
            Action::ExchangeBind {
                destination,
                source,
                routing_key,
                arguments,
            } => Command::ExchangeBind {
                destination: r(destination),
                source: r(source),
                routing_key: r(routing_key),
                nowait: false,
                arguments: arguments.clone(),
            },
            Action::ExchangeUnbind {
                destination,
                source,
                routing_key,
                arguments,
            } => Command::ExchangeUnbind {
                destination: r(destination),
                source: r(source),
                routing_key: r(routing_key),
                nowait: false,
                arguments: arguments.clone(),
            },
            Action::QueueDeclare {
                queue,
                durable,
                exclusive,
                auto_delete,
                passive,
                arguments,
                save_as,
            } => {
                self.clients[ci].save_next_declare = save_as.clone();
                Command::QueueDeclare {
                    queue: r(queue),
                    passive: *passive,
                    durable: *durable,
                    exclusive: *exclusive,
                    auto_delete: *auto_delete,
                    nowait: false,
                    arguments: arguments.clone(),
                }
            }
            Action::QueueBind {
                queue,
                exchange,
                routing_key,
                arguments,
            } => Command::QueueBind {
                queue: r(queue),
                exchange: r(exchange),
                routing_key: r(routing_key),
                nowait: false,
                arguments: arguments.clone(),
            },
            Action::QueueUnbind {
                queue,
                exchange,
                routing_key,
                arguments,
            } => Command::QueueUnbind {
                queue: r(queue),
                exchange: r(exchange),
                routing_key: r(routing_key),
                arguments: arguments.clone(),
            },
            Action::QueuePurge { queue } => Command::QueuePurge {
                queue: r(queue),
                nowait: false,
            },
            Action::QueueDelete {
                queue,
                if_unused,
                if_empty,
            } => Command::QueueDelete {
                queue: r(queue),
                if_unused: *if_unused,
                if_empty: *if_empty,
                nowait: false,
            },
            Action::Qos {
                prefetch_count,
                global,
            } => Command::BasicQos {
                prefetch_size: 0,
                prefetch_count: *prefetch_count,
                global: *global,
            },
            Action::Consume {
                queue,
                tag,
                auto_ack,
                exclusive,
                processing_ms,
                on_message,
                requeue,
                reply,
                priority,
            } => {
                let mut arguments = FieldTable::new();
                if let Some(p) = priority {
                    arguments.insert("x-priority", crate::types::FieldValue::I32(*p));
                }
                self.clients[ci].next_plan = Some(ConsumerPlan {
                    queue: r(queue),
                    auto_ack: *auto_ack,
                    processing_ms: *processing_ms,
                    on_message: *on_message,
                    requeue: *requeue,
                    reply: *reply,
                    rpc_replies: false,
                });
                Command::BasicConsume {
                    queue: r(queue),
                    consumer_tag: tag.clone(),
                    no_local: false,
                    no_ack: *auto_ack,
                    exclusive: *exclusive,
                    nowait: false,
                    arguments,
                }
            }
            Action::Cancel { tag } => Command::BasicCancel {
                consumer_tag: r(tag),
                nowait: false,
            },
            Action::Publish {
                exchange,
                routing_key,
                body,
                properties,
                persistent,
                mandatory,
                count,
                interval_ms,
            } => {
                if *interval_ms > 0 && repeat + 1 < *count {
                    self.schedule(
                        self.now + interval_ms,
                        Task::Step {
                            index,
                            repeat: repeat + 1,
                        },
                    );
                }
                let mut properties = properties.clone();
                if *persistent {
                    properties.delivery_mode = Some(2);
                }
                Command::BasicPublish {
                    exchange: r(exchange),
                    routing_key: r(routing_key),
                    mandatory: *mandatory,
                    immediate: false,
                    properties,
                    body: body.replace("{i}", &repeat.to_string()).into_bytes().into(),
                }
            }
            Action::Get { queue, auto_ack } => {
                self.clients[ci].last_get_queue = r(queue);
                Command::BasicGet {
                    queue: r(queue),
                    no_ack: *auto_ack,
                }
            }
            Action::Ack {
                delivery_tag,
                multiple,
            } => Command::BasicAck {
                delivery_tag: *delivery_tag,
                multiple: *multiple,
            },
            Action::Nack {
                delivery_tag,
                multiple,
                requeue,
            } => Command::BasicNack {
                delivery_tag: *delivery_tag,
                multiple: *multiple,
                requeue: *requeue,
            },
            Action::Reject {
                delivery_tag,
                requeue,
            } => Command::BasicReject {
                delivery_tag: *delivery_tag,
                requeue: *requeue,
            },
            Action::Recover => Command::BasicRecover { requeue: true },
            Action::ConfirmSelect => Command::ConfirmSelect { nowait: false },
            Action::TxSelect => Command::TxSelect,
            Action::TxCommit => Command::TxCommit,
            Action::TxRollback => Command::TxRollback,
            Action::CloseChannel => {
                let c = &mut self.clients[ci];
                if c.connected && c.channel_open {
                    let (conn, ch) = (c.conn, c.channel);
                    c.channel_closed();
                    self.broker.handle_channel_close(self.now, conn, ch);
                    self.pump();
                }
                return;
            }
            Action::Close | Action::Crash => {
                let c = &mut self.clients[ci];
                if c.connected {
                    let conn = c.conn;
                    c.disconnected();
                    let why = if matches!(step.action, Action::Crash) {
                        "the client crashed"
                    } else {
                        "closed by the client"
                    };
                    self.broker.handle_connection_closed(self.now, conn, why);
                    self.pump();
                }
                return;
            }
            Action::RpcCall {
                exchange,
                routing_key,
                body,
            } => {
                self.rpc_call(ci, &r(exchange), &r(routing_key), body);
                return;
            }
        };
        self.send(ci, cmd);
    }

    /// An RPC request: a reply queue on first use, then a publish with
    /// reply_to and a fresh correlation id.
    fn rpc_call(&mut self, ci: usize, exchange: &str, routing_key: &str, body: &str) {
        if self.clients[ci].rpc_queue.is_none() {
            self.send(
                ci,
                Command::QueueDeclare {
                    queue: String::new(),
                    passive: false,
                    durable: false,
                    exclusive: true,
                    auto_delete: false,
                    nowait: false,
                    arguments: FieldTable::new(),
                },
            );
            let Some(q) = self.clients[ci].last_declared.clone() else {
                return;
            };
            self.clients[ci].rpc_queue = Some(q.clone());
            self.clients[ci].next_plan = Some(ConsumerPlan {
                queue: q.clone(),
                auto_ack: true,
                processing_ms: 0,
                on_message: crate::scenario::OnMessage::Ack,
                requeue: false,
                reply: None,
                rpc_replies: true,
            });
            self.send(
                ci,
                Command::BasicConsume {
                    queue: q,
                    consumer_tag: String::new(),
                    no_local: false,
                    no_ack: true,
                    exclusive: false,
                    nowait: false,
                    arguments: FieldTable::new(),
                },
            );
        }
        let c = &mut self.clients[ci];
        c.rpc_calls += 1;
        let correlation_id = format!("{}-{}", c.spec.name, c.rpc_calls);
        let reply_to = c.rpc_queue.clone();
        self.send(
            ci,
            Command::BasicPublish {
                exchange: exchange.to_string(),
                routing_key: routing_key.to_string(),
                mandatory: false,
                immediate: false,
                properties: BasicProperties {
                    reply_to,
                    correlation_id: Some(correlation_id),
                    ..BasicProperties::default()
                },
                body: body.as_bytes().to_vec().into(),
            },
        );
    }

    /// A consumer is done with a message: reply if it is an RPC server, then
    /// ack, nack, reject, or nothing.
    fn finish(
        &mut self,
        ci: usize,
        generation: u64,
        tag: &str,
        delivery_tag: u64,
        message: &Message,
    ) {
        let c = &self.clients[ci];
        if c.generation != generation || !c.connected {
            return; // the channel or connection this delivery came on is gone
        }
        let Some(plan) = c.consumers.get(tag).cloned() else {
            // Cancelled meanwhile: the message is still unacked on the channel, so ack it.
            if let Some(plan) = c.cancelled_plans.get(tag).cloned() {
                self.settle(ci, &plan, delivery_tag);
            }
            return;
        };
        if let (Some(how), Some(reply_to)) = (plan.reply, message.properties().reply_to.clone()) {
            let request = String::from_utf8_lossy(message.body()).to_string();
            let answer = client::compute_reply(how, &request);
            self.send(
                ci,
                Command::BasicPublish {
                    exchange: String::new(),
                    routing_key: reply_to,
                    mandatory: false,
                    immediate: false,
                    properties: BasicProperties {
                        correlation_id: message.properties().correlation_id.clone(),
                        ..BasicProperties::default()
                    },
                    body: answer.into_bytes().into(),
                },
            );
        }
        self.settle(ci, &plan, delivery_tag);
    }

    fn settle(&mut self, ci: usize, plan: &ConsumerPlan, delivery_tag: u64) {
        if plan.auto_ack {
            return;
        }
        let cmd = match plan.on_message {
            crate::scenario::OnMessage::Ack => Command::BasicAck {
                delivery_tag,
                multiple: false,
            },
            crate::scenario::OnMessage::Nack => Command::BasicNack {
                delivery_tag,
                multiple: false,
                requeue: plan.requeue,
            },
            crate::scenario::OnMessage::Reject => Command::BasicReject {
                delivery_tag,
                requeue: plan.requeue,
            },
            crate::scenario::OnMessage::Nothing => return,
        };
        self.send(ci, cmd);
    }

    fn observe(&mut self, o: Observation) {
        self.trace.push(TraceLine::Client(Box::new(o.clone())));
        self.observations.push(o);
    }

    /// Moves the broker's outputs to the clients they are for, and its events to the trace.
    fn pump(&mut self) {
        while let Some(e) = self.broker.poll_event() {
            self.trace.push(TraceLine::Broker(e));
        }
        while let Some(out) = self.broker.poll_output() {
            self.deliver_output(out);
        }
        while let Some(e) = self.broker.poll_event() {
            self.trace.push(TraceLine::Broker(e));
        }
    }

    fn deliver_output(&mut self, out: Output) {
        let Some(conn) = out.conn() else { return };
        let Some(ci) = self.clients.iter().position(|c| c.conn == conn) else {
            return; // the setup connection
        };
        let now = self.now;
        let name = self.clients[ci].spec.name.clone();
        match out {
            Output::Reply { reply, .. } => match reply {
                Reply::QueueDeclareOk {
                    queue,
                    message_count,
                    consumer_count,
                } => {
                    let c = &mut self.clients[ci];
                    c.last_declared = Some(queue.clone());
                    if let Some(var) = c.save_next_declare.take() {
                        self.vars.insert(var, queue.clone());
                    }
                    self.observe(Observation::Declared {
                        at: now,
                        client: name,
                        queue,
                        message_count,
                        consumer_count,
                    });
                }
                Reply::BasicConsumeOk { consumer_tag } => {
                    let c = &mut self.clients[ci];
                    if let Some(plan) = c.next_plan.take() {
                        c.consumers.insert(consumer_tag, plan);
                    }
                }
                Reply::BasicCancelOk { consumer_tag } => {
                    let c = &mut self.clients[ci];
                    if let Some(plan) = c.consumers.remove(&consumer_tag) {
                        c.cancelled_plans.insert(consumer_tag, plan);
                    }
                }
                Reply::BasicGetEmpty => {
                    let queue = self.clients[ci].last_get_queue.clone();
                    self.observe(Observation::GetEmpty {
                        at: now,
                        client: name,
                        queue,
                    });
                }
                _ => {}
            },
            Output::Deliver {
                consumer_tag,
                delivery_tag,
                redelivered,
                message,
                ..
            } => {
                let c = &mut self.clients[ci];
                let plan = c.consumers.get(&*consumer_tag).cloned();
                let queue = plan.as_ref().map(|p| p.queue.clone()).unwrap_or_default();
                if plan.as_ref().is_some_and(|p| p.rpc_replies) {
                    self.observe(Observation::RpcReply {
                        at: now,
                        client: name,
                        correlation_id: message.properties().correlation_id.unwrap_or_default(),
                        body: String::from_utf8_lossy(message.body()).to_string(),
                    });
                    return;
                }
                if let Some(plan) = plan {
                    let start = now.max(c.busy_until);
                    let done = start + plan.processing_ms;
                    c.busy_until = done;
                    let generation = c.generation;
                    self.schedule(
                        done,
                        Task::Finish {
                            client: ci,
                            generation,
                            consumer_tag: consumer_tag.clone(),
                            delivery_tag,
                            message: message.clone(),
                        },
                    );
                }
                self.observe(Observation::delivered(
                    now,
                    name,
                    &consumer_tag,
                    &queue,
                    delivery_tag,
                    redelivered,
                    &message,
                ));
            }
            Output::GetOk {
                delivery_tag,
                redelivered,
                message_count,
                message,
                ..
            } => {
                let queue = self.clients[ci].last_get_queue.clone();
                self.observe(Observation::got(
                    now,
                    name,
                    &queue,
                    delivery_tag,
                    redelivered,
                    message_count,
                    &message,
                ));
            }
            Output::Return {
                reply_code,
                reply_text,
                message,
                ..
            } => self.observe(Observation::Returned {
                at: now,
                client: name,
                reply_code,
                reply_text,
                exchange: message.exchange().to_string(),
                routing_key: message.routing_key().to_string(),
                body: String::from_utf8_lossy(message.body()).to_string(),
            }),
            Output::Confirm {
                delivery_tag,
                multiple,
                ack,
                ..
            } => self.observe(Observation::Confirmed {
                at: now,
                client: name,
                delivery_tag,
                multiple,
                ack,
            }),
            Output::CancelConsumer { consumer_tag, .. } => {
                let c = &mut self.clients[ci];
                c.consumers.remove(&consumer_tag);
                self.observe(Observation::Cancelled {
                    at: now,
                    client: name,
                    consumer_tag,
                });
            }
            Output::ChannelClose { error, .. } => {
                self.clients[ci].channel_closed();
                self.observe(Observation::Error {
                    at: now,
                    client: name,
                    code: error.code.code(),
                    text: error.text,
                    connection: false,
                });
            }
            Output::ConnectionClose { error, .. } => {
                self.clients[ci].disconnected();
                self.observe(Observation::Error {
                    at: now,
                    client: name,
                    code: error.code.code(),
                    text: error.text,
                    connection: true,
                });
            }
            Output::Store(_) => {}
        }
    }
}
