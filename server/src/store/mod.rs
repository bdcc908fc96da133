//! Durable state on disk: a snapshot plus append-only logs, written by one
//! thread that fsyncs in groups. See `server/STORE.md` for the layout and the
//! reasons behind it.
//!
//! The broker task sends batches of [`StoreOp`]s tagged with a sequence
//! number; the store thread appends them, fsyncs once for everything that
//! queued up meanwhile (group commit), and reports the highest sequence
//! number now on disk, which is when the broker may send the publisher
//! confirms that depend on those ops.

pub mod index;
pub mod record;

use bytes::BytesMut;
use index::Index;
use record::{decode_op, read_record, write_end, write_op, Next};
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, oneshot};
use warren_core::protocol::{Millis, StoreOp};
use warren_core::Broker;

const LOG_MAGIC: &[u8; 8] = b"WARRENLG";
const SNAPSHOT_MAGIC: &[u8; 8] = b"WARRENSN";
const FORMAT_VERSION: u32 = 1;
const SNAPSHOT: &str = "snapshot.dat";
const SNAPSHOT_TMP: &str = "snapshot.tmp";
const LOCK: &str = "warren.lock";
/// Logs are compacted into a snapshot once they hold at least this much...
const COMPACT_MIN_BYTES: u64 = 64 << 20;
/// ...and at least this many times the live data (most of them is garbage).
const COMPACT_RATIO: u64 = 2;

/// A message to the store thread.
pub enum StoreMsg {
    /// Ops to append, in order; `seq` is the sequence number of the last one.
    Ops { ops: Vec<StoreOp>, seq: u64 },
    /// Make everything durable and compact; answer when done (shutdown).
    Flush(oneshot::Sender<()>),
}

/// The opened store: recovered state, and the files to go on writing.
pub struct Store {
    dir: PathBuf,
    _lock: File,
    index: Index,
    /// The first log generation the current snapshot does not contain.
    snapshot_gen: u64,
    /// The generation being appended to.
    log_gen: u64,
    log: File,
    /// Bytes in logs the snapshot does not contain (what compaction reclaims).
    log_bytes: u64,
    scratch: BytesMut,
}

fn log_name(generation: u64) -> String {
    format!("log-{generation:012}.wal")
}

fn parse_log_name(name: &str) -> Option<u64> {
    name.strip_prefix("log-")?
        .strip_suffix(".wal")?
        .parse()
        .ok()
}

fn io_err(what: impl std::fmt::Display, path: &Path, e: std::io::Error) -> String {
    format!("{what} {}: {e}", path.display())
}

fn sync_dir(dir: &Path) -> Result<(), String> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("cannot sync data dir", dir, e))
}

/// Takes an exclusive lock on the data directory, so two brokers never write
/// the same store. The lock goes with the process, even after kill -9.
fn lock_dir(dir: &Path) -> Result<File, String> {
    let path = dir.join(LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_err("cannot create lock file", &path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            return Err(format!(
                "data dir {} is in use by another warren",
                dir.display()
            ));
        }
    }
    Ok(file)
}

fn read_header(r: &mut impl Read, magic: &[u8; 8], path: &Path) -> Result<u64, String> {
    let mut head = [0u8; 20];
    r.read_exact(&mut head)
        .map_err(|e| io_err("cannot read header of", path, e))?;
    if &head[..8] != magic {
        return Err(format!("{} is not a warren store file", path.display()));
    }
    let version = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
    if version != FORMAT_VERSION {
        return Err(format!(
            "{} has store format {version}, this warren reads {FORMAT_VERSION}",
            path.display()
        ));
    }
    let mut generation = [0u8; 8];
    generation.copy_from_slice(&head[12..20]);
    Ok(u64::from_be_bytes(generation))
}

fn header(magic: &[u8; 8], generation: u64) -> Vec<u8> {
    let mut h = magic.to_vec();
    h.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    h.extend_from_slice(&generation.to_be_bytes());
    h
}

impl Store {
    /// Opens (creating if needed) the store in `dir` and recovers its state.
    pub fn open(dir: &Path) -> Result<Store, String> {
        if dir.exists() && !dir.is_dir() {
            return Err(format!("data dir {} is not a directory", dir.display()));
        }
        fs::create_dir_all(dir).map_err(|e| io_err("cannot create data dir", dir, e))?;
        let lock = lock_dir(dir)?;
        let mut index = Index::default();
        // Messages from before publish times were recorded start their TTLs again.
        let recovered_at = crate::clock::wall_now();

        // The snapshot, if any: everything before generation `snapshot_gen`.
        let snap_path = dir.join(SNAPSHOT);
        let mut snapshot_gen = 0;
        if snap_path.exists() {
            let file = File::open(&snap_path).map_err(|e| io_err("cannot open", &snap_path, e))?;
            let mut r = BufReader::with_capacity(1 << 20, file);
            snapshot_gen = read_header(&mut r, SNAPSHOT_MAGIC, &snap_path)?;
            loop {
                match read_record(&mut r).map_err(|e| io_err("cannot read", &snap_path, e))? {
                    Next::Record(record::END, _) => break,
                    Next::Record(kind, payload) => {
                        index.apply(decode_op(kind, payload, recovered_at).map_err(|e| {
                            format!("corrupt snapshot {}: {e}", snap_path.display())
                        })?)
                    }
                    Next::End | Next::Torn => {
                        return Err(format!("snapshot {} is incomplete", snap_path.display()))
                    }
                }
            }
        }
        let _ = fs::remove_file(dir.join(SNAPSHOT_TMP));

        // Then every log from that generation on, oldest first.
        let mut gens: Vec<u64> = fs::read_dir(dir)
            .map_err(|e| io_err("cannot list data dir", dir, e))?
            .filter_map(|e| e.ok())
            .filter_map(|e| parse_log_name(&e.file_name().to_string_lossy()))
            .collect();
        gens.sort_unstable();
        let mut log_bytes = 0;
        for &g in &gens {
            let path = dir.join(log_name(g));
            if g < snapshot_gen {
                // Already in the snapshot: left over from a compaction cut short.
                let _ = fs::remove_file(&path);
                continue;
            }
            log_bytes += replay_log(&path, &mut index, recovered_at)?;
        }
        let log_gen = gens
            .last()
            .map_or(snapshot_gen, |&g| g.max(snapshot_gen) + 1);
        let log = create_log(dir, log_gen)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            _lock: lock,
            index,
            snapshot_gen,
            log_gen,
            log,
            log_bytes,
            scratch: BytesMut::with_capacity(1 << 16),
        })
    }

    /// The recovered durable state.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Starts the store thread. It reports each fsynced sequence number on `synced`.
    pub fn spawn(
        mut self,
        synced: mpsc::UnboundedSender<u64>,
    ) -> (mpsc::UnboundedSender<StoreMsg>, std::thread::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<StoreMsg>();
        let thread = std::thread::Builder::new()
            .name("warren-store".into())
            .spawn(move || {
                if let Err(e) = self.run(&mut rx, &synced) {
                    // A broker that cannot write its store must not go on
                    // confirming messages as safe.
                    eprintln!("warren: store failure, stopping: {e}");
                    std::process::exit(1);
                }
            })
            .unwrap_or_else(|e| {
                eprintln!("warren: cannot start the store thread: {e}");
                std::process::exit(1);
            });
        (tx, thread)
    }

    fn run(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<StoreMsg>,
        synced: &mpsc::UnboundedSender<u64>,
    ) -> Result<(), String> {
        if self.should_compact() {
            self.compact()?;
        }
        while let Some(first) = rx.blocking_recv() {
            let mut seq = None;
            let mut flushes = Vec::new();
            let mut next = Some(first);
            // Everything already queued goes into this one fsync.
            while let Some(msg) = next {
                match msg {
                    StoreMsg::Ops { ops, seq: s } => {
                        for op in &ops {
                            write_op(op, &mut self.scratch);
                        }
                        for op in ops {
                            self.index.apply(op);
                        }
                        seq = Some(s);
                        if self.scratch.len() >= 1 << 20 {
                            self.write_scratch()?;
                        }
                    }
                    StoreMsg::Flush(done) => flushes.push(done),
                }
                next = rx.try_recv().ok();
            }
            self.write_scratch()?;
            self.log
                .sync_data()
                .map_err(|e| format!("cannot fsync the log: {e}"))?;
            if let Some(s) = seq {
                let _ = synced.send(s);
            }
            if !flushes.is_empty() {
                if self.log_bytes > 0 {
                    self.compact()?;
                }
                for done in flushes {
                    let _ = done.send(());
                }
            } else if self.should_compact() {
                self.compact()?;
            }
        }
        Ok(())
    }

    fn write_scratch(&mut self) -> Result<(), String> {
        if self.scratch.is_empty() {
            return Ok(());
        }
        self.log
            .write_all(&self.scratch)
            .map_err(|e| format!("cannot append to the log: {e}"))?;
        self.log_bytes += self.scratch.len() as u64;
        self.scratch.clear();
        Ok(())
    }

    fn should_compact(&self) -> bool {
        self.log_bytes >= COMPACT_MIN_BYTES
            && self.log_bytes >= COMPACT_RATIO * (self.index.live_bytes + (1 << 20))
    }

    /// Writes the live state as a new snapshot and drops the logs it covers.
    /// The order makes every crash point safe: a new log generation is
    /// started first, the snapshot saying "logs from here on" replaces the
    /// old one by an atomic rename, and only then are older logs deleted.
    fn compact(&mut self) -> Result<(), String> {
        let new_gen = self.log_gen + 1;
        self.log = create_log(&self.dir, new_gen)?;
        self.log_gen = new_gen;

        let tmp = self.dir.join(SNAPSHOT_TMP);
        let file = File::create(&tmp).map_err(|e| io_err("cannot create", &tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let fail = |e: std::io::Error| io_err("cannot write", &tmp, e);
        w.write_all(&header(SNAPSHOT_MAGIC, new_gen))
            .map_err(fail)?;
        let mut buf = BytesMut::with_capacity(1 << 16);
        let put = |w: &mut BufWriter<File>, op: StoreOp, buf: &mut BytesMut| {
            buf.clear();
            write_op(&op, buf);
            w.write_all(buf)
        };
        for op in self.index.access_ops() {
            put(&mut w, op, &mut buf).map_err(fail)?;
        }
        for x in self.index.exchanges.values() {
            put(&mut w, StoreOp::ExchangeDeclared(x.clone()), &mut buf).map_err(fail)?;
        }
        for q in self.index.queues.values() {
            put(&mut w, StoreOp::QueueDeclared(q.def.clone()), &mut buf).map_err(fail)?;
        }
        for b in self.index.bindings.values() {
            put(&mut w, StoreOp::BindingAdded(b.clone()), &mut buf).map_err(fail)?;
        }
        for q in self.index.queues.values() {
            for (msg_id, message) in q.messages.values() {
                let op = StoreOp::MessageEnqueued {
                    vhost: q.def.vhost.clone(),
                    queue: q.def.name.clone(),
                    msg_id: *msg_id,
                    message: message.clone(),
                };
                put(&mut w, op, &mut buf).map_err(fail)?;
                if q.delivered.contains(msg_id) {
                    let op = StoreOp::MessageDelivered {
                        vhost: q.def.vhost.clone(),
                        queue: q.def.name.clone(),
                        msg_id: *msg_id,
                    };
                    put(&mut w, op, &mut buf).map_err(fail)?;
                }
            }
        }
        buf.clear();
        write_end(&mut buf);
        w.write_all(&buf).map_err(fail)?;
        let file = w.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        drop(file);
        let snap = self.dir.join(SNAPSHOT);
        fs::rename(&tmp, &snap).map_err(|e| io_err("cannot install", &snap, e))?;
        sync_dir(&self.dir)?;

        for g in self.snapshot_gen..new_gen {
            let _ = fs::remove_file(self.dir.join(log_name(g)));
        }
        self.snapshot_gen = new_gen;
        self.log_bytes = 0;
        Ok(())
    }
}

fn create_log(dir: &Path, generation: u64) -> Result<File, String> {
    let path = dir.join(log_name(generation));
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(|e| io_err("cannot create", &path, e))?;
    file.write_all(&header(LOG_MAGIC, generation))
        .and_then(|()| file.sync_all())
        .map_err(|e| io_err("cannot write", &path, e))?;
    sync_dir(dir)?;
    Ok(file)
}

/// Applies a log's records; a torn tail (a crash mid-append) ends it.
/// Returns the log's size.
fn replay_log(path: &Path, index: &mut Index, recovered_at: Millis) -> Result<u64, String> {
    let file = File::open(path).map_err(|e| io_err("cannot open", path, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut r = BufReader::with_capacity(1 << 20, file);
    if size < 20 {
        // Created but its header never made it to disk: nothing in it.
        return Ok(0);
    }
    read_header(&mut r, LOG_MAGIC, path)?;
    // A torn record (a crash mid-append) ends the log.
    while let Next::Record(kind, payload) =
        read_record(&mut r).map_err(|e| io_err("cannot read", path, e))?
    {
        let op = decode_op(kind, payload, recovered_at)
            .map_err(|e| format!("corrupt log {}: {e}", path.display()))?;
        index.apply(op);
    }
    Ok(size)
}

/// Puts recovered durable state into a fresh broker: vhosts, users and
/// permissions changed at run time (over what the config file set up), then
/// topology, then each queue's messages in their order. A message that had
/// gone to a consumer comes back marked redelivered, as in RabbitMQ.
pub fn recover_into(index: &Index, broker: &mut Broker) -> (usize, usize) {
    for (name, present) in &index.vhosts {
        if *present {
            broker.add_vhost(name);
        } else {
            broker.delete_vhost(0, name);
        }
    }
    for (name, user) in &index.users {
        match user {
            Some(u) => broker.put_user(u.clone()),
            None => {
                broker.delete_user(name);
            }
        }
    }
    for ((user, vhost), p) in &index.permissions {
        match p {
            Some(p) => broker.set_permissions(p.clone()),
            None => {
                broker.clear_permissions(user, vhost);
            }
        }
    }
    for x in index.exchanges.values() {
        if let Err(e) = broker.define_exchange(x) {
            eprintln!("warren: not recovering exchange '{}': {}", x.name, e.text);
        }
    }
    for q in index.queues.values() {
        if let Err(e) = broker.define_queue(&q.def) {
            eprintln!("warren: not recovering queue '{}': {}", q.def.name, e.text);
        }
    }
    for b in index.bindings.values() {
        if let Err(e) = broker.define_binding(b) {
            eprintln!(
                "warren: not recovering a binding of '{}': {}",
                b.source, e.text
            );
        }
    }
    let mut messages = 0;
    for q in index.queues.values() {
        for (msg_id, m) in q.messages.values() {
            let delivered = q.delivered.contains(msg_id);
            broker.recover_message(&q.def.vhost, &q.def.name, m.clone(), delivered);
            messages += 1;
        }
    }
    (index.queues.len(), messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use warren_core::definitions::QueueDef;
    use warren_core::types::{BasicProperties, Message};

    fn ops(n: u64) -> Vec<StoreOp> {
        let mut v = vec![StoreOp::QueueDeclared(QueueDef {
            name: "q".into(),
            vhost: "/".into(),
            durable: true,
            auto_delete: false,
            arguments: Default::default(),
        })];
        for id in 1..=n {
            v.push(StoreOp::MessageEnqueued {
                vhost: "/".into(),
                queue: "q".into(),
                msg_id: id,
                message: Message::new(
                    id,
                    0,
                    "",
                    "q",
                    &BasicProperties::default(),
                    &[id as u8; 100],
                ),
            });
        }
        v
    }

    fn count(dir: &Path) -> u64 {
        Store::open(dir).unwrap().index().live_messages
    }

    #[test]
    fn ops_survive_reopen_and_compaction() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
            let (tx, thread) = store.spawn(ack_tx);
            tx.send(StoreMsg::Ops {
                ops: ops(10),
                seq: 11,
            })
            .unwrap();
            assert_eq!(ack_rx.blocking_recv(), Some(11));
            drop(tx);
            thread.join().unwrap();
        }
        assert_eq!(count(dir.path()), 10);
        {
            let store = Store::open(dir.path()).unwrap();
            let (ack_tx, _ack_rx) = mpsc::unbounded_channel();
            let (tx, thread) = store.spawn(ack_tx);
            let removed = StoreOp::MessageRemoved {
                vhost: "/".into(),
                queue: "q".into(),
                msg_id: 3,
            };
            tx.send(StoreMsg::Ops {
                ops: vec![removed],
                seq: 1,
            })
            .unwrap();
            let (done_tx, done_rx) = oneshot::channel();
            tx.send(StoreMsg::Flush(done_tx)).unwrap();
            done_rx.blocking_recv().unwrap();
            drop(tx);
            thread.join().unwrap();
        }
        assert_eq!(count(dir.path()), 9);
        let logs = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                parse_log_name(&e.as_ref().unwrap().file_name().to_string_lossy()).is_some()
            })
            .count();
        assert!(logs <= 2, "old logs were not removed ({logs})");
    }

    #[test]
    fn a_torn_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = Store::open(dir.path()).unwrap();
            for op in ops(5) {
                write_op(&op, &mut store.scratch);
            }
            store.write_scratch().unwrap();
            // Half a record, as a crash mid-append leaves it.
            store.log.write_all(&[0, 0, 1, 0, 9, 9]).unwrap();
        }
        assert_eq!(count(dir.path()), 5);
        // And again, now that a newer (empty) log exists after it.
        assert_eq!(count(dir.path()), 5);
    }

    #[test]
    fn a_second_store_on_the_same_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).err().unwrap();
        assert!(err.contains("in use"), "{err}");
    }
}
