//! Differential runs: the same scenario in the simulator and on a real
//! broker, compared client by client.
//!
//! What is compared is what clients observe, per client and in order: which
//! messages (body, exchange, routing key, redelivered flag, delivery tag,
//! headers), returns, confirms, errors with code and text, declare-ok counts,
//! RPC replies; and queue figures at the times the expectations read them.
//! Names the broker makes up (`amq.gen-…`, `amq.ctag-…`) and the time a
//! message died (`x-death[].time`) differ on every run, so they are masked.
//! Where a scenario says the order of a client's messages is not fixed
//! (`received` with `"order": "any"`) that client's messages are compared as
//! a set; nothing else is loosened.

use crate::{check_remote, run_remote, RemoteOptions, RemoteRun};
use serde_json::Value;
use std::fmt::Write;
use warren_core::protocol::Millis;
use warren_core::scenario::{Expectation, Observed, Order, QueueLookup, Scenario};
use warren_core::sim::{Observation, Simulation};

/// The outcome of a differential run.
#[derive(Clone, Debug)]
pub struct DiffReport {
    /// One line per difference found.
    pub differences: Vec<String>,
    /// The report as printed: differences side by side, and remarks.
    pub text: String,
}

impl DiffReport {
    pub fn same(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Replaces a broker-made name after `marker` (up to the end of the name) by `*`.
fn mask_generated(s: &str, marker: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        out.push('*');
        rest = &rest[i + marker.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn normalize(v: &mut Value, in_x_death: bool) {
    match v {
        Value::String(s) => *s = mask_generated(&mask_generated(s, "amq.gen-"), "amq.ctag-"),
        Value::Array(items) => items.iter_mut().for_each(|i| normalize(i, in_x_death)),
        Value::Object(map) => {
            map.remove("at");
            if in_x_death {
                map.remove("time");
            }
            for (k, item) in map.iter_mut() {
                normalize(item, in_x_death || k == "x-death");
            }
        }
        _ => {}
    }
}

/// An observation as compared: JSON, without its time, broker-made names masked.
fn key(o: &Observation, unordered: bool) -> String {
    let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
    normalize(&mut v, false);
    if unordered {
        if let Value::Object(map) = &mut v {
            map.remove("delivery_tag");
        }
    }
    v.to_string()
}

/// Splits `multiple` confirms into one per publish (see
/// `warren_core::scenario::confirm_outcomes`): whether RabbitMQ batches
/// confirms depends on timing, which publishes are confirmed does not.
///
/// Confirms are then put after the client's other observations, in publish
/// order: a broker confirms a publish when every queue has taken it, so a
/// persistent message waiting for the disk is confirmed after a later
/// transient one (RabbitMQ does this); the order carries no meaning.
fn one_confirm_each(list: Vec<Observation>) -> Vec<Observation> {
    let mut out = Vec::new();
    let mut confirms: Vec<((u32, u64), Observation)> = Vec::new();
    let mut epoch = 0u32;
    let mut settled = std::collections::BTreeSet::new();
    for o in list {
        let Observation::Confirmed {
            at,
            client,
            delivery_tag,
            multiple,
            ack,
        } = o
        else {
            out.push(o);
            continue;
        };
        if settled.contains(&delivery_tag) {
            // Tags start again on a new channel.
            settled.clear();
            epoch += 1;
        }
        let first = if multiple { 1 } else { delivery_tag };
        for tag in first..=delivery_tag {
            if settled.insert(tag) {
                confirms.push((
                    (epoch, tag),
                    Observation::Confirmed {
                        at,
                        client: client.clone(),
                        delivery_tag: tag,
                        multiple: false,
                        ack,
                    },
                ));
            }
        }
    }
    confirms.sort_by_key(|(k, _)| *k);
    out.extend(confirms.into_iter().map(|(_, o)| o));
    out
}

fn unordered_clients(s: &Scenario) -> Vec<&str> {
    s.expect
        .iter()
        .filter_map(|e| match e {
            Expectation::Received {
                client,
                order: Order::Any,
                ..
            } => Some(client.as_str()),
            _ => None,
        })
        .collect()
}

fn figures_text(l: &QueueLookup) -> String {
    match l {
        QueueLookup::Missing => "does not exist".into(),
        QueueLookup::Found(f) => format!(
            "ready={} unacked={} consumers={}",
            f.ready,
            f.unacked
                .map(|u| u.to_string())
                .unwrap_or_else(|| "?".into()),
            f.consumers
        ),
        QueueLookup::Unobservable(why) => format!("not observable ({why})"),
    }
}

fn same_figures(a: &QueueLookup, b: &QueueLookup) -> bool {
    match (a, b) {
        (QueueLookup::Unobservable(_), _) | (_, QueueLookup::Unobservable(_)) => true,
        (QueueLookup::Missing, QueueLookup::Missing) => true,
        (QueueLookup::Found(x), QueueLookup::Found(y)) => {
            x.ready == y.ready
                && x.consumers == y.consumers
                && (x.unacked.is_none() || y.unacked.is_none() || x.unacked == y.unacked)
        }
        _ => false,
    }
}

/// The simulator's queue figures at each `queue` expectation's time.
fn simulated_figures(s: &Scenario) -> (Simulation, Vec<(usize, Option<Millis>, QueueLookup)>) {
    let mut sim = Simulation::new(s.clone());
    let mut out = Vec::new();
    let mut timed: Vec<(Millis, usize)> = s
        .expect
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Expectation::Queue { at: Some(t), .. } => Some((*t, i)),
            _ => None,
        })
        .collect();
    timed.sort();
    let queue_of = |i: usize| match &s.expect[i] {
        Expectation::Queue { queue, .. } => queue.clone(),
        _ => String::new(),
    };
    for (t, i) in timed {
        sim.run_until(t);
        let name = sim.resolve(&queue_of(i));
        out.push((i, Some(t), Observed::queue(&sim, &name, Some(t))));
    }
    sim.run();
    for (i, e) in s.expect.iter().enumerate() {
        if let Expectation::Queue { at: None, .. } = e {
            let name = sim.resolve(&queue_of(i));
            out.push((i, None, Observed::queue(&sim, &name, None)));
        }
    }
    (sim, out)
}

/// Compares a finished remote run with the simulator's run of the same scenario.
pub fn compare(s: &Scenario, run: &RemoteRun) -> DiffReport {
    let (sim, sim_figures) = simulated_figures(s);
    let unordered = unordered_clients(s);
    let mut differences = Vec::new();
    let mut text = String::new();
    let cut = run.cut_at;
    let mut names: Vec<String> = s.clients.iter().map(|c| c.name.clone()).collect();
    names.push("(topology)".into());
    for client in &names {
        let any_order = unordered.contains(&client.as_str());
        let pick = |obs: &[Observation]| -> Vec<Observation> {
            one_confirm_each(
                obs.iter()
                    .filter(|o| o.client() == client && cut.is_none_or(|c| o.time() < c))
                    .cloned()
                    .collect(),
            )
        };
        let (a, b) = (pick(sim.observations()), pick(&run.observations));
        let mut ka: Vec<String> = a.iter().map(|o| key(o, any_order)).collect();
        let mut kb: Vec<String> = b.iter().map(|o| key(o, any_order)).collect();
        if any_order {
            ka.sort();
            kb.sort();
        }
        let Some(first) = (0..ka.len().max(kb.len())).find(|&i| ka.get(i) != kb.get(i)) else {
            continue;
        };
        differences.push(format!(
            "{client}: observation {} differs{}",
            first + 1,
            if any_order {
                " (compared in any order)"
            } else {
                ""
            }
        ));
        let _ = writeln!(
            text,
            "client {client}: first difference at observation {}{}",
            first + 1,
            if any_order {
                " (order not compared: sorted)"
            } else {
                ""
            }
        );
        let _ = writeln!(text, "  {:<62} | broker", "simulator");
        let describe = |list: &[Observation], keys: &[String], i: usize| -> String {
            if any_order {
                return keys.get(i).cloned().unwrap_or_else(|| "(nothing)".into());
            }
            list.get(i)
                .map(|o| format!("{:>6}ms {}", o.time(), o.describe()))
                .unwrap_or_else(|| "(nothing)".into())
        };
        for i in first.saturating_sub(2)..(first + 2).min(ka.len().max(kb.len())) {
            let mark = if i == first { ">" } else { " " };
            let _ = writeln!(
                text,
                "{mark} {:<62} | {}",
                describe(&a, &ka, i),
                describe(&b, &kb, i)
            );
        }
        if !any_order {
            if let (Some(x), Some(y)) = (ka.get(first), kb.get(first)) {
                let _ = writeln!(text, "  simulator: {x}\n  broker:    {y}");
            }
        }
    }
    for (i, at, sim_lookup) in &sim_figures {
        if let (Some(c), Some(t)) = (cut, at) {
            if *t >= c {
                continue;
            }
        }
        if cut.is_some() && at.is_none() {
            continue;
        }
        let Some(Expectation::Queue { queue, .. }) = s.expect.get(*i) else {
            continue;
        };
        let name = run.resolve(queue);
        let remote = run.queue(&name, *at);
        let when = at
            .map(|t| format!("at {t}ms"))
            .unwrap_or_else(|| "at the end".into());
        if !same_figures(sim_lookup, &remote) {
            differences.push(format!("queue '{name}' {when}"));
            let _ = writeln!(
                text,
                "queue '{queue}' {when}:\n  simulator: {}\n  broker:    {}",
                figures_text(sim_lookup),
                figures_text(&remote)
            );
        }
    }
    let verdict = check_remote(s, run);
    for f in &verdict.failures {
        let _ = writeln!(text, "on the broker, {f}");
    }
    for sk in &verdict.skipped {
        let _ = writeln!(
            text,
            "on the broker, expect[{}] skipped: {}",
            sk.index, sk.reason
        );
    }
    for n in &run.notes {
        let _ = writeln!(text, "note: {n}");
    }
    DiffReport { differences, text }
}

/// Runs `scenario` in the simulator and on the broker at `broker_url`, and
/// reports the first observation where each client's view differs, and queue
/// figures that differ.
pub async fn diff(
    scenario: &Scenario,
    broker_url: &str,
    opts: &RemoteOptions,
) -> Result<DiffReport, String> {
    let run = run_remote(scenario, broker_url, opts).await?;
    Ok(compare(scenario, &run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_names_are_masked() {
        assert_eq!(
            mask_generated("no queue 'amq.gen-AbC_1-x' here", "amq.gen-"),
            "no queue 'amq.gen-*' here"
        );
        let mut v = serde_json::json!({"at": 5, "headers": {"x-death": [{"time": 1, "count": 1}]}});
        normalize(&mut v, false);
        assert_eq!(
            v,
            serde_json::json!({"headers": {"x-death": [{"count": 1}]}})
        );
    }
}
