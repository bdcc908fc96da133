#!/usr/bin/env bash
# Component tests of the playground in headless Chromium (web/tests/components.rs), with
# wasm-bindgen-test. Installs what they need when missing:
#  - wasm-bindgen-test-runner at exactly the wasm-bindgen version pinned in web/Cargo.toml
#    (the runner and the crate must match), with `cargo install wasm-bindgen-cli`;
#  - chromedriver (apt-get install chromium-driver, when root on Debian/Ubuntu).
# Env: CHROMEDRIVER (default: chromedriver on PATH, else /usr/bin/chromedriver), CARGO.
set -euo pipefail
root="${WARREN_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
cargo="${CARGO:-cargo}"

version="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' web/Cargo.toml)"
if [ -z "$version" ]; then
  echo "wasm-components: no pinned wasm-bindgen version in web/Cargo.toml" >&2
  exit 1
fi
have="$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have" != "$version" ]; then
  echo "wasm-components: installing wasm-bindgen-cli $version (found '${have:-none}'); takes a few minutes"
  # Not --locked: its lock file pins a webpki-roots prerelease the registry no longer resolves.
  "$cargo" install wasm-bindgen-cli --version "=$version"
fi

driver="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
if [ ! -x "$driver" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "wasm-components: installing chromedriver (apt-get install -y chromium-driver)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-driver >/dev/null
  driver="$(command -v chromedriver || echo /usr/bin/chromedriver)"
fi
if [ ! -x "$driver" ]; then
  echo "wasm-components: no chromedriver (apt-get install chromium-driver, or set CHROMEDRIVER)" >&2
  exit 1
fi

export CHROMEDRIVER="$driver"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# Headless is the runner's default; NO_HEADLESS must not be set for CI.
unset NO_HEADLESS
"$cargo" test -p warren-web --target wasm32-unknown-unknown
