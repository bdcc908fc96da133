#!/usr/bin/env bash
# End-to-end test of the browser playground: builds dist/ with `cargo xtask web`, then
# drives it in Chromium with playwright-core (tests/e2e/playground.test.mjs).
# Needs node/npm and a Chromium at $CHROMIUM (default /usr/bin/chromium; on Debian:
# apt-get install -y chromium). Screenshots go to tests/e2e/artifacts/.
set -euo pipefail
root="${WARREN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
cargo="${CARGO:-cargo}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ] && [ "$chromium" = /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "e2e: installing Chromium (apt-get install -y chromium)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -x "$chromium" ]; then
  echo "e2e: no Chromium at $chromium (apt-get install -y chromium, or set CHROMIUM)" >&2
  exit 1
fi
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  (cd tests/e2e && npm install --no-audit --no-fund)
fi
"$cargo" xtask web
# `warren` for the export-as-test check and the live-mode test (cheap after cargo test).
"$cargo" build -p warren-server
cd tests/e2e
CHROMIUM="$chromium" WARREN_DIST="$root/dist" node --test --test-reporter=spec playground.test.mjs
