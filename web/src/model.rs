//! The diagram as a pure function of the scenario: nodes, edges and positions.
//!
//! The scenario stays the single source of truth (it is what is saved, shared and
//! simulated); the diagram is derived from it on every render, so the two can never
//! disagree. Node positions live in the scenario's opaque `layout` field.

use serde_json::{json, Value};
use warren_core::scenario::{Action, Scenario};

/// Width and height of a node's box in SVG units; also used for hit-testing drops.
pub const NODE_W: f64 = 140.0;
pub const NODE_H: f64 = 64.0;

/// What a node stands for. Clients are identified by name; whether one is drawn as a
/// producer or a consumer depends on its script (see [`client_kind`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeId {
    Exchange(String),
    Queue(String),
    Client(String),
}

impl NodeId {
    /// The key under which the node's position is stored in `layout.nodes`.
    pub fn layout_key(&self) -> String {
        match self {
            NodeId::Exchange(n) => format!("exchange:{n}"),
            NodeId::Queue(n) => format!("queue:{n}"),
            NodeId::Client(n) => format!("client:{n}"),
        }
    }
}

/// The four kinds of box in the palette.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Producer,
    Exchange,
    Queue,
    Consumer,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Producer => "producer",
            Kind::Exchange => "exchange",
            Kind::Queue => "queue",
            Kind::Consumer => "consumer",
        }
    }

    /// Which column a node of this kind starts in when it has no saved position.
    fn column(self) -> f64 {
        match self {
            Kind::Producer => 0.0,
            Kind::Exchange => 1.0,
            Kind::Queue => 2.0,
            Kind::Consumer => 3.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: NodeId,
    pub kind: Kind,
    /// The name shown, e.g. `(default)` for the nameless default exchange.
    pub label: String,
    pub x: f64,
    pub y: f64,
    /// Declared by a script step rather than the topology: shown, but edited in JSON.
    pub from_script: bool,
}

impl Node {
    /// The accessible name, e.g. "queue tasks": tests and screen readers find nodes by it.
    pub fn aria_label(&self) -> String {
        format!("{} {}", self.kind.word(), self.label)
    }

    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x && x <= self.x + NODE_W && y >= self.y && y <= self.y + NODE_H
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum EdgeKind {
    /// A producer's publish target.
    Publish,
    /// `topology.bindings[i]`: selectable and editable.
    Binding(usize),
    /// The default exchange's implicit binding to every queue (drawn only when used).
    Implicit,
    /// A binding made by a script step.
    Script,
    /// A consumer's subscription.
    Consume,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub from: NodeId,
    pub to: NodeId,
    pub kind: EdgeKind,
    pub label: String,
}

/// A client with a consume step is a consumer; any other client is drawn as a producer.
pub fn client_kind(s: &Scenario, client: &str) -> Kind {
    let consumes = s.script.iter().any(|step| {
        step.client.as_deref() == Some(client) && matches!(step.action, Action::Consume { .. })
    });
    if consumes {
        Kind::Consumer
    } else {
        Kind::Producer
    }
}

/// The shown name of an exchange: the default exchange has none.
pub fn exchange_label(name: &str) -> String {
    if name.is_empty() {
        "(default)".to_string()
    } else {
        name.to_string()
    }
}

/// Names declared by script steps (not `$variables`, which are only known at run time).
fn script_names(s: &Scenario) -> (Vec<String>, Vec<String>) {
    let mut exchanges = Vec::new();
    let mut queues = Vec::new();
    let add = |list: &mut Vec<String>, name: &str| {
        if !name.is_empty() && !name.starts_with('$') && !list.iter().any(|n| n == name) {
            list.push(name.to_string());
        }
    };
    for step in &s.script {
        match &step.action {
            Action::ExchangeDeclare { exchange, .. } => add(&mut exchanges, exchange),
            Action::QueueDeclare { queue, .. } | Action::Consume { queue, .. } => {
                add(&mut queues, queue)
            }
            _ => {}
        }
    }
    (exchanges, queues)
}

/// Every node, in a stable order: exchanges (default first), queues, then clients.
pub fn nodes(s: &Scenario) -> Vec<Node> {
    let (script_exchanges, script_queues) = script_names(s);
    let mut ids: Vec<(NodeId, Kind, bool)> =
        vec![(NodeId::Exchange(String::new()), Kind::Exchange, false)];
    for x in &s.topology.exchanges {
        if !x.name.is_empty() {
            ids.push((NodeId::Exchange(x.name.clone()), Kind::Exchange, false));
        }
    }
    for name in script_exchanges {
        if !s.topology.exchanges.iter().any(|x| x.name == name) {
            ids.push((NodeId::Exchange(name), Kind::Exchange, true));
        }
    }
    for q in &s.topology.queues {
        ids.push((NodeId::Queue(q.name.clone()), Kind::Queue, false));
    }
    for name in script_queues {
        if !s.topology.queues.iter().any(|q| q.name == name) {
            // Exclusive queues are drawn and edited as usual (see `edit::set_exclusive`).
            let from_script = crate::edit::exclusive_declare(s, &name).is_none();
            ids.push((NodeId::Queue(name), Kind::Queue, from_script));
        }
    }
    for c in &s.clients {
        let kind = client_kind(s, &c.name);
        ids.push((NodeId::Client(c.name.clone()), kind, false));
    }
    let saved = s.layout.as_ref().and_then(|l| l.get("nodes"));
    let mut per_column = [0.0f64; 4];
    ids.into_iter()
        .map(|(id, kind, from_script)| {
            let slot = &mut per_column[kind.column() as usize];
            let (mut x, mut y) = (20.0 + kind.column() * 200.0, 20.0 + *slot * 90.0);
            *slot += 1.0;
            if let Some(pos) = saved.and_then(|n| n.get(id.layout_key())) {
                x = pos.get("x").and_then(Value::as_f64).unwrap_or(x);
                y = pos.get("y").and_then(Value::as_f64).unwrap_or(y);
            }
            let label = match &id {
                NodeId::Exchange(n) => exchange_label(n),
                NodeId::Queue(n) | NodeId::Client(n) => n.clone(),
            };
            Node {
                id,
                kind,
                label,
                x,
                y,
                from_script,
            }
        })
        .collect()
}

/// The first publish step of a client: its target exchange and routing key.
pub fn publish_target(s: &Scenario, client: &str) -> Option<(String, String)> {
    s.script.iter().find_map(|step| match &step.action {
        Action::Publish {
            exchange,
            routing_key,
            ..
        } if step.client.as_deref() == Some(client) => {
            Some((exchange.clone(), routing_key.clone()))
        }
        _ => None,
    })
}

/// The queue of a client's first consume step.
pub fn consume_queue(s: &Scenario, client: &str) -> Option<String> {
    s.script.iter().find_map(|step| match &step.action {
        Action::Consume { queue, .. } if step.client.as_deref() == Some(client) => {
            Some(queue.clone())
        }
        _ => None,
    })
}

/// Every edge between existing nodes.
pub fn edges(s: &Scenario, nodes: &[Node]) -> Vec<Edge> {
    let exists = |id: &NodeId| nodes.iter().any(|n| &n.id == id);
    let mut out = Vec::new();
    let mut default_keys = Vec::new();
    for c in &s.clients {
        let me = NodeId::Client(c.name.clone());
        if let Some((exchange, key)) = publish_target(s, &c.name) {
            let to = NodeId::Exchange(exchange.clone());
            if exists(&to) {
                out.push(Edge {
                    from: me.clone(),
                    to,
                    kind: EdgeKind::Publish,
                    label: key.clone(),
                });
            }
            if exchange.is_empty() {
                default_keys.push(key);
            }
        }
        if let Some(queue) = consume_queue(s, &c.name) {
            let from = NodeId::Queue(queue);
            if exists(&from) {
                out.push(Edge {
                    from,
                    to: me,
                    kind: EdgeKind::Consume,
                    label: String::new(),
                });
            }
        }
    }
    for n in nodes {
        if let NodeId::Queue(q) = &n.id {
            if default_keys.iter().any(|k| k == q) {
                out.push(Edge {
                    from: NodeId::Exchange(String::new()),
                    to: n.id.clone(),
                    kind: EdgeKind::Implicit,
                    label: q.clone(),
                });
            }
        }
    }
    for (i, b) in s.topology.bindings.iter().enumerate() {
        let to = if b.destination_type == "exchange" {
            NodeId::Exchange(b.destination.clone())
        } else {
            NodeId::Queue(b.destination.clone())
        };
        out.push(Edge {
            from: NodeId::Exchange(b.source.clone()),
            to,
            kind: EdgeKind::Binding(i),
            label: b.routing_key.clone(),
        });
    }
    for step in &s.script {
        let (from, to, key) = match &step.action {
            Action::QueueBind {
                queue,
                exchange,
                routing_key,
                ..
            } => (exchange, NodeId::Queue(queue.clone()), routing_key),
            Action::ExchangeBind {
                destination,
                source,
                routing_key,
                ..
            } => (source, NodeId::Exchange(destination.clone()), routing_key),
            _ => continue,
        };
        out.push(Edge {
            from: NodeId::Exchange(from.clone()),
            to,
            kind: EdgeKind::Script,
            label: key.clone(),
        });
    }
    out.retain(|e| exists(&e.from) && exists(&e.to));
    out
}

/// Stores a node's position in `layout.nodes`, keeping whatever else the layout holds.
pub fn set_position(s: &mut Scenario, id: &NodeId, x: f64, y: f64) {
    let mut layout = s.layout.take().unwrap_or_else(|| json!({}));
    if !layout.is_object() {
        layout = json!({});
    }
    if let Some(obj) = layout.as_object_mut() {
        let nodes = obj.entry("nodes").or_insert_with(|| json!({}));
        if !nodes.is_object() {
            *nodes = json!({});
        }
        if let Some(nodes) = nodes.as_object_mut() {
            nodes.insert(id.layout_key(), json!({ "x": x.round(), "y": y.round() }));
        }
    }
    s.layout = Some(layout);
}

/// Saves the current position of every node that has none yet, so that positions are
/// in the exported JSON and adding or deleting a node never makes the others jump.
pub fn pin_layout(s: &mut Scenario) {
    let unsaved: Vec<Node> = {
        let saved = s.layout.as_ref().and_then(|l| l.get("nodes"));
        nodes(s)
            .into_iter()
            .filter(|n| saved.and_then(|m| m.get(n.id.layout_key())).is_none())
            .collect()
    };
    for n in unsaved {
        set_position(s, &n.id, n.x, n.y);
    }
}

/// Moves a saved position to a new key (after a rename) or drops it (after a delete).
pub fn move_position(s: &mut Scenario, from: &NodeId, to: Option<&NodeId>) {
    let Some(nodes) = s
        .layout
        .as_mut()
        .and_then(|l| l.get_mut("nodes"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(pos) = nodes.remove(&from.layout_key()) {
        if let Some(to) = to {
            nodes.insert(to.layout_key(), pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_has_the_work_queue_nodes_and_edges() {
        let s = crate::example::work_queue();
        let nodes = nodes(&s);
        let labels: Vec<String> = nodes.iter().map(Node::aria_label).collect();
        for want in [
            "exchange (default)",
            "queue tasks",
            "producer P1",
            "consumer C1",
            "consumer C2",
        ] {
            assert!(labels.iter().any(|l| l == want), "{want} in {labels:?}");
        }
        let edges = edges(&s, &nodes);
        assert!(edges.iter().any(|e| e.kind == EdgeKind::Implicit));
        assert_eq!(
            edges.iter().filter(|e| e.kind == EdgeKind::Consume).count(),
            2
        );
    }

    #[test]
    fn pinning_keeps_nodes_in_place_when_others_go() {
        let mut s = crate::example::work_queue();
        pin_layout(&mut s);
        let before = nodes(&s).into_iter().find(|n| n.label == "C2").unwrap();
        crate::edit::delete_node(&mut s, &NodeId::Client("C1".into())).unwrap();
        let after = nodes(&s).into_iter().find(|n| n.label == "C2").unwrap();
        assert_eq!((before.x, before.y), (after.x, after.y));
    }

    #[test]
    fn positions_are_saved_in_the_layout() {
        let mut s = crate::example::work_queue();
        let id = NodeId::Queue("tasks".into());
        set_position(&mut s, &id, 333.4, 44.0);
        let n = nodes(&s).into_iter().find(|n| n.id == id).unwrap();
        assert_eq!((n.x, n.y), (333.0, 44.0));
        move_position(&mut s, &id, Some(&NodeId::Queue("jobs".into())));
        assert!(s.layout.unwrap()["nodes"].get("queue:jobs").is_some());
    }
}
