//! Dots for messages in flight, moved with requestAnimationFrame.
//!
//! Yew renders the dots once per step; each animation frame then sets their
//! `transform` directly, without a re-render: a virtual-DOM diff of hundreds of dots
//! sixty times a second is what would make the animation stutter.

use crate::anim::{self, Hop};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

/// One dot: its curves and how it looks.
#[derive(Clone, Debug, PartialEq)]
pub struct Dot {
    pub hops: Vec<Hop>,
    pub class: &'static str,
}

#[derive(Properties, PartialEq)]
pub struct FlightsProps {
    pub dots: Rc<Vec<Dot>>,
    /// Changes when a new set of flights should start from the beginning.
    pub token: u64,
    pub hop_ms: f64,
    /// Fly forever, each dot offset in time (the benchmark); else fly once.
    #[prop_or_default]
    pub looping: bool,
    /// Measures frames per second over this many ms and reports it (the benchmark).
    #[prop_or_default]
    pub measure_ms: f64,
    #[prop_or_default]
    pub on_fps: Callback<f64>,
}

const HIDDEN: &str = "translate(-100,-100)";

/// The state of a running animation, shared by the frame callback and the cleanup.
struct Run {
    group: Element,
    dots: Rc<Vec<Dot>>,
    hop_ms: f64,
    looping: bool,
    start: Option<f64>,
    frames: u32,
    measure_ms: f64,
    on_fps: Callback<f64>,
    reported: bool,
}

impl Run {
    /// Moves every dot; returns whether another frame is needed.
    fn frame(&mut self, ts: f64) -> bool {
        let start = *self.start.get_or_insert(ts);
        let elapsed = ts - start;
        self.frames += 1;
        if self.measure_ms > 0.0 && !self.reported && elapsed >= self.measure_ms {
            self.reported = true;
            let fps = f64::from(self.frames - 1) * 1000.0 / elapsed;
            self.on_fps.emit(fps);
        }
        let children = self.group.children();
        let mut moving = false;
        for (i, dot) in self.dots.iter().enumerate() {
            let Some(el) = children.item(i as u32) else {
                break;
            };
            let total = self.hop_ms * dot.hops.len() as f64;
            let t = if self.looping && total > 0.0 {
                // Spread the dots over the loop so they do not move in lockstep.
                (elapsed + (i as f64 * 97.0) % total) % total
            } else {
                elapsed
            };
            let transform = match anim::position(&dot.hops, t, self.hop_ms) {
                Some((x, y)) => {
                    moving = true;
                    // Whole units: integer formatting keeps float printing out of the wasm.
                    format!("translate({},{})", x.round() as i32, y.round() as i32)
                }
                None => HIDDEN.to_string(),
            };
            let _ = el.set_attribute("transform", &transform);
        }
        moving || self.looping
    }
}

type FrameFn = Closure<dyn FnMut(f64)>;

#[component]
pub fn Flights(props: &FlightsProps) -> Html {
    let group = use_node_ref();
    {
        let group = group.clone();
        let (dots, hop_ms, looping) = (props.dots.clone(), props.hop_ms, props.looping);
        let (measure_ms, on_fps) = (props.measure_ms, props.on_fps.clone());
        use_effect_with(props.token, move |_| {
            let window = web_sys::window();
            let slot: Rc<RefCell<Option<FrameFn>>> = Rc::new(RefCell::new(None));
            let pending = Rc::new(Cell::new(None::<i32>));
            if let (Some(window), Some(el)) = (window.clone(), group.cast::<Element>()) {
                let mut run = Run {
                    group: el,
                    dots,
                    hop_ms,
                    looping,
                    start: None,
                    frames: 0,
                    measure_ms,
                    on_fps,
                    reported: false,
                };
                let (me, pending2, window2) = (slot.clone(), pending.clone(), window.clone());
                *slot.borrow_mut() = Some(Closure::new(move |ts: f64| {
                    pending2.set(None);
                    if run.frame(ts) {
                        if let Some(f) = me.borrow().as_ref() {
                            pending2.set(
                                window2
                                    .request_animation_frame(f.as_ref().unchecked_ref())
                                    .ok(),
                            );
                        }
                    }
                }));
                if let Some(f) = slot.borrow().as_ref() {
                    pending.set(
                        window
                            .request_animation_frame(f.as_ref().unchecked_ref())
                            .ok(),
                    );
                }
            }
            move || {
                // Cancel first: the browser must never call a closure that was dropped.
                if let (Some(window), Some(id)) = (window, pending.get()) {
                    let _ = window.cancel_animation_frame(id);
                }
                slot.borrow_mut().take();
            }
        });
    }
    html! {
        <g class="flights" ref={group} aria-hidden="true" pointer-events="none">
            { for props.dots.iter().map(|d| match d.class {
                "flight dead-letter" => html! {
                    <rect class={d.class} x="-6" y="-6" width="12" height="12" transform={HIDDEN} />
                },
                _ => html! { <circle class={d.class} r="6" transform={HIDDEN} /> },
            }) }
        </g>
    }
}

/// The legend for the dots.
#[component]
pub fn Legend() -> Html {
    html! {
        <ul class="legend" aria-label="Legend">
            <li><svg width="14" height="14" aria-hidden="true"><circle class="flight message" cx="7" cy="7" r="6" /></svg>{ "message" }</li>
            <li><svg width="14" height="14" aria-hidden="true"><circle class="flight redelivered" cx="7" cy="7" r="6" /></svg>{ "redelivered" }</li>
            <li><svg width="14" height="14" aria-hidden="true"><rect class="flight dead-letter" x="1" y="1" width="12" height="12" /></svg>{ "dead-lettered" }</li>
            <li><svg width="14" height="14" aria-hidden="true"><rect class="msg ready" x="3" y="1" width="8" height="12" /></svg>{ "ready (click for details)" }</li>
            <li><svg width="14" height="14" aria-hidden="true"><rect class="msg unacked" x="3" y="1" width="8" height="12" /></svg>{ "unacked" }</li>
        </ul>
    }
}

/// A number with one decimal, without pulling precision float formatting into the wasm.
fn tenths(v: f64) -> String {
    let t = (v * 10.0).round() as u64;
    format!("{}.{}", t / 10, t % 10)
}

/// `#bench`: 30 nodes and 300 messages flying in a loop; measures frames per second
/// over 3 s and shows it in an `output` named "fps" (read by tests/e2e/bench.mjs).
#[component]
pub fn Bench() -> Html {
    let fps = use_state(|| None::<f64>);
    let columns = [6usize, 8, 10, 6];
    let node_at = |col: usize, row: usize| -> (f64, f64) {
        (20.0 + col as f64 * 220.0, 10.0 + row as f64 * 46.0)
    };
    let mut boxes = Vec::new();
    for (col, &n) in columns.iter().enumerate() {
        for row in 0..n {
            boxes.push(node_at(col, row));
        }
    }
    let dots: Rc<Vec<Dot>> = Rc::new(
        (0..300)
            .map(|i| {
                let mut hops = Vec::new();
                for col in 0..3 {
                    let (a, b) = (
                        node_at(col, (i * (col + 1)) % columns[col]),
                        node_at(col + 1, (i * (col + 2)) % columns[col + 1]),
                    );
                    hops.push(Hop::from_points(
                        (a.0 + 120.0, a.1 + 18.0),
                        (b.0, b.1 + 18.0),
                    ));
                }
                let class = match i % 10 {
                    0 => "flight dead-letter",
                    1 | 2 => "flight redelivered",
                    _ => "flight message",
                };
                Dot { hops, class }
            })
            .collect(),
    );
    let edges: Vec<String> = dots
        .iter()
        .take(60)
        .flat_map(|d| d.hops.iter().map(Hop::path))
        .collect();
    let on_fps = {
        let fps = fps.clone();
        Callback::from(move |v: f64| fps.set(Some(v)))
    };
    html! {
        <div class="bench">
            <h1>{ "Warren playground benchmark: 30 nodes, 300 messages in flight" }</h1>
            <p>{ "Frames per second over 3 s: " }
                <output aria-label="fps">{ fps.map(tenths).unwrap_or_else(|| "measuring…".to_string()) }</output>
            </p>
            <svg class="canvas" viewBox="0 0 900 480">
                { for edges.iter().map(|d| html! { <path class="bench-edge" d={d.clone()} /> }) }
                { for boxes.iter().enumerate().map(|(i, (x, y))| html! {
                    <g class="node queue" transform={format!("translate({},{})", *x as i32, *y as i32)}>
                        <rect class="box" width="120" height="36" rx="6" />
                        <text class="title" x="8" y="22">{ format!("node {i}") }</text>
                    </g>
                }) }
                <Flights {dots} token={0} hop_ms={900.0} looping=true measure_ms={3000.0} {on_fps} />
            </svg>
        </div>
    }
}
