//! Edits of the scenario made through the diagram and the side panel.
//!
//! Every edit is a plain function on `&mut Scenario` that either succeeds or says why
//! not in words for the user; none panics on user input. The app applies an edit to a
//! copy and keeps the copy only on success, which is what makes undo/redo trivial.

use crate::model::{self, client_kind, Kind, NodeId};
use warren_core::protocol::Millis;
use warren_core::scenario::{
    Action, BindingSpec, ClientSpec, ExchangeSpec, OnMessage, QueueSpec, Scenario, Step,
};
use warren_core::{BasicProperties, FieldTable, FieldValue};

/// `prefix1`, `prefix2`, ...: the first name `taken` does not hold.
fn fresh_name(prefix: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..)
        .map(|i| format!("{prefix}{i}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| prefix.to_string())
}

fn client(name: &str) -> ClientSpec {
    ClientSpec {
        name: name.to_string(),
        user: "guest".to_string(),
        password: "guest".to_string(),
        vhost: "/".to_string(),
    }
}

fn step(client: &str, at: Millis, action: Action) -> Step {
    Step {
        at,
        client: Some(client.to_string()),
        action,
    }
}

fn client_taken(s: &Scenario, name: &str) -> bool {
    s.clients.iter().any(|c| c.name == name)
}

fn queue_names(s: &Scenario) -> Vec<String> {
    model::nodes(s)
        .into_iter()
        .filter_map(|n| match n.id {
            NodeId::Queue(q) => Some(q),
            _ => None,
        })
        .collect()
}

/// Adds a producer that publishes one message to the first queue via the default exchange.
pub fn add_producer(s: &mut Scenario) -> NodeId {
    let name = fresh_name("P", |n| client_taken(s, n));
    let key = queue_names(s).into_iter().next().unwrap_or_default();
    s.clients.push(client(&name));
    s.script.push(step(
        &name,
        100,
        Action::Publish {
            exchange: String::new(),
            routing_key: key,
            body: "message {i}".to_string(),
            properties: BasicProperties::default(),
            persistent: false,
            mandatory: false,
            count: 1,
            interval_ms: 0,
        },
    ));
    NodeId::Client(name)
}

pub fn add_exchange(s: &mut Scenario) -> NodeId {
    let name = fresh_name("x", |n| s.topology.exchanges.iter().any(|x| x.name == n));
    s.topology.exchanges.push(ExchangeSpec {
        name: name.clone(),
        kind: "direct".to_string(),
        durable: false,
        auto_delete: false,
        internal: false,
        arguments: FieldTable::new(),
    });
    NodeId::Exchange(name)
}

pub fn add_queue(s: &mut Scenario) -> NodeId {
    let taken = queue_names(s);
    let name = fresh_name("q", |n| taken.iter().any(|q| q == n));
    s.topology.queues.push(QueueSpec {
        name: name.clone(),
        durable: false,
        auto_delete: false,
        arguments: FieldTable::new(),
    });
    NodeId::Queue(name)
}

/// Adds a consumer of the first queue (manual acks), subscribed at time 0.
pub fn add_consumer(s: &mut Scenario) -> NodeId {
    let name = fresh_name("C", |n| client_taken(s, n));
    let queue = queue_names(s).into_iter().next().unwrap_or_default();
    s.clients.push(client(&name));
    s.script.push(step(
        &name,
        0,
        Action::Consume {
            queue,
            tag: String::new(),
            auto_ack: false,
            exclusive: false,
            processing_ms: 100,
            on_message: OnMessage::Ack,
            requeue: false,
            reply: None,
            priority: None,
        },
    ));
    NodeId::Client(name)
}

/// The kind of a node in this scenario.
pub fn kind_of(s: &Scenario, id: &NodeId) -> Kind {
    match id {
        NodeId::Exchange(_) => Kind::Exchange,
        NodeId::Queue(_) => Kind::Queue,
        NodeId::Client(c) => client_kind(s, c),
    }
}

/// Connects two nodes by dragging from `from` to `to`; returns what was done, in words.
pub fn connect(s: &mut Scenario, from: &NodeId, to: &NodeId) -> Result<String, String> {
    match (from, kind_of(s, from), to, kind_of(s, to)) {
        (NodeId::Client(p), Kind::Producer, NodeId::Exchange(x), _) => {
            let mut settings = producer(s, p);
            settings.exchange = x.clone();
            set_producer(s, p, &settings)?;
            Ok(format!("{p} now publishes to {}", model::exchange_label(x)))
        }
        (NodeId::Client(p), Kind::Producer, NodeId::Queue(q), _) => {
            let mut settings = producer(s, p);
            settings.exchange = String::new();
            settings.routing_key = q.clone();
            set_producer(s, p, &settings)?;
            Ok(format!("{p} now publishes to {q} via the default exchange"))
        }
        (NodeId::Exchange(x), _, NodeId::Queue(q), _)
        | (NodeId::Exchange(x), _, NodeId::Exchange(q), _) => {
            if x.is_empty() {
                return Err("the default exchange is bound to every queue implicitly; it cannot be bound by hand".into());
            }
            let to_exchange = matches!(to, NodeId::Exchange(_));
            if to_exchange && q.is_empty() {
                return Err("the default exchange cannot be a binding's destination".into());
            }
            if to_exchange && q == x {
                return Err("an exchange cannot be bound to itself here".into());
            }
            let kind = s
                .topology
                .exchanges
                .iter()
                .find(|e| &e.name == x)
                .map(|e| e.kind.clone())
                .unwrap_or_default();
            let routing_key = match kind.as_str() {
                "direct" => q.clone(),
                "topic" => "#".to_string(),
                _ => String::new(),
            };
            s.topology.bindings.push(BindingSpec {
                source: x.clone(),
                destination: q.clone(),
                destination_type: if to_exchange { "exchange" } else { "queue" }.to_string(),
                routing_key,
                arguments: FieldTable::new(),
            });
            bind_in_script(s, q);
            Ok(format!("bound {q} to {x}"))
        }
        (NodeId::Queue(q), _, NodeId::Client(c), Kind::Consumer) => {
            let mut settings = consumer(s, c);
            settings.queue = q.clone();
            set_consumer(s, c, &settings)?;
            Ok(format!("{c} now consumes from {q}"))
        }
        (NodeId::Queue(q), _, NodeId::Client(c), Kind::Producer) => {
            Err(format!("{c} is a producer; connect {q} to a consumer"))
        }
        (a, ka, b, kb) if a == b || ka == kb && ka != Kind::Exchange => {
            Err(format!("cannot connect a {} to a {}", ka.word(), kb.word()))
        }
        (_, ka, _, kb) => Err(format!(
            "cannot connect a {} to a {}: messages flow producer → exchange → queue → consumer",
            ka.word(),
            kb.word()
        )),
    }
}

/// The script step that declares `name` as an exclusive queue, if one does.
pub fn exclusive_declare(s: &Scenario, name: &str) -> Option<usize> {
    s.script.iter().position(|st| {
        matches!(&st.action, Action::QueueDeclare { queue, exclusive: true, .. } if queue == name)
    })
}

/// A queue's settings: from the topology, or from its consumer's exclusive
/// `queue_declare` step (then `true`).
pub fn queue_spec(s: &Scenario, name: &str) -> Option<(QueueSpec, bool)> {
    if let Some(q) = s.topology.queues.iter().find(|q| q.name == name) {
        return Some((q.clone(), false));
    }
    match &s.script[exclusive_declare(s, name)?].action {
        Action::QueueDeclare {
            durable,
            auto_delete,
            arguments,
            ..
        } => Some((
            QueueSpec {
                name: name.to_string(),
                durable: *durable,
                auto_delete: *auto_delete,
                arguments: arguments.clone(),
            },
            true,
        )),
        _ => None,
    }
}

/// Changes a queue's settings wherever they live (topology or exclusive declare step).
pub fn update_queue(
    s: &mut Scenario,
    name: &str,
    f: &dyn Fn(&mut QueueSpec) -> Result<(), String>,
) -> Result<(), String> {
    if let Some(q) = s.topology.queues.iter_mut().find(|q| q.name == name) {
        return f(q);
    }
    let (mut q, _) = queue_spec(s, name).ok_or("the queue is gone")?;
    f(&mut q)?;
    if let Some(Action::QueueDeclare {
        queue,
        durable,
        auto_delete,
        arguments,
        ..
    }) = exclusive_declare(s, name).map(|i| &mut s.script[i].action)
    {
        (*queue, *durable, *auto_delete, *arguments) =
            (q.name, q.durable, q.auto_delete, q.arguments);
    }
    Ok(())
}

/// Moves the topology's bindings of an exclusive queue into its owner's script, as
/// `queue_bind` steps right after the declare (the setup connection runs before the
/// queue exists). Does nothing for other queues.
fn bind_in_script(s: &mut Scenario, name: &str) {
    let Some(i) = exclusive_declare(s, name) else {
        return;
    };
    let owner = s.script[i].client.clone();
    let mut j = 0;
    while let Some(b) = s.topology.bindings.get(j) {
        if b.destination_type == "exchange" || b.destination != name {
            j += 1;
            continue;
        }
        let b = s.topology.bindings.remove(j);
        s.script.insert(
            i + 1,
            Step {
                at: 0,
                client: owner.clone(),
                action: Action::QueueBind {
                    queue: b.destination,
                    exchange: b.source,
                    routing_key: b.routing_key,
                    arguments: b.arguments,
                },
            },
        );
    }
}

/// Makes a queue exclusive to the one consumer connected to it, or shared again.
/// An exclusive queue belongs to a connection, and the topology's setup connection
/// closes, so the queue is declared (`exclusive: true`, at t=0, before the consume)
/// and bound by its consumer's script instead.
pub fn set_exclusive(s: &mut Scenario, name: &str, on: bool) -> Result<(), String> {
    match (exclusive_declare(s, name), on) {
        (Some(i), false) => {
            let (q, _) = queue_spec(s, name).ok_or("the queue is gone")?;
            let owner = s.script.remove(i).client;
            while let Some(st) = s.script.get(i) {
                let mine = st.at == 0
                    && st.client == owner
                    && matches!(&st.action, Action::QueueBind { queue, .. } if queue == name);
                if !mine {
                    break;
                }
                if let Action::QueueBind {
                    exchange,
                    routing_key,
                    arguments,
                    ..
                } = s.script.remove(i).action
                {
                    s.topology.bindings.push(BindingSpec {
                        source: exchange,
                        destination: name.to_string(),
                        destination_type: "queue".to_string(),
                        routing_key,
                        arguments,
                    });
                }
            }
            s.topology.queues.push(q);
            Ok(())
        }
        (None, true) => {
            let mut owners = s
                .clients
                .iter()
                .filter(|c| consumer(s, &c.name).queue == name);
            let (Some(owner), None) = (owners.next(), owners.next()) else {
                return Err("an exclusive queue needs its consumer: connect one consumer (only one) to this queue first".into());
            };
            let owner = owner.name.clone();
            let i = s
                .topology
                .queues
                .iter()
                .position(|q| q.name == name)
                .ok_or("the queue is gone")?;
            let q = s.topology.queues.remove(i);
            let at = s
                .script
                .iter()
                .position(|st| st.at > 0 || st.client.as_deref() == Some(owner.as_str()))
                .unwrap_or(s.script.len());
            s.script.insert(
                at,
                step(
                    &owner,
                    0,
                    Action::QueueDeclare {
                        queue: q.name,
                        durable: q.durable,
                        exclusive: true,
                        auto_delete: q.auto_delete,
                        passive: false,
                        arguments: q.arguments,
                        save_as: None,
                    },
                ),
            );
            bind_in_script(s, name);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Deletes a node and everything that refers to it.
pub fn delete_node(s: &mut Scenario, id: &NodeId) -> Result<(), String> {
    match id {
        NodeId::Exchange(x) if x.is_empty() => {
            return Err("the default exchange always exists".into())
        }
        NodeId::Exchange(x) => {
            if !s.topology.exchanges.iter().any(|e| &e.name == x) {
                return Err(format!(
                    "{x} is declared by the script; edit the JSON to remove it"
                ));
            }
            s.topology.exchanges.retain(|e| &e.name != x);
            s.topology.bindings.retain(|b| {
                &b.source != x && !(b.destination_type == "exchange" && &b.destination == x)
            });
            for step in &mut s.script {
                if let Action::Publish { exchange, .. } = &mut step.action {
                    if exchange == x {
                        exchange.clear();
                    }
                }
            }
        }
        NodeId::Queue(q) => {
            if !s.topology.queues.iter().any(|e| &e.name == q) {
                return Err(format!(
                    "{q} is declared by the script; edit the JSON to remove it"
                ));
            }
            s.topology.queues.retain(|e| &e.name != q);
            s.topology
                .bindings
                .retain(|b| !(b.destination_type != "exchange" && &b.destination == q));
        }
        NodeId::Client(c) => {
            s.clients.retain(|e| &e.name != c);
            s.script
                .retain(|step| step.client.as_deref() != Some(c.as_str()));
            s.expect.clear();
        }
    }
    model::move_position(s, id, None);
    Ok(())
}

pub fn delete_binding(s: &mut Scenario, index: usize) -> Result<(), String> {
    if index >= s.topology.bindings.len() {
        return Err("that binding no longer exists".into());
    }
    s.topology.bindings.remove(index);
    Ok(())
}

/// Checks a name typed for a node; the reasons are RabbitMQ's own rules where it has them.
pub fn check_name(s: &Scenario, id: &NodeId, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name is required".into());
    }
    if name.len() > 255 {
        return Err("at most 255 bytes".into());
    }
    if name.starts_with('$') {
        return Err("names starting with $ refer to saved names in the script".into());
    }
    let clash = match id {
        NodeId::Exchange(old) => old != name && s.topology.exchanges.iter().any(|x| x.name == name),
        NodeId::Queue(old) => old != name && queue_names(s).iter().any(|q| q == name),
        NodeId::Client(old) => old != name && client_taken(s, name),
    };
    if clash {
        return Err(format!("'{name}' is already used"));
    }
    if !matches!(id, NodeId::Client(_)) && name.starts_with("amq.") {
        return Err("names starting with 'amq.' are reserved (403 ACCESS_REFUSED)".into());
    }
    Ok(())
}

/// Renames a node and every reference to it (bindings, publish and consume steps).
pub fn rename(s: &mut Scenario, id: &NodeId, name: &str) -> Result<NodeId, String> {
    check_name(s, id, name)?;
    let new_id = match id {
        NodeId::Exchange(old) => {
            let x = s
                .topology
                .exchanges
                .iter_mut()
                .find(|x| &x.name == old)
                .ok_or("only exchanges of the topology can be renamed here")?;
            x.name = name.to_string();
            for b in &mut s.topology.bindings {
                if &b.source == old {
                    b.source = name.to_string();
                }
                if b.destination_type == "exchange" && &b.destination == old {
                    b.destination = name.to_string();
                }
            }
            for step in &mut s.script {
                if let Action::Publish { exchange, .. } = &mut step.action {
                    if exchange == old {
                        *exchange = name.to_string();
                    }
                }
            }
            NodeId::Exchange(name.to_string())
        }
        NodeId::Queue(old) => {
            update_queue(s, old, &|q| {
                q.name = name.to_string();
                Ok(())
            })
            .map_err(|_| "only queues of the topology can be renamed here")?;
            for b in &mut s.topology.bindings {
                if b.destination_type != "exchange" && &b.destination == old {
                    b.destination = name.to_string();
                }
            }
            for step in &mut s.script {
                match &mut step.action {
                    Action::Consume { queue, .. } | Action::QueueBind { queue, .. }
                        if queue == old =>
                    {
                        *queue = name.to_string()
                    }
                    Action::Publish {
                        exchange,
                        routing_key,
                        ..
                    } if exchange.is_empty() && routing_key == old => {
                        *routing_key = name.to_string()
                    }
                    _ => {}
                }
            }
            NodeId::Queue(name.to_string())
        }
        NodeId::Client(old) => {
            let c = s
                .clients
                .iter_mut()
                .find(|c| &c.name == old)
                .ok_or("no such client")?;
            c.name = name.to_string();
            for step in &mut s.script {
                if step.client.as_deref() == Some(old.as_str()) {
                    step.client = Some(name.to_string());
                }
            }
            s.expect.clear();
            NodeId::Client(name.to_string())
        }
    };
    model::move_position(s, id, Some(&new_id));
    Ok(new_id)
}

/// What the panel edits for a producer: its first publish step.
#[derive(Clone, Debug, PartialEq)]
pub struct Producer {
    pub at: Millis,
    pub exchange: String,
    pub routing_key: String,
    pub body: String,
    pub persistent: bool,
    pub mandatory: bool,
    pub count: u32,
    pub interval_ms: Millis,
}

pub fn producer(s: &Scenario, client: &str) -> Producer {
    let found = s.script.iter().find_map(|step| match &step.action {
        Action::Publish {
            exchange,
            routing_key,
            body,
            properties,
            persistent,
            mandatory,
            count,
            interval_ms,
        } if step.client.as_deref() == Some(client) => Some(Producer {
            at: step.at,
            exchange: exchange.clone(),
            routing_key: routing_key.clone(),
            body: body.clone(),
            persistent: *persistent || properties.delivery_mode == Some(2),
            mandatory: *mandatory,
            count: *count,
            interval_ms: *interval_ms,
        }),
        _ => None,
    });
    found.unwrap_or(Producer {
        at: 100,
        exchange: String::new(),
        routing_key: String::new(),
        body: "message {i}".to_string(),
        persistent: false,
        mandatory: false,
        count: 1,
        interval_ms: 0,
    })
}

/// Rewrites the producer's first publish step (or adds one), keeping other properties.
pub fn set_producer(s: &mut Scenario, client: &str, p: &Producer) -> Result<(), String> {
    if p.count == 0 {
        return Err("count must be at least 1".into());
    }
    let slot = s.script.iter().position(|step| {
        step.client.as_deref() == Some(client) && matches!(step.action, Action::Publish { .. })
    });
    let mut properties = match slot.map(|i| &s.script[i].action) {
        Some(Action::Publish { properties, .. }) => properties.clone(),
        _ => BasicProperties::default(),
    };
    properties.delivery_mode = p.persistent.then_some(2);
    let new = step(
        client,
        p.at,
        Action::Publish {
            exchange: p.exchange.clone(),
            routing_key: p.routing_key.clone(),
            body: p.body.clone(),
            properties,
            persistent: false,
            mandatory: p.mandatory,
            count: p.count,
            interval_ms: p.interval_ms,
        },
    );
    match slot {
        Some(i) => s.script[i] = new,
        None => s.script.push(new),
    }
    Ok(())
}

/// What the panel edits for a consumer: its consume step, its prefetch (a qos step
/// before it) and when it crashes (a crash step).
#[derive(Clone, Debug, PartialEq)]
pub struct Consumer {
    pub queue: String,
    pub auto_ack: bool,
    /// 0 = unlimited (no basic.qos).
    pub prefetch: u16,
    pub processing_ms: Millis,
    pub on_message: OnMessage,
    pub requeue: bool,
    pub crash_at: Option<Millis>,
}

fn position_of(s: &Scenario, client: &str, want: impl Fn(&Action) -> bool) -> Option<usize> {
    s.script
        .iter()
        .position(|step| step.client.as_deref() == Some(client) && want(&step.action))
}

pub fn consumer(s: &Scenario, client: &str) -> Consumer {
    let mut c = Consumer {
        queue: String::new(),
        auto_ack: false,
        prefetch: 0,
        processing_ms: 0,
        on_message: OnMessage::Ack,
        requeue: false,
        crash_at: None,
    };
    for step in s
        .script
        .iter()
        .filter(|st| st.client.as_deref() == Some(client))
    {
        match &step.action {
            Action::Qos { prefetch_count, .. } if c.prefetch == 0 => c.prefetch = *prefetch_count,
            Action::Crash if c.crash_at.is_none() => c.crash_at = Some(step.at),
            _ => {}
        }
    }
    if let Some(i) = position_of(s, client, |a| matches!(a, Action::Consume { .. })) {
        if let Action::Consume {
            queue,
            auto_ack,
            processing_ms,
            on_message,
            requeue,
            ..
        } = &s.script[i].action
        {
            c.queue = queue.clone();
            c.auto_ack = *auto_ack;
            c.processing_ms = *processing_ms;
            c.on_message = *on_message;
            c.requeue = *requeue;
        }
    }
    c
}

pub fn set_consumer(s: &mut Scenario, client: &str, c: &Consumer) -> Result<(), String> {
    let is_consume = |a: &Action| matches!(a, Action::Consume { .. });
    let at = position_of(s, client, is_consume)
        .map(|i| s.script[i].at)
        .unwrap_or(0);
    if c.crash_at.is_some_and(|t| t < at) {
        return Err(format!(
            "the consumer subscribes at {at} ms; it can crash only after that"
        ));
    }
    let (tag, exclusive, reply, priority) =
        match position_of(s, client, is_consume).map(|i| &s.script[i].action) {
            Some(Action::Consume {
                tag,
                exclusive,
                reply,
                priority,
                ..
            }) => (tag.clone(), *exclusive, *reply, *priority),
            _ => (String::new(), false, None, None),
        };
    let consume = step(
        client,
        at,
        Action::Consume {
            queue: c.queue.clone(),
            tag,
            auto_ack: c.auto_ack,
            exclusive,
            processing_ms: c.processing_ms,
            on_message: c.on_message,
            requeue: c.requeue,
            reply,
            priority,
        },
    );
    match position_of(s, client, is_consume) {
        Some(i) => s.script[i] = consume,
        None => s.script.push(consume),
    }
    // Prefetch: a qos step right before the consume step, removed for "unlimited".
    let is_qos = |a: &Action| matches!(a, Action::Qos { .. });
    match (position_of(s, client, is_qos), c.prefetch) {
        (Some(i), 0) => {
            s.script.remove(i);
        }
        (Some(i), n) => {
            if let Action::Qos { prefetch_count, .. } = &mut s.script[i].action {
                *prefetch_count = n;
            }
        }
        (None, 0) => {}
        (None, n) => {
            let i = position_of(s, client, is_consume).unwrap_or(s.script.len());
            s.script.insert(
                i,
                step(
                    client,
                    at,
                    Action::Qos {
                        prefetch_count: n,
                        global: false,
                    },
                ),
            );
        }
    }
    let is_crash = |a: &Action| matches!(a, Action::Crash);
    match (position_of(s, client, is_crash), c.crash_at) {
        (Some(i), None) => {
            s.script.remove(i);
        }
        (Some(i), Some(t)) => s.script[i].at = t,
        (None, Some(t)) => s.script.push(step(client, t, Action::Crash)),
        (None, None) => {}
    }
    Ok(())
}

/// A queue argument as text, for the panel (`None` when unset).
pub fn arg_text(args: &FieldTable, key: &str) -> String {
    match args.get(key) {
        None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// Sets or clears (`""`) a string argument.
pub fn set_str_arg(args: &mut FieldTable, key: &str, value: &str) {
    if value.is_empty() {
        args.remove(key);
    } else {
        args.insert(key, FieldValue::str(value));
    }
}

/// Sets or clears (`""`) a non-negative integer argument, refusing anything else.
pub fn set_int_arg(args: &mut FieldTable, key: &str, value: &str) -> Result<(), String> {
    let value = value.trim();
    if value.is_empty() {
        args.remove(key);
        return Ok(());
    }
    let n: i64 = value
        .parse()
        .map_err(|_| format!("'{value}' is not a whole number"))?;
    if n < 0 {
        return Err("must not be negative".into());
    }
    args.insert(key, FieldValue::I64(n));
    Ok(())
}

/// Parses binding headers written as `key=value, key=value` (numbers stay numbers).
pub fn parse_headers(text: &str) -> Result<FieldTable, String> {
    let mut table = FieldTable::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("'{part}' should be key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            return Err(format!("'{part}' has no key"));
        }
        let value = match v.parse::<i64>() {
            Ok(n) => FieldValue::I64(n),
            Err(_) => FieldValue::str(v),
        };
        table.insert(k, value);
    }
    Ok(table)
}

/// The inverse of [`parse_headers`], without `x-match` (shown separately).
pub fn headers_text(table: &FieldTable) -> String {
    table
        .iter()
        .filter(|(k, _)| *k != "x-match")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a number typed into a field; `what` names the field in the message.
pub fn parse_number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what}: '{}' is not a valid whole number", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::work_queue;
    use warren_core::sim::Simulation;

    #[test]
    fn connecting_an_exchange_to_a_queue_binds_it() {
        let mut s = work_queue();
        let x = add_exchange(&mut s);
        let q = add_queue(&mut s);
        assert_eq!(connect(&mut s, &x, &q), Ok("bound q1 to x1".to_string()));
        assert_eq!(s.topology.bindings[0].routing_key, "q1");
        let p = NodeId::Client("P1".into());
        connect(&mut s, &p, &x).unwrap();
        assert_eq!(producer(&s, "P1").exchange, "x1");
        assert!(connect(&mut s, &q, &p).is_err());
        assert!(connect(&mut s, &p, &p).is_err());
    }

    #[test]
    fn consumers_keep_prefetch_and_crash_in_their_own_steps() {
        let mut s = work_queue();
        let mut c = consumer(&s, "C1");
        assert_eq!((c.prefetch, c.queue.as_str()), (1, "tasks"));
        c.prefetch = 0;
        c.crash_at = Some(400);
        set_consumer(&mut s, "C1", &c).unwrap();
        assert_eq!(consumer(&s, "C1"), c);
        c.crash_at = None;
        set_consumer(&mut s, "C1", &c).unwrap();
        assert!(!s.script.iter().any(|st| matches!(st.action, Action::Crash)));
    }

    #[test]
    fn rename_and_delete_follow_references() {
        let mut s = work_queue();
        let q = NodeId::Queue("tasks".into());
        let q2 = rename(&mut s, &q, "jobs").unwrap();
        assert_eq!(consumer(&s, "C1").queue, "jobs");
        assert_eq!(producer(&s, "P1").routing_key, "jobs");
        assert!(rename(&mut s, &q2, "amq.x").is_err());
        delete_node(&mut s, &NodeId::Client("C2".into())).unwrap();
        assert_eq!(s.clients.len(), 2);
        assert!(delete_node(&mut s, &NodeId::Exchange(String::new())).is_err());
        // Whatever was edited still simulates.
        let mut sim = Simulation::new(s);
        sim.run();
    }

    #[test]
    fn bad_numbers_and_headers_are_refused_in_words() {
        let mut t = FieldTable::new();
        assert!(set_int_arg(&mut t, "x-max-length", "-1").is_err());
        assert!(set_int_arg(&mut t, "x-max-length", "ten").is_err());
        set_int_arg(&mut t, "x-max-length", "10").unwrap();
        assert_eq!(arg_text(&t, "x-max-length"), "10");
        assert!(parse_headers("a").is_err());
        let h = parse_headers("format=pdf, n=2").unwrap();
        assert_eq!(headers_text(&h), "format=pdf, n=2");
        assert!(parse_number::<u16>("70000", "prefetch").is_err());
    }

    #[test]
    fn an_exclusive_queue_is_declared_by_its_consumer() {
        let mut s = crate::example::work_queue();
        let x = add_exchange(&mut s);
        connect(&mut s, &x, &NodeId::Queue("tasks".into())).unwrap();
        let err = set_exclusive(&mut s, "tasks", true).unwrap_err();
        assert!(err.contains("only one"), "{err}");
        delete_node(&mut s, &NodeId::Client("C2".into())).unwrap();
        let q = add_queue(&mut s);
        let NodeId::Queue(q) = q else { panic!() };
        let err = set_exclusive(&mut s, &q, true).unwrap_err();
        assert!(err.contains("needs its consumer"), "{err}");

        set_exclusive(&mut s, "tasks", true).unwrap();
        assert!(!s.topology.queues.iter().any(|q| q.name == "tasks"));
        assert!(
            s.topology.bindings.is_empty(),
            "the binding moved to the script"
        );
        let i = exclusive_declare(&s, "tasks").unwrap();
        assert_eq!(s.script[i].at, 0);
        assert_eq!(s.script[i].client.as_deref(), Some("C1"));
        assert!(matches!(s.script[i + 1].action, Action::QueueBind { .. }));
        assert!(i < position_of(&s, "C1", |a| matches!(a, Action::Consume { .. })).unwrap());
        let node = model::nodes(&s)
            .into_iter()
            .find(|n| n.id == NodeId::Queue("tasks".into()));
        assert!(!node.unwrap().from_script, "drawn as usual");
        assert_eq!(queue_spec(&s, "tasks").map(|(_, e)| e), Some(true));

        let mut sim = warren_core::sim::Simulation::new(s.clone());
        sim.run_until(5_000);
        let got = sim
            .observations()
            .iter()
            .filter(|o| matches!(o, warren_core::sim::Observation::Delivered { .. }))
            .count();
        assert!(got > 0, "C1 gets the messages of its exclusive queue");

        rename(&mut s, &NodeId::Queue("tasks".into()), "jobs").unwrap();
        assert!(exclusive_declare(&s, "jobs").is_some());
        set_exclusive(&mut s, "jobs", false).unwrap();
        assert!(exclusive_declare(&s, "jobs").is_none());
        assert!(s.topology.queues.iter().any(|q| q.name == "jobs"));
        assert_eq!(s.topology.bindings.len(), 1);
        assert!(!s
            .script
            .iter()
            .any(|st| matches!(st.action, Action::QueueBind { .. })));
    }
}
