//! The Warren playground: design a topology as a diagram, then run the deterministic
//! broker core (warren-core) on it step by step in the browser.
//!
//! Layers, from pure to browser-bound: [`model`] derives the diagram from a
//! `Scenario`, [`edit`] changes the scenario, [`state`] is the reducer (undo history,
//! simulation snapshots), [`share`] encodes scenarios for links; `io` and `view` touch
//! the DOM. The pure layers are tested natively with `cargo test -p warren-web`.

pub mod anim;
pub mod edit;
pub mod example;
pub mod import;
pub mod io;
pub mod lessons;
pub mod live;
pub mod model;
pub mod share;
pub mod state;
pub mod testgen;
pub mod view;

pub use warren_core;

/// Mounts the app on `<body>` when the wasm module is instantiated.
// Only for the browser: natively (tests, clippy) there is no document to mount on.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    // `#bench` is the frame-rate benchmark page (tests/e2e/bench.mjs), not the app.
    let hash = web_sys::window().and_then(|w| w.location().hash().ok());
    if hash.as_deref() == Some("#bench") {
        yew::Renderer::<view::Bench>::new().render();
    } else {
        yew::Renderer::<view::App>::new().render();
    }
}
