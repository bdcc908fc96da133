//! "Export as test": the scenario plus expectations that its own run, played to the
//! end, satisfies, so a design made in the playground becomes a regression test that
//! `warren scenario check` (and `warren scenario remote` against a real broker) runs.
//!
//! Expectations only claim what a real broker guarantees too: when a client received
//! messages that more than one publishing client sent, the order between publishers is
//! down to timing on a real broker, so its `received` expectation uses `"order": "any"`.
//! Error expectations name the code, not the text, which differs between brokers.

use warren_core::events::EventKind;
use warren_core::scenario::{confirm_outcomes, Expectation, Order, Scenario};
use warren_core::sim::{Observation, Simulation, TraceLine};

/// A run longer than this many steps is taken as one that never ends.
const MAX_STEPS: usize = 200_000;

/// Runs `scenario` to its end and returns it with expectations describing that run.
/// Expectations of kinds that are not generated (a single `delivery`, `declared`,
/// queue figures at a time, a queue that must not exist) are kept.
pub fn with_expectations(scenario: &Scenario) -> Result<Scenario, String> {
    let mut sim = Simulation::new(scenario.clone());
    let mut steps = 0;
    while sim.step() {
        steps += 1;
        if steps > MAX_STEPS {
            return Err(format!(
                "the run has not ended after {MAX_STEPS} steps, so it has no final state to test"
            ));
        }
    }
    let mut out = scenario.clone();
    out.expect.retain(|e| match e {
        Expectation::Delivery { .. } | Expectation::Declared { .. } => true,
        Expectation::Queue { at, exists, .. } => at.is_some() || *exists == Some(false),
        _ => false,
    });
    out.expect.extend(expectations(&sim, scenario));
    Ok(out)
}

/// Which clients' publishes ended up in each queue, as indexes into the scenario's
/// clients (`None` for a message no client published). Vectors rather than maps: each
/// map type is kilobytes of wasm, and message ids count up from zero, so a vector
/// indexed by id is as quick.
fn feeders(sim: &Simulation, scenario: &Scenario) -> Vec<(String, Vec<Option<usize>>)> {
    let mut publisher: Vec<Option<usize>> = Vec::new();
    let mut fed: Vec<(String, Vec<Option<usize>>)> = Vec::new();
    for line in sim.trace() {
        let TraceLine::Broker(e) = line else {
            continue;
        };
        match &e.kind {
            EventKind::Published { msg_id, conn, .. } => {
                let client = sim
                    .client_of(*conn)
                    .and_then(|c| scenario.clients.iter().position(|s| s.name == c));
                let i = *msg_id as usize;
                if publisher.len() <= i {
                    publisher.resize(i + 1, None);
                }
                publisher[i] = client;
            }
            EventKind::Enqueued { msg_id, queue, .. } => {
                let from = publisher.get(*msg_id as usize).copied().flatten();
                let at = match fed.iter().position(|(q, _)| q == queue) {
                    Some(at) => at,
                    None => {
                        fed.push((queue.clone(), Vec::new()));
                        fed.len() - 1
                    }
                };
                if !fed[at].1.contains(&from) {
                    fed[at].1.push(from);
                }
            }
            _ => {}
        }
    }
    fed
}

fn expectations(sim: &Simulation, scenario: &Scenario) -> Vec<Expectation> {
    let fed = feeders(sim, scenario);
    let mut out = Vec::new();
    for c in &scenario.clients {
        let mine: Vec<&Observation> = sim
            .observations()
            .iter()
            .filter(|o| o.client() == c.name)
            .collect();
        let bodies: Vec<String> = mine
            .iter()
            .filter_map(|o| o.received_body().map(str::to_string))
            .collect();
        if !bodies.is_empty() {
            // Every publishing client behind any queue this client took messages from.
            let mut sources = Vec::new();
            for o in &mine {
                if let Observation::Delivered { queue, .. } | Observation::Got { queue, .. } = o {
                    for (_, from) in fed.iter().filter(|(q, _)| q == queue) {
                        for f in from {
                            if !sources.contains(f) {
                                sources.push(*f);
                            }
                        }
                    }
                }
            }
            out.push(Expectation::Received {
                client: c.name.clone(),
                bodies,
                order: if sources.len() > 1 {
                    Order::Any
                } else {
                    Order::Exact
                },
            });
        }
        let returned: Vec<String> = mine
            .iter()
            .filter_map(|o| match o {
                Observation::Returned { body, .. } => Some(body.clone()),
                _ => None,
            })
            .collect();
        if !returned.is_empty() {
            out.push(Expectation::Returned {
                client: c.name.clone(),
                bodies: returned,
            });
        }
        let confirms = confirm_outcomes(mine.iter().copied());
        if !confirms.is_empty() {
            let acks = confirms.iter().filter(|(_, ack)| *ack).count() as u64;
            out.push(Expectation::Confirms {
                client: c.name.clone(),
                acks,
                nacks: confirms.len() as u64 - acks,
            });
        }
        let replies: Vec<String> = mine
            .iter()
            .filter_map(|o| match o {
                Observation::RpcReply { body, .. } => Some(body.clone()),
                _ => None,
            })
            .collect();
        if !replies.is_empty() {
            out.push(Expectation::RpcReplies {
                client: c.name.clone(),
                bodies: replies,
            });
        }
        let mut codes = Vec::new();
        for o in &mine {
            if let Observation::Error { code, .. } = o {
                if !codes.contains(code) {
                    codes.push(*code);
                    out.push(Expectation::Error {
                        client: c.name.clone(),
                        code: *code,
                        text: None,
                    });
                }
            }
        }
    }
    for q in sim.broker().queues() {
        // Server-named queues get a different name on every real broker.
        if q.vhost != "/" || q.name.starts_with("amq.") {
            continue;
        }
        out.push(Expectation::Queue {
            queue: q.name,
            at: None,
            exists: None,
            ready: Some(q.messages_ready),
            unacked: Some(q.messages_unacknowledged),
            consumers: Some(q.consumers),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenarios() -> Vec<(String, Scenario)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["tests/scenarios", "tutorials"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                let p = entry.path();
                let file = if p.is_dir() {
                    p.join("scenario.json")
                } else {
                    p
                };
                if file.extension().is_some_and(|e| e == "json") && file.is_file() {
                    files.push(file);
                }
            }
        }
        files
            .into_iter()
            .map(|f| {
                let text = std::fs::read_to_string(&f).unwrap();
                let s = warren_core::scenario::parse(&text).unwrap();
                (f.display().to_string(), s)
            })
            .collect()
    }

    #[test]
    fn every_exported_test_passes_its_own_check() {
        let all = scenarios();
        assert!(all.len() > 20);
        for (file, s) in all {
            let exported = with_expectations(&s).unwrap();
            // Through JSON, as `warren scenario check` reads it.
            let json = crate::io::to_json(&exported);
            let back = warren_core::scenario::parse(&json).unwrap();
            let report = warren_core::scenario::check(&back);
            assert!(
                report.passed(),
                "{file}: {:?}",
                report
                    .failures
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn the_work_queue_export_names_bodies_in_order_and_final_figures() {
        let s = with_expectations(&crate::example::work_queue()).unwrap();
        let received: Vec<_> = s
            .expect
            .iter()
            .filter_map(|e| match e {
                Expectation::Received { client, order, .. } => Some((client.as_str(), *order)),
                _ => None,
            })
            .collect();
        assert_eq!(received, [("C1", Order::Exact), ("C2", Order::Exact)]);
        assert!(s.expect.iter().any(|e| matches!(e,
            Expectation::Queue { queue, ready: Some(0), unacked: Some(0), consumers: Some(2), .. } if queue == "tasks")));
    }

    #[test]
    fn two_publishers_into_one_queue_make_the_order_any() {
        let mut s = crate::example::work_queue();
        let mut second = s.script.last().unwrap().clone();
        second.client = Some("P2".to_string());
        s.script.push(second);
        let mut p2 = s.clients[0].clone();
        p2.name = "P2".to_string();
        s.clients.push(p2);
        let s = with_expectations(&s).unwrap();
        assert!(s.expect.iter().any(|e| matches!(
            e,
            Expectation::Received {
                order: Order::Any,
                ..
            }
        )));
    }
}
