//! The side panel: the selected node's or binding's properties as a form.
//!
//! Each field turns into one edit of a copy of the scenario; a refused edit keeps the
//! scenario as it was and puts the reason beside the field (see `fields`).

use super::fields::{flag, CheckField, Commit, SelectField, TextField};
use crate::edit;
use crate::model::{self, Kind, NodeId};
use crate::state::{AppState, Msg, Selection};
use warren_core::scenario::{OnMessage, Scenario};
use warren_core::FieldValue;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PanelProps {
    pub state: UseReducerHandle<AppState>,
}

/// A field commit that edits a copy of the current scenario and keeps it on success.
fn editor(
    state: &UseReducerHandle<AppState>,
    apply: impl Fn(&mut Scenario, &str) -> Result<(), String> + 'static,
) -> Commit {
    let state = state.clone();
    Callback::from(move |text: String| {
        let mut scenario = (*state.scenario).clone();
        apply(&mut scenario, &text)?;
        state.dispatch(Msg::Edit {
            scenario,
            select: None,
            status: String::new(),
        });
        Ok(())
    })
}

/// Commit for a node's name: renames everywhere and keeps the node selected.
fn renamer(state: &UseReducerHandle<AppState>, id: &NodeId) -> Commit {
    let state = state.clone();
    let id = id.clone();
    Callback::from(move |text: String| {
        let mut scenario = (*state.scenario).clone();
        let new_id = edit::rename(&mut scenario, &id, text.trim())?;
        state.dispatch(Msg::Edit {
            scenario,
            select: Some(Selection::Node(new_id)),
            status: String::new(),
        });
        Ok(())
    })
}

fn options(items: &[&str]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|i| (i.to_string(), i.to_string()))
        .collect()
}

/// Exchanges a producer can publish to: the default one and the topology's.
fn exchange_options(s: &Scenario) -> Vec<(String, String)> {
    model::nodes(s)
        .into_iter()
        .filter_map(|n| match n.id {
            NodeId::Exchange(x) => Some((x.clone(), model::exchange_label(&x))),
            _ => None,
        })
        .collect()
}

fn queue_options(s: &Scenario) -> Vec<(String, String)> {
    model::nodes(s)
        .into_iter()
        .filter_map(|n| match n.id {
            NodeId::Queue(q) => Some((q.clone(), q)),
            _ => None,
        })
        .collect()
}

fn exchange_form(state: &UseReducerHandle<AppState>, name: &str) -> Html {
    if name.is_empty() {
        return html! {
            <p class="note">{ "The default exchange is a direct exchange every queue is bound to by its own name: \
                publish with routing key = queue name. It cannot be changed, bound or deleted." }</p>
        };
    }
    let Some(x) = state
        .scenario
        .topology
        .exchanges
        .iter()
        .find(|x| x.name == name)
    else {
        return html! { <p class="note">{ "Declared by a script step; edit the scenario JSON to change it." }</p> };
    };
    let id = NodeId::Exchange(name.to_string());
    let n = name.to_string();
    let with =
        move |f: fn(&mut warren_core::scenario::ExchangeSpec, &str) -> Result<(), String>| {
            let n = n.clone();
            editor(state, move |s, text| {
                let x = s
                    .topology
                    .exchanges
                    .iter_mut()
                    .find(|x| x.name == n)
                    .ok_or("the exchange is gone")?;
                f(x, text)
            })
        };
    let ae = edit::arg_text(&x.arguments, "alternate-exchange");
    html! {
        <>
            <TextField label="Name" value={x.name.clone()} on_commit={renamer(state, &id)} />
            <SelectField label="Type" value={x.kind.clone()} options={options(&["direct", "fanout", "topic", "headers"])}
                on_commit={with(|x, t| { x.kind = t.to_string(); Ok(()) })} />
            <CheckField label="Durable" checked={x.durable} on_commit={with(|x, t| { x.durable = flag(t); Ok(()) })} />
            <CheckField label="Auto-delete" checked={x.auto_delete} on_commit={with(|x, t| { x.auto_delete = flag(t); Ok(()) })} />
            <CheckField label="Internal" checked={x.internal} on_commit={with(|x, t| { x.internal = flag(t); Ok(()) })} />
            <TextField label="Alternate exchange" value={ae} hint="none"
                on_commit={with(|x, t| { edit::set_str_arg(&mut x.arguments, "alternate-exchange", t.trim()); Ok(()) })} />
        </>
    }
}

fn queue_form(state: &UseReducerHandle<AppState>, name: &str) -> Html {
    let Some((q, exclusive)) = edit::queue_spec(&state.scenario, name) else {
        return html! { <p class="note">{ "Declared by a script step; edit the scenario JSON to change it." }</p> };
    };
    let id = NodeId::Queue(name.to_string());
    let n = name.to_string();
    let with = move |f: fn(&mut warren_core::scenario::QueueSpec, &str) -> Result<(), String>| {
        let n = n.clone();
        editor(state, move |s, text| {
            edit::update_queue(s, &n, &|q| f(q, text))
        })
    };
    let arg = |key: &str| edit::arg_text(&q.arguments, key);
    let kind = q
        .arguments
        .get("x-queue-type")
        .and_then(FieldValue::as_str)
        .unwrap_or("classic")
        .to_string();
    let overflow = {
        let o = arg("x-overflow");
        if o.is_empty() {
            "drop-head".to_string()
        } else {
            o
        }
    };
    html! {
        <>
            <TextField label="Name" value={q.name.clone()} on_commit={renamer(state, &id)} />
            <CheckField label="Durable" checked={q.durable} on_commit={with(|q, t| {
                if !flag(t) && q.arguments.get("x-queue-type").and_then(FieldValue::as_str) == Some("quorum") {
                    return Err("quorum queues are always durable".into());
                }
                q.durable = flag(t);
                Ok(())
            })} />
            <CheckField label="Exclusive" checked={exclusive} on_commit={{
                let n = name.to_string();
                editor(state, move |s, t| edit::set_exclusive(s, &n, flag(t)))
            }} />
            <p class="note small">{ "An exclusive queue belongs to one connection: its consumer declares it at t=0." }</p>
            <CheckField label="Auto-delete" checked={q.auto_delete} on_commit={with(|q, t| { q.auto_delete = flag(t); Ok(()) })} />
            <SelectField label="Queue type" value={kind} options={options(&["classic", "quorum"])} on_commit={with(|q, t| {
                if t == "quorum" {
                    if !q.durable { return Err("a quorum queue must be durable: tick Durable first".into()); }
                    if q.auto_delete { return Err("a quorum queue cannot be auto-delete".into()); }
                    q.arguments.insert("x-queue-type", FieldValue::str("quorum"));
                } else {
                    q.arguments.remove("x-queue-type");
                }
                Ok(())
            })} />
            <TextField label="Message TTL (ms)" value={arg("x-message-ttl")} hint="none" numeric={true}
                on_commit={with(|q, t| edit::set_int_arg(&mut q.arguments, "x-message-ttl", t))} />
            <TextField label="Max length" value={arg("x-max-length")} hint="unlimited" numeric={true}
                on_commit={with(|q, t| edit::set_int_arg(&mut q.arguments, "x-max-length", t))} />
            <SelectField label="Overflow" value={overflow} options={options(&["drop-head", "reject-publish", "reject-publish-dlx"])}
                on_commit={with(|q, t| {
                    if t == "drop-head" { q.arguments.remove("x-overflow"); } else { edit::set_str_arg(&mut q.arguments, "x-overflow", t); }
                    Ok(())
                })} />
            <TextField label="Dead-letter exchange" value={arg("x-dead-letter-exchange")} hint="none"
                on_commit={with(|q, t| {
                    if t.trim().is_empty() && q.arguments.get("x-dead-letter-routing-key").is_some() {
                        return Err("clear the dead-letter routing key first: it needs a dead-letter exchange".into());
                    }
                    edit::set_str_arg(&mut q.arguments, "x-dead-letter-exchange", t.trim());
                    Ok(())
                })} />
            <TextField label="Dead-letter routing key" value={arg("x-dead-letter-routing-key")} hint="the message's own"
                on_commit={with(|q, t| {
                    if !t.is_empty() && q.arguments.get("x-dead-letter-exchange").is_none() {
                        return Err("set a dead-letter exchange first (RabbitMQ refuses a routing key without one)".into());
                    }
                    edit::set_str_arg(&mut q.arguments, "x-dead-letter-routing-key", t);
                    Ok(())
                })} />
        </>
    }
}

fn binding_form(state: &UseReducerHandle<AppState>, index: usize) -> Html {
    let Some(b) = state.scenario.topology.bindings.get(index) else {
        return html! {};
    };
    let with = |f: fn(&mut warren_core::scenario::BindingSpec, &str) -> Result<(), String>| {
        editor(state, move |s, text| {
            let b = s
                .topology
                .bindings
                .get_mut(index)
                .ok_or("the binding is gone")?;
            f(b, text)
        })
    };
    let headers_exchange = state
        .scenario
        .topology
        .exchanges
        .iter()
        .any(|x| x.name == b.source && x.kind == "headers");
    let x_match = b
        .arguments
        .get("x-match")
        .and_then(FieldValue::as_str)
        .unwrap_or("all")
        .to_string();
    html! {
        <>
            <p class="note">{ format!("{} → {} ({})", model::exchange_label(&b.source), b.destination, b.destination_type) }</p>
            <TextField label="Binding key" value={b.routing_key.clone()} hint="empty"
                on_commit={with(|b, t| { b.routing_key = t.to_string(); Ok(()) })} />
            if headers_exchange {
                <SelectField label="x-match" value={x_match} options={options(&["all", "any", "all-with-x", "any-with-x"])}
                    on_commit={with(|b, t| { b.arguments.insert("x-match", FieldValue::str(t)); Ok(()) })} />
            }
            <TextField label="Headers" value={edit::headers_text(&b.arguments)} hint="format=pdf, type=report"
                on_commit={with(|b, t| {
                    let mut table = edit::parse_headers(t)?;
                    if let Some(m) = b.arguments.get("x-match").cloned() {
                        table.insert("x-match", m);
                    }
                    b.arguments = table;
                    Ok(())
                })} />
        </>
    }
}

fn producer_form(state: &UseReducerHandle<AppState>, name: &str) -> Html {
    let p = edit::producer(&state.scenario, name);
    let id = NodeId::Client(name.to_string());
    let n = name.to_string();
    let with = move |f: fn(&mut edit::Producer, &str) -> Result<(), String>| {
        let n = n.clone();
        editor(state, move |s, text| {
            let mut p = edit::producer(s, &n);
            f(&mut p, text)?;
            edit::set_producer(s, &n, &p)
        })
    };
    let mode = if p.persistent { "2" } else { "1" };
    html! {
        <>
            <TextField label="Name" value={name.to_string()} on_commit={renamer(state, &id)} />
            <SelectField label="Exchange" value={p.exchange.clone()} options={exchange_options(&state.scenario)}
                on_commit={with(|p, t| { p.exchange = t.to_string(); Ok(()) })} />
            <TextField label="Routing key" value={p.routing_key.clone()} hint="empty"
                on_commit={with(|p, t| { p.routing_key = t.to_string(); Ok(()) })} />
            <TextField label="Body" value={p.body.clone()} hint="{i} = message number"
                on_commit={with(|p, t| { p.body = t.to_string(); Ok(()) })} />
            <SelectField label="Delivery mode" value={mode}
                options={vec![("1".to_string(), "1 (transient)".to_string()), ("2".to_string(), "2 (persistent)".to_string())]}
                on_commit={with(|p, t| { p.persistent = t == "2"; Ok(()) })} />
            <TextField label="Count" value={p.count.to_string()} numeric={true}
                on_commit={with(|p, t| {
                    let n: u32 = edit::parse_number(t, "count")?;
                    if n == 0 || n > 10_000 { return Err("count must be between 1 and 10000".into()); }
                    p.count = n;
                    Ok(())
                })} />
            <TextField label="Interval (ms)" value={p.interval_ms.to_string()} numeric={true}
                on_commit={with(|p, t| { p.interval_ms = edit::parse_number(t, "interval")?; Ok(()) })} />
            <TextField label="Starts at (ms)" value={p.at.to_string()} numeric={true}
                on_commit={with(|p, t| { p.at = edit::parse_number(t, "start")?; Ok(()) })} />
            <CheckField label="Mandatory" checked={p.mandatory}
                on_commit={with(|p, t| { p.mandatory = flag(t); Ok(()) })} />
        </>
    }
}

fn consumer_form(state: &UseReducerHandle<AppState>, name: &str) -> Html {
    let c = edit::consumer(&state.scenario, name);
    let id = NodeId::Client(name.to_string());
    let n = name.to_string();
    let with = move |f: fn(&mut edit::Consumer, &str) -> Result<(), String>| {
        let n = n.clone();
        editor(state, move |s, text| {
            let mut c = edit::consumer(s, &n);
            f(&mut c, text)?;
            edit::set_consumer(s, &n, &c)
        })
    };
    let on_message = match c.on_message {
        OnMessage::Ack => "ack",
        OnMessage::Nack => "nack",
        OnMessage::Reject => "reject",
        OnMessage::Nothing => "nothing",
    };
    html! {
        <>
            <TextField label="Name" value={name.to_string()} on_commit={renamer(state, &id)} />
            <SelectField label="Queue" value={c.queue.clone()} options={queue_options(&state.scenario)}
                on_commit={with(|c, t| { c.queue = t.to_string(); Ok(()) })} />
            <SelectField label="Ack mode" value={if c.auto_ack { "auto" } else { "manual" }}
                options={vec![("manual".to_string(), "manual (basic.ack)".to_string()), ("auto".to_string(), "auto (no-ack)".to_string())]}
                on_commit={with(|c, t| { c.auto_ack = t == "auto"; Ok(()) })} />
            <TextField label="Prefetch" value={c.prefetch.to_string()} hint="0 = unlimited" numeric={true}
                on_commit={with(|c, t| { c.prefetch = edit::parse_number(t, "prefetch (0 to 65535)")?; Ok(()) })} />
            <TextField label="Processing time (ms)" value={c.processing_ms.to_string()} numeric={true}
                on_commit={with(|c, t| { c.processing_ms = edit::parse_number(t, "processing time")?; Ok(()) })} />
            <SelectField label="On message" value={on_message} options={options(&["ack", "nack", "reject", "nothing"])}
                on_commit={with(|c, t| {
                    c.on_message = match t {
                        "nack" => OnMessage::Nack,
                        "reject" => OnMessage::Reject,
                        "nothing" => OnMessage::Nothing,
                        _ => OnMessage::Ack,
                    };
                    Ok(())
                })} />
            <CheckField label="Requeue on nack/reject" checked={c.requeue}
                on_commit={with(|c, t| { c.requeue = flag(t); Ok(()) })} />
            <TextField label="Crash at (ms)" value={c.crash_at.map(|t| t.to_string()).unwrap_or_default()}
                hint="never" numeric={true}
                on_commit={with(|c, t| {
                    c.crash_at = if t.trim().is_empty() { None } else { Some(edit::parse_number(t, "crash time")?) };
                    Ok(())
                })} />
        </>
    }
}

fn scenario_form(state: &UseReducerHandle<AppState>) -> Html {
    html! {
        <>
            <TextField label="Scenario name" value={state.scenario.name.clone()}
                on_commit={editor(state, |s, t| {
                    if t.trim().is_empty() { return Err("a name is required".into()); }
                    s.name = t.trim().to_string();
                    Ok(())
                })} />
            <p class="note">{ state.scenario.description.clone() }</p>
            <p class="note small">{ "Add boxes from the palette. Drag a box to move it; drag from its round handle \
                to another box to connect (producer → exchange, exchange → queue, exchange → exchange, queue → consumer). \
                Click a box or a binding to edit it." }</p>
        </>
    }
}

#[component]
pub fn Panel(props: &PanelProps) -> Html {
    let state = &props.state;
    let (title, key, body) = match &state.selected {
        None => (
            "Scenario".to_string(),
            "scenario".to_string(),
            scenario_form(state),
        ),
        Some(Selection::Binding(i)) => (
            "Binding".to_string(),
            format!("binding:{i}"),
            binding_form(state, *i),
        ),
        Some(Selection::Node(id)) => {
            let kind = edit::kind_of(&state.scenario, id);
            let body = match (id, kind) {
                (NodeId::Exchange(x), _) => exchange_form(state, x),
                (NodeId::Queue(q), _) => queue_form(state, q),
                (NodeId::Client(c), Kind::Consumer) => consumer_form(state, c),
                (NodeId::Client(c), _) => producer_form(state, c),
            };
            let label = match id {
                NodeId::Exchange(x) => model::exchange_label(x),
                NodeId::Queue(n) | NodeId::Client(n) => n.clone(),
            };
            (format!("{} {label}", kind.word()), id.layout_key(), body)
        }
    };
    html! {
        <aside class="panel" aria-label="Properties">
            <h2>{ title }</h2>
            // Keyed by the selection so a field's refused draft does not follow to another node.
            <div class="form" key={key}>{ body }</div>
        </aside>
    }
}
