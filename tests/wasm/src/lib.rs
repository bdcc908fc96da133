//! A bare wasm module around the core, driven from node by `tests/wasm/check.mjs`:
//! the caller writes a scenario into memory from [`alloc`], calls [`run_scenario`],
//! and reads the trace back; [`bench_route`] routes messages through a topic
//! exchange with 10,000 bindings so node can time it against native.
//!
//! The exports deal in raw pointers because there is no JS glue on purpose: the
//! module needs no imports at all, which shows the core needs no host.

use warren_core::exchange::{Dest, Exchange, ExchangeKind};
use warren_core::FieldTable;

/// Reserves `len` bytes for the caller to write into; never freed (a test harness).
#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut v = vec![0u8; len];
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

static mut OUT_LEN: usize = 0;

/// Length of the text returned by the last [`run_scenario`].
#[no_mangle]
pub extern "C" fn out_len() -> usize {
    // SAFETY: single-threaded wasm; written only by run_scenario.
    unsafe { OUT_LEN }
}

/// Runs the scenario JSON at `ptr..ptr+len`; returns a pointer to the trace
/// text (or an error line starting with "error:"), whose length is [`out_len`].
///
/// # Safety
/// `ptr..ptr+len` must be memory obtained from [`alloc`] and written by the caller.
#[no_mangle]
pub unsafe extern "C" fn run_scenario(ptr: *const u8, len: usize) -> *const u8 {
    let input = std::slice::from_raw_parts(ptr, len);
    let text = trace_of(input);
    let bytes = text.into_bytes().into_boxed_slice();
    OUT_LEN = bytes.len();
    Box::leak(bytes).as_ptr()
}

/// The trace a scenario produces, or an error line.
pub fn trace_of(input: &[u8]) -> String {
    match std::str::from_utf8(input)
        .map_err(|e| e.to_string())
        .and_then(|t| warren_core::scenario::parse(t).map_err(|e| e.to_string()))
    {
        Ok(s) => warren_core::sim::render_run(s),
        Err(e) => format!("error: {e}\n"),
    }
}

/// The benchmark's exchange: 10,000 topic bindings (same shapes as core's criterion bench).
pub fn topic_exchange() -> Exchange {
    const WORDS: [&str; 10] = [
        "kern", "auth", "cron", "mail", "user", "disk", "net", "info", "warn", "crit",
    ];
    let mut x = Exchange::new(
        "logs",
        ExchangeKind::Topic,
        false,
        false,
        false,
        FieldTable::new(),
    );
    for n in 0..10_000usize {
        let (a, b) = (n / 100, n % 100);
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
    }
    x
}

/// Routes `rounds` × 1,024 keys (the exchange is built once, on the first call) through the 10,000-binding topic exchange;
/// returns the number of matches (so the work cannot be optimised away).
#[no_mangle]
pub extern "C" fn bench_route(rounds: u32) -> u32 {
    const WORDS: [&str; 10] = [
        "kern", "auth", "cron", "mail", "user", "disk", "net", "info", "warn", "crit",
    ];
    static EXCHANGE: std::sync::OnceLock<Exchange> = std::sync::OnceLock::new();
    let x = EXCHANGE.get_or_init(topic_exchange);
    let keys: Vec<String> = (0..1024usize)
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
    let mut out = Vec::with_capacity(16);
    let mut matched = 0u32;
    for _ in 0..rounds {
        for k in &keys {
            out.clear();
            x.route(&[k.as_str()], None, &mut out);
            matched = matched.wrapping_add(out.len() as u32);
        }
    }
    matched
}
