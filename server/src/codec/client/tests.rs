use super::*;
use crate::codec::frame::{decode_frame, FramePayload};
use crate::codec::ContentAssembler;
use proptest::prelude::*;
use warren_core::types::{BasicProperties, FieldValue};

fn args_table() -> FieldTable {
    [
        ("x-message-ttl", FieldValue::I32(60_000)),
        ("x-queue-type", FieldValue::str("classic")),
    ]
    .into_iter()
    .collect()
}

fn decode_encoded(m: &ClientMethod) -> ClientMethod {
    let mut buf = BytesMut::new();
    m.encode_args(&mut buf);
    let (c, id) = m.method_id();
    ClientMethod::decode(c, id, buf.freeze()).expect("decodes")
}

fn every_command() -> Vec<Command> {
    vec![
        Command::ExchangeDeclare {
            exchange: "logs".into(),
            kind: "fanout".into(),
            passive: false,
            durable: true,
            auto_delete: false,
            internal: true,
            nowait: false,
            arguments: args_table(),
        },
        Command::ExchangeDelete {
            exchange: "logs".into(),
            if_unused: true,
            nowait: true,
        },
        Command::ExchangeBind {
            destination: "d".into(),
            source: "s".into(),
            routing_key: "a.*".into(),
            nowait: false,
            arguments: FieldTable::new(),
        },
        Command::ExchangeUnbind {
            destination: "d".into(),
            source: "s".into(),
            routing_key: "a.#".into(),
            nowait: true,
            arguments: args_table(),
        },
        Command::QueueDeclare {
            queue: "q".into(),
            passive: true,
            durable: false,
            exclusive: true,
            auto_delete: false,
            nowait: true,
            arguments: args_table(),
        },
        Command::QueueBind {
            queue: "q".into(),
            exchange: "amq.topic".into(),
            routing_key: "k".into(),
            nowait: true,
            arguments: args_table(),
        },
        Command::QueueUnbind {
            queue: "q".into(),
            exchange: "amq.topic".into(),
            routing_key: "k".into(),
            arguments: FieldTable::new(),
        },
        Command::QueuePurge {
            queue: "q".into(),
            nowait: false,
        },
        Command::QueueDelete {
            queue: "q".into(),
            if_unused: false,
            if_empty: true,
            nowait: true,
        },
        Command::BasicQos {
            prefetch_size: 0,
            prefetch_count: 10,
            global: true,
        },
        Command::BasicConsume {
            queue: "q".into(),
            consumer_tag: "ctag".into(),
            no_local: false,
            no_ack: true,
            exclusive: true,
            nowait: false,
            arguments: args_table(),
        },
        Command::BasicCancel {
            consumer_tag: "ctag".into(),
            nowait: true,
        },
        Command::BasicGet {
            queue: "q".into(),
            no_ack: true,
        },
        Command::BasicAck {
            delivery_tag: u64::MAX,
            multiple: true,
        },
        Command::BasicReject {
            delivery_tag: 3,
            requeue: false,
        },
        Command::BasicNack {
            delivery_tag: 4,
            multiple: false,
            requeue: true,
        },
        Command::BasicRecover { requeue: true },
        Command::ConfirmSelect { nowait: false },
        Command::ChannelFlow { active: false },
        Command::TxSelect,
        Command::TxCommit,
        Command::TxRollback,
    ]
}

fn every_lifecycle_method() -> Vec<ClientMethod> {
    let props: FieldTable = [
        ("product", FieldValue::str("pika")),
        (
            "capabilities",
            FieldValue::Table(
                [("publisher_confirms", FieldValue::Bool(true))]
                    .into_iter()
                    .collect(),
            ),
        ),
    ]
    .into_iter()
    .collect();
    vec![
        ClientMethod::ConnectionStartOk {
            client_properties: props,
            mechanism: "PLAIN".into(),
            response: Bytes::from_static(b"\0guest\0guest"),
            locale: "en_US".into(),
        },
        ClientMethod::ConnectionSecureOk {
            response: Bytes::from_static(b"r"),
        },
        ClientMethod::ConnectionTuneOk {
            channel_max: 2047,
            frame_max: 131_072,
            heartbeat: 60,
        },
        ClientMethod::ConnectionOpen {
            virtual_host: "/".into(),
        },
        ClientMethod::ConnectionClose {
            reply_code: 200,
            reply_text: "Normal shutdown".into(),
            class_id: 0,
            method_id: 0,
        },
        ClientMethod::ConnectionCloseOk,
        ClientMethod::ConnectionUpdateSecret {
            new_secret: Bytes::from_static(b"token"),
            reason: "refresh".into(),
        },
        ClientMethod::ChannelOpen,
        ClientMethod::ChannelFlowOk { active: true },
        ClientMethod::ChannelClose {
            reply_code: 406,
            reply_text: "PRECONDITION_FAILED".into(),
            class_id: 50,
            method_id: 10,
        },
        ClientMethod::ChannelCloseOk,
        ClientMethod::AccessRequest {
            realm: "/data".into(),
        },
        ClientMethod::BasicPublish {
            exchange: "amq.direct".into(),
            routing_key: "rk".into(),
            mandatory: true,
            immediate: false,
        },
        ClientMethod::BasicRecoverAsync { requeue: true },
    ]
}

#[test]
fn every_lifecycle_method_round_trips() {
    for m in every_lifecycle_method() {
        assert_eq!(decode_encoded(&m), m, "{}", m.name());
    }
}

#[test]
fn every_command_round_trips() {
    for c in every_command() {
        let m = ClientMethod::Command(c);
        assert_eq!(decode_encoded(&m), m, "{}", m.name());
    }
}

#[test]
fn every_method_has_its_spec_name() {
    let names: Vec<&str> = every_lifecycle_method()
        .iter()
        .chain(
            every_command()
                .into_iter()
                .map(ClientMethod::Command)
                .collect::<Vec<_>>()
                .iter(),
        )
        .map(|m| m.name())
        .collect();
    assert!(!names.contains(&"unknown"), "{names:?}");
    assert!(names.contains(&"basic.recover-async"));
}

#[test]
fn commands_round_trip_through_frames_and_the_assembler() {
    let mut buf = BytesMut::new();
    for c in every_command() {
        ClientMethod::Command(c).encode(5, 4096, &mut buf);
    }
    let mut asm = ContentAssembler::default();
    let mut got = Vec::new();
    while let Some(f) = decode_frame(&mut buf, 4096).unwrap() {
        assert_eq!(f.channel, 5);
        if let Some(ClientMethod::Command(c)) = asm.process(f.channel, f.payload).unwrap() {
            got.push(c);
        }
    }
    assert_eq!(got, every_command());
}

/// basic.publish on channel 1 to the default exchange with routing key
/// "hello", mandatory, built by hand from the spec.
const PUBLISH_FRAME: &[u8] = &[
    0x01, // method frame
    0x00, 0x01, // channel 1
    0x00, 0x00, 0x00, 0x0E, // payload size 14
    0x00, 0x3C, 0x00, 0x28, // class 60 (basic), method 40 (publish)
    0x00, 0x00, // reserved ticket
    0x00, // exchange: ""
    0x05, b'h', b'e', b'l', b'l', b'o', // routing key: "hello"
    0x01, // mandatory = 1, immediate = 0
    0xCE, // frame end
];

/// Its content: header (class 60, weight 0, body size 2, delivery-mode 2),
/// then one body frame "hi".
const PUBLISH_CONTENT: &[u8] = &[
    0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0F, // header frame, channel 1, size 15
    0x00, 0x3C, 0x00, 0x00, // class 60, weight 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // body size 2
    0x10, 0x00, // flags: delivery-mode
    0x02, // persistent
    0xCE, //
    0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, b'h', b'i', 0xCE, // body frame
];

#[test]
fn known_publish_bytes_decode() {
    let mut buf = BytesMut::from(PUBLISH_FRAME);
    buf.extend_from_slice(PUBLISH_CONTENT);
    let mut asm = ContentAssembler::default();
    let mut done = None;
    while let Some(f) = decode_frame(&mut buf, 4096).unwrap() {
        if let Some(m) = asm.process(f.channel, f.payload).unwrap() {
            done = Some(m);
        }
    }
    assert_eq!(
        done,
        Some(ClientMethod::Command(Command::BasicPublish {
            exchange: String::new(),
            routing_key: "hello".into(),
            mandatory: true,
            immediate: false,
            properties: BasicProperties {
                delivery_mode: Some(2),
                ..Default::default()
            },
            body: Bytes::from_static(b"hi"),
        }))
    );
}

#[test]
fn known_publish_bytes_encode() {
    let publish = ClientMethod::Command(Command::BasicPublish {
        exchange: String::new(),
        routing_key: "hello".into(),
        mandatory: true,
        immediate: false,
        properties: BasicProperties {
            delivery_mode: Some(2),
            ..Default::default()
        },
        body: Bytes::from_static(b"hi"),
    });
    let mut buf = BytesMut::new();
    publish.encode(1, 4096, &mut buf);
    let mut expected = PUBLISH_FRAME.to_vec();
    expected.extend_from_slice(PUBLISH_CONTENT);
    assert_eq!(&buf[..], &expected[..]);
}

#[test]
fn queue_declare_bits_share_one_octet() {
    let m = ClientMethod::Command(Command::QueueDeclare {
        queue: "q".into(),
        passive: false,
        durable: true,
        exclusive: false,
        auto_delete: true,
        nowait: true,
        arguments: FieldTable::new(),
    });
    let mut buf = BytesMut::new();
    m.encode_args(&mut buf);
    // ticket, "q", bits (durable=2 | auto-delete=8 | no-wait=16), empty table.
    assert_eq!(&buf[..], &[0, 0, 1, b'q', 0b11010, 0, 0, 0, 0]);
    let bits = ClientMethod::decode(
        50,
        10,
        Bytes::from_static(&[0, 0, 1, b'q', 0b00101, 0, 0, 0, 0]),
    );
    assert_eq!(
        bits.unwrap(),
        ClientMethod::Command(Command::QueueDeclare {
            queue: "q".into(),
            passive: true,
            durable: false,
            exclusive: true,
            auto_delete: false,
            nowait: false,
            arguments: FieldTable::new(),
        })
    );
}

#[test]
fn consume_and_nack_bits() {
    let mut buf = BytesMut::new();
    ClientMethod::Command(Command::BasicNack {
        delivery_tag: 1,
        multiple: true,
        requeue: true,
    })
    .encode_args(&mut buf);
    assert_eq!(&buf[..], &[0, 0, 0, 0, 0, 0, 0, 1, 0b11]);
}

#[test]
fn trailing_or_missing_bytes_cannot_be_decoded() {
    let e = ClientMethod::decode(60, 80, Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 9]))
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::FrameError);
    assert_eq!(
        e.text,
        "FRAME_ERROR - cannot decode <<0,0,0,0,0,0,0,1,0,9>>"
    );
    assert_eq!((e.class_id, e.method_id), (60, 80));
    let e = ClientMethod::decode(50, 10, Bytes::from_static(&[0, 0, 5, b'q'])).unwrap_err();
    assert_eq!(e.code, ReplyCode::FrameError);
    assert_eq!((e.class_id, e.method_id), (50, 10));
}

#[test]
fn a_bad_table_in_arguments_is_a_syntax_error() {
    // queue.declare with a table holding an unknown type 'Z'.
    let args = Bytes::from_static(&[0, 0, 1, b'q', 0, 0, 0, 0, 4, 1, b'k', b'Z', 0]);
    let e = ClientMethod::decode(50, 10, args).unwrap_err();
    assert_eq!(e.code, ReplyCode::SyntaxError);
    assert_eq!((e.class_id, e.method_id), (50, 10));
}

#[test]
fn unknown_methods_are_command_invalid() {
    let e = ClientMethod::decode(60, 99, Bytes::new()).unwrap_err();
    assert_eq!(e.code, ReplyCode::CommandInvalid);
    assert_eq!((e.class_id, e.method_id), (60, 99));
    assert!(ClientMethod::decode(11, 10, Bytes::new()).is_err());
}

#[test]
fn server_only_methods_are_recognised() {
    assert_eq!(
        ClientMethod::decode(60, 60, Bytes::from_static(b"whatever")).unwrap(),
        ClientMethod::ServerOnly {
            class_id: 60,
            method_id: 60
        }
    );
    assert_eq!(
        ClientMethod::decode(50, 11, Bytes::new()).unwrap().name(),
        "queue.declare-ok"
    );
}

#[test]
fn pika_connection_open_decodes() {
    // vhost "/", capabilities "", insist false
    let m = ClientMethod::decode(10, 40, Bytes::from_static(&[1, b'/', 0, 0])).unwrap();
    assert_eq!(
        m,
        ClientMethod::ConnectionOpen {
            virtual_host: "/".into()
        }
    );
    assert!(m.is_connection_method());
}

#[test]
fn non_utf8_names_are_replaced_not_refused() {
    let m = ClientMethod::decode(60, 70, Bytes::from_static(&[0, 0, 2, 0xff, b'q', 1])).unwrap();
    assert_eq!(
        m,
        ClientMethod::Command(Command::BasicGet {
            queue: "\u{fffd}q".into(),
            no_ack: true
        })
    );
}

fn short_name() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9._:-]{0,40}").expect("regex")
}

proptest! {
    #[test]
    fn decode_never_panics_on_known_ids(
        index in 0..crate::codec::ids::METHODS.len(),
        args in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let (c, m, _) = crate::codec::ids::METHODS[index];
        let _ = ClientMethod::decode(c, m, Bytes::from(args.clone()));
        let _ = crate::codec::ServerMethod::decode(c, m, Bytes::from(args));
    }

    #[test]
    fn decode_never_panics_on_any_ids(c in any::<u16>(), m in any::<u16>(),
                                      args in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = ClientMethod::decode(c, m, Bytes::from(args));
    }

    #[test]
    fn queue_declare_round_trips(queue in short_name(), bits in any::<[bool; 5]>(), ttl in any::<i32>()) {
        let m = ClientMethod::Command(Command::QueueDeclare {
            queue,
            passive: bits[0],
            durable: bits[1],
            exclusive: bits[2],
            auto_delete: bits[3],
            nowait: bits[4],
            arguments: [("x-message-ttl", FieldValue::I32(ttl))].into_iter().collect(),
        });
        prop_assert_eq!(decode_encoded(&m), m);
    }

    #[test]
    fn consume_round_trips(queue in short_name(), tag in short_name(), bits in any::<[bool; 4]>()) {
        let m = ClientMethod::Command(Command::BasicConsume {
            queue,
            consumer_tag: tag,
            no_local: bits[0],
            no_ack: bits[1],
            exclusive: bits[2],
            nowait: bits[3],
            arguments: FieldTable::new(),
        });
        prop_assert_eq!(decode_encoded(&m), m);
    }

    #[test]
    fn frames_of_any_bytes_never_panic_the_assembler(
        frames in proptest::collection::vec(
            (prop_oneof![Just(1u8), Just(2u8), Just(3u8), Just(8u8)],
             proptest::collection::vec(any::<u8>(), 0..80)),
            0..12)
    ) {
        let mut asm = ContentAssembler::new(64);
        for (t, payload) in frames {
            let mut buf = BytesMut::new();
            crate::codec::frame::write_frame(&mut buf, t, 1, &payload);
            if let Ok(Some(f)) = decode_frame(&mut buf, 4096) {
                let _ = asm.process(f.channel, f.payload);
            }
        }
    }
}

#[test]
fn method_frames_keep_their_payload() {
    let mut buf = BytesMut::new();
    ClientMethod::ChannelOpen.encode(9, 0, &mut buf);
    let f = decode_frame(&mut buf, 4096).unwrap().unwrap();
    assert_eq!(f.channel, 9);
    let FramePayload::Method(m) = f.payload else {
        panic!("method expected")
    };
    assert_eq!((m.class_id, m.method_id), (20, 10));
    assert_eq!(&m.args[..], &[0]);
}
