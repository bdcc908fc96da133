//! The writing half of a connection: one task per socket that writes what the
//! broker task (and the handshake) encoded, sends heartbeats when the
//! connection is otherwise quiet, and closes the socket when told.
//!
//! Writing in its own task means a client that reads slowly never stalls the
//! broker or its own reader: bytes wait in the channel, counted in `queued`
//! so the memory watermark sees them.

use bytes::{Buf, Bytes};
use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// After sending `connection.close`, how long to wait for the client's
/// `close-ok`, and after sending `close-ok`, for the client to close the
/// socket, before closing it anyway.
pub const CLOSING_TIMEOUT: Duration = Duration::from_secs(3);

/// The most pieces handed to one `writev` (Linux allows 1024).
const MAX_IOVECS: usize = 512;

/// What a writer is told.
#[derive(Debug)]
pub enum WriterMsg {
    /// Frames to write.
    Data(Bytes),
    /// Frames to write, in pieces (large message bodies are pieces of their
    /// own, shared with the queued message: see [`crate::codec::outbuf`]).
    Pieces(Vec<Bytes>),
    /// The negotiated heartbeat interval in seconds (0 = none).
    Heartbeat(u16),
    /// A `connection.close` or a `close-ok` went out: the client is to end
    /// the connection. Close the socket when it has ([`WriterMsg::Shutdown`])
    /// or after [`CLOSING_TIMEOUT`].
    Closing,
    /// Write what is queued, then close the socket.
    Shutdown,
}

/// A connection's traffic both ways: bytes and socket calls, what the
/// management API shows as `recv_oct`, `recv_cnt`, `send_oct` and `send_cnt`.
/// Counted by the reader and the writer tasks, read by the broker task.
#[derive(Debug, Default)]
pub struct Traffic {
    recv_oct: AtomicU64,
    recv_cnt: AtomicU64,
    send_oct: AtomicU64,
    send_cnt: AtomicU64,
}

/// [`Traffic`] read at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrafficFigures {
    pub recv_oct: u64,
    pub recv_cnt: u64,
    pub send_oct: u64,
    pub send_cnt: u64,
}

impl Traffic {
    /// One read of `n` bytes from the socket.
    pub fn received(&self, n: usize) {
        self.recv_oct.fetch_add(n as u64, Ordering::Relaxed);
        self.recv_cnt.fetch_add(1, Ordering::Relaxed);
    }

    fn sent(&self, n: usize) {
        self.send_oct.fetch_add(n as u64, Ordering::Relaxed);
        self.send_cnt.fetch_add(1, Ordering::Relaxed);
    }

    pub fn figures(&self) -> TrafficFigures {
        TrafficFigures {
            recv_oct: self.recv_oct.load(Ordering::Relaxed),
            recv_cnt: self.recv_cnt.load(Ordering::Relaxed),
            send_oct: self.send_oct.load(Ordering::Relaxed),
            send_cnt: self.send_cnt.load(Ordering::Relaxed),
        }
    }
}

/// How the rest of the server talks to a connection's writer.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: mpsc::UnboundedSender<WriterMsg>,
    /// Bytes handed over and not yet written.
    queued: Arc<AtomicUsize>,
    traffic: Arc<Traffic>,
}

impl Writer {
    pub fn send(&self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        self.queue(data.len(), WriterMsg::Data(data));
    }

    /// Sends frames in pieces, written in order with as few syscalls as they allow.
    pub fn send_pieces(&self, pieces: Vec<Bytes>) {
        let len = pieces.iter().map(Bytes::len).sum();
        if len == 0 {
            return;
        }
        self.queue(len, WriterMsg::Pieces(pieces));
    }

    fn queue(&self, len: usize, msg: WriterMsg) {
        self.queued.fetch_add(len, Ordering::Relaxed);
        if self.tx.send(msg).is_err() {
            // The socket is gone; so are the bytes.
            self.queued.store(0, Ordering::Relaxed);
        }
    }

    pub fn control(&self, msg: WriterMsg) {
        let _ = self.tx.send(msg);
    }

    /// Bytes waiting to be written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// The connection's traffic both ways (the reader counts what it reads here).
    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }
}

/// Starts the writer for a socket's write half. `done` becomes true when the
/// writer has closed the socket, which tells the reader to stop.
pub fn spawn(sock: OwnedWriteHalf, done: watch::Sender<bool>) -> Writer {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let traffic = Arc::new(Traffic::default());
    tokio::spawn(run(sock, rx, queued.clone(), traffic.clone(), done));
    Writer {
        tx,
        queued,
        traffic,
    }
}

enum Step {
    Go,
    Stop,
}

struct State {
    sock: OwnedWriteHalf,
    /// Taken from the channel, not yet written (the first may be partly written).
    pending: VecDeque<Bytes>,
    queued: Arc<AtomicUsize>,
    traffic: Arc<Traffic>,
    heartbeat: Option<Duration>,
    last_write: Instant,
    closing_deadline: Option<Instant>,
}

impl State {
    fn handle(&mut self, msg: Option<WriterMsg>) -> Step {
        match msg {
            Some(WriterMsg::Data(b)) => self.pending.push_back(b),
            Some(WriterMsg::Pieces(pieces)) => self.pending.extend(pieces),
            Some(WriterMsg::Heartbeat(secs)) => {
                self.heartbeat = (secs > 0).then(|| Duration::from_secs(secs.into()));
            }
            Some(WriterMsg::Closing) => {
                self.closing_deadline = Some(Instant::now() + CLOSING_TIMEOUT);
            }
            Some(WriterMsg::Shutdown) | None => return Step::Stop,
        }
        Step::Go
    }

    /// Writes everything pending, many pieces per `writev`.
    async fn write_pending(&mut self) -> std::io::Result<()> {
        while !self.pending.is_empty() {
            // Only as many slots as there are pieces: a full array of
            // MAX_IOVECS would be 8 KiB to clear on every write.
            let slices: Vec<IoSlice<'_>> = self
                .pending
                .iter()
                .take(MAX_IOVECS)
                .map(|piece| IoSlice::new(piece))
                .collect();
            let mut written = self.sock.write_vectored(&slices).await?;
            drop(slices);
            if written == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            self.queued.fetch_sub(written, Ordering::Relaxed);
            self.traffic.sent(written);
            self.last_write = Instant::now();
            while written > 0 {
                let Some(front) = self.pending.front_mut() else {
                    break;
                };
                if written >= front.len() {
                    written -= front.len();
                    self.pending.pop_front();
                } else {
                    front.advance(written);
                    written = 0;
                }
            }
        }
        Ok(())
    }
}

async fn run(
    sock: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<WriterMsg>,
    queued: Arc<AtomicUsize>,
    traffic: Arc<Traffic>,
    done: watch::Sender<bool>,
) {
    let mut st = State {
        sock,
        pending: VecDeque::new(),
        queued,
        traffic,
        heartbeat: None,
        last_write: Instant::now(),
        closing_deadline: None,
    };
    let far = Duration::from_secs(86_400);
    let result: std::io::Result<()> = async {
        loop {
            // A heartbeat goes out after half an interval without writes,
            // which keeps the client's two-interval timeout well clear.
            let beat_at = st.last_write + st.heartbeat.map_or(far, |d| d / 2);
            let close_at = st.closing_deadline.unwrap_or(Instant::now() + far);
            tokio::select! {
                msg = rx.recv() => {
                    let mut step = st.handle(msg);
                    // Take everything already queued before writing once.
                    while let Step::Go = step {
                        match rx.try_recv() {
                            Ok(m) => step = st.handle(Some(m)),
                            Err(mpsc::error::TryRecvError::Empty) => break,
                            Err(mpsc::error::TryRecvError::Disconnected) => step = Step::Stop,
                        }
                    }
                    st.write_pending().await?;
                    if let Step::Stop = step {
                        return Ok(());
                    }
                }
                _ = tokio::time::sleep_until(beat_at), if st.heartbeat.is_some() => {
                    let beat = Bytes::from_static(&crate::codec::HEARTBEAT_FRAME);
                    st.queued.fetch_add(beat.len(), Ordering::Relaxed);
                    st.pending.push_back(beat);
                    st.write_pending().await?;
                }
                _ = tokio::time::sleep_until(close_at), if st.closing_deadline.is_some() => {
                    return Ok(());
                }
            }
        }
    }
    .await;
    if result.is_ok() {
        let _ = st.write_pending().await;
        let _ = st.sock.shutdown().await;
    }
    st.queued.store(0, Ordering::Relaxed);
    let _ = done.send(true);
}
