//! The page: header with file and history actions, palette, diagram, side panel,
//! run controls, event log and inspector. Owns the effects that touch the outside
//! world (autosave, the play timer), so the reducer stays pure and testable.

use super::canvas::Canvas;
use super::flights::Legend;
use super::lesson::Tutorials;
use super::live::Live;
use super::panel::Panel;
use super::run::{Controls, Inspector, Log, MessageDetail};
use crate::edit;
use crate::io;
use crate::model::NodeId;
use crate::state::{AppState, Msg, Selection};
use gloo::file::callbacks::FileReader;
use gloo::timers::callback::Interval;
use warren_core::scenario::{self, Scenario};
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[component]
pub fn App() -> Html {
    let state = use_reducer(|| {
        let (scenario, status) = io::initial();
        AppState::new(scenario, status)
    });
    let share_url = use_state(String::new);
    let tutorials = use_state(|| false);
    let reader = use_mut_ref(|| None::<FileReader>);
    // The event socket's path once the server that served the page said it is live.
    let live_events = use_state(|| None::<AttrValue>);
    let live = use_state(|| false);

    {
        let (live_events, state) = (live_events.clone(), state.clone());
        use_effect_with((), move |_| {
            io::mark_ready();
            wasm_bindgen_futures::spawn_local(async move {
                match io::open_packed_link().await {
                    Some(Ok(s)) => {
                        state.dispatch(Msg::Load(s, "Opened the scenario from the link.".into()))
                    }
                    Some(Err(e)) => {
                        state.dispatch(Msg::Status(format!("Could not open the link: {e}")))
                    }
                    None => {}
                }
            });
            // Only a page served by `warren serve` carries the tag; probing
            // /api/warren without it would log a 404 on every static host.
            if let Some(url) = io::live_meta() {
                wasm_bindgen_futures::spawn_local(async move {
                    let text = io::fetch_text(&url, None).await.ok();
                    if let Some(events) = text.and_then(|t| crate::live::server_events(&t)) {
                        live_events.set(Some(events.into()));
                    }
                });
            }
        });
    }

    {
        let scenario = state.scenario.clone();
        use_effect_with(scenario, |s| io::autosave(s));
    }
    {
        let state = state.clone();
        use_effect_with((state.playing, state.speed), move |&(playing, speed)| {
            let timer = playing.then(|| {
                let period = 1000 / speed.max(1);
                Interval::new(period, move || state.dispatch(Msg::Step))
            });
            move || drop(timer)
        });
    }

    let add = |f: fn(&mut Scenario) -> NodeId, what: &'static str| {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let mut scenario = (*state.scenario).clone();
            let id = f(&mut scenario);
            state.dispatch(Msg::Edit {
                scenario,
                select: Some(Selection::Node(id)),
                status: format!("Added a {what}."),
            });
        })
    };
    let send = |msg: fn() -> Msg| {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(msg()))
    };
    let delete = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let mut scenario = (*state.scenario).clone();
            let done = match &state.selected {
                Some(Selection::Node(id)) => edit::delete_node(&mut scenario, id),
                Some(Selection::Binding(i)) => edit::delete_binding(&mut scenario, *i),
                None => Err("select a box or a binding first".to_string()),
            };
            match done {
                Ok(()) => state.dispatch(Msg::Edit {
                    scenario,
                    select: None,
                    status: "Deleted.".to_string(),
                }),
                Err(why) => state.dispatch(Msg::Status(format!("Not deleted: {why}."))),
            }
        })
    };
    let export = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let status = match io::export(&state.scenario) {
                Ok(()) => "Exported the scenario as JSON.".to_string(),
                Err(why) => format!("Export failed: {why}."),
            };
            state.dispatch(Msg::Status(status));
        })
    };
    let export_test = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let status = match io::export_test(&state.scenario) {
                Ok(n) => format!(
                    "Exported the scenario as a test with {n} expectations from its run; \
                     `warren scenario check` runs it."
                ),
                Err(why) => format!("Export as test failed: {why}."),
            };
            state.dispatch(Msg::Status(status));
        })
    };
    let export_pika = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let status = match io::export_pika(&state.scenario).await {
                    Ok(()) => "Exported the scenario as a pika script; run it with \
                               `python3 FILE.py amqp://…` against a real broker."
                        .to_string(),
                    Err(why) => format!("Export as pika script failed: {why}."),
                };
                state.dispatch(Msg::Status(status));
            });
        })
    };
    let import = {
        let (state, reader) = (state.clone(), reader.clone());
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<HtmlInputElement>() else {
                return;
            };
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                return;
            };
            // Lets the same file be chosen again after fixing it.
            input.set_value("");
            let file = gloo::file::File::from(file);
            let name = file.name();
            let state = state.clone();
            let task = gloo::file::callbacks::read_as_text(&file, move |text| {
                let msg = match text {
                    Err(e) => Msg::Status(format!("Could not read {name}: {e}")),
                    Ok(text) => match crate::import::as_definitions(&text) {
                        Some(defs) => {
                            let stem = name.trim_end_matches(".json");
                            match crate::import::definitions(&defs, stem) {
                                Ok(i) => Msg::Load(
                                    i.scenario,
                                    format!(
                                        "Imported RabbitMQ definitions from {name}: {}.",
                                        i.summary
                                    ),
                                ),
                                Err(e) => Msg::Status(format!(
                                    "{name} looks like RabbitMQ definitions but could not be read: {e}"
                                )),
                            }
                        }
                        None => match scenario::parse(&text) {
                            Ok(s) => Msg::Load(s, format!("Imported {name}.")),
                            Err(e) => Msg::Status(format!("{name} is not a valid scenario {e}")),
                        },
                    },
                };
                state.dispatch(msg);
            });
            *reader.borrow_mut() = Some(task);
        })
    };
    let share = {
        let (state, share_url) = (state.clone(), share_url.clone());
        Callback::from(move |_: MouseEvent| {
            let (state, share_url) = (state.clone(), share_url.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match io::share(&state.scenario).await {
                    Ok(url) => {
                        share_url.set(url);
                        state.dispatch(Msg::Status(
                            "The link in the address bar now opens this scenario.".to_string(),
                        ));
                    }
                    Err(why) => state.dispatch(Msg::Status(format!("Share failed: {why}."))),
                }
            });
        })
    };

    let toggle_tutorials = {
        let tutorials = tutorials.clone();
        Callback::from(move |_: MouseEvent| tutorials.set(!*tutorials))
    };
    let close_tutorials = {
        let tutorials = tutorials.clone();
        Callback::from(move |()| tutorials.set(false))
    };

    let toggle_live = {
        let live = live.clone();
        Callback::from(move |_: MouseEvent| live.set(!*live))
    };
    let live_button = live_events.is_some().then(|| html! {
        <button class="live-toggle" onclick={toggle_live} aria-pressed={live.to_string()}
            title="Show the real broker of this server instead of the simulation">{ "Live" }</button>
    });
    if let (true, Some(events)) = (*live, (*live_events).clone()) {
        return html! {
            <div class="app live">
                <header class="header">
                    <h1>{ "Warren" }<small>{ " · live broker" }</small></h1>
                    <div class="toolbar" role="toolbar" aria-label="Scenario">{ live_button }</div>
                </header>
                <p class="status">{ "Live mode: leave it with the Live button to return to your scenario." }</p>
                <Live {events} />
            </div>
        };
    }

    html! {
        <div class={classes!("app", tutorials.then_some("with-lesson"))}>
            <header class="header">
                <h1>{ "Warren" }<small>{ " · AMQP 0-9-1 playground" }</small></h1>
                <div class="toolbar" role="toolbar" aria-label="Scenario">
                    <button onclick={toggle_tutorials} aria-pressed={tutorials.to_string()}>{ "Tutorials" }</button>
                    <button onclick={send(|| Msg::Undo)} disabled={state.past.is_empty()}>{ "Undo" }</button>
                    <button onclick={send(|| Msg::Redo)} disabled={state.future.is_empty()}>{ "Redo" }</button>
                    <button onclick={delete} disabled={state.selected.is_none()}>{ "Delete" }</button>
                    { live_button }
                    <button onclick={export}>{ "Export" }</button>
                    <button onclick={export_test}
                        title="Download the scenario with expectations from its run, for warren scenario check">{ "Export as test" }</button>
                    <button onclick={export_pika}
                        title="Download a Python program (pika) that replays the scenario against a real broker and checks its expectations">{ "Export as pika script" }</button>
                    <label class="file-button">
                        <span>{ "Import" }</span>
                        <input type="file" accept=".json,application/json" aria-label="Import" onchange={import} />
                    </label>
                    <button onclick={share}>{ "Share" }</button>
                    if !share_url.is_empty() {
                        <input class="share-url" readonly=true aria-label="Share link" value={(*share_url).clone()} />
                    }
                </div>
            </header>
            <p class="status" role="status">{ state.status.clone() }</p>
            <nav class="palette" aria-label="Palette">
                <button onclick={add(edit::add_producer, "producer")}>{ "Add producer" }</button>
                <button onclick={add(edit::add_exchange, "exchange")}>{ "Add exchange" }</button>
                <button onclick={add(edit::add_queue, "queue")}>{ "Add queue" }</button>
                <button onclick={add(edit::add_consumer, "consumer")}>{ "Add consumer" }</button>
            </nav>
            <main class="stage">
                <Canvas state={state.clone()} />
                <Legend />
                <Controls state={state.clone()} />
                <MessageDetail state={state.clone()} />
            </main>
            if *tutorials {
                <Tutorials state={state.clone()} on_close={close_tutorials} />
            } else {
                <Panel state={state.clone()} />
            }
            <Log state={state.clone()} />
            <Inspector state={state.clone()} />
        </div>
    }
}
