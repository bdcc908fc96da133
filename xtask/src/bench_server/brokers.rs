//! The two brokers under test, each started on spare ports with its own state directory
//! and stopped when dropped, so a failed bench never leaves a broker behind.
//!
//! RabbitMQ is set up exactly as `tests/differential-ci.sh` does it: Debian's
//! rabbitmq-server under a node name, ports and directories of our own, so it cannot
//! clash with a RabbitMQ already running on the machine.

use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::cmd::{self, Failure};

/// How long a stopping broker gets before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// A RabbitMQ node of our own.
pub struct Rabbit {
    server: PathBuf,
    ctl: PathBuf,
    node: String,
    dir: PathBuf,
    port: u16,
    dist_port: u16,
    child: Option<Child>,
}

impl Rabbit {
    /// Prepares the node's directories under `work`; starts nothing yet.
    pub fn new(work: &Path, port: u16, dist_port: u16) -> Result<Rabbit, Failure> {
        let server = cmd::which("rabbitmq-server")
            .ok_or_else(|| Failure("rabbitmq-server is not installed".into()))?;
        let ctl = cmd::which("rabbitmqctl")
            .ok_or_else(|| Failure("rabbitmqctl is not installed".into()))?;
        let dir = work.join("rmq");
        for sub in ["mnesia", "log"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| io_failure(&dir, &e))?;
        }
        fs::write(dir.join("enabled_plugins"), "[].\n").map_err(|e| io_failure(&dir, &e))?;
        // Debian's rabbitmq-server runs the node as the rabbitmq user: it must reach its dirs.
        fs::set_permissions(work, fs::Permissions::from_mode(0o755))
            .map_err(|e| io_failure(work, &e))?;
        if cmd::probe(Command::new("id").arg("rabbitmq")).unwrap_or(false) {
            cmd::run(Command::new("chown").args(["-R", "rabbitmq:"]).arg(&dir))?;
        }
        Ok(Rabbit {
            server,
            ctl,
            node: format!("warrenbench{}@localhost", std::process::id()),
            dir,
            port,
            dist_port,
            child: None,
        })
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2F", self.port)
    }

    /// Points `command` (rabbitmq-server, rabbitmqctl, or the load generator that spawns
    /// the server) at this node.
    pub fn configure(&self, command: &mut Command) {
        let d = &self.dir;
        command
            .current_dir(d)
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_PID_FILE", d.join("pid"))
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq"));
    }

    /// The load generator's `startup` arguments: spawn the server, stop it with rabbitmqctl.
    pub fn startup_args(&self) -> Vec<String> {
        self.spawn_args("startup.log")
    }

    /// What the load generator needs to start this node itself and stop it with
    /// rabbitmqctl, its output going to `log` in the node's directory.
    fn spawn_args(&self, log: &str) -> Vec<String> {
        vec![
            "--stop-cmd".into(),
            format!("{} -n {} -q stop", self.ctl.display(), self.node),
            "--log".into(),
            self.dir.join(log).display().to_string(),
            "--".into(),
            self.server.display().to_string(),
        ]
    }

    /// The load generator's `recovery` arguments: spawn the server, kill its Erlang VM
    /// (the pid it writes to `RABBITMQ_PID_FILE`; the child is only a wrapper script),
    /// stop it with rabbitmqctl at the end.
    pub fn recovery_args(&self) -> Vec<String> {
        let mut args = vec![
            "--kill-cmd".into(),
            format!("kill -KILL \"$(cat '{}')\"", self.dir.join("pid").display()),
        ];
        args.extend(self.spawn_args("recovery.log"));
        args
    }

    /// Starts the node in the background and waits until `rabbitmqctl await_startup`.
    pub fn start(&mut self) -> Result<(), Failure> {
        let log =
            fs::File::create(self.dir.join("server.log")).map_err(|e| io_failure(&self.dir, &e))?;
        let log_err = log.try_clone().map_err(|e| io_failure(&self.dir, &e))?;
        let mut command = Command::new(&self.server);
        self.configure(&mut command);
        command.stdin(Stdio::null()).stdout(log).stderr(log_err);
        let child = command
            .spawn()
            .map_err(|e| cmd::spawn_error("rabbitmq-server", &e))?;
        self.child = Some(child);
        // await_startup fails at once while the Erlang VM is not up yet (Debian's script
        // goes through `su` first), so it is retried until the node answers.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let mut wait = self.ctl_command();
            wait.args(["await_startup", "--timeout", "120"]);
            if cmd::probe(&mut wait).unwrap_or(false) {
                return Ok(());
            }
            let exited = !matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)));
            if exited || Instant::now() > deadline {
                break;
            }
            sleep(Duration::from_millis(200));
        }
        // The work directory goes away with the bench: show the log's end now.
        let log = fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        Err(Failure(format!("RabbitMQ did not start:\n{tail}")))
    }

    /// `rabbitmqctl -n NODE -q` for this node.
    fn ctl_command(&self) -> Command {
        let mut command = Command::new(&self.ctl);
        self.configure(&mut command);
        command.args(["-n", &self.node, "-q"]);
        command
    }

    /// The node's OS process (beam.smp), as the node itself reports it (Debian's 3.10
    /// does not write RABBITMQ_PID_FILE when started in the foreground).
    pub fn pid(&self) -> Result<u32, Failure> {
        let mut eval = self.ctl_command();
        eval.args(["eval", "os:getpid()."]);
        let text = cmd::output(&mut eval)
            .map_err(|e| cmd::spawn_error("rabbitmqctl eval", &e))?
            .ok_or_else(|| Failure("rabbitmqctl eval 'os:getpid().' failed".into()))?;
        text.trim()
            .trim_matches('"')
            .parse()
            .map_err(|_| Failure(format!("rabbitmqctl eval 'os:getpid().' printed {text:?}")))
    }

    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let beam = self.pid().ok();
        let _ = cmd::probe(self.ctl_command().arg("stop"));
        reap(&mut child);
        // Killing the wrapper script does not stop the Erlang VM under it.
        if let Some(pid) = beam.filter(|pid| Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = cmd::probe(Command::new("kill").args(["-KILL", &pid.to_string()]));
        }
    }
}

impl Drop for Rabbit {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `warren serve` on a spare port with a fresh data directory.
pub struct Warren {
    bin: PathBuf,
    port: u16,
    data_dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Warren {
    pub fn new(bin: &Path, work: &Path, port: u16) -> Warren {
        Warren {
            bin: bin.to_path_buf(),
            port,
            data_dir: work.join("warren-data"),
            log: work.join("warren.log"),
            child: None,
        }
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2F", self.port)
    }

    /// `warren serve` with everything but the data directory decided here.
    fn serve_args(&self, data_dir: &Path) -> Vec<String> {
        vec![
            "serve".into(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--amqp-port".into(),
            self.port.to_string(),
            "--http-port".into(),
            "0".into(),
            "--data-dir".into(),
            data_dir.display().to_string(),
        ]
    }

    /// The load generator's `startup` arguments: a first start on an empty data
    /// directory of its own (as RabbitMQ's startup run is a first boot).
    pub fn startup_args(&self, data_dir: &Path) -> Vec<String> {
        let mut args = vec!["--".into(), self.bin.display().to_string()];
        args.extend(self.serve_args(data_dir));
        args
    }

    /// The load generator's `recovery` arguments: both starts on `data_dir`; the
    /// crash is SIGKILL to the child, which is the server itself.
    pub fn recovery_args(&self, data_dir: &Path, log: &Path) -> Vec<String> {
        let mut args = vec![
            "--log".into(),
            log.display().to_string(),
            "--".into(),
            self.bin.display().to_string(),
        ];
        args.extend(self.serve_args(data_dir));
        args
    }

    pub fn start(&mut self) -> Result<(), Failure> {
        let log = fs::File::create(&self.log).map_err(|e| io_failure(&self.log, &e))?;
        let log_err = log.try_clone().map_err(|e| io_failure(&self.log, &e))?;
        let child = Command::new(&self.bin)
            .args(self.serve_args(&self.data_dir))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| cmd::spawn_error("warren serve", &e))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            sleep(Duration::from_millis(20));
        }
        Err(Failure(format!(
            "warren did not listen on {}; see {}",
            self.port,
            self.log.display()
        )))
    }

    pub fn pid(&self) -> Result<u32, Failure> {
        self.child
            .as_ref()
            .map(Child::id)
            .ok_or_else(|| Failure("warren is not running".into()))
    }

    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = cmd::probe(Command::new("kill").args(["-TERM", &child.id().to_string()]));
        reap(&mut child);
    }
}

impl Drop for Warren {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits for a stopping broker to exit, killing it after `STOP_GRACE`.
fn reap(child: &mut Child) {
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        sleep(Duration::from_millis(50));
    }
    eprintln!("xtask: a broker did not stop within {STOP_GRACE:?}; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

fn io_failure(path: &Path, err: &std::io::Error) -> Failure {
    Failure(format!("{}: {err}", path.display()))
}
