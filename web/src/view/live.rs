//! Live mode: the real broker of the `warren serve` that served the page, drawn with
//! the simulator's diagram pieces (read-only) and animated from its event stream.
//!
//! Events are applied to the [`World`] as they arrive but animated in batches (every
//! [`FLUSH_MS`]): one set of dots per batch, so a busy broker does not restart the
//! animation on every message. Queue figures follow the events at once and are settled
//! by `GET /api/queues` at most once a second ([`REFRESH_TICKS`]), since events alone
//! cannot tell, e.g., an auto-ack delivery from a manual one.

use super::canvas::{edge_path, node_body, px, VIEW_H, VIEW_W};
use super::flights::{Dot, Flights};
use crate::live::{self, Incoming, LiveQueue, World};
use crate::model::{self, EdgeKind, Kind, Node, NodeId};
use std::cell::Cell;
use std::rc::Rc;
use warren_core::events::Event;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, HtmlInputElement, MessageEvent, WebSocket};
use yew::prelude::*;

/// How often arrived events are animated, in ms.
const FLUSH_MS: u32 = 300;
/// Queue figures are re-read every this many flushes while events arrive.
const REFRESH_TICKS: u32 = 3;
/// The log keeps this many lines.
const LOG_MAX: usize = 400;

#[derive(Clone, Default, PartialEq)]
struct LiveState {
    world: World,
    connected: bool,
    log: Vec<String>,
    /// Events not yet animated.
    pending: Vec<Event>,
    /// The batch being animated, and its number (restarts the dots).
    fresh: Rc<Vec<Event>>,
    batch: u64,
    status: String,
}

enum LiveMsg {
    Incoming(Incoming),
    Flush,
    Queues(Vec<LiveQueue>),
    Closed(String),
    Status(String),
}

impl LiveState {
    fn log(&mut self, line: String) {
        self.log.push(line);
        if self.log.len() > LOG_MAX {
            let extra = self.log.len() - LOG_MAX;
            self.log.drain(..extra);
        }
    }
}

impl Reducible for LiveState {
    type Action = LiveMsg;

    fn reduce(self: Rc<Self>, msg: LiveMsg) -> Rc<Self> {
        if matches!(msg, LiveMsg::Flush) && self.pending.is_empty() {
            // Same state: no re-render for an idle tick.
            return self;
        }
        let mut s = (*self).clone();
        match msg {
            LiveMsg::Incoming(Incoming::Snapshot(snap)) => {
                s.world = World::from_snapshot(snap);
                s.connected = true;
                s.status = "Connected: showing the broker's vhost / as it is now.".to_string();
            }
            LiveMsg::Incoming(Incoming::Event(e)) => {
                s.world.apply(&e);
                s.log(e.describe());
                s.pending.push(*e);
            }
            LiveMsg::Incoming(Incoming::Lagged(n)) => s.log(format!(
                "({n} events skipped: the page fell behind the broker)"
            )),
            LiveMsg::Incoming(Incoming::Unknown(why)) => {
                s.log(format!("(an unreadable message from the server: {why})"))
            }
            LiveMsg::Flush => {
                s.world.flush();
                s.fresh = Rc::new(std::mem::take(&mut s.pending));
                s.batch += 1;
            }
            LiveMsg::Queues(queues) => s.world.set_queues(queues),
            LiveMsg::Closed(why) => {
                s.connected = false;
                s.status = why;
            }
            LiveMsg::Status(status) => s.status = status,
        }
        Rc::new(s)
    }
}

/// An open event socket; dropping it closes the socket and detaches its handlers.
struct Socket {
    ws: WebSocket,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

/// The socket's address on the page's own host, with the credentials in `?auth=`
/// (browsers cannot set headers on a WebSocket).
fn socket_url(events: &str, auth: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().ok()?;
    let auth = String::from(js_sys::encode_uri_component(auth));
    Some(format!("{scheme}://{host}{events}?auth={auth}"))
}

fn open(
    events: &str,
    auth: &str,
    state: &UseReducerHandle<LiveState>,
    dirty: &Rc<Cell<bool>>,
) -> Result<Socket, String> {
    let url = socket_url(events, auth).ok_or("the page has no address")?;
    let ws = WebSocket::new(&url).map_err(|_| format!("could not open {events}"))?;
    let on_message = {
        let (state, dirty) = (state.clone(), dirty.clone());
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                let incoming = live::read(&text);
                if matches!(incoming, Incoming::Event(_)) {
                    dirty.set(true);
                }
                state.dispatch(LiveMsg::Incoming(incoming));
            }
        })
    };
    let on_close = {
        let state = state.clone();
        Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            let why = if state.connected {
                format!("The server closed the event stream (code {}).", e.code())
            } else {
                "Not connected: the server refused the stream. Live mode needs an \
                 administrator's user name and password."
                    .to_string()
            };
            state.dispatch(LiveMsg::Closed(why));
        })
    };
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    Ok(Socket {
        ws,
        _on_message: on_message,
        _on_close: on_close,
    })
}

fn figures(world: &World, node: &Node) -> Vec<String> {
    match (&node.id, node.kind) {
        (NodeId::Queue(q), _) => match world.queues.iter().find(|x| &x.name == q) {
            Some(q) => vec![format!(
                "ready {} · unacked {}",
                q.messages_ready, q.messages_unacknowledged
            )],
            None => Vec::new(),
        },
        (NodeId::Exchange(x), _) => world
            .exchanges
            .iter()
            .find(|(n, _)| n == x)
            .map(|(_, kind)| vec![kind.clone()])
            .unwrap_or_default(),
        (NodeId::Client(name), Kind::Consumer) => {
            let got = world
                .consumers
                .iter()
                .find(|c| &world.consumer_name(c.conn, &c.consumer_tag) == name)
                .map_or(0, |c| {
                    live::count(&world.got, &(c.conn, c.consumer_tag.clone()))
                });
            vec![format!("got {got}")]
        }
        (NodeId::Client(name), _) => {
            let sent: u64 = world
                .publishers
                .iter()
                .filter(|p| &World::publisher_name(p.0) == name)
                .map(|p| live::count(&world.sent, &p.0))
                .sum();
            vec![format!("sent {sent}")]
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct LiveProps {
    /// The event socket's path, from `GET /api/warren`.
    pub events: AttrValue,
}

#[component]
pub fn Live(props: &LiveProps) -> Html {
    let state = use_reducer(LiveState::default);
    let user = use_state(|| "guest".to_string());
    let password = use_state(|| "guest".to_string());
    let socket = use_mut_ref(|| None::<Socket>);
    let auth = use_mut_ref(String::new);
    // Set by the socket when an event arrives; the timer re-reads queues when set.
    let dirty: Rc<Cell<bool>> = use_memo((), |_| Cell::new(false));
    let list = use_node_ref();
    {
        let list = list.clone();
        use_effect_with(state.log.len(), move |_| {
            if let Some(el) = list.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }

    // The flush and refresh timer runs while connected; leaving live mode (unmount)
    // drops the socket, which closes it.
    {
        let (state, auth, dirty) = (state.clone(), auth.clone(), dirty.clone());
        use_effect_with(state.connected, move |&connected| {
            let ticks = Rc::new(Cell::new(0u32));
            let timer = connected.then(|| {
                gloo::timers::callback::Interval::new(FLUSH_MS, move || {
                    state.dispatch(LiveMsg::Flush);
                    ticks.set(ticks.get() + 1);
                    if ticks.get() % REFRESH_TICKS == 0 && dirty.replace(false) {
                        let (state, auth) = (state.clone(), auth.borrow().clone());
                        wasm_bindgen_futures::spawn_local(async move {
                            let got = crate::io::fetch_text("/api/queues", Some(&auth)).await;
                            if let Some(queues) = got.ok().and_then(|t| live::read_queues(&t)) {
                                state.dispatch(LiveMsg::Queues(queues));
                            }
                        });
                    }
                })
            });
            move || drop(timer)
        });
    }
    {
        let socket = socket.clone();
        use_effect_with((), move |_| move || drop(socket.borrow_mut().take()));
    }

    let connect = {
        let (state, socket, auth, dirty) = (state.clone(), socket.clone(), auth.clone(), dirty);
        let (user, password, events) = (user.clone(), password.clone(), props.events.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            drop(socket.borrow_mut().take());
            let Some(window) = web_sys::window() else {
                return;
            };
            let Ok(encoded) = window.btoa(&format!("{}:{}", *user, *password)) else {
                state.dispatch(LiveMsg::Status(
                    "The user name and password must be plain Latin-1 text.".to_string(),
                ));
                return;
            };
            *auth.borrow_mut() = encoded.clone();
            match open(&events, &encoded, &state, &dirty) {
                Ok(s) => {
                    *socket.borrow_mut() = Some(s);
                    state.dispatch(LiveMsg::Status(format!("Connecting as {}…", *user)));
                }
                Err(why) => state.dispatch(LiveMsg::Status(format!("Not connected: {why}."))),
            }
        })
    };
    let text_input = |value: &UseStateHandle<String>| {
        let value = value.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                value.set(input.value());
            }
        })
    };

    let scenario = state.world.scenario();
    let nodes = model::nodes(&scenario);
    let edges = model::edges(&scenario, &nodes);
    let world = &state.world;
    let dots: Rc<Vec<Dot>> = Rc::new(
        crate::anim::event_flights(
            &mut state.fresh.iter(),
            &|conn, tag| world.node_of(conn, tag),
            &nodes,
            &edges,
        )
        .into_iter()
        .map(|f| Dot {
            hops: f.hops,
            class: f.look.class(),
        })
        .collect(),
    );
    let find = |id: &NodeId| nodes.iter().find(|n| &n.id == id);

    html! {
        <>
            <main class="stage">
                <svg class="canvas live" role="group" aria-label="Live diagram"
                    viewBox={format!("0 0 {} {}", px(VIEW_W), px(VIEW_H))} preserveAspectRatio="xMinYMin meet">
                    <defs>
                        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse">
                            <path d="M0,0 L10,5 L0,10 z" />
                        </marker>
                    </defs>
                    { for edges.iter().filter_map(|e| {
                        let (from, to) = (find(&e.from)?, find(&e.to)?);
                        let (d, (lx, ly)) = edge_path(from, to);
                        let kind = match e.kind {
                            EdgeKind::Publish => "edge publish",
                            EdgeKind::Consume => "edge consume",
                            _ => "edge binding",
                        };
                        Some(html! {
                            <g class={kind} aria-hidden="true">
                                <path class="line" {d} marker-end="url(#arrow)" />
                                <text class="edge-label" x={px(lx)} y={px(ly)}>{ e.label.clone() }</text>
                            </g>
                        })
                    }) }
                    { for nodes.iter().map(|n| html! {
                        <g class={classes!("node", n.kind.word())} role="group" aria-label={n.aria_label()}
                            transform={format!("translate({},{})", px(n.x), px(n.y))}>
                            { node_body(n, figures(world, n)) }
                        </g>
                    }) }
                    <Flights {dots} token={state.batch} hop_ms={250.0} />
                </svg>
                <p class="note">{ "Live: vhost / of this server, as it happens (read-only)." }</p>
            </main>
            <aside class="panel" aria-label="Live connection">
                <h2>{ "Live broker" }</h2>
                <form class="live-login" onsubmit={connect}>
                    <label>{ "User" }
                        <input value={(*user).clone()} aria-label="User" autocomplete="username" oninput={text_input(&user)} />
                    </label>
                    <label>{ "Password" }
                        <input type="password" value={(*password).clone()} aria-label="Password"
                            autocomplete="current-password" oninput={text_input(&password)} />
                    </label>
                    <button type="submit">{ if state.connected { "Reconnect" } else { "Connect" } }</button>
                </form>
                <p class="live-status" role="status">{ state.status.clone() }</p>
            </aside>
            <section class="log-section" aria-label="Event log">
                <h2>{ "Event log (live)" }</h2>
                <ol class="log" ref={list}>
                    { for state.log.iter().map(|l| html! { <li>{ l.clone() }</li> }) }
                </ol>
            </section>
            <section class="inspector" aria-label="Queues">
                <table>
                    <thead><tr>
                        <th>{ "name" }</th><th>{ "messages_ready" }</th>
                        <th>{ "messages_unacknowledged" }</th><th>{ "consumers" }</th>
                    </tr></thead>
                    <tbody>
                        { for world.queues.iter().map(|q| html! {
                            <tr>
                                <td>{ q.name.clone() }</td>
                                <td>{ q.messages_ready }</td>
                                <td>{ q.messages_unacknowledged }</td>
                                <td>{ q.consumers }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </section>
        </>
    }
}
