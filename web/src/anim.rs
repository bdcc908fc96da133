//! Messages in flight: which way each message of the latest step travelled, as a chain
//! of curves along the diagram's edges. Pure (no DOM), so it is tested natively; the
//! `view::flights` component moves one dot per flight along these curves with
//! requestAnimationFrame.

use crate::model::{Edge, Node, NodeId, NODE_H, NODE_W};
use warren_core::events::{Event, EventKind};
use warren_core::sim::{Simulation, TraceLine};

/// A point in SVG units.
pub type Point = (f64, f64);

/// One cubic Bézier curve: start, two control points, end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hop(pub Point, pub Point, pub Point, pub Point);

impl Hop {
    /// The same curve the diagram draws for an edge from `from` to `to`, so dots ride
    /// on the drawn lines.
    pub fn between(from: &Node, to: &Node) -> Hop {
        Hop::from_points(
            (from.x + NODE_W, from.y + NODE_H / 2.0),
            (to.x, to.y + NODE_H / 2.0),
        )
    }

    pub fn from_points((x1, y1): Point, (x2, y2): Point) -> Hop {
        let bend = ((x2 - x1).abs() / 2.0).max(40.0);
        Hop((x1, y1), (x1 + bend, y1), (x2 - bend, y2), (x2, y2))
    }

    /// The point at `t` in 0..=1 along the curve.
    pub fn at(&self, t: f64) -> Point {
        let t = t.clamp(0.0, 1.0);
        let u = 1.0 - t;
        let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
        let Hop(p0, p1, p2, p3) = self;
        (
            a * p0.0 + b * p1.0 + c * p2.0 + d * p3.0,
            a * p0.1 + b * p1.1 + c * p2.1 + d * p3.1,
        )
    }

    /// The SVG path of the curve (the diagram's edges use the same shape), in whole
    /// units: integer formatting is far smaller in the wasm than float formatting.
    pub fn path(&self) -> String {
        let Hop(a, b, c, d) = self;
        let r = |v: f64| v.round() as i32;
        format!(
            "M{},{} C{},{} {},{} {},{}",
            r(a.0),
            r(a.1),
            r(b.0),
            r(b.1),
            r(c.0),
            r(c.1),
            r(d.0),
            r(d.1)
        )
    }
}

/// How a dot looks: the difference between a first delivery, a redelivery and a
/// dead-letter is what lessons 3, 5 and 12 are about, so it must be visible at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    Message,
    Redelivered,
    DeadLetter,
}

impl Look {
    pub fn class(self) -> &'static str {
        match self {
            Look::Message => "flight message",
            Look::Redelivered => "flight redelivered",
            Look::DeadLetter => "flight dead-letter",
        }
    }
}

/// One message's journey in the latest step, hop after hop.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    pub msg_id: u64,
    pub path: Vec<NodeId>,
    pub hops: Vec<Hop>,
    pub look: Look,
}

/// The flights of these trace lines (the line at the cursor, when stepping).
/// A message routed to several queues becomes one flight per queue.
pub fn flights(
    lines: &[TraceLine],
    sim: &Simulation,
    nodes: &[Node],
    edges: &[Edge],
) -> Vec<Flight> {
    let mut events = lines.iter().filter_map(|line| match line {
        TraceLine::Broker(event) => Some(event),
        _ => None,
    });
    let client =
        |conn: u64, _: Option<&str>| sim.client_of(conn).map(|c| NodeId::Client(c.to_string()));
    event_flights(&mut events, &client, nodes, edges)
}

/// The flights of a run of broker events, from the simulator's trace or from a live
/// server's event stream. `client` names the node of a connection (and, for deliveries,
/// of the consumer tag): the simulator knows clients by connection, the live view draws
/// one node per consumer.
///
/// Trait objects rather than generics: one copy of this function in the wasm, not one
/// per caller.
pub fn event_flights<'a>(
    events: &mut dyn Iterator<Item = &'a Event>,
    client: &dyn Fn(u64, Option<&str>) -> Option<NodeId>,
    nodes: &[Node],
    edges: &[Edge],
) -> Vec<Flight> {
    let mut out: Vec<Flight> = Vec::new();
    let start = |out: &mut Vec<Flight>, msg_id, path: Vec<NodeId>, look| {
        out.push(Flight {
            msg_id,
            path,
            hops: Vec::new(),
            look,
        })
    };
    for event in events {
        match &event.kind {
            EventKind::Published {
                msg_id,
                conn,
                exchange,
                ..
            } => {
                if let Some(c) = client(*conn, None) {
                    let path = vec![c, NodeId::Exchange(exchange.clone())];
                    start(&mut out, *msg_id, path, Look::Message);
                }
            }
            EventKind::Routed {
                msg_id,
                exchange,
                queues,
                ..
            } => {
                let x = NodeId::Exchange(exchange.clone());
                let i = out
                    .iter()
                    .rposition(|f| f.msg_id == *msg_id && f.path.last() == Some(&x));
                let base = match i {
                    Some(i) => out.remove(i),
                    None => Flight {
                        msg_id: *msg_id,
                        path: vec![x.clone()],
                        hops: Vec::new(),
                        look: Look::Message,
                    },
                };
                for q in queues {
                    let q = NodeId::Queue(q.clone());
                    let mut f = base.clone();
                    // Through an exchange-to-exchange binding when there is no direct edge.
                    let direct = edges.iter().any(|e| e.from == x && e.to == q);
                    if !direct {
                        if let Some(mid) = edges.iter().find(|e| {
                            e.from == x
                                && matches!(e.to, NodeId::Exchange(_))
                                && edges.iter().any(|g| g.from == e.to && g.to == q)
                        }) {
                            f.path.push(mid.to.clone());
                        }
                    }
                    f.path.push(q);
                    out.push(f);
                }
            }
            EventKind::Delivered {
                msg_id,
                queue,
                conn,
                consumer_tag,
                redelivered,
                ..
            } => {
                let Some(c) = client(*conn, Some(consumer_tag)) else {
                    continue;
                };
                let q = NodeId::Queue(queue.clone());
                let look = if *redelivered {
                    Look::Redelivered
                } else {
                    Look::Message
                };
                match out
                    .iter_mut()
                    .rev()
                    .find(|f| f.msg_id == *msg_id && f.path.last() == Some(&q))
                {
                    Some(f) => {
                        f.path.push(c);
                        if *redelivered {
                            f.look = Look::Redelivered;
                        }
                    }
                    None => start(&mut out, *msg_id, vec![q, c], look),
                }
            }
            EventKind::DeadLettered {
                msg_id,
                queue,
                exchange: Some(x),
                ..
            } => {
                let path = vec![NodeId::Queue(queue.clone()), NodeId::Exchange(x.clone())];
                start(&mut out, *msg_id, path, Look::DeadLetter);
            }
            _ => {}
        }
    }
    let find = |id: &NodeId| nodes.iter().find(|n| &n.id == id);
    for f in &mut out {
        f.hops = f
            .path
            .windows(2)
            .filter_map(|w| Some(Hop::between(find(&w[0])?, find(&w[1])?)))
            .collect();
    }
    out.retain(|f| !f.hops.is_empty());
    out
}

/// Where a dot is `elapsed` ms into its flight, with `hop_ms` per hop; None once it
/// has arrived (the dot is then hidden). Eased, so a dot visibly leaves and arrives.
pub fn position(hops: &[Hop], elapsed: f64, hop_ms: f64) -> Option<Point> {
    if elapsed < 0.0 || hop_ms <= 0.0 {
        return None;
    }
    let n = (elapsed / hop_ms).floor();
    let hop = hops.get(n as usize)?;
    let t = elapsed / hop_ms - n;
    Some(hop.at(t * t * (3.0 - 2.0 * t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    #[test]
    fn a_work_queue_publish_flies_to_the_exchange_the_queue_and_a_consumer() {
        let s = crate::example::work_queue();
        let nodes = model::nodes(&s);
        let edges = model::edges(&s, &nodes);
        let mut sim = Simulation::new(s);
        sim.run_until(1000);
        let all = flights(sim.trace(), &sim, &nodes, &edges);
        assert!(
            all.iter().any(|f| f.path.len() == 4
                && matches!(f.path[2], NodeId::Queue(_))
                && matches!(f.path[3], NodeId::Client(_))),
            "{all:?}"
        );
        let f = &all[0];
        assert_eq!(position(&f.hops, 0.0, 100.0), Some(f.hops[0].0));
        assert!(position(&f.hops, 100.0 * f.hops.len() as f64, 100.0).is_none());
    }
}
