//! A simulated client: one connection with one channel at a time, and the
//! consumers it runs.

use crate::protocol::{ChannelId, ConnId, Millis};
use crate::scenario::{ClientSpec, OnMessage, ReplyWith};
use std::collections::BTreeMap;

/// How a consumer handles what it is given.
#[derive(Clone, Debug)]
pub(crate) struct ConsumerPlan {
    pub queue: String,
    pub auto_ack: bool,
    pub processing_ms: Millis,
    pub on_message: OnMessage,
    pub requeue: bool,
    pub reply: Option<ReplyWith>,
    /// The consumer of an RPC client's reply queue.
    pub rpc_replies: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct SimClient {
    pub spec: ClientSpec,
    pub conn: ConnId,
    pub connected: bool,
    pub channel: ChannelId,
    pub channel_open: bool,
    /// Bumped whenever the channel or connection goes, so work scheduled for
    /// deliveries on the old one is dropped.
    pub generation: u64,
    pub consumers: BTreeMap<String, ConsumerPlan>,
    pub cancelled_plans: BTreeMap<String, ConsumerPlan>,
    /// The plan of the basic.consume in flight, attached when consume-ok names the tag.
    pub next_plan: Option<ConsumerPlan>,
    /// When the client is done with the work it already has (one message at a time).
    pub busy_until: Millis,
    pub save_next_declare: Option<String>,
    pub last_declared: Option<String>,
    pub last_get_queue: String,
    pub rpc_queue: Option<String>,
    pub rpc_calls: u64,
}

impl SimClient {
    pub fn new(spec: ClientSpec, conn: ConnId) -> SimClient {
        SimClient {
            spec,
            conn,
            connected: false,
            channel: 0,
            channel_open: false,
            generation: 0,
            consumers: BTreeMap::new(),
            cancelled_plans: BTreeMap::new(),
            next_plan: None,
            busy_until: 0,
            save_next_declare: None,
            last_declared: None,
            last_get_queue: String::new(),
            rpc_queue: None,
            rpc_calls: 0,
        }
    }

    pub fn channel_closed(&mut self) {
        self.channel_open = false;
        self.generation += 1;
        self.consumers.clear();
        self.cancelled_plans.clear();
        self.next_plan = None;
        self.busy_until = 0;
        self.rpc_queue = None;
    }

    pub fn disconnected(&mut self) {
        self.channel_closed();
        self.connected = false;
    }
}

/// An RPC server's answer to a request body.
pub(crate) fn compute_reply(how: ReplyWith, request: &str) -> String {
    match how {
        ReplyWith::Echo => request.to_string(),
        ReplyWith::Upper => request.to_uppercase(),
        ReplyWith::Fib => match request.trim().parse::<u32>() {
            Ok(n) if n <= 90 => {
                let (mut a, mut b) = (0u64, 1u64);
                for _ in 0..n {
                    (a, b) = (b, a + b);
                }
                a.to_string()
            }
            _ => format!("cannot compute fib({request})"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fib_as_in_the_tutorial() {
        assert_eq!(compute_reply(ReplyWith::Fib, "10"), "55");
        assert_eq!(compute_reply(ReplyWith::Fib, "30"), "832040");
        assert_eq!(compute_reply(ReplyWith::Fib, "x"), "cannot compute fib(x)");
    }
}
