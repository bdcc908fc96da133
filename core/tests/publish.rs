//! basic.publish: properties, mandatory returns, publisher confirms, and the
//! checks RabbitMQ makes before routing (in its order).

mod common;
use common::*;
use warren_core::{
    auth, definitions::PermissionDef, BasicProperties, FieldTable, FieldValue, Output, ReplyCode,
};

fn all_properties() -> BasicProperties {
    let mut headers = FieldTable::new();
    headers.insert("str", s("v"));
    headers.insert("long", FieldValue::I64(1 << 40));
    headers.insert("int", FieldValue::I32(-7));
    headers.insert("bool", FieldValue::Bool(true));
    headers.insert(
        "nested",
        FieldValue::Table(table(&[("a", FieldValue::U8(1))])),
    );
    headers.insert("list", FieldValue::Array(vec![s("x"), FieldValue::Void]));
    headers.insert("ts", FieldValue::Timestamp(1_600_000_000));
    headers.insert(
        "bin",
        FieldValue::Bytes(bytes::Bytes::from_static(b"\x00\xff")),
    );
    BasicProperties {
        content_type: Some("application/json".into()),
        content_encoding: Some("gzip".into()),
        headers: Some(headers),
        delivery_mode: Some(2),
        priority: Some(7),
        correlation_id: Some("corr".into()),
        reply_to: Some("replies".into()),
        expiration: Some("60000".into()),
        message_id: Some("id-1".into()),
        timestamp: Some(1_700_000_000),
        kind: Some("order.created".into()),
        user_id: Some("guest".into()),
        app_id: Some("warren-tests".into()),
        cluster_id: Some("c1".into()),
    }
}

#[test]
fn all_fourteen_properties_are_carried_intact() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.declare_queue(c, "r");
    let props = all_properties();
    w.send(c, publish("", "q", "body").props(props.clone()));
    let out = w.consume(c, "q", "ct");
    let m = &delivered_messages(&out)[0];
    assert_eq!(m.properties(), props);
    assert_eq!(text(m.body()), "body");
    assert_eq!((m.exchange(), m.routing_key()), ("", "q"));
    // Through basic.get and a mandatory return too.
    w.send(c, publish("", "r", "b2").props(props.clone()));
    let g = w.get_msg(c, "r");
    assert_eq!(g.message.properties(), props);
    let out = w.send(
        c,
        publish("amq.direct", "none", "b3")
            .props(props.clone())
            .mandatory(),
    );
    match &out[..] {
        [Output::Return { message, .. }] => assert_eq!(message.properties(), props),
        other => panic!("{other:?}"),
    }
    // An empty body and no properties at all.
    w.publish(c, "", "r", "");
    let g = w.get_msg(c, "r");
    assert!(g.message.body().is_empty());
    assert_eq!(g.message.properties(), BasicProperties::default());
}

#[test]
fn publisher_confirms_count_from_one_per_channel() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    assert_eq!(
        w.ok(c, confirm_select()),
        warren_core::Reply::ConfirmSelectOk
    );
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.extend(confirms(&w.publish(c, "", "q", "m")));
    }
    assert_eq!(seen, [(1, false, true), (2, false, true), (3, false, true)]);
    // Unroutable: still acked, after the return when mandatory.
    let out = w.send(c, publish("", "nowhere", "m").mandatory());
    assert_eq!(kinds(&out), ["Return", "Ack"]);
    assert_eq!(confirms(&out), [(4, false, true)]);
    let out = w.publish(c, "", "nowhere", "m");
    assert_eq!(confirms(&out), [(5, false, true)]);
    // Another channel counts on its own.
    let c2 = w.channel(1, 2);
    w.ok(c2, confirm_select());
    assert_eq!(confirms(&w.publish(c2, "", "q", "m")), [(1, false, true)]);
    // Not in confirm mode: no confirms.
    let c3 = w.channel(1, 3);
    assert!(confirms(&w.publish(c3, "", "q", "m")).is_empty());
}

#[test]
fn reject_publish_nacks_as_rabbitmq_does() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(
        c,
        QueueDecl::new("full")
            .arg("x-max-length", int(0))
            .arg("x-overflow", s("reject-publish")),
    );
    w.declare_queue(c, "open");
    w.declare_exchange(c, "fan", "fanout");
    w.bind(c, "full", "fan", "");
    w.bind(c, "open", "fan", "");
    w.ok(c, confirm_select());
    w.publish(c, "", "open", "1");
    // A lone nack goes out with multiple=true: nothing older is unconfirmed.
    let out = w.send(c, publish("", "full", "2").mandatory());
    assert_eq!(kinds(&out), ["Nack"], "routed to a queue, so not returned");
    assert_eq!(confirms(&out), [(2, true, false)]);
    // One queue refusing is enough for a nack; the other still got it.
    let out = w.publish(c, "fan", "", "3");
    assert_eq!(confirms(&out), [(3, true, false)]);
    assert_eq!(w.get_all(c, "open"), ["1", "3"]);
}

#[test]
fn user_id_must_match_the_login() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.send(c, publish("", "q", "ok").user_id("guest"));
    assert_eq!(w.count("q"), Some(1));
    assert_eq!(
        error_of(&w.send(c, publish("", "q", "no").user_id("bob"))),
        Some(chan_err(
            ReplyCode::PreconditionFailed,
            "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'"
        ))
    );
    // The exchange is checked first.
    let c = w.channel(1, 2);
    assert_eq!(
        error_of(&w.send(c, publish("missing", "q", "no").user_id("bob"))),
        Some(chan_err(
            ReplyCode::NotFound,
            "NOT_FOUND - no exchange 'missing' in vhost '/'"
        ))
    );
    // Users tagged impersonator may set any user_id.
    w.b.put_user(auth::user_def("imp", "pw", &["impersonator"], [1, 2, 3, 4]));
    w.b.set_permissions(auth::full_permissions("imp", "/"));
    w.connect_as(2, "imp", "/").unwrap();
    let i = w.channel(2, 1);
    assert!(error_of(&w.send(i, publish("", "q", "as someone").user_id("someone"))).is_none());
    assert_eq!(w.count("q"), Some(2));
}

#[test]
fn expiration_must_be_a_valid_integer() {
    let cases = [
        ("abc", "invalid expiration 'abc': no_integer"),
        ("-5", "invalid expiration '-5': {value_negative,-5}"),
        ("12x", "invalid expiration '12x': {leftover_string,\"x\"}"),
        (" 5", "invalid expiration ' 5': no_integer"),
        ("5 ", "invalid expiration '5 ': {leftover_string,\" \"}"),
        ("", "invalid expiration '': no_integer"),
        (
            "315360000001",
            "invalid expiration '315360000001': {value_too_large,315360000001}",
        ),
    ];
    for (exp, text) in cases {
        let mut w = World::new();
        let c = w.client(1);
        w.declare_queue(c, "q");
        let out = w.send(c, publish("", "q", "m").expiration(exp));
        assert_eq!(
            error_of(&out),
            Some(chan_err(
                ReplyCode::PreconditionFailed,
                &format!("PRECONDITION_FAILED - {text}")
            )),
            "{exp:?}"
        );
        assert_eq!(w.count("q"), Some(0));
    }
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    for exp in ["0", "+5", "315360000000", "007"] {
        assert!(
            error_of(&w.send(c, publish("", "q", "m").expiration(exp))).is_none(),
            "{exp}"
        );
    }
}

#[test]
fn publish_checks_in_rabbitmq_order() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, ExchangeDecl::new("ix", "fanout").internal());
    assert_eq!(
        error_of(&w.publish(c, "ix", "k", "m")),
        Some(chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - cannot publish to internal exchange 'ix' in vhost '/'"
        ))
    );
    let c = w.channel(1, 2);
    assert_eq!(
        error_of(&w.publish(c, "nope", "k", "m")),
        Some(chan_err(
            ReplyCode::NotFound,
            "NOT_FOUND - no exchange 'nope' in vhost '/'"
        ))
    );
    let c = w.channel(1, 3);
    assert_eq!(
        error_of(&w.send(c, publish("", "q", "m").immediate())),
        Some(conn_err(
            ReplyCode::NotImplemented,
            "NOT_IMPLEMENTED - immediate=true"
        ))
    );
}

#[test]
fn write_permission_is_checked_before_the_exchange_exists() {
    let mut w = World::new();
    w.b.add_vhost("v");
    w.b.put_user(auth::user_def("u", "pw", &[], [0, 0, 0, 1]));
    w.b.set_permissions(PermissionDef {
        user: "u".into(),
        vhost: "v".into(),
        configure: "^w-.*".into(),
        write: "^w-.*".into(),
        read: "^w-.*".into(),
    });
    w.connect_as(1, "u", "v").unwrap();
    let c = w.channel(1, 1);
    // The default exchange is called amq.default in permission checks.
    assert_eq!(
        error_of(&w.publish(c, "", "w-q", "m")),
        Some(chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - access to exchange 'amq.default' in vhost 'v' refused for user 'u'"
        ))
    );
    let c = w.channel(1, 2);
    assert_eq!(
        error_of(&w.publish(c, "missing", "k", "m")),
        Some(chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - access to exchange 'missing' in vhost 'v' refused for user 'u'"
        ))
    );
    let c = w.channel(1, 3);
    assert_eq!(
        w.fails(c, QueueDecl::new("q1")),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - access to queue 'q1' in vhost 'v' refused for user 'u'"
        )
    );
    let c = w.channel(1, 4);
    w.ok(c, QueueDecl::new("w-q1"));
    assert_eq!(
        w.fails(c, bind("w-q1", "amq.direct", "k")),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - access to exchange 'amq.direct' in vhost 'v' refused for user 'u'"
        )
    );
    let c = w.channel(1, 5);
    assert_eq!(
        w.fails(c, consume("q-nope", "")),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - access to queue 'q-nope' in vhost 'v' refused for user 'u'"
        )
    );
    let c = w.channel(1, 6);
    assert_eq!(
        w.fails(c, get("q-nope")),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - access to queue 'q-nope' in vhost 'v' refused for user 'u'"
        )
    );
    let c = w.channel(1, 7);
    let Some((false, 403, t)) = error_of(&w.send(c, QueueDecl::new(""))) else {
        panic!("server-named queue needs configure permission on its generated name")
    };
    assert!(
        t.starts_with("ACCESS_REFUSED - access to queue 'amq.gen-"),
        "{t}"
    );
}
