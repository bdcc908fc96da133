//! The browser playground. For now it only links the core so the wasm build of the
//! whole stack is exercised; the Yew application comes with the playground issue.

pub use warren_core;
