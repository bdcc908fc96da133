#!/usr/bin/env bash
# Installs what Warren's tests need: the same as `cargo xtask setup "$@"`.
#
# For people who reach for a script first. The logic lives in xtask/src/setup.rs so that
# there is one implementation; this only makes sure cargo is on PATH and runs from the root.
# Options: --rabbitmq  also apt-get install rabbitmq-server (needs root and apt).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "scripts/setup.sh: cargo not found; install Rust with rustup first" >&2
    exit 1
fi

exec cargo xtask setup "$@"
