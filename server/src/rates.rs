//! Message rates for the management API (`message_stats`, `*_details.rate`).
//!
//! RabbitMQ samples its counters every `collect_statistics_interval` (5 s by
//! default) and reports each rate as the change between the last two samples,
//! per second. The broker task does the same: it keeps the last two
//! [`StatsSnapshot`]s (message counters, queue depths, churn) and
//! [`TrafficSample`]s (connection bytes), and the views read rates from
//! them, while the counts they show are current.
//!
//! The JSON groups follow RabbitMQ 3.10: a group's fields appear once
//! anything of that group happened to the object. `get_empty` and
//! `drop_unroutable` are the real counts: RabbitMQ 3.10 shows them
//! inconsistently (0 on one node, the count on another, for the same
//! steps), so Warren shows what they mean. `disk_reads` and `disk_writes`
//! read 0: they are about RabbitMQ's own message store.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::time::Duration;
use warren_core::protocol::{ChannelId, ConnId, Millis};
use warren_core::stats::{Churn, ExchangeStats, MessageStats, StatsSnapshot};

/// RabbitMQ's default `collect_statistics_interval`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// Bytes (received, sent) of each connection and each vhost at one moment:
/// the server's own counters, beside the core's.
#[derive(Clone, Debug, Default)]
pub struct TrafficSample {
    pub conns: HashMap<ConnId, (u64, u64)>,
    pub vhosts: HashMap<String, (u64, u64)>,
}

/// Reads one of the churn counters.
type ChurnField = fn(&Churn) -> u64;

/// Every counter at one moment: the core's and the connections' bytes.
struct Sample {
    at: Millis,
    stats: StatsSnapshot,
    traffic: TrafficSample,
}

/// The last two samples of every counter.
#[derive(Default)]
pub struct Rates {
    last: Option<Sample>,
    prev: Option<Sample>,
}

impl Rates {
    /// Takes a sample of every counter at `now`.
    pub fn sample(&mut self, now: Millis, stats: StatsSnapshot, traffic: TrafficSample) {
        self.record(Sample {
            at: now,
            stats,
            traffic,
        });
    }

    fn record(&mut self, sample: Sample) {
        self.prev = self.last.replace(sample);
    }

    /// The per-second change of a figure between the last two samples,
    /// rounded to one decimal as RabbitMQ shows rates (0 without two samples).
    fn change(&self, figure: impl Fn(&Sample) -> u64) -> f64 {
        let (Some(last), Some(prev)) = (&self.last, &self.prev) else {
            return 0.0;
        };
        if last.at <= prev.at {
            return 0.0;
        }
        let secs = (last.at - prev.at) as f64 / 1000.0;
        let d = figure(last) as f64 - figure(prev) as f64;
        (d / secs * 10.0).round() / 10.0
    }

    /// [`Rates::change`] of a counter: never negative (a counter that went
    /// back was reset, by a restart).
    fn rate(&self, counter: impl Fn(&Sample) -> u64) -> f64 {
        self.change(counter).max(0.0)
    }

    /// Rates of (received, sent) bytes of a connection.
    pub fn conn_traffic(&self, conn: ConnId) -> (f64, f64) {
        self.traffic_rates(|t| t.conns.get(&conn).copied())
    }

    /// Rates of (received, sent) bytes of a vhost's connections.
    pub fn vhost_traffic(&self, vhost: &str) -> (f64, f64) {
        self.traffic_rates(|t| t.vhosts.get(vhost).copied())
    }

    fn traffic_rates(&self, bytes: impl Fn(&TrafficSample) -> Option<(u64, u64)>) -> (f64, f64) {
        let at = |s: &Sample| bytes(&s.traffic).unwrap_or_default();
        (self.rate(|s| at(s).0), self.rate(|s| at(s).1))
    }

    /// `message_stats` of a queue (None: nothing happened to it yet).
    pub fn queue(&self, vhost: &str, name: &str, now: &MessageStats) -> Option<Value> {
        let key = (vhost.to_string(), name.to_string());
        let rate = self.message_rates(|s| s.queues.get(&key).copied());
        let mut m = Map::new();
        if now.publish > 0 {
            put(&mut m, "publish", now.publish, rate(|s| s.publish));
        }
        if now.any_delivery() {
            delivery_group(&mut m, now, &rate);
        }
        (!m.is_empty()).then_some(Value::Object(m))
    }

    /// `message_stats` of an exchange ("" is the default exchange).
    pub fn exchange(&self, vhost: &str, name: &str, now: &ExchangeStats) -> Option<Value> {
        let key = (vhost.to_string(), name.to_string());
        let rate =
            |f: fn(&ExchangeStats) -> u64| self.rate(|s| s.stats.exchanges.get(&key).map_or(0, f));
        let mut m = Map::new();
        if now.publish_in > 0 {
            put(&mut m, "publish_in", now.publish_in, rate(|s| s.publish_in));
        }
        if now.publish_out > 0 {
            put(
                &mut m,
                "publish_out",
                now.publish_out,
                rate(|s| s.publish_out),
            );
        }
        (!m.is_empty()).then_some(Value::Object(m))
    }

    /// `message_stats` of an open channel.
    pub fn channel(&self, conn: ConnId, ch: ChannelId, now: &MessageStats) -> Option<Value> {
        let rate = self.message_rates(|s| s.channels.get(&(conn, ch)).copied());
        let m = both_groups(now, &rate);
        (!m.is_empty()).then_some(Value::Object(m))
    }

    /// `message_stats` of a vhost.
    pub fn vhost(&self, vhost: &str, now: &MessageStats) -> Option<Value> {
        let rate = self.message_rates(|s| s.vhosts.get(vhost).copied());
        let m = both_groups(now, &rate);
        (!m.is_empty()).then_some(Value::Object(m))
    }

    /// `message_stats` of `/api/overview`: the vhosts the user may see,
    /// added up (an empty object before anything happened, as RabbitMQ shows it).
    pub fn overview(&self, vhosts: &[String], now: &MessageStats) -> Value {
        let rate = self.message_rates(|s| {
            let mut sum = MessageStats::default();
            for v in vhosts {
                if let Some(x) = s.vhosts.get(v) {
                    sum += *x;
                }
            }
            Some(sum)
        });
        let mut m = both_groups(now, &rate);
        if !m.is_empty() {
            put(&mut m, "disk_reads", 0, 0.0);
            put(&mut m, "disk_writes", 0, 0.0);
        }
        Value::Object(m)
    }

    /// Churn counters with their rates (the overview's `churn_rates`, and
    /// the same fields at the top of a node).
    pub fn churn(&self, now: &Churn) -> Map<String, Value> {
        let mut m = Map::new();
        let fields: [(&str, ChurnField); 7] = [
            ("channel_closed", |c| c.channel_closed),
            ("channel_created", |c| c.channel_created),
            ("connection_closed", |c| c.connection_closed),
            ("connection_created", |c| c.connection_created),
            ("queue_created", |c| c.queue_created),
            ("queue_declared", |c| c.queue_declared),
            ("queue_deleted", |c| c.queue_deleted),
        ];
        for (name, f) in fields {
            put(&mut m, name, f(now), self.rate(|s| f(&s.stats.churn)));
        }
        m
    }

    /// A function giving the rate of one counter of the object `pick` finds
    /// in a sample (0 when there is no earlier sample of it).
    fn message_rates<'a>(
        &'a self,
        pick: impl Fn(&StatsSnapshot) -> Option<MessageStats> + 'a,
    ) -> impl Fn(fn(&MessageStats) -> u64) -> f64 + 'a {
        move |f| self.rate(|s| pick(&s.stats).as_ref().map_or(0, f))
    }
}

/// The per-second change of a depth (ready + unacknowledged, ready,
/// unacknowledged), negative while it drains, as RabbitMQ shows
/// `messages_details` and its two siblings.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DepthRates {
    pub messages: f64,
    pub ready: f64,
    pub unacked: f64,
}

impl DepthRates {
    /// Adds `messages_details`, `messages_ready_details` and
    /// `messages_unacknowledged_details` to an object.
    pub fn put(&self, m: &mut Map<String, Value>) {
        for (name, rate) in [
            ("messages", self.messages),
            ("messages_ready", self.ready),
            ("messages_unacknowledged", self.unacked),
        ] {
            m.insert(format!("{name}_details"), json!({ "rate": rate }));
        }
    }
}

impl Rates {
    /// How a queue's depth changed between the last two samples.
    pub fn queue_depth(&self, vhost: &str, name: &str) -> DepthRates {
        let key = (vhost.to_string(), name.to_string());
        self.depth(|s| s.depths.get(&key).copied().unwrap_or_default())
    }

    /// How the depths of the queues of `vhosts` changed, added up.
    pub fn total_depth(&self, vhosts: &[String]) -> DepthRates {
        self.depth(|s| {
            s.depths
                .iter()
                .filter(|((v, _), _)| vhosts.contains(v))
                .fold((0, 0), |(r, u), (_, (ready, unacked))| {
                    (r + ready, u + unacked)
                })
        })
    }

    /// Depths may fall, so these are [`Rates::change`], negative while draining.
    fn depth(&self, at: impl Fn(&StatsSnapshot) -> (u64, u64)) -> DepthRates {
        DepthRates {
            messages: self.change(|s| {
                let (ready, unacked) = at(&s.stats);
                ready + unacked
            }),
            ready: self.change(|s| at(&s.stats).0),
            unacked: self.change(|s| at(&s.stats).1),
        }
    }
}

fn put(m: &mut Map<String, Value>, name: &str, count: u64, rate: f64) {
    m.insert(name.to_string(), json!(count));
    m.insert(format!("{name}_details"), json!({ "rate": rate }));
}

/// The publishing group (when anything of it happened), then the delivering one.
fn both_groups(
    now: &MessageStats,
    rate: &impl Fn(fn(&MessageStats) -> u64) -> f64,
) -> Map<String, Value> {
    let mut m = Map::new();
    if now.any_publish() {
        put(&mut m, "publish", now.publish, rate(|s| s.publish));
        put(&mut m, "confirm", now.confirm, rate(|s| s.confirm));
        put(
            &mut m,
            "return_unroutable",
            now.return_unroutable,
            rate(|s| s.return_unroutable),
        );
        put(
            &mut m,
            "drop_unroutable",
            now.drop_unroutable,
            rate(|s| s.drop_unroutable),
        );
    }
    if now.any_delivery() {
        delivery_group(&mut m, now, rate);
    }
    m
}

fn delivery_group(
    m: &mut Map<String, Value>,
    now: &MessageStats,
    rate: &impl Fn(fn(&MessageStats) -> u64) -> f64,
) {
    put(m, "ack", now.ack, rate(|s| s.ack));
    put(m, "deliver", now.deliver, rate(|s| s.deliver));
    put(
        m,
        "deliver_get",
        now.deliver_get(),
        rate(|s| s.deliver_get()),
    );
    put(
        m,
        "deliver_no_ack",
        now.deliver_no_ack,
        rate(|s| s.deliver_no_ack),
    );
    put(m, "get", now.get, rate(|s| s.get));
    put(m, "get_empty", now.get_empty, rate(|s| s.get_empty));
    put(m, "get_no_ack", now.get_no_ack, rate(|s| s.get_no_ack));
    put(m, "redeliver", now.redeliver, rate(|s| s.redeliver));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: Millis, stats: StatsSnapshot) -> Sample {
        Sample {
            at,
            stats,
            traffic: TrafficSample::default(),
        }
    }

    #[test]
    fn rates_are_the_change_between_the_last_two_samples_per_second() {
        let published = |n: u64| {
            let mut s = StatsSnapshot::default();
            s.channels.insert(
                (1, 1),
                MessageStats {
                    publish: n,
                    ..MessageStats::default()
                },
            );
            s
        };
        let mut rates = Rates::default();
        rates.record(sample(1_000, published(100)));
        let rate = |r: &Rates| {
            r.channel(
                1,
                1,
                &MessageStats {
                    publish: 1,
                    ..MessageStats::default()
                },
            )
            .map(|v| v["publish_details"]["rate"].clone())
        };
        assert_eq!(rate(&rates), Some(json!(0.0)), "one sample");
        rates.record(sample(6_000, published(150)));
        assert_eq!(rate(&rates), Some(json!(10.0)));
        rates.record(sample(9_000, published(151)));
        assert_eq!(rate(&rates), Some(json!(0.3)));
        // A counter that went back (a restart) shows no negative rate.
        rates.record(sample(14_000, published(0)));
        assert_eq!(rate(&rates), Some(json!(0.0)));
    }

    #[test]
    fn depth_rates_go_negative_while_a_queue_drains() {
        let key = ("/".to_string(), "q".to_string());
        let at = |ready: u64, unacked: u64| {
            let mut s = StatsSnapshot::default();
            s.depths.insert(key.clone(), (ready, unacked));
            s
        };
        let mut rates = Rates::default();
        rates.record(sample(1_000, at(100, 0)));
        assert_eq!(
            rates.queue_depth("/", "q"),
            DepthRates::default(),
            "one sample"
        );
        rates.record(sample(6_000, at(50, 10)));
        let r = rates.queue_depth("/", "q");
        assert_eq!((r.messages, r.ready, r.unacked), (-8.0, -10.0, 2.0));
        assert_eq!(rates.total_depth(&["/".to_string()]), r);
        assert_eq!(rates.total_depth(&["other".to_string()]).messages, 0.0);
    }

    #[test]
    fn groups_appear_once_something_of_them_happened() {
        let rates = Rates::default();
        let none = MessageStats::default();
        assert_eq!(rates.channel(1, 1, &none), None);
        assert_eq!(rates.overview(&["/".to_string()], &none), json!({}));
        let published = MessageStats {
            publish: 2,
            drop_unroutable: 1,
            ..none
        };
        let v = rates.channel(1, 1, &published).expect("stats");
        assert_eq!(v["publish"], 2);
        assert_eq!(v["drop_unroutable"], 1);
        assert_eq!(v["publish_details"]["rate"], 0.0);
        assert!(v.get("deliver_get").is_none());
        let got_nothing = MessageStats {
            get_empty: 1,
            ..none
        };
        let v = rates.queue("/", "q", &got_nothing).expect("stats");
        assert_eq!(
            (v["get_empty"].clone(), v["deliver_get"].clone()),
            (json!(1), json!(0))
        );
        assert!(v.get("publish").is_none());
    }
}
