//! Publisher flow control over real sockets: a publisher whose messages pile
//! up in a consumed queue shows `state: flow` in the management API (as
//! RabbitMQ shows a publisher it is slowing), loses nothing, and runs again
//! once the queue has caught up.

mod common;

use amqprs::channel::{BasicQosArguments, QueuePurgeArguments};
use common::client::*;
use common::http::Api;
use common::Server;
use std::time::{Duration, Instant};

/// More than the flow mark (16,384 ready messages on a consumed queue).
const PUBLISHED: u32 = 20_000;

fn state_of(api: &Api, name: &str) -> Option<String> {
    let conns = api.get("/api/connections");
    conns
        .as_array()?
        .iter()
        .find_map(|c| (c["name"] == name).then(|| c["state"].as_str().unwrap_or("").to_string()))
}

fn names(api: &Api) -> Vec<String> {
    let conns = api.get("/api/connections");
    conns
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publisher_into_a_consumed_backlog_is_in_flow_until_it_drains() {
    let s = Server::start();
    let api = Api::new(s.http_port());

    // A consumer that takes one message and never acks it: the queue has a
    // consumer but does not drain.
    let consumer = connect(s.port).await;
    let cch = channel(&consumer).await;
    declare(&cch, "backlog", "classic", false).await;
    cch.basic_qos(BasicQosArguments::new(0, 1, false))
        .await
        .expect("qos");
    let mut deliveries = consume(&cch, "backlog", false).await;
    let consumer_name = names(&api).pop().expect("the consumer's connection");

    let publisher = connect(s.port).await;
    let pch = channel(&publisher).await;
    let publisher_name = names(&api)
        .into_iter()
        .find(|n| *n != consumer_name)
        .expect("the publisher's connection");
    assert_eq!(state_of(&api, &publisher_name).as_deref(), Some("running"));

    for i in 0..PUBLISHED {
        publish(&pch, "", "backlog", &i.to_be_bytes(), Default::default()).await;
    }
    wait_for("the publisher in flow", || {
        state_of(&api, &publisher_name).as_deref() == Some("flow")
    })
    .await;
    assert_eq!(state_of(&api, &consumer_name).as_deref(), Some("running"));

    // Slowed, not stopped: every message arrives (one is out with the consumer).
    let _first = next(&mut deliveries).await;
    let counter = channel(&consumer).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = count(&counter, "backlog").await;
        if ready == PUBLISHED - 1 {
            break;
        }
        assert!(Instant::now() < deadline, "only {ready} ready messages");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state_of(&api, &publisher_name).as_deref(), Some("flow"));

    // Caught up: the publisher runs again.
    counter
        .queue_purge(QueuePurgeArguments::new("backlog"))
        .await
        .expect("purge");
    wait_for("the publisher running again", || {
        state_of(&api, &publisher_name).as_deref() == Some("running")
    })
    .await;
    publish(&pch, "", "backlog", b"after", Default::default()).await;
    wait_for("the publisher's next message", || {
        ready_in_api(&api) == Some(1)
    })
    .await;
}

/// Ready messages in `backlog` as the management API shows them.
fn ready_in_api(api: &Api) -> Option<u64> {
    api.get("/api/queues/%2F/backlog")["messages_ready"].as_u64()
}
