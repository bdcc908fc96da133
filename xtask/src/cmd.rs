//! Small helpers for running child processes with a visible, uniform log.
//!
//! Every command is echoed before it runs (`$ cargo test --workspace`) so a CI log shows
//! exactly what to re-run by hand, and every failure names the command that failed.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// A failed xtask command, with a message meant for a human reading the CI log.
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure(message)
    }
}

/// A `cargo` command run from the repository root.
///
/// Uses `$CARGO` (set by cargo for `cargo run`) so the child uses the same cargo/toolchain
/// as the one that launched xtask, rather than whatever `cargo` is first on PATH.
pub fn cargo(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root);
    command
}

/// Renders a command roughly as a shell would show it, for logs and error messages.
pub fn display(command: &Command) -> String {
    let program = Path::new(command.get_program());
    // Programs inside the repo (e.g. `.venv/bin/python`) are shown relative to it, so the
    // line can be pasted from the repo root; toolchain paths like $CARGO just by name.
    let shown = match command.get_current_dir() {
        Some(dir) if program.starts_with(dir) => program.strip_prefix(dir).ok(),
        _ if program.is_absolute() => program.file_name().map(Path::new),
        _ => None,
    }
    .unwrap_or(program);
    let mut text = quote(shown.as_os_str());
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&quote(arg));
    }
    text
}

fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Runs `command` with inherited stdout/stderr and no stdin, failing unless it exits 0.
///
/// Stdin is closed because CI has none: a tool that would prompt must fail fast here too,
/// instead of hanging on a developer's machine and passing in CI (or the other way round).
pub fn run(command: &mut Command) -> Result<(), Failure> {
    let shown = display(command);
    println!("$ {shown}");
    let status = command
        .stdin(Stdio::null())
        .status()
        .map_err(|err| spawn_error(&shown, &err))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!("`{shown}` failed ({status})")))
    }
}

/// Runs `command` quietly and reports whether it exited 0; for probes such as
/// "is pika importable?". Errors only if the program could not be started at all.
pub fn probe(command: &mut Command) -> io::Result<bool> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|status| status.success())
}

/// Runs `command` quietly and returns its stdout if it exited 0.
pub fn output(command: &mut Command) -> io::Result<Option<String>> {
    let out = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// Explains a failure to start a program, pointing at the usual cause (not installed).
pub fn spawn_error(shown: &str, err: &io::Error) -> Failure {
    if err.kind() == io::ErrorKind::NotFound {
        Failure(format!("`{shown}`: program not found on PATH"))
    } else {
        Failure(format!("`{shown}`: could not start: {err}"))
    }
}

/// Finds `program` on PATH (plus the sbin directories, which non-root PATHs often lack but
/// where Debian puts daemons such as rabbitmq-server).
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(Into::into))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Like [`run`], but passes each line of the child's stdout to `on_line` after echoing it,
/// so callers can pick results out of the output while it still streams live to the log.
pub fn run_lines(command: &mut Command, mut on_line: impl FnMut(&str)) -> Result<(), Failure> {
    let shown = display(command);
    println!("$ {shown}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|err| spawn_error(&shown, &err))?;
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match reader.read_until(b'\n', &mut buffer) {
                Ok(0) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buffer);
                    let line = line.trim_end_matches(['\n', '\r']);
                    println!("{line}");
                    on_line(line);
                }
                Err(err) => {
                    // Keep going to `wait` so the child is reaped; its status decides.
                    eprintln!("xtask: reading output of `{shown}`: {err}");
                    break;
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|err| Failure(format!("`{shown}`: {err}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!("`{shown}` failed ({status})")))
    }
}
