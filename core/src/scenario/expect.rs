//! Checking a scenario's expectations against what a run let clients observe.
//!
//! The checker reads a run through [`Observed`], so the same expectations can
//! be checked against the simulator (`check`) and against a real broker
//! (the `warren-remote` crate), which records the same [`Observation`]s.

use super::{Expectation, Order, Scenario};
use crate::protocol::Millis;
use crate::sim::{Observation, Simulation};
use crate::types::{FieldTable, FieldValue};
use std::fmt;

/// A queue's counts as a run could read them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFigures {
    pub ready: u64,
    /// None where the run cannot see it: over AMQP a passive `queue.declare`
    /// reports ready messages only, never the unacknowledged ones.
    pub unacked: Option<u64>,
    pub consumers: u64,
}

/// What a run knows about a queue at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueLookup {
    Missing,
    Found(QueueFigures),
    /// The run could not read it; the text says why (checked as skipped, not failed).
    Unobservable(String),
}

/// What a run let clients observe: the simulator's, or a real broker's.
pub trait Observed {
    /// What clients observed, in order.
    fn observations(&self) -> &[Observation];
    /// The figures of queue `name` (already resolved) at `at`, or at the end.
    /// A simulation answers for its current time: `check` steps it to `at` first.
    fn queue(&self, name: &str, at: Option<Millis>) -> QueueLookup;
    /// A name saved with `as` (`$name`), or the text itself.
    fn resolve(&self, name: &str) -> String;
}

impl Observed for Simulation {
    fn observations(&self) -> &[Observation] {
        Simulation::observations(self)
    }

    fn queue(&self, name: &str, _at: Option<Millis>) -> QueueLookup {
        match self.broker().queue_info("/", name) {
            None => QueueLookup::Missing,
            Some(q) => QueueLookup::Found(QueueFigures {
                ready: q.messages_ready,
                unacked: Some(q.messages_unacknowledged),
                consumers: q.consumers,
            }),
        }
    }

    fn resolve(&self, name: &str) -> String {
        Simulation::resolve(self, name)
    }
}

/// An expectation a run could not check, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub index: usize,
    pub reason: String,
}

/// The result of checking one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Held,
    Failed(Failure),
    Skipped(String),
}

/// Every expectation's outcome, plus errors no expectation named.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub failures: Vec<Failure>,
    pub skipped: Vec<Skipped>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Checks every expectation of `scenario` against a finished run. Timed queue
/// expectations are answered by the run's `queue(name, Some(at))`.
pub fn check_observed(scenario: &Scenario, run: &dyn Observed) -> Verdict {
    let mut verdict = Verdict::default();
    for (i, e) in scenario.expect.iter().enumerate() {
        match check_expectation(run, i, e) {
            Outcome::Held => {}
            Outcome::Failed(f) => verdict.failures.push(f),
            Outcome::Skipped(reason) => verdict.skipped.push(Skipped { index: i, reason }),
        }
    }
    verdict
        .failures
        .extend(unexpected_errors(scenario, run.observations()));
    verdict
}

/// Errors are part of what clients see: one no `error` expectation names is a failure.
pub fn unexpected_errors(scenario: &Scenario, observations: &[Observation]) -> Vec<Failure> {
    let mut failures = Vec::new();
    for o in observations {
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
    failures
}

/// Each publish's confirm, as (delivery tag, ack), from a client's observations.
/// A real broker often confirms several publishes with one `multiple` frame
/// (RabbitMQ does when they are handled together); counting publishes, not
/// frames, makes `confirms` mean the same on the simulator and on a broker.
/// Tags count from 1 on each channel: a tag confirmed again starts a new one.
pub fn confirm_outcomes<'a>(
    observations: impl Iterator<Item = &'a Observation>,
) -> Vec<(u64, bool)> {
    let mut out = Vec::new();
    let mut settled = std::collections::BTreeSet::new();
    for o in observations {
        let Observation::Confirmed {
            delivery_tag,
            multiple,
            ack,
            ..
        } = o
        else {
            continue;
        };
        if settled.contains(delivery_tag) {
            settled.clear();
        }
        let first = if *multiple { 1 } else { *delivery_tag };
        for tag in first..=*delivery_tag {
            if settled.insert(tag) {
                out.push((tag, *ack));
            }
        }
    }
    out
}

/// Checks one expectation against a run.
pub fn check_expectation(run: &dyn Observed, i: usize, e: &Expectation) -> Outcome {
    if let Expectation::Queue { .. } = e {
        return check_queue(run, i, e);
    }
    match check_one(run, i, e) {
        Some(f) => Outcome::Failed(f),
        None => Outcome::Held,
    }
}

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
        results[i] = failure_of(check_expectation(&sim, i, &scenario.expect[i]));
    }
    sim.run();
    for (i, e) in scenario.expect.iter().enumerate() {
        if !matches!(e, Expectation::Queue { at: Some(_), .. }) {
            results[i] = failure_of(check_expectation(&sim, i, e));
        }
    }
    let mut failures: Vec<Failure> = results.into_iter().flatten().collect();
    failures.extend(unexpected_errors(scenario, sim.observations()));
    CheckReport {
        failures,
        simulation: sim,
    }
}

/// The simulator sees everything, so nothing it checks is skipped.
fn failure_of(outcome: Outcome) -> Option<Failure> {
    match outcome {
        Outcome::Failed(f) => Some(f),
        Outcome::Held | Outcome::Skipped(_) => None,
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
    sim: &'a dyn Observed,
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

fn check_one(sim: &dyn Observed, i: usize, e: &Expectation) -> Option<Failure> {
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
        // Checked by check_queue, which can also skip.
        Expectation::Queue { .. } => None,
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
            let outcomes = confirm_outcomes(of_client(sim, client));
            let a = outcomes.iter().filter(|(_, ack)| *ack).count() as u64;
            let n = outcomes.len() as u64 - a;
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

fn check_queue(run: &dyn Observed, i: usize, e: &Expectation) -> Outcome {
    let Expectation::Queue {
        queue,
        at,
        exists,
        ready,
        unacked,
        consumers,
    } = e
    else {
        return Outcome::Held;
    };
    let name = run.resolve(queue);
    let when = at
        .map(|t| format!(" at {t}ms"))
        .unwrap_or_else(|| " at the end".to_string());
    let failed = |expected: String, observed: String| {
        Outcome::Failed(Failure {
            index: Some(i),
            expected,
            observed,
        })
    };
    let q = match (run.queue(&name, *at), exists) {
        (QueueLookup::Unobservable(why), _) => return Outcome::Skipped(why),
        (QueueLookup::Missing, Some(false)) => return Outcome::Held,
        (QueueLookup::Found(_), Some(false)) => {
            return failed(
                format!("queue '{name}' not to exist{when}"),
                "it exists".into(),
            )
        }
        (QueueLookup::Missing, _) => {
            return failed(
                format!("queue '{name}' to exist{when}"),
                "it does not".into(),
            )
        }
        (QueueLookup::Found(q), _) => q,
    };
    let mut wrong = Vec::new();
    let mut want = Vec::new();
    let mut unseen = None;
    for (label, w, have) in [
        ("ready", ready, Some(q.ready)),
        ("unacked", unacked, q.unacked),
        ("consumers", consumers, Some(q.consumers)),
    ] {
        if let Some(w) = w {
            match have {
                None => {
                    unseen = Some(format!(
                        "queue '{name}'{when}: {label}={w} is not observable"
                    ))
                }
                Some(have) => {
                    want.push(format!("{label}={w}"));
                    if *w != have {
                        wrong.push(format!("{label}={have}"));
                    }
                }
            }
        }
    }
    if !wrong.is_empty() {
        let unacked = q
            .unacked
            .map(|u| u.to_string())
            .unwrap_or_else(|| "?".into());
        return failed(
            format!("queue '{name}'{when}: {}", want.join(" ")),
            format!(
                "ready={} unacked={unacked} consumers={}",
                q.ready, q.consumers
            ),
        );
    }
    match unseen {
        Some(why) if want.is_empty() => Outcome::Skipped(why),
        Some(why) => Outcome::Skipped(format!("{why} (the rest held: {})", want.join(" "))),
        None => Outcome::Held,
    }
}
