#!/usr/bin/env bash
# Differential test: runs every scenario under tutorials/ and tests/scenarios/
# in the simulator and on a real broker, and fails on any difference in what
# clients observe (see remote/README.md).
#
#   WARREN_TEST_BROKER=amqp://guest:guest@127.0.0.1:5672/%2F tests/differential.sh
#
# WARREN_TEST_BROKER    the reference broker (RabbitMQ); required.
# WARREN_SERVE_BROKER   optional second broker URL (e.g. a running `warren serve`),
#                       diffed the same way.
# WARREN_RESTART_CMD    optional command that restarts the reference broker
#                       (without it, what follows a `restart` step is skipped).
# WARREN_TIME_SCALE     real ms per virtual ms (default 1).
# Extra arguments select scenario files instead of all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${WARREN_TEST_BROKER:-}" ]]; then
  echo "tests/differential.sh needs a broker: set WARREN_TEST_BROKER=amqp://user:pass@host:port/vhost" >&2
  exit 2
fi

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  files=(tutorials/*/scenario.json tests/scenarios/*.json)
fi

cargo build -q -p warren-remote --bin warren-remote
bin=target/debug/warren-remote
args=(--time-scale "${WARREN_TIME_SCALE:-1}")
if [[ -n "${WARREN_RESTART_CMD:-}" ]]; then
  args+=(--restart-cmd "$WARREN_RESTART_CMD")
fi

status=0
echo "== simulator vs $WARREN_TEST_BROKER"
"$bin" diff --broker "$WARREN_TEST_BROKER" "${args[@]}" "${files[@]}" || status=1
if [[ -n "${WARREN_SERVE_BROKER:-}" ]]; then
  echo "== simulator vs $WARREN_SERVE_BROKER"
  "$bin" diff --broker "$WARREN_SERVE_BROKER" --time-scale "${WARREN_TIME_SCALE:-1}" "${files[@]}" || status=1
fi
exit $status
