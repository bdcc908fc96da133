//! Checking a scenario's expectations against a simulated run.

use super::{Expectation, Order, Scenario};
use crate::sim::{Observation, Simulation};
use crate::types::{FieldTable, FieldValue};
use std::fmt;

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Index in the scenario's `expect` list; None for an error no expectation named.
    pub index: Option<usize>,
    pub expected: String,
    pub observed: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(
                f,
                "expect[{i}]: expected {}\n           observed {}",
                self.expected, self.observed
            ),
            None => write!(
                f,
                "unexpected: {}\n           (no expectation names it: {})",
                self.observed, self.expected
            ),
        }
    }
}

pub struct CheckReport {
    pub failures: Vec<Failure>,
    /// The whole run, for printing with the failures.
    pub simulation: Simulation,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs the scenario and checks every expectation. Queue figures with `at`
/// are read once every step at or before that time has run.
pub fn check(scenario: &Scenario) -> CheckReport {
    let mut sim = Simulation::new(scenario.clone());
    let mut results: Vec<Option<Failure>> = vec![None; scenario.expect.len()];
    let mut timed: Vec<(u64, usize)> = scenario
        .expect
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Expectation::Queue { at: Some(t), .. } => Some((*t, i)),
            _ => None,
        })
        .collect();
    timed.sort();
    for (t, i) in timed {
        sim.run_until(t);
        results[i] = check_one(&sim, i, &scenario.expect[i]);
    }
    sim.run();
    for (i, e) in scenario.expect.iter().enumerate() {
        if !matches!(e, Expectation::Queue { at: Some(_), .. }) {
            results[i] = check_one(&sim, i, e);
        }
    }
    let mut failures: Vec<Failure> = results.into_iter().flatten().collect();
    // Errors are part of what clients see: one nobody expected is a failure.
    for o in sim.observations() {
        if let Observation::Error {
            client, code, text, ..
        } = o
        {
            let named = scenario.expect.iter().any(
                |e| matches!(e, Expectation::Error { client: c, code: k, .. } if c == client && k == code),
            );
            if !named {
                failures.push(Failure {
                    index: None,
                    expected: format!("add {{\"expect\": \"error\", \"client\": \"{client}\", \"code\": {code}}} if this is intended"),
                    observed: format!("{client} got error {code} {text}"),
                });
            }
        }
    }
    CheckReport {
        failures,
        simulation: sim,
    }
}

fn fail(index: usize, expected: String, observed: String) -> Option<Failure> {
    Some(Failure {
        index: Some(index),
        expected,
        observed,
    })
}

fn of_client<'a>(
    sim: &'a Simulation,
    client: &'a str,
) -> impl Iterator<Item = &'a Observation> + 'a {
    sim.observations()
        .iter()
        .filter(move |o| o.client() == client)
}

/// Whether `have` carries every key of `want`, compared loosely (nested tables
/// by their given keys, arrays element by element).
fn headers_include(have: Option<&FieldTable>, want: &FieldTable) -> bool {
    want.iter().all(|(k, w)| {
        have.and_then(|h| h.get(k))
            .is_some_and(|v| value_includes(v, w))
    })
}

fn value_includes(have: &FieldValue, want: &FieldValue) -> bool {
    match (have, want) {
        (FieldValue::Table(h), FieldValue::Table(w)) => headers_include(Some(h), w),
        (FieldValue::Array(h), FieldValue::Array(w)) => {
            h.len() >= w.len() && h.iter().zip(w).all(|(a, b)| value_includes(a, b))
        }
        (FieldValue::Timestamp(a), b) => b.as_i64() == Some(*a as i64),
        _ => have.loosely_equals(want),
    }
}

fn check_one(sim: &Simulation, i: usize, e: &Expectation) -> Option<Failure> {
    match e {
        Expectation::Received {
            client,
            bodies,
            order,
        } => {
            let got: Vec<&str> = of_client(sim, client)
                .filter_map(|o| o.received_body())
                .collect();
            let want: Vec<&str> = bodies.iter().map(String::as_str).collect();
            let same = match order {
                Order::Exact => got == want,
                Order::Any => {
                    let (mut a, mut b) = (got.clone(), want.clone());
                    a.sort();
                    b.sort();
                    a == b
                }
            };
            (!same).then_some(()).and_then(|_| {
                fail(
                    i,
                    format!(
                        "{client} to receive {want:?}{}",
                        if *order == Order::Any {
                            " in any order"
                        } else {
                            ""
                        }
                    ),
                    format!("{client} received {got:?}"),
                )
            })
        }
        Expectation::Delivery {
            client,
            body,
            redelivered,
            routing_key,
            exchange,
            headers,
        } => {
            let hit = of_client(sim, client).any(|o| match o {
                Observation::Delivered {
                    body: b,
                    redelivered: r,
                    routing_key: rk,
                    exchange: x,
                    properties,
                    ..
                }
                | Observation::Got {
                    body: b,
                    redelivered: r,
                    routing_key: rk,
                    exchange: x,
                    properties,
                    ..
                } => {
                    b == body
                        && redelivered.is_none_or(|w| w == *r)
                        && routing_key.as_ref().is_none_or(|w| w == rk)
                        && exchange.as_ref().is_none_or(|w| w == x)
                        && headers
                            .as_ref()
                            .is_none_or(|w| headers_include(properties.headers.as_ref(), w))
                }
                _ => false,
            });
            if hit {
                return None;
            }
            let seen: Vec<String> = of_client(sim, client)
                .filter(|o| o.received_body() == Some(body))
                .map(|o| serde_json::to_string(o).unwrap_or_default())
                .collect();
            fail(
                i,
                format!(
                    "{client} to be given {body:?} with {}",
                    serde_json::to_string(e).unwrap_or_default()
                ),
                if seen.is_empty() {
                    format!("{client} was never given {body:?}")
                } else {
                    format!("{client} was given it as {}", seen.join(" and "))
                },
            )
        }
        Expectation::Queue {
            queue,
            at,
            exists,
            ready,
            unacked,
            consumers,
        } => {
            let name = sim.resolve(queue);
            let when = at
                .map(|t| format!(" at {t}ms"))
                .unwrap_or_else(|| " at the end".to_string());
            let info = sim.broker().queue_info("/", &name);
            match (&info, exists) {
                (None, Some(false)) => return None,
                (Some(_), Some(false)) => {
                    return fail(
                        i,
                        format!("queue '{name}' not to exist{when}"),
                        "it exists".into(),
                    )
                }
                (None, _) => {
                    return fail(
                        i,
                        format!("queue '{name}' to exist{when}"),
                        "it does not".into(),
                    )
                }
                _ => {}
            }
            let q = info?;
            let mut wrong = Vec::new();
            let mut want = Vec::new();
            for (label, w, have) in [
                ("ready", ready, q.messages_ready),
                ("unacked", unacked, q.messages_unacknowledged),
                ("consumers", consumers, q.consumers),
            ] {
                if let Some(w) = w {
                    want.push(format!("{label}={w}"));
                    if *w != have {
                        wrong.push(format!("{label}={have}"));
                    }
                }
            }
            (!wrong.is_empty()).then_some(()).and_then(|_| {
                fail(
                    i,
                    format!("queue '{name}'{when}: {}", want.join(" ")),
                    format!(
                        "ready={} unacked={} consumers={}",
                        q.messages_ready, q.messages_unacknowledged, q.consumers
                    ),
                )
            })
        }
        Expectation::Returned { client, bodies } => {
            let got: Vec<&str> = of_client(sim, client)
                .filter_map(|o| match o {
                    Observation::Returned { body, .. } => Some(body.as_str()),
                    _ => None,
                })
                .collect();
            (got != *bodies).then_some(()).and_then(|_| {
                fail(
                    i,
                    format!("{client} to get back {bodies:?}"),
                    format!("{client} got back {got:?}"),
                )
            })
        }
        Expectation::Confirms {
            client,
            acks,
            nacks,
        } => {
            let (mut a, mut n) = (0u64, 0u64);
            for o in of_client(sim, client) {
                if let Observation::Confirmed { ack, .. } = o {
                    if *ack {
                        a += 1
                    } else {
                        n += 1
                    }
                }
            }
            (a != *acks || n != *nacks).then_some(()).and_then(|_| {
                fail(
                    i,
                    format!("{client} to get {acks} acks and {nacks} nacks"),
                    format!("{a} acks and {n} nacks"),
                )
            })
        }
        Expectation::Error { client, code, text } => {
            let errors: Vec<(u16, &str)> = of_client(sim, client)
                .filter_map(|o| match o {
                    Observation::Error { code, text, .. } => Some((*code, text.as_str())),
                    _ => None,
                })
                .collect();
            let hit = errors
                .iter()
                .any(|(c, t)| c == code && text.as_ref().is_none_or(|w| w == t));
            (!hit).then_some(()).and_then(|_| {
                fail(
                    i,
                    format!(
                        "{client} to get error {code}{}",
                        text.as_ref().map(|t| format!(" {t:?}")).unwrap_or_default()
                    ),
                    if errors.is_empty() {
                        format!("{client} got no error")
                    } else {
                        format!("{client} got {errors:?}")
                    },
                )
            })
        }
        Expectation::RpcReplies { client, bodies } => {
            let got: Vec<&str> = of_client(sim, client)
                .filter_map(|o| match o {
                    Observation::RpcReply { body, .. } => Some(body.as_str()),
                    _ => None,
                })
                .collect();
            (got != *bodies).then_some(()).and_then(|_| {
                fail(
                    i,
                    format!("{client} to get RPC replies {bodies:?}"),
                    format!("{got:?}"),
                )
            })
        }
        Expectation::Declared {
            client,
            queue,
            message_count,
            consumer_count,
        } => {
            let name = sim.resolve(queue);
            let last = of_client(sim, client)
                .filter_map(|o| match o {
                    Observation::Declared {
                        queue,
                        message_count,
                        consumer_count,
                        ..
                    } if *queue == name => Some((*message_count, *consumer_count)),
                    _ => None,
                })
                .last();
            match last {
                None => fail(
                    i,
                    format!("{client} to declare '{name}'"),
                    "no queue.declare-ok for it".into(),
                ),
                Some((m, c)) => {
                    let ok = message_count.is_none_or(|w| w == m)
                        && consumer_count.is_none_or(|w| w == c);
                    (!ok).then_some(()).and_then(|_| {
                        fail(
                            i,
                            format!(
                                "declare-ok of '{name}' with message_count={} consumer_count={}",
                                message_count.map(|v| v.to_string()).unwrap_or("any".into()),
                                consumer_count
                                    .map(|v| v.to_string())
                                    .unwrap_or("any".into())
                            ),
                            format!("message_count={m} consumer_count={c}"),
                        )
                    })
                }
            }
        }
    }
}
