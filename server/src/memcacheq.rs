//! The memcacheq front door (`warren serve --memcacheq-port N`): the
//! memcached text protocol, read as memcacheq reads it, so any memcached
//! client can use Warren's queues. `set <queue> ...` enqueues a persistent
//! message on `<queue>` through the default exchange (declaring the queue
//! durable if it is missing, as memcacheq creates queues on first set) and
//! answers `STORED` once it is on disk; `get <queue>` dequeues one message
//! (auto-ack) or answers just `END`. Errors are memcached's own lines.
//!
//! Clients act as one user (`--memcacheq-user`, default guest) on vhost
//! `/`, through the same internal sessions as the management API, so
//! permissions and the store apply as for an AMQP client.

use crate::admin::{Admin, BrokerHandle};
use bytes::Bytes;
use std::future::Future;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use warren_core::protocol::{Command, Output};
use warren_core::types::{BasicProperties, FieldTable, FieldValue};

/// memcached's longest key; longer is a bad command line.
const MAX_KEY: usize = 250;
/// A command line longer than this is refused and the client dropped.
const MAX_LINE: usize = 8 * 1024;
/// Largest value accepted (memcached's default item size limit).
const MAX_VALUE: usize = 1024 * 1024;
/// The header that carries a `set`'s flags back to the `get`.
const FLAGS_HEADER: &str = "x-memcacheq-flags";
const VHOST: &str = "/";

/// Accepts memcacheq clients until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    broker: BrokerHandle,
    user: String,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(client(stream, broker.clone(), user.clone()));
                }
            }
            _ = &mut shutdown => break,
        }
    }
}

/// What one command line asks.
#[derive(Debug, PartialEq)]
enum Request {
    Set {
        queue: String,
        flags: u32,
        bytes: usize,
        noreply: bool,
    },
    Get(Vec<String>),
    Delete(String),
    Version,
    Stats,
    Quit,
}

/// Parses a command line (without its line end) as memcached does: an
/// unknown command or a wrong argument count is `ERROR`, bad numbers or
/// keys are `CLIENT_ERROR bad command line format`.
fn parse(line: &str) -> Result<Request, &'static str> {
    const BAD: &str = "CLIENT_ERROR bad command line format";
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    let key = |k: &str| {
        if k.len() > MAX_KEY {
            Err(BAD)
        } else {
            Ok(k.to_string())
        }
    };
    match words.as_slice() {
        ["set", q, flags, exptime, bytes, rest @ ..] if rest.len() <= 1 => {
            let flags: u32 = flags.parse().map_err(|_| BAD)?;
            let _exptime: i64 = exptime.parse().map_err(|_| BAD)?;
            let bytes: usize = bytes.parse().map_err(|_| BAD)?;
            let noreply = match rest {
                [] => false,
                ["noreply"] => true,
                _ => return Err(BAD),
            };
            Ok(Request::Set {
                queue: key(q)?,
                flags,
                bytes,
                noreply,
            })
        }
        ["get" | "gets", keys @ ..] if !keys.is_empty() => Ok(Request::Get(
            keys.iter().map(|k| key(k)).collect::<Result<_, _>>()?,
        )),
        ["delete", q] | ["delete", q, "noreply"] => Ok(Request::Delete(key(q)?)),
        ["version"] => Ok(Request::Version),
        ["stats", ..] => Ok(Request::Stats),
        ["quit"] => Ok(Request::Quit),
        _ => Err("ERROR"),
    }
}

/// Reads one line; None at end of input or when it is too long.
async fn read_line(rd: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<String> {
    let mut buf = Vec::new();
    let n = (&mut *rd)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut buf)
        .await
        .ok()?;
    if n == 0 || buf.last() != Some(&b'\n') {
        return None;
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

async fn client(stream: TcpStream, broker: BrokerHandle, user: String) {
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    while let Some(line) = read_line(&mut rd).await {
        let reply = match parse(&line) {
            Err(e) => format!("{e}\r\n").into_bytes(),
            Ok(Request::Quit) => break,
            Ok(Request::Version) => {
                format!("VERSION warren-{}\r\n", env!("CARGO_PKG_VERSION")).into_bytes()
            }
            Ok(Request::Set {
                queue,
                flags,
                bytes,
                noreply,
            }) => {
                if bytes > MAX_VALUE {
                    // Swallow the data as memcached does, then refuse.
                    let mut sink = vec![0u8; bytes + 2];
                    if rd.read_exact(&mut sink).await.is_err() {
                        break;
                    }
                    b"SERVER_ERROR object too large for cache\r\n".to_vec()
                } else {
                    let mut data = vec![0u8; bytes + 2];
                    if rd.read_exact(&mut data).await.is_err() {
                        break;
                    }
                    if !data.ends_with(b"\r\n") {
                        b"CLIENT_ERROR bad data chunk\r\n".to_vec()
                    } else {
                        data.truncate(bytes);
                        let user = user.clone();
                        let r = broker
                            .call(move |a| set(a, &user, queue, flags, Bytes::from(data)))
                            .await;
                        match r {
                            Ok(Ok(())) if noreply => continue,
                            Ok(Ok(())) => b"STORED\r\n".to_vec(),
                            Ok(Err(e)) => format!("SERVER_ERROR {e}\r\n").into_bytes(),
                            Err(_) => break,
                        }
                    }
                }
            }
            Ok(Request::Get(queues)) => {
                let user = user.clone();
                match broker.call(move |a| get(a, &user, &queues)).await {
                    Ok(out) => out,
                    Err(_) => break,
                }
            }
            Ok(Request::Delete(queue)) => {
                let user = user.clone();
                match broker.call(move |a| delete(a, &user, queue)).await {
                    Ok(r) => r.into_bytes(),
                    Err(_) => break,
                }
            }
            Ok(Request::Stats) => match broker.call(stats).await {
                Ok(out) => out.into_bytes(),
                Err(_) => break,
            },
        };
        if wr.write_all(&reply).await.is_err() {
            break;
        }
    }
}

/// Enqueues a persistent message, declaring the queue durable if missing.
fn set(
    a: &mut Admin<'_>,
    user: &str,
    queue: String,
    flags: u32,
    body: Bytes,
) -> Result<(), String> {
    let mut s = a.session(user, VHOST).map_err(|e| e.text)?;
    if !s.broker().has_queue(VHOST, &queue) {
        s.run(Command::QueueDeclare {
            queue: queue.clone(),
            passive: false,
            durable: true,
            exclusive: false,
            auto_delete: false,
            nowait: false,
            arguments: FieldTable::new(),
        })
        .map_err(|e| e.text)?;
    }
    let mut headers = FieldTable::new();
    headers.insert(FLAGS_HEADER, FieldValue::I64(i64::from(flags)));
    let properties = BasicProperties {
        delivery_mode: Some(2),
        headers: Some(headers),
        ..BasicProperties::default()
    };
    s.run(Command::BasicPublish {
        exchange: String::new(),
        routing_key: queue,
        mandatory: false,
        immediate: false,
        properties,
        body,
    })
    .map_err(|e| e.text)?;
    Ok(())
}

/// Dequeues one message from each named queue that has one.
fn get(a: &mut Admin<'_>, user: &str, queues: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(mut s) = a.session(user, VHOST) {
        for q in queues {
            if !s.broker().has_queue(VHOST, q) {
                continue;
            }
            let Ok(outs) = s.run(Command::BasicGet {
                queue: q.clone(),
                no_ack: true,
            }) else {
                continue;
            };
            for o in outs {
                if let Output::GetOk { message, .. } = o {
                    let flags = match message.properties().header(FLAGS_HEADER) {
                        Some(v) => v.as_i64().unwrap_or(0),
                        None => 0,
                    };
                    out.extend_from_slice(
                        format!("VALUE {q} {flags} {}\r\n", message.body_size()).as_bytes(),
                    );
                    out.extend_from_slice(message.body());
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
    }
    out.extend_from_slice(b"END\r\n");
    out
}

/// memcacheq's `delete <queue>` removes the whole queue.
fn delete(a: &mut Admin<'_>, user: &str, queue: String) -> String {
    let Ok(mut s) = a.session(user, VHOST) else {
        return "NOT_FOUND\r\n".to_string();
    };
    if !s.broker().has_queue(VHOST, &queue) {
        return "NOT_FOUND\r\n".to_string();
    }
    match s.run(Command::QueueDelete {
        queue,
        if_unused: false,
        if_empty: false,
        nowait: false,
    }) {
        Ok(_) => "DELETED\r\n".to_string(),
        Err(e) => format!("SERVER_ERROR {}\r\n", e.text),
    }
}

/// `stats`: a few general figures and, as memcacheq's `stats queue`, one
/// line per queue of vhost `/` with its ready count.
fn stats(a: &mut Admin<'_>) -> String {
    let b = a.broker();
    let queues: Vec<_> = b
        .queues()
        .into_iter()
        .filter(|q| q.vhost == VHOST)
        .collect();
    let mut out = format!(
        "STAT pid {}\r\nSTAT version warren-{}\r\nSTAT curr_items {}\r\n",
        std::process::id(),
        env!("CARGO_PKG_VERSION"),
        queues.iter().map(|q| q.messages_ready).sum::<u64>()
    );
    for q in queues {
        out.push_str(&format!("STAT queue {} {}\r\n", q.name, q.messages_ready));
    }
    out.push_str("END\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_parse_as_memcached_reads_them() {
        assert_eq!(
            parse("set jobs 5 0 3"),
            Ok(Request::Set {
                queue: "jobs".into(),
                flags: 5,
                bytes: 3,
                noreply: false
            })
        );
        assert_eq!(parse("get jobs"), Ok(Request::Get(vec!["jobs".into()])));
        assert_eq!(parse("frobnicate"), Err("ERROR"));
        assert_eq!(parse("set jobs"), Err("ERROR"));
        assert_eq!(
            parse("set jobs x 0 3"),
            Err("CLIENT_ERROR bad command line format")
        );
        assert_eq!(
            parse(&format!("get {}", "k".repeat(251))),
            Err("CLIENT_ERROR bad command line format")
        );
    }
}
