//! Running the scenario: the step/back/play controls, the event log and the
//! `rabbitmqctl list_queues`-style inspector. All three only read the simulation;
//! changes go through the reducer so Back can always restore a snapshot.

use crate::model::NodeId;
use crate::state::{AppState, Detail, Msg, Selection};
use warren_core::scenario::{Action, Step};
use warren_core::sim::{Observation, TraceLine};
use warren_core::{BasicProperties, FieldValue};
use web_sys::{Element, HtmlInputElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RunProps {
    pub state: UseReducerHandle<AppState>,
}

#[component]
pub fn Controls(props: &RunProps) -> Html {
    let state = &props.state;
    let send = |msg: fn() -> Msg| {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(msg()))
    };
    let onspeed = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                if let Ok(speed) = input.value().parse() {
                    state.dispatch(Msg::SetSpeed(speed));
                }
            }
        })
    };
    let onseek = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                if let Ok(index) = input.value().parse() {
                    state.dispatch(Msg::Seek(index));
                }
            }
        })
    };
    let inject = |client: Option<String>, action: fn() -> Action| {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            state.dispatch(Msg::Inject(Step {
                at: state.sim.now(),
                client: client.clone(),
                action: action(),
            }))
        })
    };
    // Kill needs a client: the selected producer or consumer.
    let victim = match &state.selected {
        Some(Selection::Node(NodeId::Client(c))) => Some(c.clone()),
        _ => None,
    };
    let kill_title = match &victim {
        Some(c) => format!("Crash {c}'s connection now: its unacked messages are requeued"),
        None => "Select a producer or consumer first".to_string(),
    };
    let (at, known) = state.position();
    let finished = state.finished();
    html! {
        <div class="controls" role="toolbar" aria-label="Run controls">
            <button onclick={send(|| Msg::Step)} disabled={finished}
                title="Show the next event log line; figures update per broker step">{ "Step" }</button>
            <button onclick={send(|| Msg::Back)} disabled={state.shown == 0}>{ "Back" }</button>
            <button onclick={send(|| Msg::TogglePlay)} disabled={finished && !state.playing}
                aria-pressed={ if state.playing { "true" } else { "false" } }>
                { if state.playing { "Pause" } else { "Play" } }
            </button>
            <button onclick={send(|| Msg::Reset)}>{ "Reset" }</button>
            <label class="speed">
                <span>{ "Speed" }</span>
                <input type="range" min="1" max="20" value={state.speed.to_string()} aria-label="Speed" oninput={onspeed} />
                <span class="speed-value">{ format!("{} steps/s", state.speed) }</span>
            </label>
            <button onclick={inject(None, || Action::Restart)}
                title="Restart the broker now: only durable queues and persistent messages survive">{ "Restart broker" }</button>
            <button onclick={inject(victim.clone(), || Action::Crash)} disabled={victim.is_none()} title={kill_title}>
                { "Kill connection" }</button>
            <label class="timeline">
                <span>{ "Timeline" }</span>
                <input type="range" min="0" max={known.to_string()} value={at.to_string()} aria-label="Timeline"
                    aria-valuetext={format!("step {at} of {known}, t = {} ms", state.sim.now())} oninput={onseek} />
            </label>
            <span class="clock" aria-live="polite">
                { format!("t = {} ms · {} steps", state.sim.now(), state.snapshots.len()) }
                { if finished { " · finished" } else { "" } }
            </span>
        </div>
    }
}

/// The trace up to the cursor, newest at the bottom; the line at the cursor is highlighted.
#[component]
pub fn Log(props: &RunProps) -> Html {
    const SHOWN: usize = 400;
    let state = &props.state;
    let list = use_node_ref();
    let trace = state.lines();
    let fresh_from = trace.len().saturating_sub(1);
    let first = trace.len().saturating_sub(SHOWN);
    {
        let list = list.clone();
        use_effect_with(trace.len(), move |_| {
            if let Some(el) = list.cast::<Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    html! {
        <section class="log-section" aria-label="Event log">
            <h2>{ "Event log" }</h2>
            <ol class="log" ref={list} start={(first + 1).to_string()}>
                { for trace[first..].iter().enumerate().map(|(i, line)| {
                    let class = classes!((first + i >= fresh_from).then_some("new"));
                    let message = matches!(line, TraceLine::Client(o)
                        if matches!(**o, Observation::Delivered { .. } | Observation::Got { .. }));
                    if message {
                        let state = state.clone();
                        let index = first + i;
                        let onclick = Callback::from(move |_: MouseEvent| {
                            state.dispatch(Msg::ShowDetail(Some(Detail::Trace(index))))
                        });
                        html! { <li {class}><button class="log-line" {onclick}>{ line.render() }</button></li> }
                    } else {
                        html! { <li {class}>{ line.render() }</li> }
                    }
                }) }
            </ol>
        </section>
    }
}

#[component]
pub fn Inspector(props: &RunProps) -> Html {
    let queues = props.state.sim.broker().queues();
    html! {
        <section class="inspector" aria-label="Queues">
            <h2><code>{ "rabbitmqctl list_queues name messages_ready messages_unacknowledged consumers" }</code></h2>
            <table>
                <thead><tr>
                    <th>{ "name" }</th><th>{ "messages_ready" }</th>
                    <th>{ "messages_unacknowledged" }</th><th>{ "consumers" }</th>
                </tr></thead>
                <tbody>
                    { for queues.iter().map(|q| html! {
                        <tr>
                            <td>{ q.name.clone() }</td>
                            <td>{ q.messages_ready }</td>
                            <td>{ q.messages_unacknowledged }</td>
                            <td>{ q.consumers }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            if queues.is_empty() {
                <p class="note">{ "No queues yet: step to declare the topology." }</p>
            } else {
                <h2>{ "Message counts, as the management UI shows them (" }<code>{ "message_stats" }</code>{ ")" }</h2>
                <table aria-label="Message counts">
                    <thead><tr>
                        <th>{ "name" }</th><th>{ "publish" }</th><th>{ "deliver_get" }</th>
                        <th>{ "redeliver" }</th><th>{ "ack" }</th>
                    </tr></thead>
                    <tbody>
                        { for queues.iter().map(|q| {
                            let s = &q.message_stats;
                            html! {
                                <tr data-queue={q.name.clone()}>
                                    <td>{ q.name.clone() }</td>
                                    <td>{ s.publish }</td>
                                    <td>{ s.deliver_get() }</td>
                                    <td>{ s.redeliver }</td>
                                    <td>{ s.ack }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
        </section>
    }
}

/// A property row, when the property is set.
fn prop(rows: &mut Vec<(String, String)>, name: &str, value: Option<String>) {
    if let Some(v) = value {
        rows.push((name.to_string(), v));
    }
}

/// The rows of the detail view for a message's properties; headers one per row,
/// with `x-death` spelled out since it is what dead-lettering lessons are about.
fn property_rows(p: &BasicProperties) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    prop(&mut rows, "content_type", p.content_type.clone());
    prop(&mut rows, "content_encoding", p.content_encoding.clone());
    prop(
        &mut rows,
        "delivery_mode",
        p.delivery_mode.map(|m| match m {
            2 => "2 (persistent)".to_string(),
            m => format!("{m} (transient)"),
        }),
    );
    prop(&mut rows, "priority", p.priority.map(|v| v.to_string()));
    prop(&mut rows, "correlation_id", p.correlation_id.clone());
    prop(&mut rows, "reply_to", p.reply_to.clone());
    prop(&mut rows, "expiration", p.expiration.clone());
    prop(&mut rows, "message_id", p.message_id.clone());
    if let Some(headers) = &p.headers {
        for (k, v) in &headers.0 {
            let shown = match (k.as_str(), v) {
                ("x-death", FieldValue::Array(deaths)) => deaths
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => v.to_string(),
            };
            rows.push((format!("headers.{k}"), shown));
        }
    }
    rows
}

/// The message the user clicked (in a queue's stack or the log): body, routing,
/// properties, headers, redelivered, x-death.
#[component]
pub fn MessageDetail(props: &RunProps) -> Html {
    let state = &props.state;
    let Some(detail) = &state.detail else {
        return html! {};
    };
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
    let title;
    let props_rows = match detail {
        Detail::Queued { queue, index } => {
            let broker = state.sim.broker();
            let entries = broker.peek_messages("/", queue);
            let Some(e) = entries.get(*index) else {
                return html! {};
            };
            title = format!(
                "Message #{} in '{queue}' (position {})",
                e.msg_id(),
                index + 1
            );
            row(
                "body",
                format!("{:?}", String::from_utf8_lossy(e.message.body())),
            );
            row(
                "exchange",
                crate::model::exchange_label(e.message.exchange()),
            );
            row("routing_key", e.message.routing_key().to_string());
            row("redelivered", e.redelivered.to_string());
            row("delivery_count", e.delivery_count.to_string());
            row("enqueued_at", format!("{} ms", e.message.published_at()));
            if let Some(t) = broker.expiry_in("/", queue, &e.message) {
                row("expires_at", format!("{t} ms"));
            }
            property_rows(&e.message.properties())
        }
        Detail::Trace(i) => match state.sim.trace().get(*i) {
            Some(TraceLine::Client(o)) => match &**o {
                Observation::Delivered {
                    at,
                    client,
                    consumer_tag,
                    queue,
                    delivery_tag,
                    redelivered,
                    exchange,
                    routing_key,
                    body,
                    properties,
                } => {
                    title = format!("Delivery to {client} at {at} ms");
                    row("body", format!("{body:?}"));
                    row("queue", queue.clone());
                    row("consumer_tag", consumer_tag.clone());
                    row("delivery_tag", delivery_tag.to_string());
                    row("redelivered", redelivered.to_string());
                    row("exchange", crate::model::exchange_label(exchange));
                    row("routing_key", routing_key.clone());
                    property_rows(properties)
                }
                Observation::Got {
                    at,
                    client,
                    queue,
                    delivery_tag,
                    redelivered,
                    exchange,
                    routing_key,
                    body,
                    properties,
                    ..
                } => {
                    title = format!("basic.get by {client} at {at} ms");
                    row("body", format!("{body:?}"));
                    row("queue", queue.clone());
                    row("delivery_tag", delivery_tag.to_string());
                    row("redelivered", redelivered.to_string());
                    row("exchange", crate::model::exchange_label(exchange));
                    row("routing_key", routing_key.clone());
                    property_rows(properties)
                }
                _ => return html! {},
            },
            _ => return html! {},
        },
    };
    rows.extend(props_rows);
    let close = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(Msg::ShowDetail(None)))
    };
    html! {
        <section class="detail" aria-label="Message details">
            <div class="detail-head">
                <h2>{ title }</h2>
                <button onclick={close} aria-label="Close message details">{ "×" }</button>
            </div>
            <table>
                { for rows.into_iter().map(|(k, v)| html! {
                    <tr><th>{ k }</th><td>{ v }</td></tr>
                }) }
            </table>
        </section>
    }
}
