//! Which errors close the channel and which the connection, with RabbitMQ's
//! reply codes, texts and failing method ids.

mod common;
use common::*;
use warren_core::{Command, FieldValue, Output, ReplyCode};

fn close_of(out: &[Output]) -> (bool, u16, String, u16, u16) {
    out.iter()
        .find_map(|o| match o {
            Output::ChannelClose { error, .. } => Some((
                false,
                error.code.code(),
                error.text.clone(),
                error.class_id,
                error.method_id,
            )),
            Output::ConnectionClose { error, .. } => Some((
                true,
                error.code.code(),
                error.text.clone(),
                error.class_id,
                error.method_id,
            )),
            _ => None,
        })
        .expect("a close")
}

#[test]
fn channel_errors_close_only_the_channel() {
    let mut w = World::new();
    let c = w.client(1);
    let keep = w.channel(1, 2);
    w.declare_queue(keep, "q");
    w.publish(keep, "", "q", "m");
    w.get_msg(keep, "q");
    let cases: Vec<(Command, u16, &str, (u16, u16))> = vec![
        (
            QueueDecl::new("nope").passive().into(),
            404,
            "NOT_FOUND - no queue 'nope' in vhost '/'",
            (50, 10),
        ),
        (
            QueueDecl::new("amq.zz").into(),
            403,
            "ACCESS_REFUSED - queue name 'amq.zz' contains reserved prefix 'amq.*'",
            (50, 10),
        ),
        (
            ack(9),
            406,
            "PRECONDITION_FAILED - unknown delivery tag 9",
            (60, 80),
        ),
        (
            consume("q", "").priority(FieldValue::str("abc")).into(),
            406,
            "PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'q' in vhost '/': \"expected integer, got longstr\"",
            (60, 20),
        ),
        (
            consume("nope", "").into(),
            404,
            "NOT_FOUND - no queue 'nope' in vhost '/'",
            (60, 20),
        ),
        (
            bind("q", "nox", "k"),
            404,
            "NOT_FOUND - no exchange 'nox' in vhost '/'",
            (50, 20),
        ),
        (
            exchange_delete("amq.topic", false),
            403,
            "ACCESS_REFUSED - deletion of system exchange 'amq.topic' in vhost '/' not allowed",
            (40, 20),
        ),
        (
            Command::TxCommit,
            406,
            "PRECONDITION_FAILED - channel is not transactional",
            (90, 20),
        ),
        (
            Command::TxRollback,
            406,
            "PRECONDITION_FAILED - channel is not transactional",
            (90, 30),
        ),
    ];
    for (i, (cmd, code, text, ids)) in cases.into_iter().enumerate() {
        let ch = w.channel(1, 10 + i as u16);
        let out = w.send(ch, cmd.clone());
        assert_eq!(
            close_of(&out),
            (false, code, text.to_string(), ids.0, ids.1),
            "{cmd:?}"
        );
        assert!(!w.b.channel_is_open(1, ch.ch));
    }
    let _ = c;
    // The other channel and its delivery are untouched.
    assert!(w.b.channel_is_open(1, 2));
    assert_eq!(w.b.queue_info("/", "q").unwrap().messages_unacknowledged, 1);
}

#[test]
fn confirm_and_tx_modes_exclude_each_other() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, confirm_select());
    assert_eq!(
        w.fails(c, Command::TxSelect),
        chan_err(
            ReplyCode::PreconditionFailed,
            "PRECONDITION_FAILED - cannot switch from confirm to tx mode"
        )
    );
    let c = w.channel(1, 2);
    w.ok(c, Command::TxSelect);
    assert_eq!(
        w.fails(c, confirm_select()),
        chan_err(
            ReplyCode::PreconditionFailed,
            "PRECONDITION_FAILED - cannot switch from tx to confirm mode"
        )
    );
}

#[test]
fn connection_errors_close_everything() {
    let cases: Vec<(Command, u16, &str, (u16, u16))> = vec![
        (
            consume("q", "t").into(),
            530,
            "NOT_ALLOWED - attempt to reuse consumer tag 't'",
            (60, 20),
        ),
        (
            Command::BasicQos {
                prefetch_size: 1,
                prefetch_count: 0,
                global: false,
            },
            540,
            "NOT_IMPLEMENTED - prefetch_size!=0 (1)",
            (60, 10),
        ),
        (
            publish("", "q", "m").immediate().into(),
            540,
            "NOT_IMPLEMENTED - immediate=true",
            (60, 40),
        ),
        (
            Command::ChannelFlow { active: false },
            540,
            "NOT_IMPLEMENTED - active=false",
            (20, 20),
        ),
        (
            Command::BasicRecover { requeue: false },
            540,
            "NOT_IMPLEMENTED - requeue=false",
            (60, 110),
        ),
        (
            ExchangeDecl::new("x", "nope").into(),
            503,
            "COMMAND_INVALID - unknown exchange type 'nope'",
            (40, 10),
        ),
    ];
    for (cmd, code, text, ids) in cases {
        let mut w = World::new();
        let c = w.client(1);
        let other = w.channel(1, 2);
        w.ok(c, QueueDecl::new("ex").exclusive());
        w.declare_queue(c, "q");
        w.publish(c, "", "q", "held");
        w.get_msg(other, "q");
        w.consume(c, "q", "t");
        let out = w.send(c, cmd.clone());
        assert_eq!(
            close_of(&out),
            (true, code, text.to_string(), ids.0, ids.1),
            "{cmd:?}"
        );
        // Everything the connection had is gone or given back.
        assert!(w.b.connections().is_empty());
        assert!(!w.queue_exists("ex"));
        assert_eq!(w.count("q"), Some(1));
        assert!(w.b.consumers().is_empty());
    }
}

#[test]
fn methods_on_a_channel_that_is_not_open() {
    let mut w = World::new();
    w.client(1);
    let out = w.send(Ch { conn: 1, ch: 5 }, QueueDecl::new("x"));
    assert_eq!(
        close_of(&out),
        (
            true,
            504,
            "CHANNEL_ERROR - expected 'channel.open'".to_string(),
            50,
            10
        )
    );
    let mut w = World::new();
    w.client(1);
    let e = w.b.handle_channel_open(w.now, 1, 1).unwrap_err();
    assert_eq!(
        (e.code, e.text.as_str(), e.class_id, e.method_id),
        (
            ReplyCode::ChannelError,
            "CHANNEL_ERROR - second 'channel.open' seen",
            20,
            10
        )
    );
    assert!(e.is_connection_error());
}

#[test]
fn each_code_is_a_channel_or_connection_exception_as_in_the_spec() {
    use ReplyCode::*;
    for c in [
        ContentTooLarge,
        NoRoute,
        NoConsumers,
        AccessRefused,
        NotFound,
        ResourceLocked,
        PreconditionFailed,
    ] {
        assert!(!c.is_connection_error(), "{c:?}");
    }
    for c in [
        ConnectionForced,
        InvalidPath,
        FrameError,
        SyntaxError,
        CommandInvalid,
        ChannelError,
        UnexpectedFrame,
        ResourceError,
        NotAllowed,
        NotImplemented,
        InternalError,
    ] {
        assert!(c.is_connection_error(), "{c:?}");
    }
    assert_eq!(
        (
            FrameError.code(),
            UnexpectedFrame.code(),
            ChannelError.code()
        ),
        (501, 505, 504)
    );
}
