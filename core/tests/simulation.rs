//! The simulation as the playground drives it: one step at a time, rewinding
//! by snapshot, and refusing bad scenario files with a clear error.

use proptest::prelude::*;
use warren_core::scenario::{self, Scenario};
use warren_core::sim::{Observation, Simulation};

fn load(name: &str) -> Scenario {
    let path = format!(
        "{}/../tests/scenarios/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("scenario file");
    scenario::parse(&text).expect("valid scenario")
}

fn rendered(sim: &Simulation) -> Vec<String> {
    sim.trace().iter().map(|l| l.render()).collect()
}

#[test]
fn stepping_and_running_give_the_same_trace() {
    let s = load("work-queue-round-robin");
    let mut whole = Simulation::new(s.clone());
    whole.run();
    let mut stepped = Simulation::new(s);
    let mut steps = 0;
    while stepped.step() {
        steps += 1;
    }
    assert!(steps > 3);
    assert_eq!(rendered(&whole), rendered(&stepped));
}

#[test]
fn a_snapshot_rewinds_exactly() {
    let s = load("ack-redelivery-after-crash");
    let mut sim = Simulation::new(s);
    for _ in 0..4 {
        sim.step();
    }
    let snapshot = sim.clone();
    let at_snapshot = rendered(&sim);
    sim.run();
    let finished = rendered(&sim);
    assert!(
        finished.len() > at_snapshot.len(),
        "the run went on past the snapshot"
    );
    // Back to the snapshot: same state, and going forward again gives the same end.
    let mut again = snapshot.clone();
    assert_eq!(rendered(&again), at_snapshot);
    again.run();
    assert_eq!(rendered(&again), finished);
}

#[test]
fn same_scenario_same_trace_every_time() {
    let s = load("fanout-exclusive-queues");
    let runs: Vec<Vec<String>> = (0..3)
        .map(|_| {
            let mut sim = Simulation::new(s.clone());
            sim.run();
            rendered(&sim)
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[1], runs[2]);
    assert!(
        runs[0].iter().any(|l| l.contains("amq.gen-")),
        "server-named queues appear"
    );
}

#[test]
fn a_refused_topology_fails_the_run() {
    let s = scenario::parse(
        r#"{"version": 1, "name": "bad",
            "topology": {"queues": [{"name": "q", "arguments": {"x-message-ttl": -5}}]},
            "clients": [{"name": "c"}],
            "script": [{"at": 0, "client": "c", "do": "get", "queue": "q"}],
            "expect": [{"expect": "queue", "queue": "q", "exists": false}]}"#,
    )
    .expect("parses");
    let report = scenario::check(&s);
    assert!(!report.passed());
    let text: Vec<String> = report.failures.iter().map(|f| f.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("(topology)") && t.contains("406")),
        "{text:?}"
    );
    // The client's own 404 on the missing queue is reported too.
    assert!(report
        .simulation
        .observations()
        .iter()
        .any(|o| matches!(o, Observation::Error { client, code: 404, .. } if client == "c")));
}

#[test]
fn a_failed_expectation_says_what_was_expected_and_seen() {
    let mut s = load("work-queue-round-robin");
    if let Some(scenario::Expectation::Received { bodies, .. }) = s
        .expect
        .iter_mut()
        .find(|e| matches!(e, scenario::Expectation::Received { .. }))
    {
        bodies.reverse();
    }
    let report = scenario::check(&s);
    assert_eq!(report.failures.len(), 1);
    let f = report.failures[0].to_string();
    assert!(f.contains("expected") && f.contains("observed"), "{f}");
}

proptest! {
    #[test]
    fn parse_never_panics(text in ".{0,400}") {
        let _ = scenario::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_json_shaped_input(
        keys in proptest::collection::vec(prop_oneof![
            Just("version"), Just("name"), Just("script"), Just("expect"), Just("clients"),
            Just("topology"), Just("do"), Just("at"), Just("client"), Just("queue")], 0..6),
        vals in proptest::collection::vec(prop_oneof![
            Just("1"), Just("\"x\""), Just("[]"), Just("{}"), Just("-1"), Just("null"),
            Just("[{\"do\":\"publish\"}]"), Just("1e99")], 0..6),
    ) {
        let body: Vec<String> = keys.iter().zip(vals.iter()).map(|(k, v)| format!("\"{k}\": {v}")).collect();
        let text = format!("{{{}}}", body.join(","));
        if let Err(e) = scenario::parse(&text) {
            prop_assert!(!e.message.is_empty());
        }
    }
}
