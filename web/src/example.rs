//! The scenario the playground opens with when nothing was saved or shared: a work
//! queue, because it shows the most AMQP at once (default exchange, a queue, competing
//! consumers, acks, prefetch) with the fewest boxes.

use warren_core::scenario::{Action, ClientSpec, OnMessage, QueueSpec, Scenario, Step, Topology};
use warren_core::BasicProperties;

/// Producer P1 → default exchange → queue "tasks" → consumers C1 and C2.
pub fn work_queue() -> Scenario {
    let client = |name: &str| ClientSpec {
        name: name.to_string(),
        user: "guest".to_string(),
        password: "guest".to_string(),
        vhost: "/".to_string(),
    };
    let consumer_steps = |name: &str, processing_ms| {
        [
            Step {
                at: 0,
                client: Some(name.to_string()),
                action: Action::Qos {
                    prefetch_count: 1,
                    global: false,
                },
            },
            Step {
                at: 0,
                client: Some(name.to_string()),
                action: Action::Consume {
                    queue: "tasks".to_string(),
                    tag: String::new(),
                    auto_ack: false,
                    exclusive: false,
                    processing_ms,
                    on_message: OnMessage::Ack,
                    requeue: false,
                    reply: None,
                    priority: None,
                },
            },
        ]
    };
    let mut script = Vec::new();
    script.extend(consumer_steps("C1", 300));
    script.extend(consumer_steps("C2", 500));
    script.push(Step {
        at: 100,
        client: Some("P1".to_string()),
        action: Action::Publish {
            exchange: String::new(),
            routing_key: "tasks".to_string(),
            body: "task {i}".to_string(),
            properties: BasicProperties::default(),
            persistent: true,
            mandatory: false,
            count: 6,
            interval_ms: 100,
        },
    });
    Scenario {
        version: warren_core::scenario::FORMAT_VERSION,
        name: "work-queue".to_string(),
        description: "A producer sends six tasks through the default exchange to the queue \
                      'tasks'; two workers with prefetch 1 share them fairly."
            .to_string(),
        seed: 0,
        topology: Topology {
            exchanges: Vec::new(),
            queues: vec![QueueSpec {
                name: "tasks".to_string(),
                durable: true,
                auto_delete: false,
                arguments: Default::default(),
            }],
            bindings: Vec::new(),
        },
        clients: vec![client("P1"), client("C1"), client("C2")],
        script,
        expect: Vec::new(),
        layout: None,
    }
}
