#!/usr/bin/env bash
# Acceptance: the release `warren` binary against real clients (pika).
#
# Builds the release binary, starts `warren serve` on free AMQP and HTTP ports
# with a temp data dir, runs tests/pika/test_tutorials.py and the shared seeds check
# (../shared/acceptance/seeds_check.py) with a restart command that stops
# warren (SIGTERM, or kill -9) and starts it again on the same port and data
# dir. Every check must pass. Run by `cargo xtask test`, which puts the .venv
# (with pika) first on PATH and sets WARREN_ROOT.
set -euo pipefail

ROOT="${WARREN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$ROOT"
CARGO="${CARGO:-cargo}"
if [ -x "$ROOT/.venv/bin/python3" ] && ! python3 -c 'import pika' 2>/dev/null; then
    PATH="$ROOT/.venv/bin:$PATH"
fi
SEEDS="${SEEDS_CHECK:-$ROOT/../shared/acceptance/seeds_check.py}"

"$CARGO" build --release -p warren-server --bin warren
BIN="$ROOT/target/release/warren"

WORK="$(mktemp -d)"
# Distinct ports outside the ephemeral range (see tests/free-ports.py).
mapfile -t ports < <(python3 "$ROOT/tests/free-ports.py" 2)
PORT="${ports[0]}" HTTP_PORT="${ports[1]}"
URL="amqp://guest:guest@127.0.0.1:$PORT/%2F"

# The restart script the checks call: stop (term or kill), start again, wait
# until the port answers.
cat > "$WORK/restart.sh" <<EOF
#!/usr/bin/env bash
set -u
if [ -f "$WORK/pid" ]; then
    pid=\$(cat "$WORK/pid")
    kill -\${1:-TERM} "\$pid" 2>/dev/null || true
    for _ in \$(seq 200); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.05; done
fi
nohup "$BIN" serve --bind 127.0.0.1 --amqp-port $PORT --http-port $HTTP_PORT --data-dir "$WORK/data" >> "$WORK/warren.log" 2>&1 < /dev/null &
echo \$! > "$WORK/pid"
for _ in \$(seq 200); do
    if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then exit 0; fi
    sleep 0.05
done
echo "warren did not come back on port $PORT" >&2
exit 1
EOF
chmod +x "$WORK/restart.sh"

cleanup() {
    if [ -f "$WORK/pid" ]; then kill -TERM "$(cat "$WORK/pid")" 2>/dev/null || true; fi
    sleep 0.2
    rm -rf "$WORK"
}
trap cleanup EXIT

"$WORK/restart.sh"

status=0
echo "== pika tutorials"
python3 "$ROOT/tests/pika/test_tutorials.py" --url "$URL" \
    --kill-restart-cmd "bash $WORK/restart.sh KILL" || status=1

echo "== seeds check"
if [ -f "$SEEDS" ]; then
    python3 "$SEEDS" --url "$URL" --restart-cmd "bash $WORK/restart.sh TERM" \
        --http "http://127.0.0.1:$HTTP_PORT" || status=1
else
    echo "seeds check not found at $SEEDS" >&2
    status=1
fi

echo "== tutorials' pika clients"
for client in "$ROOT"/tutorials/*/client.py; do
    if RESTART_CMD="bash $WORK/restart.sh TERM" python3 "$client" "$URL" > "$WORK/lesson.log" 2>&1; then
        echo "PASS $(basename "$(dirname "$client")")"
    else
        echo "FAIL $(basename "$(dirname "$client")")"
        cat "$WORK/lesson.log"
        status=1
    fi
done

echo "== tutorials' lesson files"
python3 "$ROOT/tutorials/check_lessons.py" || status=1

if [ "$status" -ne 0 ]; then
    echo "== warren log"
    cat "$WORK/warren.log"
fi
exit "$status"
