//! exchange.* and queue.* declaration, deletion, binding, purge: the replies
//! and reply texts of RabbitMQ 3.10.

mod common;
use common::*;
use warren_core::{definitions::PermissionDef, Reply, ReplyCode};

const LOCKED: &str = "cannot obtain exclusive access to locked queue 'q' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.";

fn locked() -> (bool, u16, String) {
    chan_err(
        ReplyCode::ResourceLocked,
        &format!("RESOURCE_LOCKED - {LOCKED}"),
    )
}

// ---- vhosts and built-in exchanges ------------------------------------------

#[test]
fn built_in_exchanges_exist_with_their_types() {
    let mut w = World::new();
    let c = w.client(1);
    for (name, kind) in [
        ("amq.direct", "direct"),
        ("amq.fanout", "fanout"),
        ("amq.topic", "topic"),
        ("amq.headers", "headers"),
        ("amq.match", "headers"),
    ] {
        assert_eq!(
            w.ok(c, ExchangeDecl::new(name, kind).passive()),
            Reply::ExchangeDeclareOk
        );
        // Redeclaring with the same properties (durable) is fine...
        assert_eq!(
            w.ok(c, ExchangeDecl::new(name, kind).durable()),
            Reply::ExchangeDeclareOk
        );
        let x =
            w.b.exchanges()
                .into_iter()
                .find(|x| x.name == name)
                .unwrap();
        assert_eq!(
            (x.kind.as_str(), x.durable, x.internal),
            (kind, true, false)
        );
    }
    // ...but not with different ones.
    assert_eq!(
        w.fails(c, ExchangeDecl::new("amq.direct", "direct")),
        chan_err(ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'amq.direct' in vhost '/': received 'false' but current is 'true'")
    );
    let c = w.channel(1, 2);
    assert_eq!(
        w.fails(c, ExchangeDecl::new("amq.direct", "fanout").durable()),
        chan_err(ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'amq.direct' in vhost '/': received 'fanout' but current is 'direct'")
    );
    // The default exchange is listed (as "") but cannot be declared, even passively.
    assert!(w
        .b
        .exchanges()
        .iter()
        .any(|x| x.name.is_empty() && x.kind == "direct"));
    let c = w.channel(1, 3);
    let refused = chan_err(
        ReplyCode::AccessRefused,
        "ACCESS_REFUSED - operation not permitted on the default exchange",
    );
    assert_eq!(
        w.fails(c, ExchangeDecl::new("", "direct").passive()),
        refused
    );
    let c = w.channel(1, 4);
    assert_eq!(w.fails(c, ExchangeDecl::new("", "direct")), refused);
}

#[test]
fn amq_default_is_not_a_name_for_the_default_exchange() {
    // RabbitMQ 3.10 only shows "amq.default" in texts; as a name it is an
    // ordinary (reserved, absent) exchange.
    let mut w = World::new();
    let c = w.client(1);
    assert_eq!(
        w.fails(c, ExchangeDecl::new("amq.default", "direct").passive()),
        chan_err(
            ReplyCode::NotFound,
            "NOT_FOUND - no exchange 'amq.default' in vhost '/'"
        )
    );
    let c = w.channel(1, 2);
    assert_eq!(
        w.fails(c, ExchangeDecl::new("amq.default", "direct")),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - exchange name 'amq.default' contains reserved prefix 'amq.*'"
        )
    );
    let c = w.channel(1, 3);
    assert_eq!(
        w.fails(c, exchange_delete("amq.default", false)),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - deletion of system exchange 'amq.default' in vhost '/' not allowed"
        )
    );
    let c = w.channel(1, 4);
    w.declare_queue(c, "q");
    assert_eq!(
        w.fails(c, bind("q", "amq.default", "k")),
        chan_err(
            ReplyCode::NotFound,
            "NOT_FOUND - no exchange 'amq.default' in vhost '/'"
        )
    );
    let c = w.channel(1, 5);
    let out = w.publish(c, "amq.default", "q", "x");
    assert_eq!(
        error_of(&out),
        Some(chan_err(
            ReplyCode::NotFound,
            "NOT_FOUND - no exchange 'amq.default' in vhost '/'"
        ))
    );
    assert_eq!(w.count("q"), Some(0));
}

#[test]
fn vhosts_are_separate_namespaces() {
    let mut w = World::new();
    w.b.add_vhost("v2");
    w.b.set_permissions(PermissionDef {
        user: "guest".into(),
        vhost: "v2".into(),
        configure: ".*".into(),
        write: ".*".into(),
        read: ".*".into(),
    });
    let a = w.client(1);
    w.connect_as(2, "guest", "v2").unwrap();
    let b = w.channel(2, 1);
    w.declare_queue(a, "q");
    w.publish(a, "", "q", "in /");
    // The same name in v2 is another queue, and v2 has its own built-ins.
    assert_eq!(
        w.ok(b, QueueDecl::new("q")),
        Reply::QueueDeclareOk {
            queue: "q".into(),
            message_count: 0,
            consumer_count: 0
        }
    );
    assert_eq!(
        w.ok(b, ExchangeDecl::new("amq.topic", "topic").passive()),
        Reply::ExchangeDeclareOk
    );
    assert_eq!(w.b.queue_info("/", "q").unwrap().messages_ready, 1);
    assert_eq!(w.b.queue_info("v2", "q").unwrap().messages_ready, 0);
    // Connection-level checks: unknown vhost, no permission on the vhost.
    let e = w.connect_as(3, "guest", "nope").unwrap_err();
    assert_eq!(
        (e.code, e.text.as_str()),
        (ReplyCode::NotAllowed, "NOT_ALLOWED - vhost nope not found")
    );
    w.b.add_vhost("v3");
    let e = w.connect_as(4, "guest", "v3").unwrap_err();
    assert_eq!(
        e.text,
        "NOT_ALLOWED - access to vhost 'v3' refused for user 'guest'"
    );
    let e = w.b.authenticate("PLAIN", "guest", "bad", true).unwrap_err();
    assert_eq!(
        (e.code, e.text.as_str()),
        (ReplyCode::AccessRefused, "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.")
    );
    assert!(w.b.authenticate("PLAIN", "guest", "guest", true).is_ok());
    assert!(
        w.b.authenticate("PLAIN", "guest", "guest", false).is_err(),
        "guest is loopback-only"
    );
}

// ---- exchange.declare / delete ----------------------------------------------

#[test]
fn exchange_redeclare_must_be_equivalent() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "x", "direct");
    assert_eq!(
        w.ok(c, ExchangeDecl::new("x", "direct")),
        Reply::ExchangeDeclareOk
    );
    let cases = [
        (ExchangeDecl::new("x", "fanout"), "inequivalent arg 'type' for exchange 'x' in vhost '/': received 'fanout' but current is 'direct'"),
        (ExchangeDecl::new("x", "direct").durable(), "inequivalent arg 'durable' for exchange 'x' in vhost '/': received 'true' but current is 'false'"),
        (ExchangeDecl::new("x", "direct").auto_delete(), "inequivalent arg 'auto_delete' for exchange 'x' in vhost '/': received 'true' but current is 'false'"),
        (ExchangeDecl::new("x", "direct").internal(), "inequivalent arg 'internal' for exchange 'x' in vhost '/': received 'true' but current is 'false'"),
        (ExchangeDecl::new("x", "direct").alternate("ae"), "inequivalent arg 'alternate-exchange' for exchange 'x' in vhost '/': received the value 'ae' of type 'longstr' but current is none"),
    ];
    for (i, (decl, text)) in cases.into_iter().enumerate() {
        let c = w.channel(1, 10 + i as u16);
        assert_eq!(
            w.fails(c, decl),
            chan_err(
                ReplyCode::PreconditionFailed,
                &format!("PRECONDITION_FAILED - {text}")
            )
        );
    }
    let c = w.channel(1, 2);
    w.ok(c, ExchangeDecl::new("y", "direct").alternate("ae"));
    assert_eq!(
        w.fails(c, ExchangeDecl::new("y", "direct")),
        chan_err(ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange 'y' in vhost '/': received none but current is the value 'ae' of type 'longstr'")
    );
    let c = w.channel(1, 3);
    assert_eq!(
        w.fails(c, ExchangeDecl::new("y", "direct").alternate("ae2")),
        chan_err(ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange 'y' in vhost '/': received 'ae2' but current is 'ae'")
    );
    // Other arguments are not compared.
    let c = w.channel(1, 4);
    assert_eq!(
        w.ok(
            c,
            ExchangeDecl::new("y", "direct")
                .alternate("ae")
                .arg("foo", int(1))
        ),
        Reply::ExchangeDeclareOk
    );
}

#[test]
fn exchange_declare_errors() {
    let mut w = World::new();
    let c = w.client(1);
    assert_eq!(
        w.fails(c, ExchangeDecl::new("x", "zzqqxyz")),
        conn_err(
            ReplyCode::CommandInvalid,
            "COMMAND_INVALID - unknown exchange type 'zzqqxyz'"
        )
    );
    let c = w.client(2);
    assert_eq!(
        w.fails(c, ExchangeDecl::new("nope", "direct").passive()),
        chan_err(
            ReplyCode::NotFound,
            "NOT_FOUND - no exchange 'nope' in vhost '/'"
        )
    );
    let c = w.channel(2, 2);
    assert_eq!(
        w.fails(c, ExchangeDecl::new("amq.foo", "direct")),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'"
        )
    );
    let c = w.channel(2, 3);
    assert_eq!(
        w.fails(c, ExchangeDecl::new("x", "direct").arg("alternate-exchange", int(5))),
        chan_err(ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - invalid type 'signedint' for arg 'alternate-exchange' in exchange 'x' in vhost '/'")
    );
    assert!(!w.exchange_exists("x"));
}

#[test]
fn exchange_delete_replies() {
    let mut w = World::new();
    let c = w.client(1);
    // Deleting what does not exist is fine.
    assert_eq!(
        w.ok(c, exchange_delete("missing", false)),
        Reply::ExchangeDeleteOk
    );
    assert_eq!(
        w.fails(c, exchange_delete("amq.direct", false)),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed"
        )
    );
    let c = w.channel(1, 2);
    assert_eq!(
        w.fails(c, exchange_delete("amq.foo", false)),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - deletion of system exchange 'amq.foo' in vhost '/' not allowed"
        )
    );
    let c = w.channel(1, 3);
    assert_eq!(
        w.fails(c, exchange_delete("", false)),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - operation not permitted on the default exchange"
        )
    );
    let c = w.channel(1, 4);
    w.declare_exchange(c, "x", "direct");
    w.declare_exchange(c, "dest", "fanout");
    w.declare_queue(c, "q");
    w.bind(c, "q", "x", "k");
    w.ok(c, e2e_bind("dest", "x", "k"));
    assert_eq!(
        w.fails(c, exchange_delete("x", true)),
        chan_err(
            ReplyCode::PreconditionFailed,
            "PRECONDITION_FAILED - exchange 'x' in vhost '/' in use"
        )
    );
    // Bindings *to* an exchange do not make it "used".
    let c = w.channel(1, 5);
    assert_eq!(
        w.ok(c, exchange_delete("dest", true)),
        Reply::ExchangeDeleteOk
    );
    assert_eq!(
        w.ok(c, exchange_delete("x", false)),
        Reply::ExchangeDeleteOk
    );
    assert!(!w.exchange_exists("x"));
    assert!(w.b.bindings().iter().all(|b| b.source != "x"));
    // Its bindings went with it: redeclared, it routes nowhere.
    w.declare_exchange(c, "x", "direct");
    w.ok(c, confirm_select());
    let out = w.send(c, publish("x", "k", "m").mandatory());
    assert_eq!(kinds(&out), ["Return", "Ack"]);
}

#[test]
fn auto_delete_exchanges_go_with_their_last_source_binding() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    // Never bound: stays.
    w.ok(c, ExchangeDecl::new("never", "fanout").auto_delete());
    assert!(w.exchange_exists("never"));
    // Last queue binding removed by unbind.
    w.ok(c, ExchangeDecl::new("ax", "fanout").auto_delete());
    w.bind(c, "q", "ax", "");
    w.bind(c, "q", "ax", "2");
    w.ok(c, unbind("q", "ax", ""));
    assert!(w.exchange_exists("ax"), "one binding left");
    w.ok(c, unbind("q", "ax", "2"));
    assert!(!w.exchange_exists("ax"));
    // Last binding removed because its queue was deleted.
    w.ok(c, ExchangeDecl::new("ax2", "fanout").auto_delete());
    w.declare_queue(c, "q2");
    w.bind(c, "q2", "ax2", "");
    w.ok(c, queue_delete("q2", false, false));
    assert!(!w.exchange_exists("ax2"));
    // As the source of an exchange-to-exchange binding.
    w.ok(c, ExchangeDecl::new("ax3", "fanout").auto_delete());
    w.ok(c, e2e_bind("amq.fanout", "ax3", ""));
    w.ok(c, e2e_unbind("amq.fanout", "ax3", ""));
    assert!(!w.exchange_exists("ax3"));
    // As a destination only: stays.
    w.ok(c, ExchangeDecl::new("ax4", "fanout").auto_delete());
    w.ok(c, e2e_bind("ax4", "amq.fanout", ""));
    w.ok(c, e2e_unbind("ax4", "amq.fanout", ""));
    assert!(w.exchange_exists("ax4"));
}

// ---- bindings -----------------------------------------------------------------

#[test]
fn bind_errors_and_idempotence() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.declare_exchange(c, "x", "direct");
    w.bind(c, "q", "x", "k");
    w.bind(c, "q", "x", "k"); // same binding again: fine, still one
    assert_eq!(w.b.bindings().iter().filter(|b| b.source == "x").count(), 1);
    let cases: Vec<(warren_core::Command, (bool, u16, String))> = vec![
        (
            bind("nope", "x", "k"),
            chan_err(
                ReplyCode::NotFound,
                "NOT_FOUND - no queue 'nope' in vhost '/'",
            ),
        ),
        (
            bind("q", "nox", "k"),
            chan_err(
                ReplyCode::NotFound,
                "NOT_FOUND - no exchange 'nox' in vhost '/'",
            ),
        ),
        // Both missing: the exchange is reported.
        (
            bind("nope", "nox", "k"),
            chan_err(
                ReplyCode::NotFound,
                "NOT_FOUND - no exchange 'nox' in vhost '/'",
            ),
        ),
        (
            bind("q", "", "k"),
            chan_err(
                ReplyCode::AccessRefused,
                "ACCESS_REFUSED - operation not permitted on the default exchange",
            ),
        ),
        (
            e2e_bind("x", "src", "k"),
            chan_err(
                ReplyCode::NotFound,
                "NOT_FOUND - no exchange 'src' in vhost '/'",
            ),
        ),
        (
            e2e_bind("dst", "x", "k"),
            chan_err(
                ReplyCode::NotFound,
                "NOT_FOUND - no exchange 'dst' in vhost '/'",
            ),
        ),
        (
            e2e_bind("dst", "src", "k"),
            chan_err(
                ReplyCode::NotFound,
                "NOT_FOUND - no exchange 'src' in vhost '/'",
            ),
        ),
        (
            e2e_bind("x", "", "k"),
            chan_err(
                ReplyCode::AccessRefused,
                "ACCESS_REFUSED - operation not permitted on the default exchange",
            ),
        ),
        (
            e2e_bind("", "x", "k"),
            chan_err(
                ReplyCode::AccessRefused,
                "ACCESS_REFUSED - operation not permitted on the default exchange",
            ),
        ),
    ];
    for (i, (cmd, err)) in cases.into_iter().enumerate() {
        let c = w.channel(1, 10 + i as u16);
        assert_eq!(w.fails(c, cmd.clone()), err, "{cmd:?}");
    }
}

#[test]
fn unbinding_what_is_not_there_is_fine() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.declare_exchange(c, "x", "direct");
    // RabbitMQ replies unbind-ok for a missing binding, queue or exchange.
    assert_eq!(w.ok(c, unbind("q", "x", "nope")), Reply::QueueUnbindOk);
    assert_eq!(w.ok(c, unbind("missing", "x", "k")), Reply::QueueUnbindOk);
    assert_eq!(w.ok(c, unbind("q", "missing", "k")), Reply::QueueUnbindOk);
    assert_eq!(
        w.ok(c, e2e_unbind("amq.direct", "missing", "k")),
        Reply::ExchangeUnbindOk
    );
    assert_eq!(
        w.ok(c, e2e_unbind("missing", "amq.direct", "k")),
        Reply::ExchangeUnbindOk
    );
    assert_eq!(
        w.ok(c, e2e_unbind("x", "amq.direct", "zz")),
        Reply::ExchangeUnbindOk
    );
    // A headers unbind does not validate x-match.
    let bad = table(&[("x-match", s("foo"))]);
    let out = w.send(
        c,
        warren_core::Command::QueueUnbind {
            queue: "q".into(),
            exchange: "amq.headers".into(),
            routing_key: "".into(),
            arguments: bad,
        },
    );
    assert_eq!(kinds(&out), ["QueueUnbindOk"]);
}

#[test]
fn headers_bindings_validate_x_match() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    assert_eq!(
        w.fails(c, bind_args("q", "amq.headers", "", table(&[("x-match", s("foo"))]))),
        chan_err(ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - Invalid x-match field value <<\"foo\">>; expected all, any, all-with-x, or any-with-x")
    );
    let c = w.channel(1, 2);
    assert_eq!(
        w.fails(c, bind_args("q", "amq.headers", "", table(&[("x-match", int(5))]))),
        chan_err(ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - Invalid x-match field type signedint (value 5); expected longstr")
    );
    // exchange-to-exchange bindings from a headers exchange are checked too.
    let c = w.channel(1, 3);
    let cmd = warren_core::Command::ExchangeBind {
        destination: "amq.match".into(),
        source: "amq.headers".into(),
        routing_key: "".into(),
        nowait: false,
        arguments: table(&[("x-match", s("foo"))]),
    };
    assert_eq!(
        w.fails(c, cmd),
        chan_err(ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - Invalid x-match field value <<\"foo\">>; expected all, any, all-with-x, or any-with-x")
    );
}

// ---- queue.declare -------------------------------------------------------------

#[test]
fn server_named_queues() {
    let mut w = World::new();
    let c = w.client(1);
    let Reply::QueueDeclareOk { queue, .. } = w.ok(c, QueueDecl::new("").exclusive()) else {
        panic!()
    };
    let suffix = queue.strip_prefix("amq.gen-").expect("amq.gen- prefix");
    assert_eq!(suffix.len(), 22);
    assert!(suffix
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
    // An empty name now means this queue.
    w.publish(c, "", &queue, "m");
    assert_eq!(w.get_body(c, ""), Some("m".into()));
    // Passive declare finds it by name...
    assert!(matches!(
        w.ok(c, QueueDecl::new(&queue).passive()),
        Reply::QueueDeclareOk { .. }
    ));
    // ...but a non-passive declare of a name starting amq. is refused, even
    // for the server-named queue itself.
    assert_eq!(
        w.fails(c, QueueDecl::new(&queue).exclusive()),
        chan_err(
            ReplyCode::AccessRefused,
            &format!("ACCESS_REFUSED - queue name '{queue}' contains reserved prefix 'amq.*'")
        )
    );
    let c = w.channel(1, 2);
    assert_eq!(
        w.fails(c, QueueDecl::new("amq.q")),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'"
        )
    );
    // Two server-named queues differ.
    let c = w.channel(1, 3);
    let Reply::QueueDeclareOk { queue: q2, .. } = w.ok(c, QueueDecl::new("")) else {
        panic!()
    };
    assert_ne!(queue, q2);
}

#[test]
fn empty_queue_name_means_last_declared_on_the_channel() {
    let mut w = World::new();
    let c = w.client(1);
    let none = chan_err(
        ReplyCode::NotFound,
        "NOT_FOUND - no previously declared queue",
    );
    let cmds: Vec<warren_core::Command> = vec![
        consume("", "").into(),
        get("").into(),
        bind("", "amq.direct", "k"),
        unbind("", "amq.direct", "k"),
        purge(""),
        queue_delete("", false, false),
    ];
    for (i, cmd) in cmds.into_iter().enumerate() {
        let c = w.channel(1, 10 + i as u16);
        assert_eq!(w.fails(c, cmd.clone()), none, "{cmd:?}");
    }
    // Passive declare does not use the shortcut: it looks for a queue named ''.
    w.declare_queue(c, "q");
    assert_eq!(
        w.fails(c, QueueDecl::new("").passive()),
        chan_err(ReplyCode::NotFound, "NOT_FOUND - no queue '' in vhost '/'")
    );
    let c = w.channel(1, 2);
    w.declare_queue(c, "q");
    w.publish(c, "", "q", "a");
    w.bind(c, "", "amq.direct", "k");
    assert_eq!(w.ok(c, purge("")), Reply::QueuePurgeOk { message_count: 1 });
    // A passive declare makes its queue the last declared one too.
    w.declare_queue(c, "other");
    w.publish(c, "", "other", "o");
    w.ok(c, QueueDecl::new("q"));
    w.ok(c, QueueDecl::new("other").passive());
    assert_eq!(w.get_body(c, ""), Some("o".into()));
}

#[test]
fn passive_declare() {
    let mut w = World::new();
    let c = w.client(1);
    assert_eq!(
        w.fails(c, QueueDecl::new("nope").passive()),
        chan_err(
            ReplyCode::NotFound,
            "NOT_FOUND - no queue 'nope' in vhost '/'"
        )
    );
    let c = w.channel(1, 2);
    w.ok(
        c,
        QueueDecl::new("q")
            .durable()
            .arg("x-message-ttl", int(5000)),
    );
    w.publish(c, "", "q", "1");
    w.publish(c, "", "q", "2");
    w.consume(c, "q", "ct");
    // Passive ignores every other field and reports ready messages and consumers.
    assert_eq!(
        w.ok(c, QueueDecl::new("q").passive().exclusive()),
        Reply::QueueDeclareOk {
            queue: "q".into(),
            message_count: 0,
            consumer_count: 1
        }
    );
}

#[test]
fn queue_redeclare_must_be_equivalent() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("q").arg("x-message-ttl", int(1000)));
    let pf = |t: &str| {
        chan_err(
            ReplyCode::PreconditionFailed,
            &format!("PRECONDITION_FAILED - {t}"),
        )
    };
    let cases = [
        (QueueDecl::new("q").arg("x-message-ttl", int(2000)), pf("inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received '2000' but current is '1000'")),
        (QueueDecl::new("q").arg("x-message-ttl", warren_core::FieldValue::I64(1 << 40)), pf("inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received '1099511627776' but current is '1000'")),
        (QueueDecl::new("q"), pf("inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received none but current is the value '1000' of type 'signedint'")),
        (QueueDecl::new("q").arg("x-message-ttl", s("1000")), pf("inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received '1000' but current is '1000'")),
        (QueueDecl::new("q").arg("x-message-ttl", warren_core::FieldValue::Bool(true)), pf("inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received 'true' but current is '1000'")),
        (QueueDecl::new("q").durable().arg("x-message-ttl", int(1000)), pf("inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'")),
        (QueueDecl::new("q").auto_delete().arg("x-message-ttl", int(1000)), pf("inequivalent arg 'auto_delete' for queue 'q' in vhost '/': received 'true' but current is 'false'")),
        (QueueDecl::new("q").exclusive().arg("x-message-ttl", int(1000)), locked()),
        // Redeclaring is not validating: an invalid value is just different.
        (QueueDecl::new("q").arg("x-message-ttl", int(-5)), pf("inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received '-5' but current is '1000'")),
    ];
    for (i, (decl, err)) in cases.into_iter().enumerate() {
        let c = w.channel(1, 10 + i as u16);
        assert_eq!(w.fails(c, decl.clone()), err, "{decl:?}");
    }
    let c = w.channel(1, 2);
    // Same value (any integer width), an explicit "classic", unknown arguments: fine.
    w.ok(
        c,
        QueueDecl::new("q").arg("x-message-ttl", warren_core::FieldValue::I64(1000)),
    );
    w.ok(
        c,
        QueueDecl::new("q")
            .arg("x-message-ttl", int(1000))
            .arg("x-queue-type", s("classic")),
    );
    w.ok(
        c,
        QueueDecl::new("q")
            .arg("x-message-ttl", int(1000))
            .arg("foo", s("bar")),
    );
    w.ok(c, QueueDecl::new("c").arg("x-queue-type", s("classic")));
    w.ok(c, QueueDecl::new("c"));
    // Arguments are compared in RabbitMQ's order: the first difference is reported.
    w.ok(
        c,
        QueueDecl::new("m")
            .arg("x-overflow", s("drop-head"))
            .arg("x-max-length", int(1))
            .arg("x-message-ttl", int(1000))
            .arg("x-expires", int(1000)),
    );
    let all = QueueDecl::new("m")
        .arg("x-overflow", s("reject-publish"))
        .arg("x-max-length", int(2))
        .arg("x-message-ttl", int(2000))
        .arg("x-expires", int(2000));
    assert_eq!(w.fails(c, all), pf("inequivalent arg 'x-expires' for queue 'm' in vhost '/': received '2000' but current is '1000'"));
    let c = w.channel(1, 3);
    let two = QueueDecl::new("m")
        .arg("x-overflow", s("reject-publish"))
        .arg("x-max-length", int(2))
        .arg("x-message-ttl", int(1000))
        .arg("x-expires", int(1000));
    assert_eq!(w.fails(c, two), pf("inequivalent arg 'x-max-length' for queue 'm' in vhost '/': received '2' but current is '1'"));
    // A quorum queue compares x-queue-type: it cannot be redeclared untyped.
    let c = w.channel(1, 4);
    w.ok(c, QueueDecl::new("qq").quorum());
    assert_eq!(
        w.fails(c, QueueDecl::new("qq").durable()),
        pf("inequivalent arg 'x-queue-type' for queue 'qq' in vhost '/': received none but current is the value 'quorum' of type 'longstr'")
    );
    let c = w.channel(1, 5);
    assert_eq!(
        w.fails(c, QueueDecl::new("qq").durable().arg("x-queue-type", s("classic"))),
        pf("inequivalent arg 'x-queue-type' for queue 'qq' in vhost '/': received 'classic' but current is 'quorum'")
    );
    // The quorum list has its own order: dead-letter arguments come first.
    let c = w.channel(1, 6);
    w.ok(
        c,
        QueueDecl::new("qq2")
            .quorum()
            .arg("x-message-ttl", int(1))
            .arg("x-dead-letter-exchange", s("a")),
    );
    assert_eq!(
        w.fails(c, QueueDecl::new("qq2").quorum().arg("x-message-ttl", int(2)).arg("x-dead-letter-exchange", s("b"))),
        pf("inequivalent arg 'x-dead-letter-exchange' for queue 'qq2' in vhost '/': received 'b' but current is 'a'")
    );
}

#[test]
fn queue_argument_validation_texts() {
    let cases: Vec<(Vec<(&str, warren_core::FieldValue)>, &str)> = vec![
        (vec![("x-message-ttl", int(-1))], "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"),
        (vec![("x-message-ttl", s("a"))], "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': \"expected integer, got longstr\""),
        (vec![("x-message-ttl", warren_core::FieldValue::Bool(true))], "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': \"expected integer, got bool\""),
        (vec![("x-message-ttl", warren_core::FieldValue::I64(315_360_000_001))], "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_too_large,315360000001}"),
        (vec![("x-expires", int(0))], "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}"),
        (vec![("x-expires", int(-1))], "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_negative,-1}"),
        (vec![("x-expires", s("a"))], "invalid arg 'x-expires' for queue 'q' in vhost '/': \"expected integer, got longstr\""),
        (vec![("x-max-length", int(-1))], "invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-1}"),
        (vec![("x-max-length-bytes", int(-3))], "invalid arg 'x-max-length-bytes' for queue 'q' in vhost '/': {value_negative,-3}"),
        (vec![("x-max-length", s("a"))], "invalid arg 'x-max-length' for queue 'q' in vhost '/': \"expected integer, got longstr\""),
        (vec![("x-overflow", s("nope"))], "invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow"),
        (vec![("x-overflow", int(5))], "invalid arg 'x-overflow' for queue 'q' in vhost '/': {unacceptable_type,signedint}"),
        (vec![("x-queue-type", s("nope"))], "invalid arg 'x-queue-type' for queue 'q' in vhost '/': \"unsupported queue type 'nope'\""),
        (vec![("x-queue-type", int(5))], "invalid arg 'x-queue-type' for queue 'q' in vhost '/': {unacceptable_type,signedint}"),
        (vec![("x-dead-letter-exchange", int(5))], "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'"),
        (vec![("x-dead-letter-routing-key", s("rk"))], "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined"),
        (vec![("x-dead-letter-routing-key", int(5))], "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': {unacceptable_type,signedint}"),
        (vec![("x-max-priority", int(300))], "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,300}"),
        (vec![("x-max-priority", int(-1))], "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {value_negative,-1}"),
        (vec![("x-single-active-consumer", s("yes"))], "invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': {unacceptable_type,longstr}"),
        (vec![("x-queue-mode", s("x"))], "invalid arg 'x-queue-mode' for queue 'q' in vhost '/': \"unsupported queue mode 'x'\""),
        // Arguments another queue type owns.
        (vec![("x-delivery-limit", int(5))], "invalid arg 'x-delivery-limit' for queue 'q' in vhost '/' of queue type rabbit_classic_queue"),
        (vec![("x-max-in-memory-length", int(5))], "invalid arg 'x-max-in-memory-length' for queue 'q' in vhost '/' of queue type rabbit_classic_queue"),
        (vec![("x-max-age", s("1D"))], "invalid arg 'x-max-age' for queue 'q' in vhost '/' of queue type rabbit_classic_queue"),
        // Checked in RabbitMQ's order, not the table's.
        (vec![("x-message-ttl", int(-1)), ("x-expires", int(-1))], "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_negative,-1}"),
        (vec![("x-overflow", s("no")), ("x-message-ttl", int(-1))], "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"),
        (vec![("x-dead-letter-routing-key", s("k")), ("x-message-ttl", int(-1))], "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"),
        (vec![("x-dead-letter-exchange", int(1)), ("x-message-ttl", int(-1))], "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'"),
        (vec![("x-delivery-limit", int(5)), ("x-message-ttl", int(-1))], "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"),
    ];
    for (args, text) in cases {
        let mut w = World::new();
        let c = w.client(1);
        let mut d = QueueDecl::new("q");
        for (k, v) in &args {
            d = d.arg(k, v.clone());
        }
        assert_eq!(
            w.fails(c, d),
            chan_err(
                ReplyCode::PreconditionFailed,
                &format!("PRECONDITION_FAILED - {text}")
            ),
            "{args:?}"
        );
        assert!(!w.queue_exists("q"));
    }
    // Valid edge values.
    let mut w = World::new();
    let c = w.client(1);
    for (i, (k, v)) in [
        (
            "x-message-ttl",
            warren_core::FieldValue::I64(315_360_000_000),
        ),
        ("x-expires", warren_core::FieldValue::I64(315_360_000_000)),
        ("x-max-length", int(0)),
        ("x-max-priority", int(255)),
        ("x-queue-mode", s("lazy")),
        (
            "x-single-active-consumer",
            warren_core::FieldValue::Bool(false),
        ),
        ("x-foo", s("anything")),
    ]
    .into_iter()
    .enumerate()
    {
        w.ok(c, QueueDecl::new(&format!("ok{i}")).arg(k, v));
    }
}

#[test]
fn quorum_queue_restrictions() {
    let pf = |t: &str| {
        chan_err(
            ReplyCode::PreconditionFailed,
            &format!("PRECONDITION_FAILED - {t}"),
        )
    };
    let cases = [
        (QueueDecl::new("q").quorum().exclusive(), pf("invalid property 'exclusive-owner' for queue 'q' in vhost '/'")),
        (QueueDecl::new("q").arg("x-queue-type", s("quorum")), pf("invalid property 'non-durable' for queue 'q' in vhost '/'")),
        (QueueDecl::new("q").quorum().auto_delete(), pf("invalid property 'auto-delete' for queue 'q' in vhost '/'")),
        // auto-delete is checked first, then exclusive, then durable.
        (QueueDecl::new("q").arg("x-queue-type", s("quorum")).exclusive().auto_delete(), pf("invalid property 'auto-delete' for queue 'q' in vhost '/'")),
        (QueueDecl::new("q").arg("x-queue-type", s("quorum")).exclusive(), pf("invalid property 'exclusive-owner' for queue 'q' in vhost '/'")),
        (QueueDecl::new("q").arg("x-queue-type", s("quorum")).auto_delete(), pf("invalid property 'auto-delete' for queue 'q' in vhost '/'")),
        (QueueDecl::new("").quorum(), pf("Cannot declare a server-named queue for type rabbit_quorum_queue")),
        (QueueDecl::new("q").quorum().arg("x-max-priority", int(5)), pf("invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue type rabbit_quorum_queue")),
        (QueueDecl::new("q").quorum().arg("x-queue-mode", s("lazy")), pf("invalid arg 'x-queue-mode' for queue 'q' in vhost '/' of queue type rabbit_quorum_queue")),
        // Generic validation first, then the type's arguments, then its properties.
        (QueueDecl::new("q").arg("x-queue-type", s("quorum")).arg("x-message-ttl", int(-1)), pf("invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}")),
        (QueueDecl::new("q").arg("x-queue-type", s("quorum")).arg("x-max-priority", int(2)), pf("invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue type rabbit_quorum_queue")),
    ];
    for (decl, err) in cases {
        let mut w = World::new();
        let c = w.client(1);
        assert_eq!(w.fails(c, decl.clone()), err, "{decl:?}");
    }
    let mut w = World::new();
    let c = w.client(1);
    for (i, (k, v)) in [
        ("x-message-ttl", int(1000)),
        ("x-overflow", s("reject-publish-dlx")),
        ("x-expires", int(1000)),
        ("x-delivery-limit", int(-1)),
        ("x-max-in-memory-length", int(5)),
        (
            "x-single-active-consumer",
            warren_core::FieldValue::Bool(true),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        w.ok(c, QueueDecl::new(&format!("qq{i}")).quorum().arg(k, v));
    }
    assert_eq!(w.b.queue_info("/", "qq0").unwrap().kind, "quorum");
}

#[test]
fn exclusive_queues_belong_to_their_connection() {
    let mut w = World::new();
    let owner = w.client(1);
    let other = w.client(2);
    w.ok(owner, QueueDecl::new("q").exclusive());
    w.bind(owner, "q", "amq.direct", "k");
    let cmds: Vec<warren_core::Command> = vec![
        QueueDecl::new("q").passive().into(),
        QueueDecl::new("q").exclusive().into(),
        QueueDecl::new("q").into(),
        consume("q", "").into(),
        get("q").into(),
        bind("q", "amq.direct", "k2"),
        unbind("q", "amq.direct", "k"),
        purge("q"),
        queue_delete("q", false, false),
    ];
    for (i, cmd) in cmds.into_iter().enumerate() {
        let c = w.channel(2, 10 + i as u16);
        assert_eq!(w.fails(c, cmd.clone()), locked(), "{cmd:?}");
    }
    let _ = other;
    // Unbinding a binding that does not exist never looks at the queue.
    let c = w.channel(2, 30);
    assert_eq!(
        w.ok(c, unbind("q", "amq.direct", "nope")),
        Reply::QueueUnbindOk
    );
    // Anyone may publish to it.
    w.publish(c, "", "q", "hi");
    assert_eq!(w.count("q"), Some(1));
    // The owner may not redeclare it non-exclusive, nor anyone make a shared queue exclusive.
    let c = w.channel(1, 2);
    assert_eq!(w.fails(c, QueueDecl::new("q")), locked());
    let c = w.channel(1, 3);
    w.declare_queue(c, "shared");
    assert_eq!(
        w.fails(c, QueueDecl::new("shared").exclusive()),
        chan_err(
            ReplyCode::ResourceLocked,
            &format!("RESOURCE_LOCKED - {}", LOCKED.replace("'q'", "'shared'"))
        )
    );
    // Exclusive queues are never durable: a durable redeclare is the same queue.
    let c = w.channel(1, 4);
    w.ok(c, QueueDecl::new("ed").exclusive().durable());
    assert!(!w.b.queue_info("/", "ed").unwrap().durable);
    w.ok(c, QueueDecl::new("ed").exclusive());
    w.ok(c, QueueDecl::new("ed").exclusive().durable());
}

// ---- purge and delete -----------------------------------------------------

#[test]
fn purge_counts_ready_messages_only() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    for b in ["1", "2", "3"] {
        w.publish(c, "", "q", b);
    }
    let g = w.get_msg(c, "q");
    assert_eq!(
        w.ok(c, purge("q")),
        Reply::QueuePurgeOk { message_count: 2 }
    );
    assert_eq!(w.count("q"), Some(0));
    // The unacked one was not purged: nacked, it is back.
    w.send(c, nack(g.tag, false, true));
    assert_eq!(w.get_all(c, "q"), ["1"]);
    let c = w.channel(1, 2);
    assert_eq!(
        w.fails(c, purge("nope")),
        chan_err(
            ReplyCode::NotFound,
            "NOT_FOUND - no queue 'nope' in vhost '/'"
        )
    );
}

#[test]
fn queue_delete_replies() {
    let mut w = World::new();
    let c = w.client(1);
    assert_eq!(
        w.ok(c, queue_delete("missing", false, false)),
        Reply::QueueDeleteOk { message_count: 0 }
    );
    w.declare_queue(c, "q");
    w.publish(c, "", "q", "1");
    w.publish(c, "", "q", "2");
    let c2 = w.channel(1, 2);
    w.consume(c2, "q", "ct");
    let c3 = w.channel(1, 3);
    assert_eq!(
        w.fails(c3, queue_delete("q", true, false)),
        chan_err(
            ReplyCode::PreconditionFailed,
            "PRECONDITION_FAILED - queue 'q' in vhost '/' in use"
        )
    );
    w.send(c2, cancel("ct"));
    let c4 = w.channel(1, 4);
    w.publish(c4, "", "q", "3");
    assert_eq!(
        w.fails(c4, queue_delete("q", false, true)),
        chan_err(
            ReplyCode::PreconditionFailed,
            "PRECONDITION_FAILED - queue 'q' in vhost '/' not empty"
        )
    );
    // if-empty looks at ready messages only: unacked ones don't count.
    let c5 = w.channel(1, 5);
    w.declare_queue(c5, "u");
    w.publish(c5, "", "u", "x");
    w.get_msg(c5, "u");
    assert_eq!(
        w.ok(c5, queue_delete("u", false, true)),
        Reply::QueueDeleteOk { message_count: 0 }
    );
    // Acking a message of a deleted queue is fine.
    assert!(error_of(&w.send(c5, ack(1))).is_none());
}

#[test]
fn queue_delete_ok_comes_before_the_cancel_notification() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.publish(c, "", "q", "1");
    w.publish(c, "", "q", "2");
    w.send(c, qos(1, false));
    w.consume(c, "q", "d");
    let out = w.send(c, queue_delete("q", false, false));
    assert_eq!(kinds(&out), ["QueueDeleteOk", "Cancel"]);
    // The count is of ready messages: one was delivered and not acked.
    assert!(matches!(
        out[0],
        warren_core::Output::Reply {
            reply: Reply::QueueDeleteOk { message_count: 1 },
            ..
        }
    ));
    assert!(w.b.consumers().is_empty());
}

/// The consumer count a passive declare reports for `q`.
fn consumers_of(w: &mut World, c: Ch, q: &str) -> u32 {
    match w.ok(c, QueueDecl::new(q).passive()) {
        Reply::QueueDeclareOk { consumer_count, .. } => consumer_count,
        other => panic!("expected declare-ok, got {other:?}"),
    }
}

#[test]
fn quorum_counts_a_cancelled_consumer_until_its_messages_are_settled() {
    // RabbitMQ 3.10 (checked with pika): a classic queue stops counting a consumer
    // when it cancels; a quorum queue counts it while it holds unacked messages.
    let mut w = World::new();
    let c = w.client(1);
    let quorum = || {
        QueueDecl::new("q")
            .durable()
            .arg("x-queue-type", s("quorum"))
    };
    w.ok(c, quorum());
    w.declare_queue(c, "classic");
    let d = w.client(2);
    w.consume(d, "q", "qc");
    w.consume(d, "classic", "cc");
    w.publish(c, "", "q", "1");
    w.publish(c, "", "q", "2");
    w.publish(c, "", "classic", "3");
    w.send(d, cancel("qc"));
    w.send(d, cancel("cc"));
    assert_eq!(consumers_of(&mut w, c, "classic"), 0);
    assert_eq!(consumers_of(&mut w, c, "q"), 1);
    w.send(d, ack(1));
    assert_eq!(consumers_of(&mut w, c, "q"), 1, "one message still held");
    w.send(d, ack(2));
    assert_eq!(consumers_of(&mut w, c, "q"), 0);

    // Closing the channel settles (requeues) what it held, so it stops counting.
    let e = w.client(3);
    w.consume(e, "q", "e");
    w.publish(c, "", "q", "4");
    w.send(e, cancel("e"));
    assert_eq!(consumers_of(&mut w, c, "q"), 1);
    w.disconnect(3);
    assert_eq!(consumers_of(&mut w, c, "q"), 0);

    // A deleted queue takes its cancelled holders along: a queue declared again
    // under the name is not uncounted by an ack of the old one's message.
    let f = w.client(4);
    w.consume(f, "q", "old");
    w.send(f, cancel("old"));
    assert_eq!(consumers_of(&mut w, c, "q"), 1);
    w.ok(c, queue_delete("q", false, false));
    w.ok(c, quorum());
    let g = w.client(5);
    w.consume(g, "q", "new");
    w.publish(c, "", "q", "5");
    w.send(g, cancel("new"));
    assert_eq!(consumers_of(&mut w, c, "q"), 1);
    w.send(f, ack(1));
    assert_eq!(consumers_of(&mut w, c, "q"), 1);
}
