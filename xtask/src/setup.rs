//! `cargo xtask setup`: installs what the tests need, idempotently.
//!
//! Why this exists: CI runs on a fresh machine where only the Rust toolchain and Python are
//! present, and rustup does not add the targets listed in `rust-toolchain.toml` to a
//! toolchain that is already installed. Every step first checks whether its work is already
//! done, so running setup on every `cargo xtask test` costs a second, not a download.

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, Failure};

/// The wasm target the core and the playground are built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Directory (relative to the repo root) of the Python virtualenv used by client tests.
pub const VENV_DIR: &str = ".venv";

/// Python packages the tests import, as (import name, pip requirement).
///
/// pika is the reference AMQP 0-9-1 client our broker must satisfy. Add more here as
/// suites need them; each is only installed if it is not already importable.
const PYTHON_PACKAGES: &[(&str, &str)] = &[("pika", "pika>=1.3,<2")];

/// What `setup` should do beyond the defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Also install RabbitMQ (for differential tests against the real broker).
    pub rabbitmq: bool,
}

/// Runs every setup step and prints one line per step saying what it did.
pub fn setup(root: &Path, options: Options) -> Result<(), Failure> {
    println!("xtask setup: checking test prerequisites");
    let mut done = vec![wasm_target()?, rust_components()?, python_venv(root)?];
    if options.rabbitmq {
        done.push(rabbitmq()?);
    }
    println!("xtask setup: done");
    for line in done {
        println!("  - {line}");
    }
    Ok(())
}

/// Rustup components the test steps use (`cargo fmt`, `cargo clippy`).
///
/// `rust-toolchain.toml` lists them too, but like targets they are not reliably added to a
/// toolchain that is already installed, so we check.
const COMPONENTS: &[&str] = &["rustfmt", "clippy"];

/// Adds the wasm target to the active toolchain (the one `rust-toolchain.toml` selects).
fn wasm_target() -> Result<String, Failure> {
    let installed = cmd::output(Command::new("rustup").args(["target", "list", "--installed"]));
    match installed {
        Ok(Some(list)) if list.lines().any(|line| line.trim() == WASM_TARGET) => {
            Ok(format!("rust target {WASM_TARGET}: already installed"))
        }
        Ok(_) => {
            cmd::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
            Ok(format!("rust target {WASM_TARGET}: installed"))
        }
        // Not every toolchain comes from rustup (distro or nix packages); then we cannot add
        // the target, but the wasm build step will say clearly if it is missing.
        Err(_) => Ok(format!(
            "rust target {WASM_TARGET}: NOTE rustup not found; install the target for your \
             toolchain yourself"
        )),
    }
}

/// Adds any missing [`COMPONENTS`] to the active toolchain.
fn rust_components() -> Result<String, Failure> {
    let names = COMPONENTS.join(", ");
    let installed = cmd::output(Command::new("rustup").args(["component", "list", "--installed"]));
    let list = match installed {
        Ok(Some(list)) => list,
        Ok(None) => String::new(),
        Err(_) => {
            return Ok(format!(
                "rust components ({names}): NOTE rustup not found; install them yourself"
            ))
        }
    };
    // Installed components are listed with their host triple: `clippy-x86_64-unknown-...`.
    let missing: Vec<&str> = COMPONENTS
        .iter()
        .copied()
        .filter(|name| {
            !list
                .lines()
                .any(|line| line.trim().starts_with(&format!("{name}-")))
        })
        .collect();
    if missing.is_empty() {
        return Ok(format!("rust components ({names}): already installed"));
    }
    cmd::run(
        Command::new("rustup")
            .args(["component", "add"])
            .args(&missing),
    )?;
    Ok(format!(
        "rust components ({names}): installed {}",
        missing.join(", ")
    ))
}

/// Creates `.venv` if needed and installs each Python package that is not importable yet.
fn python_venv(root: &Path) -> Result<String, Failure> {
    let venv = root.join(VENV_DIR);
    let python = venv.join("bin").join("python");
    let mut created = false;
    if !python.is_file() {
        let mut command = Command::new("python3");
        command.args(["-m", "venv"]);
        if venv.exists() {
            // A .venv without a working interpreter (e.g. its base Python was removed) is
            // ours to rebuild; --clear makes venv replace it instead of failing on it.
            command.arg("--clear");
        }
        command.arg(VENV_DIR).current_dir(root);
        cmd::run(&mut command).map_err(|Failure(message)| {
            Failure(format!(
                "{message}\n  hint: on Debian/Ubuntu `apt-get install -y python3-venv` \
                 provides the venv module"
            ))
        })?;
        created = true;
    }

    let mut installed = Vec::new();
    for &(module, requirement) in PYTHON_PACKAGES {
        if importable(&python, module)? {
            continue;
        }
        let mut command = Command::new(&python);
        command
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(requirement)
            .current_dir(root);
        cmd::run(&mut command)?;
        if !importable(&python, module)? {
            return Err(Failure(format!(
                "installed `{requirement}` into {VENV_DIR} but `import {module}` still fails"
            )));
        }
        installed.push(module);
    }

    let names: Vec<&str> = PYTHON_PACKAGES.iter().map(|&(module, _)| module).collect();
    let what = match (created, installed.is_empty()) {
        (false, true) => "already set up".to_string(),
        (true, _) => format!("created, installed {}", installed.join(", ")),
        (false, false) => format!("installed {}", installed.join(", ")),
    };
    Ok(format!("python {VENV_DIR} ({}): {what}", names.join(", ")))
}

fn importable(python: &Path, module: &str) -> Result<bool, Failure> {
    let mut command = Command::new(python);
    command.args(["-c", &format!("import {module}")]);
    cmd::probe(&mut command).map_err(|err| cmd::spawn_error(&cmd::display(&command), &err))
}

/// Installs Debian's rabbitmq-server (3.10 on Debian 12) if it is missing.
///
/// Only attempted as root with apt available: anywhere else we would need sudo (which may
/// prompt, and CI has no stdin) or a different package manager, so we explain instead.
fn rabbitmq() -> Result<String, Failure> {
    if let Some(path) = cmd::which("rabbitmq-server") {
        return Ok(format!(
            "rabbitmq-server: already installed ({})",
            path.display()
        ));
    }
    if cmd::which("apt-get").is_none() {
        return Ok(
            "rabbitmq-server: NOTE not installed and apt-get is not available; \
                   install RabbitMQ 3.10+ by other means for differential tests"
                .to_string(),
        );
    }
    if !is_root() {
        return Ok(
            "rabbitmq-server: NOTE not installed and not running as root; run \
                   `sudo apt-get install -y rabbitmq-server` for differential tests"
                .to_string(),
        );
    }
    // A fresh machine has no package lists yet, so `update` must come first.
    let mut update = Command::new("apt-get");
    update
        .args(["update", "-q"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    cmd::run(&mut update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-q", "rabbitmq-server"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    cmd::run(&mut install)?;
    Ok("rabbitmq-server: installed with apt-get".to_string())
}

/// Whether we run as root; `id -u` avoids a libc dependency for one syscall.
fn is_root() -> bool {
    matches!(cmd::output(Command::new("id").arg("-u")), Ok(Some(uid)) if uid.trim() == "0")
}
