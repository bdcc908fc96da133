//! "Export as pika script": a scenario as one standalone Python 3 program
//! that replays it against a real broker with pika and checks the same
//! expectations, so a student can take a scenario from the playground to
//! RabbitMQ and read, in ordinary client code, what each step does.
//!
//! The program is a fixed runtime (`pika_runtime.py`, kept as a Python file
//! so it can be read and linted as Python) followed by the scenario as
//! Python data. The data is written as Python literals built from JSON
//! values: every string goes through JSON string escaping, which is also
//! valid Python string syntax, so no scenario text can break out of its
//! literal. It follows the semantics of `warren-remote`'s runner: real time
//! (1 scenario ms = 1 ms), a restart through a command (`RESTART_CMD`),
//! and what AMQP cannot show (unacked counts) skipped with a note.

use super::{Action, Scenario};
use crate::sim::Simulation;

/// The runtime every generated script carries. The playground does not link
/// it in (it would cost ~8 KB of its gzipped wasm budget): it fetches the same
/// file, copied to `dist/pika_runtime.py`, and calls [`to_pika_with`].
pub const RUNTIME: &str = include_str!("pika_runtime.py");

/// How long past its last timed entry a script waits at most for the
/// simulator's end: a scenario that never settles must not run for hours.
const MAX_TAIL_MS: u64 = 10_000;

/// Whether the runtime can play `a`. Every action of format v1 is
/// supported; the match is exhaustive so that an action added to the format
/// must be decided here, and one without runtime support is reported at the
/// top of the script and at run time, never silently skipped.
fn supported(a: &Action) -> bool {
    match a {
        Action::ExchangeDeclare { .. }
        | Action::ExchangeDelete { .. }
        | Action::ExchangeBind { .. }
        | Action::ExchangeUnbind { .. }
        | Action::QueueDeclare { .. }
        | Action::QueueBind { .. }
        | Action::QueueUnbind { .. }
        | Action::QueuePurge { .. }
        | Action::QueueDelete { .. }
        | Action::Qos { .. }
        | Action::Consume { .. }
        | Action::Cancel { .. }
        | Action::Publish { .. }
        | Action::Get { .. }
        | Action::Ack { .. }
        | Action::Nack { .. }
        | Action::Reject { .. }
        | Action::Recover
        | Action::ConfirmSelect
        | Action::TxSelect
        | Action::TxCommit
        | Action::TxRollback
        | Action::CloseChannel
        | Action::Close
        | Action::Crash
        | Action::Restart
        | Action::RpcCall { .. } => true,
    }
}

/// Serialises with the same compact `serde_json::to_string` the playground
/// already uses for export: a `serde_json::Value` detour would instantiate
/// every scenario type's `Serialize` a second time in the wasm bundle.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Compact JSON text as a Python literal: `true`/`false`/`null` outside
/// strings become `True`/`False`/`None`, separators get a space, and strings
/// are kept as they are, because JSON's escapes (`\"`, `\\`, `\n`, `\uXXXX`)
/// mean the same in Python, so no scenario text can break out of its literal.
fn py(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 4);
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            ':' => out.push_str(": "),
            ',' => out.push_str(", "),
            't' | 'f' | 'n' => {
                let (word, skip) = match c {
                    't' => ("True", 3),
                    'f' => ("False", 4),
                    _ => ("None", 3),
                };
                out.push_str(word);
                for _ in 0..skip {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn py_str(s: &str) -> String {
    json(&s)
}

/// Text as `# ` comment lines. Carriage returns and other control
/// characters would end a Python comment (or be refused), so they become
/// line breaks or spaces.
fn comment(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| match c {
            '\r' => '\n',
            '\n' | '\t' => c,
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let mut out = String::new();
    for line in clean.lines() {
        // Wrapped at spaces, so a long description reads without scrolling.
        let mut current = String::from("#");
        for word in line.split(' ') {
            if current.len() > 2 && current.len() + 1 + word.len() > 78 {
                out.push_str(current.trim_end());
                out.push('\n');
                current = String::from("#");
            }
            current.push(' ');
            current.push_str(word);
        }
        out.push_str(current.trim_end());
        out.push('\n');
    }
    out
}

fn py_list<T: serde::Serialize>(items: &[T]) -> String {
    if items.is_empty() {
        return "[]".into();
    }
    let mut out = String::from("[\n");
    for item in items {
        out.push_str(&format!("    {},\n", py(&json(item))));
    }
    out.push(']');
    out
}

/// When the scenario's run is over on the simulator's clock, which the script
/// waits for before checking (a TTL may still fire after the last step).
fn end_ms(s: &Scenario) -> u64 {
    let mut sim = Simulation::new(s.clone());
    sim.run();
    let last = s
        .script
        .iter()
        .map(|st| st.at)
        .chain(s.expect.iter().filter_map(|e| match e {
            super::Expectation::Queue { at, .. } => *at,
            _ => None,
        }))
        .max()
        .unwrap_or(0);
    sim.now().min(last + MAX_TAIL_MS)
}

/// The scenario as a standalone Python 3 program using pika; see the module doc.
pub fn to_pika(s: &Scenario) -> String {
    to_pika_with(s, RUNTIME)
}

/// [`to_pika`] with the runtime's text given (the playground fetches it).
pub fn to_pika_with(s: &Scenario, runtime: &str) -> String {
    let unsupported: Vec<String> = s
        .script
        .iter()
        .enumerate()
        .filter(|(_, step)| !supported(&step.action))
        .map(|(i, step)| format!("step {i}: {}", json(step)))
        .collect();
    let mut out = String::new();
    out.push_str("#!/usr/bin/env python3\n");
    out.push_str(&comment(&format!("Scenario: {}", s.name)));
    if !s.description.is_empty() {
        out.push_str("#\n");
        out.push_str(&comment(&s.description));
    }
    out.push_str(
        "#\n\
         # Generated by Warren (\"Export as pika script\" / `warren scenario pika`).\n\
         # Replays the scenario against a real broker and checks its expectations.\n\
         #\n\
         #   pip install pika\n\
         #   python3 this_file.py [AMQP_URL]   # default amqp://guest:guest@localhost:5672/%2F\n\
         #\n\
         # RESTART_CMD: a shell command that restarts the broker, for `restart` steps\n\
         # (without it the run stops at the restart and nothing is checked).\n\
         # Scenario milliseconds are real milliseconds. Queue `unacked` counts cannot\n\
         # be read over AMQP, so they are reported as skipped.\n",
    );
    if unsupported.is_empty() {
        out.push_str("# Every step of this scenario is supported.\n");
    } else {
        out.push_str("#\n# UNSUPPORTED steps (not played; the run is reported as failed):\n");
        for u in &unsupported {
            out.push_str(&comment(&format!("  {u}")));
        }
    }
    out.push('\n');
    out.push_str(runtime.trim_end());
    out.push_str("\n\n\n");
    out.push_str(
        "# ---------------------------------------------------------------------------\n\
         # The scenario, as data.\n\
         # ---------------------------------------------------------------------------\n\n",
    );
    out.push_str(&format!("NAME = {}\n", py_str(&s.name)));
    out.push_str("TOPOLOGY = {\n");
    let t = &s.topology;
    for (key, list) in [
        ("exchanges", py_list(&t.exchanges)),
        ("queues", py_list(&t.queues)),
        ("bindings", py_list(&t.bindings)),
    ] {
        let list = list.replace('\n', "\n    ");
        out.push_str(&format!("    \"{key}\": {list},\n"));
    }
    out.push_str("}\n");
    out.push_str(&format!("CLIENTS = {}\n", py_list(&s.clients)));
    out.push_str("SCRIPT = [\n");
    for step in &s.script {
        out.push_str(&format!("    {},\n", py(&json(step))));
    }
    out.push_str("]\n");
    out.push_str(&format!("EXPECT = {}\n", py_list(&s.expect)));
    out.push_str(&format!(
        "END_MS = {}  # when the run is over, by the simulator\n",
        end_ms(s)
    ));
    out.push_str(&format!("UNSUPPORTED = {}\n", py(&json(&unsupported))));
    out.push_str("\n\nif __name__ == \"__main__\":\n    main()\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_escape_their_literals() {
        assert_eq!(py_str("a'\"\\\n\u{0}"), "\"a'\\\"\\\\\\n\\u0000\"");
        assert_eq!(comment("one\rtwo\n\u{0}three"), "# one\n# two\n#  three\n");
    }

    #[test]
    fn json_becomes_python_outside_strings_only() {
        assert_eq!(
            py(r#"{"a":true,"b":[false,null,-1.5],"c":"true, \"x\": null\\"}"#),
            r#"{"a": True, "b": [False, None, -1.5], "c": "true, \"x\": null\\"}"#
        );
    }

    #[test]
    fn a_scenario_becomes_a_program() {
        let s = crate::scenario::parse(
            r#"{"version": 1, "name": "x\"y", "description": "d\r\nimport os",
                "clients": [{"name": "c"}],
                "script": [{"at": 5, "client": "c", "do": "queue_declare", "queue": "q"}],
                "expect": [{"expect": "queue", "queue": "q", "ready": 0}]}"#,
        )
        .expect("parses");
        let py = to_pika(&s);
        assert!(py.contains("NAME = \"x\\\"y\""));
        assert!(py.contains("# import os"));
        assert!(py.contains("{\"at\": 5, \"client\": \"c\", \"do\": \"queue_declare\""));
        assert!(py.contains("# Every step of this scenario is supported."));
        assert!(py.ends_with("main()\n"));
    }
}
