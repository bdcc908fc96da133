#!/usr/bin/env bash
# Determinism across platforms: every scenario's trace must be identical when the
# core runs in wasm (under node) and natively; also prints wasm routing speed against native.
set -euo pipefail
cd "${WARREN_ROOT:-$(dirname "$0")/../..}"
cargo="${CARGO:-cargo}"
"$cargo" build --quiet --release -p warren-wasm-check --target wasm32-unknown-unknown --lib
"$cargo" build --quiet --release -p warren-wasm-check --bin native
mapfile -t files < <(find tests/scenarios tutorials -name '*.json' \( -path 'tests/scenarios/*' -o -name scenario.json \) 2>/dev/null | sort)
node tests/wasm/check.mjs target/wasm32-unknown-unknown/release/warren_wasm_check.wasm target/release/native "${files[@]}"
