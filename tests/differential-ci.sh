#!/usr/bin/env bash
# The differential suite as CI runs it: every scenario under tutorials/ and
# tests/scenarios/ runs in the simulator and against two real brokers — a
# RabbitMQ 3.10 started here on spare ports, and `warren serve` — and any
# difference in what clients observe fails (either Warren or the scenario's
# expectation is wrong). Also runs warren-remote's integration tests and every
# lesson's pika client against that RabbitMQ, and compares the two brokers'
# management statistics (tests/pika/management_stats.py). Installs rabbitmq-server from Debian when missing (as root).
set -euo pipefail
ROOT="${WARREN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$ROOT"
CARGO="${CARGO:-cargo}"

if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing rabbitmq-server (Debian)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server >/dev/null; }
    else
        echo "differential: rabbitmq-server is not installed and cannot be installed here (needs root and apt)" >&2
        exit 1
    fi
fi
export PATH="$PATH:/usr/sbin:/usr/lib/rabbitmq/bin"
# Debian's package starts its own node on install; ours gets its own name and ports.
if command -v systemctl >/dev/null 2>&1; then systemctl stop rabbitmq-server >/dev/null 2>&1 || true; fi

# Every port is picked up front, distinct, and outside the ephemeral range.
mapfile -t ports < <(python3 tests/free-ports.py 5)
RPORT="${ports[0]}" DPORT="${ports[1]}" WPORT="${ports[2]}" RHTTP="${ports[3]}" WHTTP="${ports[4]}"
# Both brokers sample their statistics every second here (5 s by default), so the
# management comparison waits less.
SAMPLE_MS=1000

WORK="$(mktemp -d)"
NODE="warrendiff$$@localhost"
mkdir -p "$WORK/rmq/mnesia" "$WORK/rmq/log"
echo "[rabbitmq_management]." > "$WORK/rmq/enabled_plugins"
cat > "$WORK/rmq/rabbitmq.conf" <<EOC
management.tcp.port = $RHTTP
management.tcp.ip = 127.0.0.1
collect_statistics_interval = $SAMPLE_MS
EOC
# Debian's rabbitmq-server runs the node as the rabbitmq user: it must reach its dirs.
chmod 755 "$WORK"
if id rabbitmq >/dev/null 2>&1; then chown -R rabbitmq: "$WORK/rmq"; fi
export RABBITMQ_NODENAME="$NODE" RABBITMQ_NODE_PORT="$RPORT" RABBITMQ_DIST_PORT="$DPORT" \
    RABBITMQ_MNESIA_BASE="$WORK/rmq/mnesia" RABBITMQ_LOG_BASE="$WORK/rmq/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$WORK/rmq/enabled_plugins" RABBITMQ_PID_FILE="$WORK/rmq/pid" \
    RABBITMQ_CONFIG_FILE="$WORK/rmq/rabbitmq"
(cd "$WORK/rmq" && exec rabbitmq-server > "$WORK/rmq/server.log" 2>&1) &
RMQ_PID=$!
rabbit_logs() {
    tail -n 30 "$WORK/rmq/server.log" "$WORK"/rmq/log/*.log >&2 2>/dev/null || true
}

"$CARGO" build --quiet --release -p warren-server --bin warren
BIN="$ROOT/target/release/warren"
cat > "$WORK/warren-restart.sh" <<EOS
#!/usr/bin/env bash
set -u
if [ -f "$WORK/warren.pid" ]; then
    pid=\$(cat "$WORK/warren.pid"); kill -TERM "\$pid" 2>/dev/null || true
    for _ in \$(seq 200); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.05; done
fi
nohup "$BIN" serve --bind 127.0.0.1 --amqp-port $WPORT --http-port $WHTTP --collect-statistics-interval $SAMPLE_MS --data-dir "$WORK/warren-data" >> "$WORK/warren.log" 2>&1 < /dev/null &
echo \$! > "$WORK/warren.pid"
for _ in \$(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$WPORT) 2>/dev/null && exit 0; sleep 0.05; done
echo "warren did not come up on $WPORT" >&2; exit 1
EOS
chmod +x "$WORK/warren-restart.sh"

cleanup() {
    rabbitmqctl -n "$NODE" -q stop >/dev/null 2>&1 || kill "$RMQ_PID" 2>/dev/null || true
    [ -f "$WORK/warren.pid" ] && kill -TERM "$(cat "$WORK/warren.pid")" 2>/dev/null || true
    sleep 0.3
    rm -rf "$WORK"
}
trap cleanup EXIT

"$WORK/warren-restart.sh"
# await_startup fails at once while the Erlang VM is not up yet (Debian's script goes
# through su first), so it is asked again until the node answers, for up to 120 s, as
# `cargo xtask bench-server` does. Asked once, it failed whenever the VM was slow.
rabbit_up=0
deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ]; do
    if rabbitmqctl -n "$NODE" -q await_startup --timeout 120 >/dev/null 2>&1; then
        rabbit_up=1
        break
    fi
    kill -0 "$RMQ_PID" 2>/dev/null || break
    sleep 0.5
done
if [ "$rabbit_up" = 0 ]; then
    echo "RabbitMQ did not start. Its logs:" >&2; rabbit_logs; exit 1
fi
echo "== RabbitMQ $(rabbitmqctl -n "$NODE" -q version 2>/dev/null) on port $RPORT; warren on port $WPORT"

RABBIT="amqp://guest:guest@127.0.0.1:$RPORT/%2F"
WARREN="amqp://guest:guest@127.0.0.1:$WPORT/%2F"
mapfile -t files < <(ls tutorials/*/scenario.json tests/scenarios/*.json)

status=0
echo "== warren-remote integration tests against RabbitMQ"
WARREN_TEST_BROKER="$RABBIT" "$CARGO" test --quiet -p warren-remote || status=1
echo "== simulator vs RabbitMQ 3.10"
"$BIN" scenario diff --broker "$RABBIT" \
    --restart-cmd "rabbitmqctl -n $NODE -q stop_app && rabbitmqctl -n $NODE -q start_app" \
    "${files[@]}" || status=1
echo "== simulator vs warren serve"
"$BIN" scenario diff --broker "$WARREN" --restart-cmd "bash $WORK/warren-restart.sh" \
    "${files[@]}" || status=1
echo "== tutorials' pika clients against RabbitMQ 3.10"
PY=python3
if [ -x "$ROOT/.venv/bin/python3" ]; then PY="$ROOT/.venv/bin/python3"; fi
for client in tutorials/*/client.py; do
    if RESTART_CMD="rabbitmqctl -n $NODE -q stop_app && rabbitmqctl -n $NODE -q start_app" \
        "$PY" "$client" "$RABBIT" > "$WORK/lesson.log" 2>&1; then
        echo "PASS $(basename "$(dirname "$client")")"
    else
        echo "FAIL $(basename "$(dirname "$client")")"; cat "$WORK/lesson.log"; status=1
    fi
done
echo "== management statistics: RabbitMQ 3.10 vs warren serve (tests/pika/management_stats.py)"
if "$PY" tests/pika/management_stats.py "$RPORT" "$RHTTP" 1 > "$WORK/ms-rabbit.txt" 2>&1 \
    && "$PY" tests/pika/management_stats.py "$WPORT" "$WHTTP" 1 > "$WORK/ms-warren.txt" 2>&1 \
    && diff -u "$WORK/ms-rabbit.txt" "$WORK/ms-warren.txt"; then
    echo "same: $(wc -l < "$WORK/ms-warren.txt") observations"
else
    echo "FAIL: the management statistics differ (or a run failed)"
    tail -n 20 "$WORK/ms-rabbit.txt" "$WORK/ms-warren.txt"; status=1
fi
if [ "$status" -ne 0 ]; then
    echo "== warren log"; tail -50 "$WORK/warren.log"
fi
exit "$status"
