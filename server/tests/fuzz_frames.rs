//! A bounded, deterministic stand-in for the cargo-fuzz target `fuzz/`.
//!
//! cargo-fuzz needs nightly Rust and open-ended time; CI has stable Rust and
//! a budget. So CI runs the target's body, `codec::fuzz::exercise`, over a
//! fixed stream of inputs from a seeded generator: random bytes, and valid
//! client conversations (the fuzz seeds) mutated the ways that break framing
//! parsers — bit flips, interesting octets, truncations, splices of two
//! conversations, changed frame sizes, types and channels, dropped, repeated
//! and inserted bytes. Same inputs on every run, so a failure reproduces; the
//! failing case's number and bytes are in the panic message.
//!
//! The committed seed corpus of the fuzz target is checked here too, so it
//! follows the codec: regenerate it with
//! `WARREN_WRITE_FUZZ_SEEDS=1 cargo test -p warren-server --test fuzz_frames`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use warren_server::codec::fuzz::{exercise, seed_streams};

/// Inputs per run: under two seconds in a debug build.
const CASES: u32 = 40_000;
const SEED: u64 = 0x5741_5252_454e; // "WARREN"

/// SplitMix64: tiny, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n`; 0 when `n` is 0.
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// Where each frame of a valid conversation starts (after the 8-octet
/// protocol header), read from the frames' own size fields.
fn frame_starts(stream: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 8;
    while let Some(size) = stream.get(at + 3..at + 7) {
        starts.push(at);
        let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
        at += 8 + size;
    }
    starts
}

/// Octets that sit on boundaries: frame types, the frame-end marker, signs.
const INTERESTING: [u8; 10] = [0, 1, 2, 3, 8, 0x7F, 0x80, 0xCE, 0xFE, 0xFF];
/// Frame sizes around the limits the decoder checks.
const SIZES: [u32; 10] = [0, 1, 3, 4, 11, 4088, 4096, 4097, 131_072, u32::MAX];

/// Every seed opens with the handshake: its first three frames.
const HANDSHAKE_FRAMES: usize = 3;

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let base = &seeds[rng.below(seeds.len())];
    let starts = frame_starts(base);
    // Mostly leave the handshake whole, so most cases reach the read loop;
    // a quarter break the handshake too.
    let keep = if rng.below(4) == 0 {
        0
    } else {
        HANDSHAKE_FRAMES
    };
    let floor = match keep {
        0 => 0,
        _ => starts.get(keep).copied().unwrap_or(base.len()),
    };
    let frames = starts.get(keep..).unwrap_or_default();
    let mut data = base.clone();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        let lo = floor.min(len);
        let span = len - lo;
        // A position of an octet, and one between octets, above the floor.
        let at = lo + rng.below(span);
        let to = lo + rng.below(span + 1);
        let frame = frames.get(rng.below(frames.len())).copied();
        match rng.below(10) {
            0 if span > 0 => data[at] ^= 1 << rng.below(8),
            1 if span > 0 => data[at] = INTERESTING[rng.below(INTERESTING.len())],
            2 => data.truncate(to),
            3 => {
                // This conversation's start, another's end, cut at frame
                // boundaries or anywhere.
                let other = &seeds[rng.below(seeds.len())];
                let other_starts = frame_starts(other);
                let (cut, from) = if rng.below(2) == 0 {
                    (
                        frame.unwrap_or(len).min(len),
                        other_starts.get(rng.below(other_starts.len())).copied(),
                    )
                } else {
                    (to, Some(rng.below(other.len() + 1)))
                };
                data.truncate(cut);
                data.extend_from_slice(other.get(from.unwrap_or(0)..).unwrap_or_default());
            }
            4 => {
                // A frame's size field.
                if let Some(at) = frame.filter(|at| at + 7 <= len) {
                    let old = u32::from_be_bytes([
                        data[at + 3],
                        data[at + 4],
                        data[at + 5],
                        data[at + 6],
                    ]);
                    let new = match rng.below(3) {
                        0 => old.wrapping_add(1),
                        1 => old.wrapping_sub(1),
                        _ => SIZES[rng.below(SIZES.len())],
                    };
                    data[at + 3..at + 7].copy_from_slice(&new.to_be_bytes());
                }
            }
            5 => {
                // A frame's type: 1-3 and 8 are real, the rest unknown.
                if let Some(at) = frame.filter(|at| *at < len) {
                    data[at] = rng.below(10) as u8;
                }
            }
            6 => {
                // A frame's channel: 0, a neighbour, or anything.
                if let Some(at) = frame.filter(|at| at + 3 <= len) {
                    let ch: u16 = match rng.below(3) {
                        0 => 0,
                        1 => 1 + rng.below(3) as u16,
                        _ => rng.next() as u16,
                    };
                    data[at + 1..at + 3].copy_from_slice(&ch.to_be_bytes());
                }
            }
            7 if span > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                data.drain(at..end);
            }
            8 if len > 0 => {
                // Repeat a stretch (a frame, or part of one) from anywhere.
                let from = rng.below(len);
                let end = (from + 1 + rng.below(64)).min(len);
                let copy = data[from..end].to_vec();
                data.splice(to..to, copy);
            }
            _ => {
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                data.splice(to..to, bytes);
            }
        }
    }
    data
}

fn random_bytes(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let n = rng.below(300);
    let mut data: Vec<u8> = match rng.below(3) {
        // Past the protocol header, or the whole handshake, so the noise
        // reaches the handshake and the read loop too.
        0 => seeds[0][..8].to_vec(),
        1 => seeds[0].clone(),
        _ => Vec::new(),
    };
    data.extend((0..n).map(|_| rng.byte()));
    data
}

/// Runs one input; whether it got past the handshake.
fn run_case(case: u32, data: &[u8]) -> bool {
    match catch_unwind(AssertUnwindSafe(|| exercise(data))) {
        Ok(r) => r.is_open(),
        Err(_) => panic!(
            "case {case} panicked; input ({} octets): {data:?}",
            data.len()
        ),
    }
}

#[test]
fn receive_path_survives_seeded_mutations() {
    let seeds: Vec<Vec<u8>> = seed_streams().into_iter().map(|(_, s)| s).collect();
    for s in &seeds {
        assert!(run_case(0, s));
    }
    let mut rng = Rng(SEED);
    let mut open = 0;
    for case in 1..=CASES {
        let data = if case % 4 == 0 {
            random_bytes(&mut rng, &seeds)
        } else {
            mutate(&mut rng, &seeds)
        };
        open += u32::from(run_case(case, &data));
    }
    // Guard against a generator that no longer gets past the handshake (a
    // changed seed, say): then the read loop would go untested.
    assert!(
        open > CASES / 2,
        "only {open} of {CASES} cases reached the read loop"
    );
}

#[test]
fn committed_seed_corpus_is_current() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/frames");
    let write = std::env::var_os("WARREN_WRITE_FUZZ_SEEDS").is_some();
    for (name, bytes) in seed_streams() {
        let path = dir.join(format!("seed-{name}"));
        if write {
            std::fs::create_dir_all(&dir).expect("create the corpus directory");
            std::fs::write(&path, &bytes).expect("write a seed");
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "{} is missing or stale; regenerate with WARREN_WRITE_FUZZ_SEEDS=1",
            path.display()
        );
    }
}
