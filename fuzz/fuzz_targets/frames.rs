//! Arbitrary bytes from a "client", through the server's whole receive path:
//! protocol header, handshake, frame decoding with the negotiated
//! `frame_max`, channel-0 methods and per-channel content assembly. See
//! `warren_server::codec::fuzz` for what is checked besides "no panic".

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    warren_server::codec::fuzz::exercise(data);
});
