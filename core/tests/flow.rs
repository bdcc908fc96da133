//! Publisher flow control (`broker::flow`): which publishers the core asks the
//! server to slow, and when it lets them go. The marks are 16,384 ready
//! messages (slowed above it) and 8,192 (let go at or below it).

mod common;
use common::*;

const HIGH: usize = 16_384;

/// A consumer with prefetch 1 on `q` (connection 1), so the queue has a
/// consumer but drains only one message at a time.
fn consumed_queue(w: &mut World) -> Ch {
    let consumer = w.client(1);
    w.declare_queue(consumer, "q");
    w.ok(consumer, qos(1, false));
    w.consume(consumer, "q", "slow");
    consumer
}

fn publish_n(w: &mut World, c: Ch, queue: &str, n: usize) {
    for _ in 0..n {
        w.publish(c, "", queue, "x");
    }
}

#[test]
fn a_pure_publisher_into_a_consumed_backlog_is_slowed_until_it_drains() {
    let mut w = World::new();
    let _consumer = consumed_queue(&mut w);
    let publisher = w.client(2);
    // One message goes out to the consumer; the rest wait.
    publish_n(&mut w, publisher, "q", HIGH + 1);
    assert!(!w.b.publisher_flow(2), "at the mark, not over it");
    publish_n(&mut w, publisher, "q", 1);
    assert!(w.b.publisher_flow(2), "over the mark with a consumer");
    assert!(!w.b.publisher_flow(1), "the consumer published nothing");
    // Still behind while more than half the mark is waiting.
    let getter = w.client(3);
    for _ in 0..(HIGH / 2) {
        assert!(w.get_body(getter, "q").is_some());
    }
    assert!(w.b.publisher_flow(2));
    assert!(w.get_body(getter, "q").is_some());
    assert!(!w.b.publisher_flow(2), "drained to the low mark");
    // Cleared: publishing below the high mark does not slow it again.
    publish_n(&mut w, publisher, "q", 10);
    assert!(!w.b.publisher_flow(2));
}

#[test]
fn a_queue_without_consumers_never_slows_its_publishers() {
    let mut w = World::new();
    let publisher = w.client(2);
    w.declare_queue(publisher, "later");
    publish_n(&mut w, publisher, "later", HIGH + 100);
    assert_eq!(w.count("later"), Some((HIGH + 100) as u64));
    assert!(!w.b.publisher_flow(2));
}

#[test]
fn a_connection_that_consumes_is_never_slowed() {
    let mut w = World::new();
    let _consumer = consumed_queue(&mut w);
    let both = w.client(2);
    w.declare_queue(both, "other");
    w.consume(both, "other", "mine");
    publish_n(&mut w, both, "q", HIGH + 100);
    assert!(!w.b.publisher_flow(2));
}

#[test]
fn losing_the_consumers_or_the_queue_lets_the_publisher_go() {
    let mut w = World::new();
    let consumer = consumed_queue(&mut w);
    let publisher = w.client(2);
    publish_n(&mut w, publisher, "q", HIGH + 100);
    assert!(w.b.publisher_flow(2));
    w.ok(consumer, cancel("slow"));
    assert!(!w.b.publisher_flow(2), "no consumers: nothing to wait for");

    let consumer = w.channel(1, 2);
    w.ok(consumer, qos(1, false));
    w.consume(consumer, "q", "again");
    publish_n(&mut w, publisher, "q", 1);
    assert!(w.b.publisher_flow(2));
    w.ok(consumer, queue_delete("q", false, false));
    assert!(!w.b.publisher_flow(2), "the queue is gone");
}
