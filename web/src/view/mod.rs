//! Yew components. Each takes the reducer handle as its only prop: the state's
//! `revision` makes prop comparison one integer compare, so components re-render
//! exactly when something changed.

mod app;
mod canvas;
mod fields;
mod flights;
mod lesson;
mod live;
mod panel;
mod run;

pub use app::App;
pub use flights::Bench;
