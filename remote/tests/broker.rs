//! Runs scenarios against the real broker named by WARREN_TEST_BROKER (e.g.
//! amqp://guest:guest@127.0.0.1:5672/%2F) and checks their expectations there.
//! Without it each test says it needs a broker and passes without running.

use amqprs::channel::QueueDeclareArguments;
use amqprs::connection::{Connection, OpenConnectionArguments};
use std::path::PathBuf;
use warren_remote::{check_remote, parse_url, run_remote, RemoteOptions};

fn broker() -> Option<String> {
    match std::env::var("WARREN_TEST_BROKER") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipped: set WARREN_TEST_BROKER=amqp://user:pass@host:port/vhost to run against a real broker");
            None
        }
    }
}

fn scenario(name: &str) -> warren_core::scenario::Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/scenarios")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("scenario file");
    warren_core::scenario::parse(&text).expect("valid scenario")
}

/// Whether a queue exists on the broker (a passive declare succeeds).
async fn queue_exists(url: &str, name: &str) -> bool {
    let t = parse_url(url).expect("valid URL");
    let args = OpenConnectionArguments::new(&t.host, t.port, &t.user, &t.password)
        .virtual_host(&t.vhost)
        .finish();
    let conn = Connection::open(&args).await.expect("connects");
    let ch = conn.open_channel(None).await.expect("channel");
    let found = ch
        .queue_declare(QueueDeclareArguments::new(name).passive(true).finish())
        .await
        .is_ok();
    let _ = conn.close().await;
    found
}

async fn passes(name: &str, leftover: &str) {
    let Some(url) = broker() else { return };
    let s = scenario(name);
    let prefix = format!("wr-test-{}-{}-", name, std::process::id());
    let opts = RemoteOptions {
        prefix: prefix.clone(),
        ..RemoteOptions::default()
    };
    let run = run_remote(&s, &url, &opts).await.expect("the run is done");
    let verdict = check_remote(&s, &run);
    let trace: Vec<String> = run
        .observations
        .iter()
        .map(|o| format!("{:>6}ms {:<8} {}", o.time(), o.client(), o.describe()))
        .collect();
    assert!(
        verdict.passed(),
        "{name} on {url}:\n{}\nnotes: {:?}\n{}",
        verdict
            .failures
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        run.notes,
        trace.join("\n")
    );
    // Everything the run made is gone afterwards.
    assert!(
        !queue_exists(&url, &format!("{prefix}{leftover}")).await,
        "'{prefix}{leftover}' was left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_world() {
    passes("hello-world", "hello").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_queue_round_robin() {
    passes("work-queue-round-robin", "tasks").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_routing() {
    passes("direct-routing", "direct_logs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_wildcards() {
    passes("topic-wildcards", "bound #").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_ttl() {
    passes("dead-letter-ttl", "delay").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_is_not_there_is_an_error_not_a_hang() {
    let s = scenario("hello-world");
    let r = run_remote(
        &s,
        "amqp://guest:guest@127.0.0.1:1/%2F",
        &RemoteOptions::default(),
    )
    .await;
    assert!(r.is_err());
}
