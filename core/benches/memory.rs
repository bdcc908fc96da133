//! Memory per queued message beyond its body: a counting allocator measures
//! what 100,000 queued 16-byte messages cost. Prints one line for BENCHMARKS.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use warren_core::{BasicProperties, Broker, BrokerConfig, Command, FieldTable};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static A: Counting = Counting;

fn main() {
    const N: usize = 100_000;
    const BODY: usize = 16;
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
        Command::QueueDeclare {
            queue: "q".into(),
            passive: false,
            durable: false,
            exclusive: false,
            auto_delete: false,
            nowait: false,
            arguments: FieldTable::new(),
        },
    );
    while b.poll_output().is_some() {}
    // Bodies as the wire server hands them over: one allocation each.
    let bodies: Vec<bytes::Bytes> = (0..N)
        .map(|i| bytes::Bytes::from(vec![i as u8; BODY]))
        .collect();
    let before = LIVE.load(Ordering::Relaxed);
    for body in bodies {
        b.handle_command(
            0,
            1,
            1,
            Command::BasicPublish {
                exchange: String::new(),
                routing_key: "q".into(),
                mandatory: false,
                immediate: false,
                properties: BasicProperties::default(),
                body,
            },
        );
    }
    let after = LIVE.load(Ordering::Relaxed);
    sizes();
    assert_eq!(
        b.queue_info("/", "q").map(|q| q.messages_ready),
        Some(N as u64)
    );
    let per = (after - before) as f64 / N as f64;
    println!(
        "memory per queued message beyond its {BODY}-byte body: {per:.1} bytes ({N} messages)"
    );
}

/// The two structures a queued message costs: its queue entry and the shared message.
fn sizes() {
    println!(
        "size_of Entry {} Message {}",
        std::mem::size_of::<warren_core::queue::Entry>(),
        std::mem::size_of::<warren_core::Message>()
    );
}
