//! The SVG diagram: nodes with live figures, edges, dragging and connecting.
//!
//! Pointer handling lives on the `<svg>` (with pointer capture) rather than on each
//! node, so a drag keeps working when the pointer outruns the node; drops are resolved
//! by hit-testing the model's node boxes, not the DOM, which keeps it deterministic.

use super::flights::{Dot, Flights};
use crate::edit;
use crate::model::{self, Edge, EdgeKind, Kind, Node, NodeId, NODE_H, NODE_W};
use crate::state::{AppState, Detail, Msg, Selection};
use std::collections::BTreeSet;
use std::rc::Rc;
use warren_core::events::EventKind;
use warren_core::scenario::Scenario;
use warren_core::sim::{Observation, Simulation, TraceLine};
use web_sys::{Element, PointerEvent};
use yew::prelude::*;

/// The drawing's size in SVG units; the element scales to its box.
pub(super) const VIEW_W: f64 = 860.0;
pub(super) const VIEW_H: f64 = 480.0;
/// At most this many message boxes are drawn per queue stack; the rest is "+n".
const STACK_MAX: u64 = 10;

#[derive(Clone, PartialEq)]
enum Drag {
    Move {
        id: NodeId,
        grab: (f64, f64),
        start: (f64, f64),
        before: Rc<Scenario>,
        moved: bool,
    },
    Connect {
        from: NodeId,
        at: (f64, f64),
    },
}

#[derive(Properties, PartialEq)]
pub struct CanvasProps {
    pub state: UseReducerHandle<AppState>,
}

/// The scenario client that owns a broker connection (None for the setup connection).
fn client_of(sim: &Simulation, conn: u64) -> Option<String> {
    sim.client_of(conn).map(str::to_string)
}

/// Edges that the event at the cursor went along, as (from, to) pairs.
fn hot_edges(state: &AppState, edges: &[Edge]) -> BTreeSet<(NodeId, NodeId)> {
    let mut hot = BTreeSet::new();
    if let Some(TraceLine::Broker(event)) = state.lines().last() {
        match &event.kind {
            EventKind::Published { conn, exchange, .. } => {
                if let Some(client) = client_of(&state.sim, *conn) {
                    hot.insert((NodeId::Client(client), NodeId::Exchange(exchange.clone())));
                }
            }
            EventKind::Routed {
                exchange, queues, ..
            } => {
                for q in queues {
                    let q = NodeId::Queue(q.clone());
                    let direct = NodeId::Exchange(exchange.clone());
                    hot.insert((direct.clone(), q.clone()));
                    // Through exchange-to-exchange bindings: any edge from this exchange
                    // to an exchange that itself has an edge to the queue.
                    for e in edges {
                        if e.from == direct
                            && matches!(e.to, NodeId::Exchange(_))
                            && edges.iter().any(|f| f.from == e.to && f.to == q)
                        {
                            hot.insert((e.from.clone(), e.to.clone()));
                            hot.insert((e.to.clone(), q.clone()));
                        }
                    }
                }
            }
            EventKind::Delivered { queue, conn, .. } => {
                if let Some(client) = client_of(&state.sim, *conn) {
                    hot.insert((NodeId::Queue(queue.clone()), NodeId::Client(client)));
                }
            }
            _ => {}
        }
    }
    hot
}

/// The live figures drawn inside a node.
fn figures(state: &AppState, node: &Node) -> Vec<String> {
    let sim = &state.sim;
    match (&node.id, node.kind) {
        (NodeId::Queue(q), _) => match sim.broker().queue_info("/", q) {
            Some(info) => vec![format!(
                "ready {} · unacked {}",
                info.messages_ready, info.messages_unacknowledged
            )],
            None => vec!["not declared".to_string()],
        },
        (NodeId::Exchange(x), _) => {
            let kind = sim
                .broker()
                .exchanges()
                .into_iter()
                .find(|e| &e.name == x)
                .map(|e| e.kind)
                .or_else(|| {
                    state
                        .scenario
                        .topology
                        .exchanges
                        .iter()
                        .find(|e| &e.name == x)
                        .map(|e| e.kind.clone())
                })
                .unwrap_or_else(|| "direct".to_string());
            vec![kind]
        }
        (NodeId::Client(c), Kind::Consumer) => {
            let conn = sim.conn_of(c);
            let unacked: u64 = sim
                .broker()
                .consumers()
                .iter()
                .filter(|k| Some(k.conn) == conn)
                .map(|k| u64::from(k.unacked))
                .sum();
            let got = sim
                .observations()
                .iter()
                .filter(|o| matches!(o, Observation::Delivered { client, .. } if client == c))
                .count();
            vec![format!("unacked {unacked} · got {got}")]
        }
        (NodeId::Client(c), _) => {
            let sent = sim
                .trace()
                .iter()
                .filter(|l| {
                    matches!(l, TraceLine::Broker(e) if matches!(&e.kind,
                        EventKind::Published { conn, .. } if client_of(sim, *conn).as_deref() == Some(c.as_str())))
                })
                .count();
            let p = edit::producer(&state.scenario, c);
            vec![format!("sent {sent} of {}", p.count)]
        }
    }
}

/// Boxes for a queue's messages: filled = ready, outlined = unacknowledged. Ready
/// boxes are buttons that open the message's details.
fn stack(state: &UseReducerHandle<AppState>, queue: &str) -> Html {
    let Some(info) = state.sim.broker().queue_info("/", queue) else {
        return html! {};
    };
    let mut boxes = Vec::new();
    let mut x = 8.0;
    for (count, ready) in [
        (info.messages_ready, true),
        (info.messages_unacknowledged, false),
    ] {
        for i in 0..count.min(STACK_MAX) {
            if ready {
                let (state, q) = (state.clone(), queue.to_string());
                let index = i as usize;
                let onclick = Callback::from(move |e: MouseEvent| {
                    e.stop_propagation();
                    state.dispatch(Msg::ShowDetail(Some(Detail::Queued {
                        queue: q.clone(),
                        index,
                    })));
                });
                let label = format!("message {} in {queue}", i + 1);
                boxes.push(html! {
                    <rect class="msg ready" role="button" aria-label={label} x={px(x)} y="44" width="8" height="12" rx="1"
                        {onclick} onpointerdown={Callback::from(|e: PointerEvent| e.stop_propagation())} />
                });
            } else {
                boxes.push(html! { <rect class="msg unacked" aria-hidden="true" x={px(x)} y="44" width="8" height="12" rx="1" /> });
            }
            x += 10.0;
        }
        if count > STACK_MAX {
            boxes.push(html! { <text class="more" aria-hidden="true" x={px(x)} y="54">{ format!("+{}", count - STACK_MAX) }</text> });
            x += 24.0;
        }
    }
    html! { <g class="stack">{ for boxes }</g> }
}

/// An edge's curve (the same one the message dots ride on) and where its label goes.
pub(super) fn edge_path(from: &Node, to: &Node) -> (String, (f64, f64)) {
    let hop = crate::anim::Hop::between(from, to);
    let (a, d) = (hop.0, hop.3);
    (hop.path(), ((a.0 + d.0) / 2.0, (a.1 + d.1) / 2.0 - 4.0))
}

/// A coordinate as SVG text, in whole units: integer formatting is much smaller in
/// the wasm than float formatting, and nothing here needs sub-unit precision.
pub(super) fn px(v: f64) -> String {
    (v.round() as i32).to_string()
}

/// What every node shows, in the editor and in live mode: box, icon and name, figures.
pub(super) fn node_body(node: &Node, lines: Vec<String>) -> Html {
    let icon = match node.kind {
        Kind::Producer => "▶ ",
        Kind::Exchange => "⇄ ",
        Kind::Queue => "▤ ",
        Kind::Consumer => "◀ ",
    };
    html! {
        <>
            <rect class="box" width={px(NODE_W)} height={px(NODE_H)} rx="8" />
            <text class="title" x="10" y="20">{ icon }{ node.label.clone() }</text>
            { for lines.into_iter().enumerate().map(|(i, line)| html! {
                <text class="figures" x="10" y={(38 + 14 * i).to_string()}>{ line }</text>
            }) }
        </>
    }
}

/// Pointer position in SVG units.
fn svg_point(svg: &NodeRef, e: &PointerEvent) -> (f64, f64) {
    let Some(el) = svg.cast::<Element>() else {
        return (0.0, 0.0);
    };
    let rect = el.get_bounding_client_rect();
    let sx = if rect.width() > 0.0 {
        VIEW_W / rect.width()
    } else {
        1.0
    };
    let sy = if rect.height() > 0.0 {
        VIEW_H / rect.height()
    } else {
        1.0
    };
    (
        (f64::from(e.client_x()) - rect.left()) * sx,
        (f64::from(e.client_y()) - rect.top()) * sy,
    )
}

#[component]
pub fn Canvas(props: &CanvasProps) -> Html {
    let state = props.state.clone();
    let svg = use_node_ref();
    let drag = use_state(|| None::<Drag>);
    let nodes = model::nodes(&state.scenario);
    let edges = model::edges(&state.scenario, &nodes);
    let hot = hot_edges(&state, &edges);
    let lines = state.lines();
    let fresh = &lines[lines.len().saturating_sub(1)..];
    let flights = crate::anim::flights(fresh, &state.sim, &nodes, &edges);
    let routing: BTreeSet<NodeId> = flights
        .iter()
        .flat_map(|f| f.path.iter())
        .filter(|id| matches!(id, NodeId::Exchange(_)))
        .cloned()
        .collect();
    let longest = flights
        .iter()
        .map(|f| f.hops.len())
        .max()
        .unwrap_or(1)
        .max(1);
    // While playing, the dots must arrive before the next step replaces them.
    let hop_ms = if state.playing {
        (900.0 / f64::from(state.speed.max(1)) / longest as f64).min(350.0)
    } else {
        350.0
    };
    // Restarts the dots when the run moves, not on selection or dragging.
    let token = ((state.snapshots.len() as u64) << 32) | state.shown as u64;
    let dots: Rc<Vec<Dot>> = Rc::new(
        flights
            .into_iter()
            .map(|f| Dot {
                hops: f.hops,
                class: f.look.class(),
            })
            .collect(),
    );

    let capture = {
        let svg = svg.clone();
        move |e: &PointerEvent| {
            if let Some(el) = svg.cast::<Element>() {
                let _ = el.set_pointer_capture(e.pointer_id());
            }
        }
    };

    let onpointermove = {
        let (svg, drag, state) = (svg.clone(), drag.clone(), state.clone());
        Callback::from(move |e: PointerEvent| {
            let (x, y) = svg_point(&svg, &e);
            match (*drag).clone() {
                Some(Drag::Move {
                    id,
                    grab,
                    start,
                    before,
                    moved,
                }) => {
                    let moved = moved || (x - start.0).abs() + (y - start.1).abs() > 3.0;
                    if moved {
                        state.dispatch(Msg::Move(id.clone(), x - grab.0, y - grab.1));
                    }
                    drag.set(Some(Drag::Move {
                        id,
                        grab,
                        start,
                        before,
                        moved,
                    }));
                }
                Some(Drag::Connect { from, .. }) => {
                    drag.set(Some(Drag::Connect { from, at: (x, y) }))
                }
                None => {}
            }
        })
    };

    let onpointerup = {
        let (svg, drag, state) = (svg.clone(), drag.clone(), state.clone());
        let nodes = nodes.clone();
        Callback::from(move |e: PointerEvent| {
            let (x, y) = svg_point(&svg, &e);
            match (*drag).clone() {
                Some(Drag::Move {
                    id, before, moved, ..
                }) => {
                    if moved {
                        state.dispatch(Msg::Moved(before));
                    } else {
                        state.dispatch(Msg::Select(Some(Selection::Node(id))));
                    }
                }
                Some(Drag::Connect { from, .. }) => {
                    match nodes
                        .iter()
                        .rev()
                        .find(|n| n.contains(x, y) && n.id != from)
                    {
                        Some(target) => {
                            let mut scenario = (*state.scenario).clone();
                            match edit::connect(&mut scenario, &from, &target.id) {
                                Ok(status) => state.dispatch(Msg::Edit {
                                    scenario,
                                    select: None,
                                    status,
                                }),
                                Err(why) => {
                                    state.dispatch(Msg::Status(format!("Not connected: {why}.")))
                                }
                            }
                        }
                        None => state
                            .dispatch(Msg::Status("To connect, drop on another node.".to_string())),
                    }
                }
                None => {}
            }
            drag.set(None);
        })
    };

    let background_down = {
        let state = state.clone();
        Callback::from(move |_: PointerEvent| state.dispatch(Msg::Select(None)))
    };

    let draw_edge = |edge: &Edge| -> Html {
        let (Some(from), Some(to)) = (
            nodes.iter().find(|n| n.id == edge.from),
            nodes.iter().find(|n| n.id == edge.to),
        ) else {
            return html! {};
        };
        let (d, (lx, ly)) = edge_path(from, to);
        let kind = match edge.kind {
            EdgeKind::Publish => "publish",
            EdgeKind::Binding(_) => "binding",
            EdgeKind::Implicit => "binding implicit",
            EdgeKind::Script => "binding script",
            EdgeKind::Consume => "consume",
        };
        let selected = matches!((&edge.kind, &state.selected),
            (EdgeKind::Binding(i), Some(Selection::Binding(j))) if i == j);
        let class = classes!(
            "edge",
            kind,
            hot.contains(&(edge.from.clone(), edge.to.clone()))
                .then_some("hot"),
            selected.then_some("selected")
        );
        let label = if edge.label.is_empty() {
            html! {}
        } else {
            html! { <text class="edge-label" x={px(lx)} y={px(ly)}>{ edge.label.clone() }</text> }
        };
        match edge.kind {
            EdgeKind::Binding(i) => {
                let onclick = {
                    let state = state.clone();
                    Callback::from(move |e: MouseEvent| {
                        e.stop_propagation();
                        state.dispatch(Msg::Select(Some(Selection::Binding(i))));
                    })
                };
                let aria = format!("binding {} → {}", from.label, to.label);
                html! {
                    <g {class} role="group" aria-label={aria} {onclick}
                        onpointerdown={Callback::from(|e: PointerEvent| e.stop_propagation())}>
                        <path class="hit" d={d.clone()} />
                        <path class="line" d={d} marker-end="url(#arrow)" />
                        { label }
                    </g>
                }
            }
            _ => html! {
                <g {class} aria-hidden="true">
                    <path class="line" d={d} marker-end="url(#arrow)" />
                    { label }
                </g>
            },
        }
    };

    let draw_node = |node: &Node| -> Html {
        let selected = state.selected == Some(Selection::Node(node.id.clone()));
        let dragging = matches!(&*drag, Some(Drag::Move { id, moved: true, .. }) if *id == node.id);
        let class = classes!(
            "node",
            node.kind.word(),
            selected.then_some("selected"),
            dragging.then_some("dragging"),
            node.from_script.then_some("from-script"),
            routing.contains(&node.id).then_some("routing")
        );
        let onpointerdown = {
            let (svg, drag, capture) = (svg.clone(), drag.clone(), capture.clone());
            let (id, nx, ny) = (node.id.clone(), node.x, node.y);
            let before = state.scenario.clone();
            Callback::from(move |e: PointerEvent| {
                e.stop_propagation();
                if e.button() != 0 {
                    return;
                }
                capture(&e);
                let (x, y) = svg_point(&svg, &e);
                drag.set(Some(Drag::Move {
                    id: id.clone(),
                    grab: (x - nx, y - ny),
                    start: (x, y),
                    before: before.clone(),
                    moved: false,
                }));
            })
        };
        let port_down = {
            let (svg, drag, capture) = (svg.clone(), drag.clone(), capture.clone());
            let id = node.id.clone();
            Callback::from(move |e: PointerEvent| {
                e.stop_propagation();
                capture(&e);
                let at = svg_point(&svg, &e);
                drag.set(Some(Drag::Connect {
                    from: id.clone(),
                    at,
                }));
            })
        };
        let onkeydown = {
            let state = state.clone();
            let id = node.id.clone();
            Callback::from(move |e: KeyboardEvent| {
                if e.key() == "Enter" || e.key() == " " {
                    e.prevent_default();
                    state.dispatch(Msg::Select(Some(Selection::Node(id.clone()))));
                }
            })
        };
        let lines = figures(&state, node);
        let transform = format!("translate({},{})", px(node.x), px(node.y));
        let has_port = node.kind != Kind::Consumer;
        html! {
            <g {class} role="group" aria-label={node.aria_label()} tabindex="0" {transform}
                {onpointerdown} {onkeydown}>
                { node_body(node, lines) }
                if let NodeId::Queue(q) = &node.id { { stack(&state, q) } }
                if has_port {
                    <circle class="port" cx={px(NODE_W)} cy={px(NODE_H / 2.0)} r="7"
                        onpointerdown={port_down}>
                        <title>{ "Drag to another node to connect" }</title>
                    </circle>
                }
            </g>
        }
    };

    let pending = match &*drag {
        Some(Drag::Connect { from, at }) => nodes
            .iter()
            .find(|n| &n.id == from)
            .map(|n| {
                html! {
                    <line class="pending" x1={px(n.x + NODE_W)} y1={px(n.y + NODE_H / 2.0)}
                        x2={px(at.0)} y2={px(at.1)} />
                }
            })
            .unwrap_or_default(),
        _ => html! {},
    };

    html! {
        <svg ref={svg.clone()} class="canvas" role="group" aria-label="Diagram"
            viewBox={format!("0 0 {} {}", px(VIEW_W), px(VIEW_H))} preserveAspectRatio="xMinYMin meet"
            {onpointermove} {onpointerup}>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse">
                    <path d="M0,0 L10,5 L0,10 z" />
                </marker>
            </defs>
            <rect class="background" width={px(VIEW_W)} height={px(VIEW_H)}
                onpointerdown={background_down} />
            { for edges.iter().map(draw_edge) }
            { for nodes.iter().map(draw_node) }
            { pending }
            <Flights {dots} {token} {hop_ms} />
        </svg>
    }
}
