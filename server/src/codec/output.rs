//! Turning the broker core's [`Output`]s into frames.
//!
//! The core says what to send and to which connection and channel; this says
//! how it looks on the wire, content included, split to the connection's
//! negotiated `frame_max`.

use super::outbuf::FrameSink;
use super::server::{
    encode_deliver_args, encode_get_ok_args, encode_return_args, write_method, ServerMethod,
};
use warren_core::protocol::Output;

/// Appends the frames for one output. `Output::Store` is not for the wire and
/// writes nothing; `Output::ConnectionClose` is a `connection.close` on channel 0.
/// The caller routes by `out.conn()`.
pub fn encode_output(out: &Output, frame_max: u32, sink: &mut impl FrameSink) {
    match out {
        Output::Reply { channel, reply, .. } => {
            ServerMethod::Reply(reply.clone()).encode(*channel, sink.buf());
        }
        Output::Deliver {
            channel,
            consumer_tag,
            delivery_tag,
            redelivered,
            message,
            ..
        } => {
            write_method(sink.buf(), *channel, (60, 60), |buf| {
                encode_deliver_args(
                    buf,
                    consumer_tag,
                    *delivery_tag,
                    *redelivered,
                    message.exchange(),
                    message.routing_key(),
                )
            });
            sink.content(*channel, message, frame_max);
        }
        Output::GetOk {
            channel,
            delivery_tag,
            redelivered,
            message_count,
            message,
            ..
        } => {
            write_method(sink.buf(), *channel, (60, 71), |buf| {
                encode_get_ok_args(
                    buf,
                    *delivery_tag,
                    *redelivered,
                    message.exchange(),
                    message.routing_key(),
                    *message_count,
                )
            });
            sink.content(*channel, message, frame_max);
        }
        Output::Return {
            channel,
            reply_code,
            reply_text,
            message,
            ..
        } => {
            write_method(sink.buf(), *channel, (60, 50), |buf| {
                encode_return_args(
                    buf,
                    *reply_code,
                    reply_text,
                    message.exchange(),
                    message.routing_key(),
                )
            });
            sink.content(*channel, message, frame_max);
        }
        Output::Confirm {
            channel,
            delivery_tag,
            multiple,
            ack,
            ..
        } => {
            let method = if *ack {
                ServerMethod::BasicAck {
                    delivery_tag: *delivery_tag,
                    multiple: *multiple,
                }
            } else {
                ServerMethod::BasicNack {
                    delivery_tag: *delivery_tag,
                    multiple: *multiple,
                    requeue: false,
                }
            };
            method.encode(*channel, sink.buf());
        }
        Output::CancelConsumer {
            channel,
            consumer_tag,
            ..
        } => ServerMethod::BasicCancel {
            consumer_tag: consumer_tag.clone(),
            nowait: true,
        }
        .encode(*channel, sink.buf()),
        Output::ChannelClose { channel, error, .. } => {
            ServerMethod::channel_close(error).encode(*channel, sink.buf())
        }
        Output::ConnectionClose { error, .. } => {
            ServerMethod::connection_close(error).encode(0, sink.buf())
        }
        Output::Store(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::frame::{decode_frame, Frame, FramePayload};
    use crate::codec::properties::decode_properties;
    use crate::codec::OutFrames;
    use bytes::BytesMut;
    use warren_core::error::{AmqpError, ReplyCode};
    use warren_core::protocol::{Reply, StoreOp};
    use warren_core::types::{BasicProperties, Message};

    fn frames(buf: &mut BytesMut) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(f) = decode_frame(buf, 0).expect("well formed") {
            out.push(f);
        }
        assert!(buf.is_empty());
        out
    }

    fn method(f: &Frame) -> ServerMethod {
        match &f.payload {
            FramePayload::Method(m) => {
                ServerMethod::decode(m.class_id, m.method_id, m.args.clone()).expect("decodes")
            }
            other => panic!("expected a method, got {other:?}"),
        }
    }

    fn message(body: &'static [u8]) -> Message {
        Message::new(
            1,
            0,
            "amq.direct",
            "rk",
            &BasicProperties {
                content_type: Some("text/plain".into()),
                ..Default::default()
            },
            body,
        )
    }

    fn body_of(frames: &[Frame]) -> Vec<u8> {
        frames
            .iter()
            .filter_map(|f| match &f.payload {
                FramePayload::Body(b) => Some(b.to_vec()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    #[test]
    fn deliver_is_method_header_and_split_body() {
        let body: &'static [u8] = &[b'x'; 10_000];
        let out = Output::Deliver {
            conn: 1,
            channel: 3,
            consumer_tag: "ctag".into(),
            delivery_tag: 42,
            redelivered: true,
            message: message(body),
        };
        let mut buf = BytesMut::new();
        encode_output(&out, 4096, &mut buf);
        let fs = frames(&mut buf);
        assert!(fs.iter().all(|f| f.channel == 3));
        assert_eq!(
            method(&fs[0]),
            ServerMethod::BasicDeliver {
                consumer_tag: "ctag".into(),
                delivery_tag: 42,
                redelivered: true,
                exchange: "amq.direct".into(),
                routing_key: "rk".into()
            }
        );
        let FramePayload::Header(h) = &fs[1].payload else {
            panic!("header expected")
        };
        assert_eq!(h.body_size, 10_000);
        assert_eq!(
            decode_properties(h.properties.clone())
                .unwrap()
                .content_type
                .as_deref(),
            Some("text/plain")
        );
        // 4096 - 8 = 4088 octets per body frame: 4088 + 4088 + 1824.
        let sizes: Vec<usize> = fs[2..]
            .iter()
            .map(|f| match &f.payload {
                FramePayload::Body(b) => b.len(),
                _ => 0,
            })
            .collect();
        assert_eq!(sizes, vec![4088, 4088, 1824]);
        assert_eq!(body_of(&fs), body);
    }

    #[test]
    fn get_ok_and_return_carry_content() {
        let msg = message(b"hi");
        let mut buf = BytesMut::new();
        encode_output(
            &Output::GetOk {
                conn: 1,
                channel: 1,
                delivery_tag: 7,
                redelivered: false,
                message_count: 3,
                message: msg.clone(),
            },
            131_072,
            &mut buf,
        );
        encode_output(
            &Output::Return {
                conn: 1,
                channel: 1,
                reply_code: 312,
                reply_text: "NO_ROUTE".into(),
                message: msg,
            },
            131_072,
            &mut buf,
        );
        let fs = frames(&mut buf);
        assert_eq!(fs.len(), 6);
        assert_eq!(
            method(&fs[0]),
            ServerMethod::BasicGetOk {
                delivery_tag: 7,
                redelivered: false,
                exchange: "amq.direct".into(),
                routing_key: "rk".into(),
                message_count: 3
            }
        );
        assert_eq!(
            method(&fs[3]),
            ServerMethod::BasicReturn {
                reply_code: 312,
                reply_text: "NO_ROUTE".into(),
                exchange: "amq.direct".into(),
                routing_key: "rk".into()
            }
        );
        assert_eq!(body_of(&fs[..3]), b"hi");
    }

    #[test]
    fn empty_body_has_no_body_frame() {
        let mut buf = BytesMut::new();
        encode_output(
            &Output::GetOk {
                conn: 1,
                channel: 1,
                delivery_tag: 1,
                redelivered: false,
                message_count: 0,
                message: message(b""),
            },
            4096,
            &mut buf,
        );
        assert_eq!(frames(&mut buf).len(), 2);
    }

    #[test]
    fn confirms_cancel_replies_and_closes() {
        let err = AmqpError::not_found("queue", "q", "/").on((50, 10));
        let outs = [
            Output::Confirm {
                conn: 1,
                channel: 2,
                delivery_tag: 5,
                multiple: true,
                ack: true,
            },
            Output::Confirm {
                conn: 1,
                channel: 2,
                delivery_tag: 6,
                multiple: false,
                ack: false,
            },
            Output::CancelConsumer {
                conn: 1,
                channel: 2,
                consumer_tag: "c".into(),
            },
            Output::Reply {
                conn: 1,
                channel: 2,
                reply: Reply::QueueDeclareOk {
                    queue: "q".into(),
                    message_count: 1,
                    consumer_count: 2,
                },
            },
            Output::ChannelClose {
                conn: 1,
                channel: 2,
                error: err.clone(),
            },
            Output::ConnectionClose {
                conn: 1,
                error: AmqpError::new(ReplyCode::ConnectionForced, "bye"),
            },
            Output::Store(StoreOp::QueuePurged {
                vhost: "/".into(),
                queue: "q".into(),
            }),
        ];
        let mut buf = BytesMut::new();
        for o in &outs {
            encode_output(o, 4096, &mut buf);
        }
        let fs = frames(&mut buf);
        let got: Vec<(u16, ServerMethod)> = fs.iter().map(|f| (f.channel, method(f))).collect();
        assert_eq!(
            got,
            vec![
                (
                    2,
                    ServerMethod::BasicAck {
                        delivery_tag: 5,
                        multiple: true
                    }
                ),
                (
                    2,
                    ServerMethod::BasicNack {
                        delivery_tag: 6,
                        multiple: false,
                        requeue: false
                    }
                ),
                (
                    2,
                    ServerMethod::BasicCancel {
                        consumer_tag: "c".into(),
                        nowait: true
                    }
                ),
                (
                    2,
                    ServerMethod::Reply(Reply::QueueDeclareOk {
                        queue: "q".into(),
                        message_count: 1,
                        consumer_count: 2
                    })
                ),
                (
                    2,
                    ServerMethod::ChannelClose {
                        reply_code: 404,
                        reply_text: "NOT_FOUND - no queue 'q' in vhost '/'".into(),
                        class_id: 50,
                        method_id: 10
                    }
                ),
                (
                    0,
                    ServerMethod::ConnectionClose {
                        reply_code: 320,
                        reply_text: "CONNECTION_FORCED - bye".into(),
                        class_id: 0,
                        method_id: 0
                    }
                ),
            ]
        );
    }

    /// Shared bodies go out exactly as copied ones would: the same octets,
    /// for bodies below and above the sharing size and split into frames.
    #[test]
    fn shared_bodies_encode_the_same_octets_as_copied_ones() {
        let props = BasicProperties {
            content_type: Some("text/plain".into()),
            ..BasicProperties::default()
        };
        for size in [0usize, 10, 1023, 1024, 4096, 10_000] {
            let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let message = Message::new(9, 0, "ex", "key", &props, &body);
            let out = Output::Deliver {
                conn: 1,
                channel: 3,
                consumer_tag: "ctag".into(),
                delivery_tag: 7,
                redelivered: false,
                message,
            };
            for frame_max in [0u32, 4096, 131_072] {
                let mut copied = BytesMut::new();
                encode_output(&out, frame_max, &mut copied);
                let mut shared = OutFrames::new();
                encode_output(&out, frame_max, &mut shared);
                encode_output(&out, frame_max, &mut shared);
                let pieces = shared.take();
                let joined: Vec<u8> = pieces.iter().flat_map(|p| p.iter().copied()).collect();
                let mut twice = copied.to_vec();
                twice.extend_from_slice(&copied);
                assert_eq!(joined, twice, "size {size}, frame_max {frame_max}");
                if size >= crate::codec::outbuf::SHARE_MIN {
                    assert!(pieces.len() > 2, "a body of {size} should be its own piece");
                }
            }
        }
    }
}
