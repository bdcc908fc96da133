//! Throughput of the broker core, native, one thread. Results are recorded in
//! BENCHMARKS.md. Events are off, as on a busy server that nobody is watching.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use warren_core::exchange::{Dest, Exchange, ExchangeKind};
use warren_core::{BasicProperties, Broker, BrokerConfig, Command, FieldTable, Output};

const WORDS: [&str; 10] = [
    "kern", "auth", "cron", "mail", "user", "disk", "net", "info", "warn", "crit",
];

/// A topic exchange with 10,000 distinct bindings: 3-word patterns mixing
/// literals, `*` and `#`, the shapes log routing uses.
fn topic_exchange() -> Exchange {
    let mut x = Exchange::new(
        "logs",
        ExchangeKind::Topic,
        false,
        false,
        false,
        FieldTable::new(),
    );
    let mut n = 0;
    'outer: for a in 0..100 {
        for b in 0..100 {
            let pattern = match n % 4 {
                0 => format!("{}{a}.{}{b}.*", WORDS[a % 10], WORDS[b % 10]),
                1 => format!("{}{a}.*.{}{b}", WORDS[a % 10], WORDS[b % 10]),
                2 => format!("{}{a}.{}{b}.#", WORDS[a % 10], WORDS[b % 10]),
                _ => format!("*.{}{a}.{}{b}", WORDS[a % 10], WORDS[b % 10]),
            };
            x.bind(
                Dest::Queue(format!("q{n}").into()),
                &pattern,
                FieldTable::new(),
            );
            n += 1;
            if n == 10_000 {
                break 'outer;
            }
        }
    }
    x
}

fn topic_routing(c: &mut Criterion) {
    let x = topic_exchange();
    let keys: Vec<String> = (0..1024)
        .map(|i| {
            let (a, b) = (i * 7 % 100, i * 13 % 100);
            format!(
                "{}{a}.{}{b}.{}",
                WORDS[a % 10],
                WORDS[b % 10],
                WORDS[i % 10]
            )
        })
        .collect();
    let mut g = c.benchmark_group("topic_10k_bindings");
    g.throughput(Throughput::Elements(keys.len() as u64));
    g.bench_function("route", |bench| {
        let mut out = Vec::with_capacity(16);
        bench.iter(|| {
            let mut matched = 0;
            for k in &keys {
                out.clear();
                x.route(&[k.as_str()], None, &mut out);
                matched += out.len();
            }
            black_box(matched)
        })
    });
    g.finish();
}

fn cmd_declare(q: &str) -> Command {
    Command::QueueDeclare {
        queue: q.into(),
        passive: false,
        durable: false,
        exclusive: false,
        auto_delete: false,
        nowait: false,
        arguments: FieldTable::new(),
    }
}

/// A broker with one queue and one manual-ack consumer on connection 1.
fn consumer_broker() -> Broker {
    let mut b = Broker::new(BrokerConfig {
        seed: 1,
        events: false,
        default_user: true,
    });
    b.handle_connection_open(0, 1, "guest", "/").expect("open");
    b.handle_channel_open(0, 1, 1).expect("channel");
    b.handle_command(0, 1, 1, cmd_declare("work"));
    b.handle_command(
        0,
        1,
        1,
        Command::BasicConsume {
            queue: "work".into(),
            consumer_tag: "c".into(),
            no_local: false,
            no_ack: false,
            exclusive: false,
            nowait: false,
            arguments: FieldTable::new(),
        },
    );
    while b.poll_output().is_some() {}
    b
}

fn publish_deliver_ack(c: &mut Criterion) {
    let mut g = c.benchmark_group("direct_queue");
    const N: u64 = 1000;
    g.throughput(Throughput::Elements(N));
    let body = bytes::Bytes::from_static(b"0123456789abcdef");
    g.bench_function("publish_deliver_ack", |bench| {
        bench.iter_batched_ref(
            consumer_broker,
            |b| {
                for _ in 0..N {
                    b.handle_command(
                        0,
                        1,
                        1,
                        Command::BasicPublish {
                            exchange: String::new(),
                            routing_key: "work".into(),
                            mandatory: false,
                            immediate: false,
                            properties: BasicProperties::default(),
                            body: body.clone(),
                        },
                    );
                    let tag = match b.poll_output() {
                        Some(Output::Deliver { delivery_tag, .. }) => delivery_tag,
                        other => panic!("expected a delivery, got {other:?}"),
                    };
                    b.handle_command(
                        0,
                        1,
                        1,
                        Command::BasicAck {
                            delivery_tag: tag,
                            multiple: false,
                        },
                    );
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// The same 10,000 topic bindings, but through the whole broker: each binding
/// leads to its own queue with a no-ack consumer, so every publish is routed,
/// enqueued and delivered, and nothing piles up.
fn topic_publish(c: &mut Criterion) {
    let mut b = Broker::new(BrokerConfig {
        seed: 1,
        events: false,
        default_user: true,
    });
    b.handle_connection_open(0, 1, "guest", "/").expect("open");
    b.handle_channel_open(0, 1, 1).expect("channel");
    b.handle_command(
        0,
        1,
        1,
        Command::ExchangeDeclare {
            exchange: "logs".into(),
            kind: "topic".into(),
            passive: false,
            durable: false,
            auto_delete: false,
            internal: false,
            nowait: false,
            arguments: FieldTable::new(),
        },
    );
    let x = topic_exchange();
    for (i, binding) in x.bindings().enumerate() {
        let q = binding.dest.name().to_string();
        b.handle_command(0, 1, 1, cmd_declare(&q));
        b.handle_command(
            0,
            1,
            1,
            Command::QueueBind {
                queue: q.clone(),
                exchange: "logs".into(),
                routing_key: binding.routing_key.to_string(),
                nowait: true,
                arguments: FieldTable::new(),
            },
        );
        b.handle_command(
            0,
            1,
            1,
            Command::BasicConsume {
                queue: q,
                consumer_tag: format!("c{i}"),
                no_local: false,
                no_ack: true,
                exclusive: false,
                nowait: true,
                arguments: FieldTable::new(),
            },
        );
    }
    while b.poll_output().is_some() {}
    let keys: Vec<String> = (0..1024)
        .map(|i| {
            let (a, k) = (i * 7 % 100, i * 13 % 100);
            format!(
                "{}{a}.{}{k}.{}",
                WORDS[a % 10],
                WORDS[k % 10],
                WORDS[i % 10]
            )
        })
        .collect();
    let body = bytes::Bytes::from_static(b"0123456789abcdef");
    let mut g = c.benchmark_group("topic_10k_bindings");
    g.throughput(Throughput::Elements(keys.len() as u64));
    g.bench_function("publish_route_deliver", |bench| {
        bench.iter(|| {
            let mut delivered = 0;
            for k in &keys {
                b.handle_command(
                    0,
                    1,
                    1,
                    Command::BasicPublish {
                        exchange: "logs".into(),
                        routing_key: k.clone(),
                        mandatory: false,
                        immediate: false,
                        properties: BasicProperties::default(),
                        body: body.clone(),
                    },
                );
                while b.poll_output().is_some() {
                    delivered += 1;
                }
            }
            black_box(delivered)
        })
    });
    g.finish();
}

criterion_group!(benches, topic_routing, topic_publish, publish_deliver_ack);
criterion_main!(benches);
