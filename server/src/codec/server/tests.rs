use super::*;
use crate::codec::frame::{decode_frame, FramePayload};
use warren_core::types::FieldValue;

fn every_reply() -> Vec<Reply> {
    vec![
        Reply::ExchangeDeclareOk,
        Reply::ExchangeDeleteOk,
        Reply::ExchangeBindOk,
        Reply::ExchangeUnbindOk,
        Reply::QueueDeclareOk {
            queue: "amq.gen-abc".into(),
            message_count: 5,
            consumer_count: 1,
        },
        Reply::QueueBindOk,
        Reply::QueueUnbindOk,
        Reply::QueuePurgeOk { message_count: 9 },
        Reply::QueueDeleteOk { message_count: 3 },
        Reply::BasicQosOk,
        Reply::BasicConsumeOk {
            consumer_tag: "amq.ctag-1".into(),
        },
        Reply::BasicCancelOk {
            consumer_tag: "amq.ctag-1".into(),
        },
        Reply::BasicGetEmpty,
        Reply::BasicRecoverOk,
        Reply::ConfirmSelectOk,
        Reply::ChannelFlowOk { active: true },
        Reply::TxSelectOk,
        Reply::TxCommitOk,
        Reply::TxRollbackOk,
    ]
}

fn every_method() -> Vec<ServerMethod> {
    let props: FieldTable = [("product", FieldValue::str("Warren"))]
        .into_iter()
        .collect();
    let mut all = vec![
        ServerMethod::connection_start(props),
        ServerMethod::ConnectionSecure {
            challenge: Bytes::from_static(b"c"),
        },
        ServerMethod::ConnectionTune {
            channel_max: 2047,
            frame_max: 131_072,
            heartbeat: 60,
        },
        ServerMethod::ConnectionOpenOk,
        ServerMethod::ConnectionClose {
            reply_code: 320,
            reply_text: "CONNECTION_FORCED - shutdown".into(),
            class_id: 0,
            method_id: 0,
        },
        ServerMethod::ConnectionCloseOk,
        ServerMethod::ConnectionBlocked {
            reason: "low on memory".into(),
        },
        ServerMethod::ConnectionUnblocked,
        ServerMethod::ConnectionUpdateSecretOk,
        ServerMethod::ChannelOpenOk,
        ServerMethod::ChannelFlow { active: false },
        ServerMethod::ChannelClose {
            reply_code: 404,
            reply_text: "NOT_FOUND - no queue 'q' in vhost '/'".into(),
            class_id: 50,
            method_id: 10,
        },
        ServerMethod::ChannelCloseOk,
        ServerMethod::AccessRequestOk,
        ServerMethod::BasicDeliver {
            consumer_tag: "ctag".into(),
            delivery_tag: 1,
            redelivered: true,
            exchange: "".into(),
            routing_key: "q".into(),
        },
        ServerMethod::BasicGetOk {
            delivery_tag: 2,
            redelivered: false,
            exchange: "x".into(),
            routing_key: "k".into(),
            message_count: 10,
        },
        ServerMethod::BasicReturn {
            reply_code: 312,
            reply_text: "NO_ROUTE".into(),
            exchange: "x".into(),
            routing_key: "k".into(),
        },
        ServerMethod::BasicAck {
            delivery_tag: 3,
            multiple: true,
        },
        ServerMethod::BasicNack {
            delivery_tag: 4,
            multiple: false,
            requeue: false,
        },
        ServerMethod::BasicCancel {
            consumer_tag: "ctag".into(),
            nowait: true,
        },
    ];
    all.extend(every_reply().into_iter().map(ServerMethod::Reply));
    all
}

#[test]
fn every_server_method_round_trips_through_a_frame() {
    for m in every_method() {
        let mut buf = BytesMut::new();
        m.encode(4, &mut buf);
        let f = decode_frame(&mut buf, 4096).unwrap().unwrap();
        assert!(buf.is_empty());
        assert_eq!(f.channel, 4);
        let FramePayload::Method(frame) = f.payload else {
            panic!("method frame expected")
        };
        assert_eq!((frame.class_id, frame.method_id), m.method_id());
        let back = ServerMethod::decode(frame.class_id, frame.method_id, frame.args).unwrap();
        assert_eq!(back, m, "{}", m.name());
        assert_ne!(m.name(), "unknown");
    }
}

#[test]
fn connection_start_bytes() {
    let m = ServerMethod::connection_start(FieldTable::new());
    let mut buf = BytesMut::new();
    m.encode_args(&mut buf);
    let mut expected = vec![0, 9, 0, 0, 0, 0, 0, 0, 0, 14];
    expected.extend_from_slice(b"PLAIN AMQPLAIN");
    expected.extend_from_slice(&[0, 0, 0, 5]);
    expected.extend_from_slice(b"en_US");
    assert_eq!(&buf[..], &expected[..]);
}

#[test]
fn reserved_fields_are_written() {
    let bytes = |m: ServerMethod| {
        let mut buf = BytesMut::new();
        m.encode_args(&mut buf);
        buf.to_vec()
    };
    assert_eq!(bytes(ServerMethod::ChannelOpenOk), vec![0, 0, 0, 0]);
    assert_eq!(bytes(ServerMethod::ConnectionOpenOk), vec![0]);
    assert_eq!(bytes(ServerMethod::Reply(Reply::BasicGetEmpty)), vec![0]);
    assert_eq!(bytes(ServerMethod::AccessRequestOk), vec![0, 1]);
    assert_eq!(
        bytes(ServerMethod::BasicCancel {
            consumer_tag: "c".into(),
            nowait: true
        }),
        vec![1, b'c', 1]
    );
}

#[test]
fn exchange_unbind_ok_is_method_51() {
    assert_eq!(reply_method_id(&Reply::ExchangeUnbindOk), (40, 51));
}

#[test]
fn closes_carry_the_error() {
    let e = AmqpError::precondition("inequivalent arg 'durable'").on((50, 10));
    assert_eq!(
        ServerMethod::channel_close(&e),
        ServerMethod::ChannelClose {
            reply_code: 406,
            reply_text: "PRECONDITION_FAILED - inequivalent arg 'durable'".into(),
            class_id: 50,
            method_id: 10,
        }
    );
}

#[test]
fn long_reply_texts_are_cut_to_a_short_string() {
    let m = ServerMethod::ChannelClose {
        reply_code: 406,
        reply_text: "x".repeat(1000),
        class_id: 0,
        method_id: 0,
    };
    let mut buf = BytesMut::new();
    m.encode(1, &mut buf);
    let f = decode_frame(&mut buf, 4096).unwrap().unwrap();
    let FramePayload::Method(frame) = f.payload else {
        panic!()
    };
    let ServerMethod::ChannelClose { reply_text, .. } =
        ServerMethod::decode(20, 40, frame.args).unwrap()
    else {
        panic!()
    };
    assert_eq!(reply_text.len(), 255);
}

#[test]
fn client_methods_are_not_server_methods() {
    let e = ServerMethod::decode(60, 40, Bytes::new()).unwrap_err();
    assert_eq!(e.code, ReplyCode::CommandInvalid);
}
