use super::*;
use crate::codec::frame::{ContentHeader, MethodFrame};
use warren_core::types::FieldValue;

fn publish_method(mandatory: bool) -> FramePayload {
    let mut args = BytesMut::new();
    ClientMethod::BasicPublish {
        exchange: "amq.topic".into(),
        routing_key: "a.b".into(),
        mandatory,
        immediate: false,
    }
    .encode_args(&mut args);
    FramePayload::Method(MethodFrame {
        class_id: 60,
        method_id: 40,
        args: args.freeze(),
    })
}

fn header(body_size: u64, props: &BasicProperties) -> FramePayload {
    let mut p = BytesMut::new();
    encode_properties(props, &mut p);
    FramePayload::Header(ContentHeader {
        class_id: 60,
        weight: 0,
        body_size,
        properties: p.freeze(),
    })
}

fn body(data: &'static [u8]) -> FramePayload {
    FramePayload::Body(Bytes::from_static(data))
}

fn ack() -> FramePayload {
    let mut args = BytesMut::new();
    args.put_u64(1);
    args.put_u8(0);
    FramePayload::Method(MethodFrame {
        class_id: 60,
        method_id: 80,
        args: args.freeze(),
    })
}

fn props() -> BasicProperties {
    BasicProperties {
        headers: Some([("h", FieldValue::I64(1))].into_iter().collect()),
        ..Default::default()
    }
}

#[test]
fn publish_is_assembled_from_several_bodies() {
    let mut asm = ContentAssembler::default();
    assert_eq!(asm.process(1, publish_method(true)), Ok(None));
    assert!(!asm.is_idle());
    assert_eq!(asm.process(1, header(11, &props())), Ok(None));
    assert_eq!(asm.process(1, body(b"hello")), Ok(None));
    assert_eq!(asm.process(1, body(b"")), Ok(None));
    let done = asm.process(1, body(b" world")).unwrap();
    assert_eq!(
        done,
        Some(ClientMethod::Command(Command::BasicPublish {
            exchange: "amq.topic".into(),
            routing_key: "a.b".into(),
            mandatory: true,
            immediate: false,
            properties: props(),
            body: Bytes::from_static(b"hello world"),
        }))
    );
    assert!(asm.is_idle());
}

#[test]
fn empty_body_completes_at_the_header() {
    let mut asm = ContentAssembler::default();
    asm.process(1, publish_method(false)).unwrap();
    let done = asm
        .process(1, header(0, &BasicProperties::default()))
        .unwrap();
    assert!(matches!(
        done,
        Some(ClientMethod::Command(Command::BasicPublish { ref body, .. })) if body.is_empty()
    ));
}

#[test]
fn other_methods_pass_straight_through() {
    let mut asm = ContentAssembler::default();
    assert_eq!(
        asm.process(1, ack()).unwrap(),
        Some(ClientMethod::Command(Command::BasicAck {
            delivery_tag: 1,
            multiple: false
        }))
    );
}

#[test]
fn method_instead_of_header_is_unexpected() {
    let mut asm = ContentAssembler::default();
    asm.process(1, publish_method(false)).unwrap();
    let e = asm.process(1, ack()).unwrap_err();
    assert_eq!(e.code, ReplyCode::UnexpectedFrame);
    assert_eq!(
        e.text,
        "UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead"
    );
    assert_eq!((e.class_id, e.method_id), (60, 40));
    assert!(asm.is_idle());
}

#[test]
fn method_in_the_middle_of_a_body_is_unexpected() {
    let mut asm = ContentAssembler::default();
    asm.process(1, publish_method(false)).unwrap();
    asm.process(1, header(10, &BasicProperties::default()))
        .unwrap();
    asm.process(1, body(b"12345")).unwrap();
    let e = asm.process(1, ack()).unwrap_err();
    assert_eq!(e.code, ReplyCode::UnexpectedFrame);
    assert_eq!(
        e.text,
        "UNEXPECTED_FRAME - expected content body, got non content body frame instead"
    );
}

#[test]
fn content_without_a_method_is_unexpected() {
    let mut asm = ContentAssembler::default();
    for f in [body(b"x"), header(1, &BasicProperties::default())] {
        let e = asm.process(1, f).unwrap_err();
        assert_eq!(e.code, ReplyCode::UnexpectedFrame);
        assert_eq!(
            e.text,
            "UNEXPECTED_FRAME - expected method frame, got non method frame instead"
        );
        assert_eq!((e.class_id, e.method_id), (0, 0));
    }
}

#[test]
fn header_of_another_class_or_weight_is_unexpected() {
    let mut asm = ContentAssembler::default();
    asm.process(1, publish_method(false)).unwrap();
    let e = asm
        .process(
            1,
            FramePayload::Header(ContentHeader {
                class_id: 50,
                weight: 0,
                body_size: 0,
                properties: Bytes::from_static(&[0, 0]),
            }),
        )
        .unwrap_err();
    assert!(
        e.text.ends_with("got one for class 50 instead"),
        "{}",
        e.text
    );
    asm.process(1, publish_method(false)).unwrap();
    let e = asm
        .process(
            1,
            FramePayload::Header(ContentHeader {
                class_id: 60,
                weight: 1,
                body_size: 0,
                properties: Bytes::from_static(&[0, 0]),
            }),
        )
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::UnexpectedFrame);
}

#[test]
fn body_longer_than_declared_is_a_frame_error() {
    let mut asm = ContentAssembler::default();
    asm.process(1, publish_method(false)).unwrap();
    asm.process(1, header(3, &BasicProperties::default()))
        .unwrap();
    let e = asm.process(1, body(b"four")).unwrap_err();
    assert_eq!(e.code, ReplyCode::FrameError);
    assert_eq!(
        e.text,
        "FRAME_ERROR - content body frame exceeds remaining content size"
    );
}

#[test]
fn heartbeat_on_a_channel_is_unexpected() {
    let mut asm = ContentAssembler::default();
    let e = asm.process(1, FramePayload::Heartbeat).unwrap_err();
    assert_eq!(e.text, "UNEXPECTED_FRAME - type 8, all octets = <<>>");
}

#[test]
fn over_the_configured_maximum_is_consumed_then_refused() {
    let mut asm = ContentAssembler::new(4);
    asm.process(1, publish_method(false)).unwrap();
    assert_eq!(
        asm.process(1, header(6, &BasicProperties::default())),
        Ok(None)
    );
    assert_eq!(asm.process(1, body(b"abc")), Ok(None));
    let e = asm.process(1, body(b"def")).unwrap_err();
    assert_eq!(e.code, ReplyCode::PreconditionFailed);
    assert_eq!(
        e.text,
        "PRECONDITION_FAILED - message size 6 is larger than configured max size 4"
    );
    assert_eq!((e.class_id, e.method_id), (60, 40));
    assert!(!e.is_connection_error());
    // The stream is still in step: the next method is fine.
    assert!(asm.process(1, ack()).unwrap().is_some());
}

#[test]
fn over_the_hard_limit_is_a_frame_error_at_the_header() {
    let mut asm = ContentAssembler::new(u64::MAX);
    asm.process(1, publish_method(false)).unwrap();
    let e = asm
        .process(1, header(MAX_MSG_SIZE + 1, &BasicProperties::default()))
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::FrameError);
    assert_eq!(
        e.text,
        "FRAME_ERROR - content body size 536870913 exceeds maximum allowed size 536870912"
    );
}

#[test]
fn at_the_hard_limit_rabbitmq_says_max_size() {
    let asm = ContentAssembler::new(u64::MAX);
    assert_eq!(
        asm.too_large(MAX_MSG_SIZE + 1).text,
        "PRECONDITION_FAILED - message size 536870913 is larger than max size 536870912"
    );
}

#[test]
fn bad_properties_are_a_syntax_error_on_publish() {
    let mut asm = ContentAssembler::default();
    asm.process(1, publish_method(false)).unwrap();
    let e = asm
        .process(
            1,
            FramePayload::Header(ContentHeader {
                class_id: 60,
                weight: 0,
                body_size: 1,
                properties: Bytes::from_static(&[0x80, 0x00, 9]),
            }),
        )
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::SyntaxError);
    assert_eq!((e.class_id, e.method_id), (60, 40));
}

#[test]
fn encode_content_splits_bodies_at_frame_max() {
    use crate::codec::frame::decode_frame;
    let data: Vec<u8> = (0..=255u8).cycle().take(300).collect();
    for (frame_max, expected) in [
        (100u32, vec![92usize, 92, 92, 24]),
        (308, vec![300]),
        (0, vec![300]),
        (9, vec![1; 300]),
    ] {
        let mut buf = BytesMut::new();
        encode_content(&mut buf, 2, &BasicProperties::default(), &data, frame_max);
        let mut sizes = Vec::new();
        let mut joined = Vec::new();
        let first = decode_frame(&mut buf, 0).unwrap().unwrap();
        assert!(matches!(first.payload, FramePayload::Header(ref h) if h.body_size == 300));
        while let Some(f) = decode_frame(&mut buf, frame_max).unwrap() {
            let FramePayload::Body(b) = f.payload else {
                panic!("body expected")
            };
            sizes.push(b.len());
            joined.extend_from_slice(&b);
        }
        assert_eq!(sizes, expected, "frame_max {frame_max}");
        assert_eq!(joined, data);
    }
}

#[test]
fn server_only_content_methods_have_their_content_consumed() {
    let mut asm = ContentAssembler::new(1);
    let deliver = FramePayload::Method(MethodFrame {
        class_id: 60,
        method_id: 60,
        args: Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]),
    });
    assert_eq!(asm.process(1, deliver), Ok(None));
    assert_eq!(
        asm.process(1, header(4, &BasicProperties::default())),
        Ok(None)
    );
    assert_eq!(
        asm.process(1, body(b"body")),
        Ok(Some(ClientMethod::ServerOnly {
            class_id: 60,
            method_id: 60
        }))
    );
    assert!(asm.is_idle());
}
