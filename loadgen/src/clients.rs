//! Each simulated client on its own OS thread with its own single-threaded runtime.
//!
//! Why not tasks on one multi-threaded runtime: a publisher that never has to wait (a
//! broker without publisher flow control reads as fast as it is sent to) keeps a worker
//! busy and tokio's cooperative scheduling lets it crowd out the consumer's tasks, so the
//! figure would measure the client's scheduler, not the broker. Separate threads are
//! shared out by the kernel, as separate client processes would be.

use std::future::Future;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use crate::Error;

/// A client's signal that its setup is done (connected, consuming), so the next one
/// can start; publishers start only once every consumer is in place.
pub type Ready = oneshot::Sender<()>;

/// Told to every client when the run is over.
pub type Stop = watch::Receiver<bool>;

/// How long stopped clients get to close their connections before they are left behind.
const FINISH_GRACE: Duration = Duration::from_secs(5);

/// The running clients of one workload.
pub struct Clients {
    stop: watch::Sender<bool>,
    outcomes: mpsc::UnboundedReceiver<(String, Result<(), Error>)>,
    report: mpsc::UnboundedSender<(String, Result<(), Error>)>,
    threads: Vec<JoinHandle<()>>,
    running: usize,
}

impl Clients {
    pub fn new() -> Clients {
        let (stop, _) = watch::channel(false);
        let (report, outcomes) = mpsc::unbounded_channel();
        Clients {
            stop,
            outcomes,
            report,
            threads: Vec::new(),
            running: 0,
        }
    }

    /// Starts `client` on a thread of its own and waits until it calls ready.
    pub async fn start<F, Fut>(&mut self, name: String, client: F) -> Result<(), Error>
    where
        F: FnOnce(Ready, Stop) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), Error>>,
    {
        let (ready, is_ready) = oneshot::channel();
        let stop = self.stop.subscribe();
        let report = self.report.clone();
        let thread_name = name.clone();
        let thread = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                let outcome = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(client(ready, stop)),
                    Err(e) => Err(Error(format!("starting a runtime: {e}"))),
                };
                let _ = report.send((thread_name, outcome));
            })
            .map_err(|e| Error(format!("starting thread {name}: {e}")))?;
        self.threads.push(thread);
        self.running += 1;
        if is_ready.await.is_ok() {
            return Ok(());
        }
        // It ended before it was ready: its outcome says why.
        match self.outcomes.recv().await {
            Some((who, outcome)) => {
                self.running -= 1;
                Err(failure(who, outcome))
            }
            None => Err(Error(format!("{name} ended before it was ready"))),
        }
    }

    /// Waits `span`; any client that ends meanwhile (with an error or not) fails the
    /// run, since a dead publisher or consumer would make the broker look slow.
    pub async fn watch(&mut self, span: Duration) -> Result<(), Error> {
        tokio::select! {
            _ = tokio::time::sleep(span) => Ok(()),
            ended = self.outcomes.recv() => match ended {
                Some((who, outcome)) => {
                    self.running -= 1;
                    Err(failure(who, outcome))
                }
                None => Ok(()),
            },
        }
    }

    /// Tells every client to stop and collects how they ended.
    pub async fn finish(mut self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        let mut first_error = None;
        let deadline = tokio::time::sleep(FINISH_GRACE);
        tokio::pin!(deadline);
        while self.running > 0 {
            tokio::select! {
                _ = &mut deadline => {
                    eprintln!("loadgen: {} client(s) did not stop; leaving them", self.running);
                    return first_error.map_or(Ok(()), Err);
                }
                ended = self.outcomes.recv() => match ended {
                    Some((who, Err(e))) => {
                        self.running -= 1;
                        first_error.get_or_insert(Error(format!("{who}: {e}")));
                    }
                    Some(_) => self.running -= 1,
                    None => break,
                },
            }
        }
        for thread in self.threads {
            let _ = thread.join();
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn failure(who: String, outcome: Result<(), Error>) -> Error {
    match outcome {
        Ok(()) => Error(format!("{who} stopped early")),
        Err(e) => Error(format!("{who}: {e}")),
    }
}

/// Whether the run is over (cheap enough to ask before every publish).
pub fn stopping(stop: &Stop) -> bool {
    *stop.borrow()
}
