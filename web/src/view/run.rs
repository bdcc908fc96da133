//! Running the scenario: the step/back/play controls, the event log and the
//! `rabbitmqctl list_queues`-style inspector. All three only read the simulation;
//! changes go through the reducer so Back can always restore a snapshot.

use crate::state::{AppState, Msg};
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
    let finished = state.finished();
    html! {
        <div class="controls" role="toolbar" aria-label="Run controls">
            <button onclick={send(|| Msg::Step)} disabled={finished}>{ "Step" }</button>
            <button onclick={send(|| Msg::Back)} disabled={state.snapshots.is_empty()}>{ "Back" }</button>
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
            <span class="clock" aria-live="polite">
                { format!("t = {} ms · {} steps", state.sim.now(), state.snapshots.len()) }
                { if finished { " · finished" } else { "" } }
            </span>
        </div>
    }
}

/// The trace, newest at the bottom; lines from the latest step are highlighted.
#[component]
pub fn Log(props: &RunProps) -> Html {
    const SHOWN: usize = 400;
    let state = &props.state;
    let list = use_node_ref();
    let trace = state.sim.trace();
    let fresh_from = trace.len() - state.new_lines();
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
                    html! { <li {class}>{ line.render() }</li> }
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
            }
        </section>
    }
}
