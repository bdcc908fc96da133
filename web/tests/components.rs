//! Component tests in a real (headless) browser, with wasm-bindgen-test: the Yew app
//! mounted into the page's DOM, driven by clicks, read back by accessible names, plus
//! the browser-only pieces (the browser's DEFLATE for share links).
//!
//! Run with `bash tests/wasm-components.sh` (it installs the matching
//! `wasm-bindgen-test-runner` and chromedriver when missing), or by hand:
//! `CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!  cargo test -p warren-web --target wasm32-unknown-unknown`.
//! Natively this file is empty: `cargo test -p warren-web` runs the unit tests.
#![cfg(target_arch = "wasm32")]

use warren_web::lessons::{self, Block};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Lets Yew render and timers fire: its scheduler runs after the current task.
async fn settle(ms: i32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(wait).await;
}

/// Mounts the playground, as a first visit sees it, into a fresh element of the page.
async fn mount() -> Element {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.clear();
    }
    let document = gloo::utils::document();
    let root = document.create_element("div").expect("a div");
    document
        .body()
        .expect("a body")
        .append_child(&root)
        .expect("append");
    yew::Renderer::<warren_web::view::App>::with_root(root.clone()).render();
    settle(50).await;
    root
}

fn labels(root: &Element) -> Vec<String> {
    let found = root.query_selector_all("[aria-label]").expect("selector");
    (0..found.length())
        .filter_map(|i| found.item(i)?.dyn_into::<Element>().ok())
        .filter_map(|e| e.get_attribute("aria-label"))
        .collect()
}

fn button(root: &Element, text: &str) -> HtmlElement {
    let all = root.query_selector_all("button").expect("selector");
    (0..all.length())
        .filter_map(|i| all.item(i)?.dyn_into::<HtmlElement>().ok())
        .find(|b| b.text_content().as_deref() == Some(text))
        .unwrap_or_else(|| panic!("no button {text:?}"))
}

fn queue_figures(root: &Element, queue: &str) -> String {
    root.query_selector(&format!("[aria-label=\"queue {queue}\"] text.figures"))
        .ok()
        .flatten()
        .and_then(|t| t.text_content())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn the_example_shows_its_nodes_by_accessible_name() {
    let root = mount().await;
    let labels = labels(&root);
    for want in [
        "producer P1",
        "exchange (default)",
        "queue tasks",
        "consumer C1",
        "consumer C2",
    ] {
        assert!(labels.iter().any(|l| l == want), "{want} in {labels:?}");
    }
    for palette in ["Add producer", "Add exchange", "Add queue", "Add consumer"] {
        button(&root, palette);
    }
    root.remove();
}

#[wasm_bindgen_test]
async fn stepping_changes_the_queue_figures() {
    let root = mount().await;
    let start = queue_figures(&root, "tasks");
    assert_eq!(start, "not declared");
    let step = button(&root, "Step");
    let mut seen = vec![start];
    for _ in 0..40 {
        step.click();
        settle(0).await;
        seen.push(queue_figures(&root, "tasks"));
        if seen.last().is_some_and(|f| f.contains("unacked 1")) {
            break;
        }
    }
    assert!(
        seen.iter().any(|f| f.starts_with("ready ")),
        "the queue is declared: {seen:?}"
    );
    assert!(
        seen.last().is_some_and(|f| f.contains("unacked 1")),
        "a delivery shows as unacked: {seen:?}"
    );
    // The counts table: the message was published into the queue and handed out.
    let cells = root
        .query_selector_all("[aria-label=\"Message counts\"] tr[data-queue=\"tasks\"] td")
        .expect("selector");
    let counts: Vec<String> = (0..cells.length())
        .filter_map(|i| cells.item(i)?.text_content())
        .collect();
    let count = |i: usize| counts.get(i).and_then(|c| c.parse::<u64>().ok());
    assert_eq!(
        counts.first().map(String::as_str),
        Some("tasks"),
        "{counts:?}"
    );
    assert!(count(1) >= Some(1), "published into tasks: {counts:?}");
    assert!(count(2) >= Some(1), "handed out of tasks: {counts:?}");
    button(&root, "Back").click();
    settle(0).await;
    assert_eq!(queue_figures(&root, "tasks"), seen[seen.len() - 2]);
    root.remove();
}

#[wasm_bindgen_test]
fn the_markdown_reader_makes_sections_and_questions() {
    let text = "# Title\n\nIntro with `code`.\n\n## Part\n\n- one\n- two\n\n\
                > **Question:** Who gets it?\n>\n> **Answer:** C2.\n\n```\nraw\n```\n";
    let sections = lessons::parse(text);
    assert_eq!(sections.len(), 2);
    assert!(matches!(&sections[0][0], Block::Heading(1, t) if t == "Title"));
    assert!(sections[1]
        .iter()
        .any(|b| matches!(b, Block::List { ordered: false, items } if items.len() == 2)));
    assert!(sections[1].iter().any(
        |b| matches!(b, Block::Question { text, answer, .. } if text == "Who gets it?" && answer == "C2.")
    ));
    assert!(sections[1].contains(&Block::Code("raw".to_string())));
}

#[wasm_bindgen_test]
fn a_definitions_file_becomes_the_topology() {
    let text = r#"{"rabbit_version":"3.13.0","users":[],"vhosts":[{"name":"/"}],
      "queues":[{"name":"q","vhost":"/","durable":true,"auto_delete":false,"arguments":{}}],
      "exchanges":[{"name":"x","vhost":"/","type":"fanout","durable":true,"auto_delete":false,"internal":false,"arguments":{}},
                   {"name":"amq.direct","vhost":"/","type":"direct","durable":true,"auto_delete":false,"internal":false,"arguments":{}}],
      "bindings":[{"source":"x","vhost":"/","destination":"q","destination_type":"queue","routing_key":"","arguments":{}}]}"#;
    let defs = warren_web::import::as_definitions(text).expect("looks like definitions");
    let got = warren_web::import::definitions(&defs, "defs").expect("converts");
    let t = &got.scenario.topology;
    assert_eq!(t.exchanges.len(), 1, "amq.* is built in");
    assert_eq!((t.queues.len(), t.bindings.len()), (1, 1));
    assert!(got.scenario.clients.is_empty());
    let nodes = warren_web::model::nodes(&got.scenario);
    assert!(nodes.iter().any(|n| n.aria_label() == "exchange x"));
}

#[wasm_bindgen_test]
async fn share_links_use_the_browsers_deflate() {
    let json = warren_web::share::json(&warren_web::example::work_queue());
    let packed = warren_web::io::deflate(json.as_bytes(), true)
        .await
        .expect("compresses");
    assert!(
        packed.len() < json.len() / 2,
        "{} of {}",
        packed.len(),
        json.len()
    );
    let back = warren_web::io::deflate(&packed, false)
        .await
        .expect("inflates");
    assert_eq!(back, json.as_bytes());
    assert!(warren_web::io::deflate(b"not deflate", false)
        .await
        .is_err());
}
