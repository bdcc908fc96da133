//! The broker is a pure function of its inputs: the same seed and the same
//! calls give the same outputs and events, byte for byte.

mod common;
use common::*;

/// A workload touching names, routing, dispatch, acks, TTL, DLX and errors.
fn run(seed: u64) -> (Vec<String>, Vec<String>) {
    let mut w = World::with_seed(seed);
    let mut outs = Vec::new();
    let a = w.client(1);
    let b = w.client(2);
    outs.extend(w.send(a, QueueDecl::new("").exclusive()));
    outs.extend(w.send(a, ExchangeDecl::new("t", "topic")));
    outs.extend(w.send(a, QueueDecl::new("dl")));
    outs.extend(
        w.send(
            a,
            QueueDecl::new("work")
                .arg("x-message-ttl", int(500))
                .arg("x-dead-letter-exchange", s(""))
                .arg("x-dead-letter-routing-key", s("dl")),
        ),
    );
    outs.extend(w.send(a, bind("work", "t", "jobs.#")));
    outs.extend(w.send(a, bind("", "t", "#")));
    outs.extend(w.send(b, qos(2, false)));
    outs.extend(w.send(b, consume("work", "")));
    outs.extend(w.send(a, consume("work", "")));
    outs.extend(w.send(a, confirm_select()));
    for i in 0..20 {
        outs.extend(w.send(
            a,
            publish("t", &format!("jobs.{}", i % 3), &format!("m{i}")),
        ));
    }
    for tag in 1..4 {
        outs.extend(w.send(b, nack(tag, false, tag % 2 == 0)));
    }
    outs.extend(w.advance(1000));
    outs.extend(w.send(b, ack(99)));
    outs.extend(w.disconnect(1));
    w.now += 10;
    w.b.restart(w.now);
    outs.extend(w.drain());
    let events = w.events().iter().map(|e| format!("{e:?}")).collect();
    (outs.iter().map(|o| format!("{o:?}")).collect(), events)
}

#[test]
fn same_seed_same_everything() {
    let (o1, e1) = run(42);
    let (o2, e2) = run(42);
    assert!(!o1.is_empty() && !e1.is_empty());
    assert_eq!(o1, o2);
    assert_eq!(e1, e2);
}

#[test]
fn the_seed_only_changes_generated_names() {
    let (o1, _) = run(1);
    let (o2, _) = run(2);
    assert_ne!(o1, o2);
    let strip = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| {
                let mut out = String::new();
                let mut rest = s.as_str();
                while let Some(i) = rest.find("amq.") {
                    let (head, tail) = rest.split_at(i);
                    out.push_str(head);
                    let end = tail
                        .find(['"', '\'', ' ', ',', ')', '}'])
                        .unwrap_or(tail.len());
                    let name = &tail[..end];
                    out.push_str(
                        if name.starts_with("amq.gen-") || name.starts_with("amq.ctag-") {
                            "amq.NAME"
                        } else {
                            name
                        },
                    );
                    rest = &tail[end..];
                }
                out.push_str(rest);
                out
            })
            .collect()
    };
    assert_eq!(strip(&o1), strip(&o2));
}

#[test]
fn snapshots_replay_identically() {
    // Broker is Clone: a snapshot taken mid-run continues exactly as the original.
    let mut w = World::with_seed(7);
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.send(c, consume("q", ""));
    let mut fork = World {
        b: w.b.clone(),
        now: w.now,
    };
    let a: Vec<String> = (0..5)
        .flat_map(|i| w.publish(c, "", "q", &i.to_string()))
        .map(|o| format!("{o:?}"))
        .collect();
    let b: Vec<String> = (0..5)
        .flat_map(|i| fork.publish(c, "", "q", &i.to_string()))
        .map(|o| format!("{o:?}"))
        .collect();
    assert_eq!(a, b);
    let na = format!("{:?}", w.send(c, consume("q", "")));
    let nb = format!("{:?}", fork.send(c, consume("q", "")));
    assert_eq!(na, nb, "the generator is part of the snapshot");
}
