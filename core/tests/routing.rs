//! How exchanges pick queues: direct, fanout, topic, headers, the default
//! exchange, alternate exchanges, exchange-to-exchange bindings, CC and BCC.

mod common;
use common::*;
use warren_core::{FieldValue, Output, Reply};

fn setup(kind: &str) -> (World, Ch) {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "x", kind);
    (w, c)
}

#[test]
fn default_exchange_routes_by_queue_name() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.publish(c, "", "q", "a");
    w.publish(c, "", "nope", "b");
    assert_eq!(w.get_all(c, "q"), ["a"]);
    // Every queue has its implicit binding listed.
    assert!(w
        .b
        .bindings()
        .iter()
        .any(|b| b.source.is_empty() && b.destination == "q" && b.routing_key == "q"));
}

#[test]
fn direct_routing() {
    let (mut w, c) = setup("direct");
    for q in ["a", "b", "c"] {
        w.declare_queue(c, q);
    }
    w.bind(c, "a", "x", "k1");
    w.bind(c, "b", "x", "k1");
    w.bind(c, "c", "x", "k2");
    w.publish(c, "x", "k1", "m1");
    w.publish(c, "x", "k2", "m2");
    w.publish(c, "x", "K1", "case matters");
    assert_eq!(w.get_all(c, "a"), ["m1"]);
    assert_eq!(w.get_all(c, "b"), ["m1"]);
    assert_eq!(w.get_all(c, "c"), ["m2"]);
    // amq.direct behaves the same.
    w.bind(c, "a", "amq.direct", "k");
    w.publish(c, "amq.direct", "k", "via amq.direct");
    assert_eq!(w.get_all(c, "a"), ["via amq.direct"]);
}

#[test]
fn fanout_ignores_the_routing_key() {
    let (mut w, c) = setup("fanout");
    w.declare_queue(c, "a");
    w.declare_queue(c, "b");
    w.bind(c, "a", "x", "whatever");
    w.bind(c, "b", "x", "");
    w.publish(c, "x", "anything", "m");
    assert_eq!(w.get_all(c, "a"), ["m"]);
    assert_eq!(w.get_all(c, "b"), ["m"]);
    w.bind(c, "a", "amq.fanout", "");
    w.publish(c, "amq.fanout", "", "f");
    assert_eq!(w.get_all(c, "a"), ["f"]);
}

#[test]
fn topic_wildcards_match_words() {
    let (mut w, c) = setup("topic");
    let bindings = [
        ("star", "*.orange.*"),
        ("hash", "lazy.#"),
        ("tail", "*.*.rabbit"),
        ("all", "#"),
        ("exact", "a.b"),
        ("empty_hash", "a.#.b"),
    ];
    for (q, k) in bindings {
        w.declare_queue(c, q);
        w.bind(c, q, "x", k);
    }
    let expect = |key: &str| -> Vec<&str> {
        match key {
            "quick.orange.rabbit" => vec!["all", "star", "tail"],
            "lazy.orange.elephant" => vec!["all", "hash", "star"],
            "lazy" => vec!["all", "hash"],
            "a.b" => vec!["all", "empty_hash", "exact"],
            "a.x.y.b" => vec!["all", "empty_hash"],
            "orange" => vec!["all"],
            _ => unreachable!(),
        }
    };
    for key in [
        "quick.orange.rabbit",
        "lazy.orange.elephant",
        "lazy",
        "a.b",
        "a.x.y.b",
        "orange",
    ] {
        w.publish(c, "x", key, key);
        let mut got: Vec<&str> = bindings
            .iter()
            .map(|(q, _)| *q)
            .filter(|q| w.get_body(c, q).as_deref() == Some(key))
            .collect();
        got.sort();
        assert_eq!(got, expect(key), "routing key {key}");
    }
}

#[test]
fn one_copy_per_queue_however_many_bindings_match() {
    let (mut w, c) = setup("topic");
    w.declare_queue(c, "q");
    for k in ["a.*", "#", "a.b", "*.b"] {
        w.bind(c, "q", "x", k);
    }
    w.send(c, publish("x", "a.b", "m").header("CC", array(&["a.c"])));
    assert_eq!(w.count("q"), Some(1));
}

/// A binding's arguments, a message's headers (if any), and whether it matches.
type HeadersCase = (
    Vec<(&'static str, FieldValue)>,
    Option<Vec<(&'static str, FieldValue)>>,
    bool,
);

fn headers_case(binding: &[(&str, FieldValue)], headers: Option<&[(&str, FieldValue)]>) -> bool {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "hx", "headers");
    w.declare_queue(c, "q");
    w.ok(c, bind_args("q", "hx", "", table(binding)));
    let mut p = publish("hx", "", "h");
    if let Some(h) = headers {
        for (k, v) in h {
            p = p.header(k, v.clone());
        }
    }
    w.send(c, p);
    w.count("q") == Some(1)
}

#[test]
fn headers_exchange_matching() {
    use FieldValue::{Bool, Void, I64};
    // (binding, message headers, matches) as observed on RabbitMQ 3.10.
    let cases: Vec<HeadersCase> = vec![
        (
            vec![("x-match", s("all")), ("a", s("1")), ("b", s("2"))],
            Some(vec![("a", s("1")), ("b", s("2")), ("c", s("3"))]),
            true,
        ),
        (
            vec![("x-match", s("all")), ("a", s("1")), ("b", s("2"))],
            Some(vec![("a", s("1"))]),
            false,
        ),
        (
            vec![("x-match", s("any")), ("a", s("1")), ("b", s("2"))],
            Some(vec![("b", s("2"))]),
            true,
        ),
        (
            vec![("x-match", s("any")), ("a", s("1"))],
            Some(vec![("a", s("9"))]),
            false,
        ),
        (vec![("a", s("1"))], Some(vec![("a", s("1"))]), true), // x-match defaults to all
        (
            vec![("x-match", s("all-with-x")), ("x-foo", s("bar"))],
            Some(vec![("x-foo", s("bar"))]),
            true,
        ),
        (
            vec![("x-match", s("any-with-x")), ("x-foo", s("bar"))],
            Some(vec![("x-foo", s("bar"))]),
            true,
        ),
        (
            vec![("x-match", s("all-with-x")), ("x-foo", s("bar"))],
            Some(vec![("x-foo", s("baz"))]),
            false,
        ),
        (vec![("x-match", s("all")), ("x-foo", s("bar"))], None, true), // x- arguments ignored by all
        (vec![("x-match", s("all")), ("k", s("v"))], None, false),
        (
            vec![("x-match", s("any"))],
            Some(vec![("a", int(1))]),
            false,
        ),
        (vec![], None, true),
        (vec![("k", int(1))], Some(vec![("k", I64(1))]), true), // integers by value
        (vec![("k", int(1))], Some(vec![("k", s("1"))]), false),
        (vec![("k", Bool(true))], Some(vec![("k", int(1))]), false),
        (vec![("k", Void)], Some(vec![("k", s("anything"))]), true), // void: present
        (vec![("k", Void)], Some(vec![("j", s("x"))]), false),
        (vec![("k", s("v"))], Some(vec![("k", Void)]), false),
        (
            vec![("x-match", s("any-with-x"))],
            Some(vec![("x-match", s("any-with-x"))]),
            false,
        ),
        (
            vec![("x-match", s("all-with-x")), ("a", int(1))],
            Some(vec![("a", int(1))]),
            true,
        ),
    ];
    for (binding, headers, expected) in cases {
        assert_eq!(
            headers_case(&binding, headers.as_deref()),
            expected,
            "binding {binding:?} headers {headers:?}"
        );
    }
}

#[test]
fn amq_headers_and_amq_match_are_headers_exchanges() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    for x in ["amq.headers", "amq.match"] {
        w.ok(c, bind_args("q", x, "", table(&[("kind", s(x))])));
        w.send(c, publish(x, "", "m").header("kind", s(x)));
    }
    assert_eq!(w.count("q"), Some(2));
}

#[test]
fn alternate_exchanges() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "ae", "fanout");
    w.declare_queue(c, "unrouted");
    w.bind(c, "unrouted", "ae", "");
    w.ok(c, ExchangeDecl::new("x", "direct").alternate("ae"));
    w.declare_queue(c, "q");
    w.bind(c, "q", "x", "k");
    w.publish(c, "x", "k", "routed");
    w.publish(c, "x", "zz", "to ae");
    assert_eq!(w.get_all(c, "q"), ["routed"]);
    assert_eq!(w.get_all(c, "unrouted"), ["to ae"]);
    // A matching exchange-to-exchange binding counts as routed, even if the
    // destination exchange routes nowhere: the AE is not used.
    w.declare_exchange(c, "empty", "fanout");
    w.ok(c, e2e_bind("empty", "x", "e"));
    w.publish(c, "x", "e", "into empty");
    assert_eq!(w.count("unrouted"), Some(0));
    // An exchange reached through an e2e binding uses its own AE.
    w.ok(c, ExchangeDecl::new("y", "direct").alternate("ae"));
    w.declare_exchange(c, "z", "fanout");
    w.ok(c, e2e_bind("y", "z", ""));
    w.publish(c, "z", "nomatch", "via y's ae");
    assert_eq!(w.get_all(c, "unrouted"), ["via y's ae"]);
    // An internal exchange can be an AE.
    w.ok(c, ExchangeDecl::new("iae", "fanout").internal());
    w.declare_queue(c, "qi");
    w.bind(c, "qi", "iae", "");
    w.ok(c, ExchangeDecl::new("v", "direct").alternate("iae"));
    w.publish(c, "v", "k", "internal ae");
    assert_eq!(w.get_all(c, "qi"), ["internal ae"]);
    // A missing AE: unroutable, returned when mandatory (before the confirm).
    w.ok(
        c,
        ExchangeDecl::new("w", "direct").alternate("nonexistent-ae"),
    );
    w.ok(c, confirm_select());
    let out = w.send(c, publish("w", "k", "m").mandatory());
    assert_eq!(kinds(&out), ["Return", "Ack"]);
    // AE chains: x2's AE is x, whose AE is ae.
    w.ok(c, ExchangeDecl::new("x2", "direct").alternate("x"));
    w.publish(c, "x2", "k", "through x");
    w.publish(c, "x2", "nothing", "through x then ae");
    assert_eq!(w.get_all(c, "q"), ["through x"]);
    assert_eq!(w.get_all(c, "unrouted"), ["through x then ae"]);
    // An AE that is its exchange's own AE does not loop.
    w.ok(c, ExchangeDecl::new("self", "direct").alternate("self"));
    let out = w.send(c, publish("self", "k", "m").mandatory());
    assert_eq!(kinds(&out), ["Return", "Ack"]);
}

#[test]
fn exchange_to_exchange_bindings_and_cycles() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "a", "fanout");
    w.declare_exchange(c, "b", "fanout");
    w.declare_exchange(c, "t", "topic");
    w.ok(c, e2e_bind("b", "a", ""));
    w.ok(c, e2e_bind("a", "b", "")); // a cycle
    w.ok(c, e2e_bind("t", "a", ""));
    w.declare_queue(c, "q");
    w.bind(c, "q", "a", "");
    w.bind(c, "q", "b", "");
    w.declare_queue(c, "tq");
    w.bind(c, "tq", "t", "logs.*");
    // Each exchange is visited once and each queue gets one copy.
    w.publish(c, "a", "logs.info", "m");
    assert_eq!(w.count("q"), Some(1));
    assert_eq!(w.count("tq"), Some(1));
    w.publish(c, "b", "other", "n");
    assert_eq!(w.get_all(c, "q"), ["m", "n"]);
    assert_eq!(w.get_all(c, "tq"), ["m"]);
    // Unbinding cuts the path.
    w.ok(c, e2e_unbind("t", "a", ""));
    w.publish(c, "a", "logs.info", "o");
    assert_eq!(w.count("tq"), Some(0));
    // An internal exchange is reachable through e2e bindings only.
    w.ok(c, ExchangeDecl::new("int", "fanout").internal());
    w.ok(c, e2e_bind("int", "a", ""));
    w.declare_queue(c, "iq");
    w.bind(c, "iq", "int", "");
    w.publish(c, "a", "", "p");
    assert_eq!(w.count("iq"), Some(1));
}

#[test]
fn cc_and_bcc_headers_add_routing_keys() {
    let mut w = World::new();
    let c = w.client(1);
    for q in ["q1", "q2", "q3"] {
        w.declare_queue(c, q);
    }
    w.bind(c, "q1", "amq.direct", "rk");
    w.bind(c, "q2", "amq.direct", "cc1");
    w.bind(c, "q3", "amq.direct", "bcc1");
    w.send(
        c,
        publish("amq.direct", "rk", "m")
            .header("zeta", int(1))
            .header("CC", array(&["cc1"]))
            .header("BCC", array(&["bcc1"]))
            .header("alpha", s("a")),
    );
    for q in ["q1", "q2", "q3"] {
        let out = w.send(c, get(q).no_ack());
        let m = &delivered_messages(&out)[0];
        assert_eq!(m.routing_key(), "rk", "the routing key is unchanged");
        // BCC is stripped, CC kept, order otherwise as published.
        assert_eq!(header_keys(m), ["zeta", "CC", "alpha"], "{q}");
    }
    // On the default exchange, and each queue once even if named twice.
    w.send(
        c,
        publish("", "q1", "d")
            .header("CC", array(&["q2", "q1"]))
            .header("BCC", array(&["q2"])),
    );
    assert_eq!(w.get_all(c, "q1"), ["d"]);
    assert_eq!(w.get_all(c, "q2"), ["d"]);
}

#[test]
fn cc_must_be_an_array() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    let out = w.send(c, publish("", "q", "m").header("CC", s("abc")));
    assert_eq!(
        error_of(&out),
        Some(chan_err(
            warren_core::ReplyCode::PreconditionFailed,
            "PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,\"CC\",longstr}"
        ))
    );
    assert_eq!(w.count("q"), Some(0));
}

#[test]
fn unroutable_messages_are_dropped_or_returned() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "x", "direct");
    let out = w.publish(c, "x", "nobody", "dropped");
    assert!(out.is_empty());
    let out = w.send(c, publish("x", "nobody", "back").mandatory());
    match &out[..] {
        [Output::Return {
            reply_code,
            reply_text,
            message,
            ..
        }] => {
            assert_eq!((*reply_code, reply_text.as_str()), (312, "NO_ROUTE"));
            assert_eq!(
                (
                    message.exchange(),
                    message.routing_key(),
                    text(message.body()).as_str()
                ),
                ("x", "nobody", "back")
            );
        }
        other => panic!("{other:?}"),
    }
    // To the default exchange, a missing queue is unroutable too.
    let out = w.send(c, publish("", "no-such-queue", "m").mandatory());
    assert_eq!(kinds(&out), ["Return"]);
    assert!(matches!(
        w.ok(c, QueueDecl::new("later")),
        Reply::QueueDeclareOk { .. }
    ));
}
