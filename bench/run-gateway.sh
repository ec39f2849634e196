#!/usr/bin/env bash
# bench/run-gateway.sh: the gateway benchmark, hearth-server under load from
# build/opt/hearth-bench-gateway (bench/gateway/).
#
#   bench/run-gateway.sh [--conns N] [--senders S] [--rate R] [--seconds T]
#                        [--only idle,broadcast,load,peak] [--reps N] [--keep]
#                        [-- TOOL-ARGS...]
#
# `./forge bench gateway [args]` calls this after building TYPE=opt. Each run gets a
# fresh data directory: the admin CLI creates an owner, a guild and N users as its
# members (their tokens in a file), then hearth-server starts on a free loopback port
# as its own process (the tool reads its RSS and CPU time from /proc/PID), the tool
# opens N identified gateway connections and, when asked, has S senders post R
# messages/s for T seconds; then the server gets SIGTERM. With none of --conns,
# --senders, --rate, --seconds it runs the issue's three scenarios, and a fourth for
# the peak delivery rate:
#
#   idle       15,000 identified idle connections: connections/s, server bytes per
#              connection (goal: 3 KB or less)
#   broadcast  on those 15,000: 5 messages one second apart, each to every session:
#              send-to-deliver p50/p99/max and time until all had it (goal: p99 < 100 ms)
#   load       1,000 connections x 20 messages/s for 10 s (4 senders): deliveries/s,
#              server CPU per delivery (goal: 5 us or less), p99 (goal: < 10 ms)
#   peak       1,000 connections, 16 senders posting as fast as the REST API answers
#              (up to 1,000 messages/s) for 5 s: the most deliveries/s (the issue's
#              Node.js baseline peaks near 35k)
#
# With any of them it runs one scenario, "custom", with those settings (defaults
# 1,000 connections, 4 senders, 20 messages/s, 10 s; --rate 0 only connects). The
# admin CLI and the server run from the repository's root, where priv/ is. TOOL-ARGS
# go to hearth-bench-gateway (its --help lists them). The tool's own lines go to
# stdout as it prints them:
#
#   bench=gateway scenario=idle conns=15000 ... conns_per_sec=... server_bytes_per_conn=...
#   bench=gateway scenario=broadcast conns=15000 ... p50_ms=... p99_ms=... max_ms=...
#   bench=gateway scenario=load conns=1000 ... deliveries_per_sec=...
#       server_cpu_us_per_delivery=... p50_ms=... p99_ms=... max_ms=...
#
# and at the end one line per figure: the median over --reps repetitions (default 3,
# 1 for a custom run; the scenarios take turns, so a noisy moment hits one run of
# each, not all runs of one), the spread, and the goal where the issue sets one:
#
#   bench=gateway scenario=idle conns=15000 server_bytes_per_conn=2900 goal=<=3072 met=yes
#       runs=3 spread=2850..3010
#
# --keep keeps the data directories (server logs, tokens); a failed run keeps its own.
# Progress goes to stderr; the exit status is non-zero if a run failed (goals missed
# do not fail it: these are benchmark figures). Environment: HEARTH_SERVER (the server
# binary, default build/opt/hearth-server), HEARTH_BENCH_GATEWAY (the tool),
# HEARTH_BENCH_RATE_LIMIT_MULTIPLIER (the server's --rate-limit-multiplier; default 0:
# no REST rate limits, so the senders are never throttled), TMPDIR (where data
# directories go). A tool run is stopped after T + 600 s.
set -euo pipefail

cd "$(dirname "$0")/.."

conns="" senders="" rate="" seconds=""
only="idle,broadcast,load,peak"
reps=""
keep=0
tool_args=()

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

# number NAME VALUE: VALUE must be a number (0 only for --rate: connect, no load).
number() {
    case "$2" in
    '' | *[!0-9.]* | *.*.*) ;;
    *) if [ "$1" = --rate ] || awk -v v="$2" 'BEGIN { exit !(v > 0) }'; then return 0; fi ;;
    esac
    echo "run-gateway.sh: $1 wants a positive number, got '$2'" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --conns) conns="${2:?}"; shift 2 ;;
    --conns=*) conns="${1#*=}"; shift ;;
    --senders) senders="${2:?}"; shift 2 ;;
    --senders=*) senders="${1#*=}"; shift ;;
    --rate) rate="${2:?}"; shift 2 ;;
    --rate=*) rate="${1#*=}"; shift ;;
    --seconds) seconds="${2:?}"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --only) only="${2:?}"; shift 2 ;;
    --only=*) only="${1#*=}"; shift ;;
    --reps) reps="${2:?}"; shift 2 ;;
    --reps=*) reps="${1#*=}"; shift ;;
    --keep) keep=1; shift ;;
    --) shift; tool_args=("$@"); break ;;
    -h | --help) usage ;;
    *) echo "run-gateway.sh: unknown argument: $1" >&2; usage ;;
    esac
done
for v in conns senders rate seconds; do
    [ -z "${!v}" ] || number "--$v" "${!v}"
done
if [ -z "$reps" ]; then
    if [ -n "$conns$senders$rate$seconds" ]; then reps=1; else reps=3; fi
fi
case "$reps" in '' | *[!0-9]* | 0) echo "run-gateway.sh: --reps wants a positive whole number" >&2; exit 2 ;; esac

server="${HEARTH_SERVER:-build/opt/hearth-server}"
# A run longer than this (seconds) is stopped: T plus the tool's own deadlines.
tool_timeout=$(awk -v t="${seconds:-10}" 'BEGIN { printf "%d", t + 600 }')
tool="${HEARTH_BENCH_GATEWAY:-build/opt/hearth-bench-gateway}"

if [ -z "${HEARTH_BENCH_GATEWAY:-}" ]; then
    make -s -f bench/gateway/Makefile TYPE=opt >&2
fi
[ -x "$server" ] || { echo "run-gateway.sh: $server is missing: build it (make TYPE=opt)" >&2; exit 1; }
[ -x "$tool" ] || { echo "run-gateway.sh: $tool is missing" >&2; exit 1; }

# The server and the tool each may hold up to the hard limit (20,000 here).
ulimit -n "$(ulimit -Hn)"

say() { printf 'run-gateway: %s\n' "$*" >&2; }

server_pid=""
datadirs=()
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [ $keep -eq 0 ]; then
        for d in "${datadirs[@]}"; do rm -rf "$d"; done
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops the server: SIGTERM, then SIGKILL after 15 s.
stop_server() {
    local i
    [ -n "$server_pid" ] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    for i in $(seq 150); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        say "the server did not stop in 15 s; killing it"
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

results=()
failed=0

# run NAME N [TOOL-ARGS...]: a fresh data directory with N members, a fresh server,
# one tool run. Its result lines go to stdout and into results.
run() {
    local name=$1 n=$2
    shift 2
    local dir owner guild port out i line rc=0 t0

    dir=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench-gateway.XXXXXX")
    datadirs+=("$dir")
    say "$name: $n users in a fresh guild ($dir)"
    t0=$EPOCHREALTIME
    owner=$("$server" admin --data-dir "$dir/data" user create --username benchowner \
        --email owner@bench.invalid --password "bench-$RANDOM-$RANDOM" | awk '/^id:/ {print $2}')
    guild=$("$server" admin --data-dir "$dir/data" guild create --owner "$owner" --name bench |
        awk '/^id:/ {print $2}')
    [ -n "$owner" ] && [ -n "$guild" ] || { say "$name: the admin CLI failed"; return 1; }
    "$server" admin --data-dir "$dir/data" bulk-users --guild "$guild" --count "$n" \
        --out "$dir/tokens.txt" >/dev/null || { say "$name: bulk-users failed"; return 1; }
    say "$name: users created in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s; starting $server"

    # Rate limits off: the senders post far faster than Discord's 5 messages per 5 s
    # per channel, and the figures are about delivery, not about the limiter.
    "$server" --bind 127.0.0.1 --port 0 --data-dir "$dir/data" --log-level warn \
        --rate-limit-multiplier "${HEARTH_BENCH_RATE_LIMIT_MULTIPLIER:-0}" \
        >"$dir/server.out" 2>"$dir/server.err" &
    server_pid=$!
    port=""
    for i in $(seq 200); do
        port=$(sed -n 's|^Hearth listening on http://[^ ]*:\([0-9][0-9]*\)$|\1|p' "$dir/server.out")
        [ -n "$port" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q 'gateway is not built in' "$dir/server.err"; then
        say "$name: $server says the gateway is not built in (REST only): nothing to measure"
        stop_server
        return 1
    fi
    if [ -z "$port" ]; then
        say "$name: the server did not start:"
        cat "$dir/server.err" >&2
        stop_server
        return 1
    fi
    say "$name: server pid $server_pid on port $port"

    out="$dir/tool.out"
    timeout --kill-after=10 "$tool_timeout" \
        "$tool" --port "$port" --tokens "$dir/tokens.txt" --server-pid "$server_pid" \
        --guild "$guild" "$@" "${tool_args[@]}" | tee "$out" || rc=${PIPESTATUS[0]}
    [ "$rc" -ne 124 ] || say "$name: the tool ran longer than $tool_timeout s and was stopped"
    while IFS= read -r line; do
        results+=("$line")
    done <"$out"
    if ! kill -0 "$server_pid" 2>/dev/null; then
        say "$name: the server died during the run; its stderr:"
        tail -20 "$dir/server.err" >&2
        rc=1
    fi
    stop_server
    if [ $rc -ne 0 ]; then
        say "$name: the tool failed (exit $rc); server log in $dir/server.err"
        keep=1
        return 1
    fi
    return 0
}

has() { [[ ",$only," == *",$1,"* ]]; }

for rep in $(seq "$reps"); do
    [ "$reps" -eq 1 ] || say "repetition $rep of $reps"
    if [ -n "$conns$senders$rate$seconds" ]; then
        run custom "${conns:-1000}" --senders "${senders:-4}" --rate "${rate:-20}" \
            --seconds "${seconds:-10}" --label-connect custom-connect --label-load custom ||
            failed=1
        continue
    fi
    if has idle || has broadcast; then
        if has broadcast; then
            run idle 15000 --label-connect idle --label-load broadcast --senders 1 --rate 1 \
                --seconds 5 || failed=1
        else
            run idle 15000 --label-connect idle || failed=1
        fi
    fi
    if has load; then
        run load 1000 --label-connect load-connect --label-load load --senders 4 --rate 20 \
            --seconds 10 || failed=1
    fi
    if has peak; then
        run peak 1000 --label-connect peak-connect --label-load peak --senders 16 --rate 1000 \
            --seconds 5 --drain 20 || failed=1
    fi
done

# One line per figure: the median over the repetitions, their spread, and the
# issue's goal where it sets one.
echo "run-gateway: summary (medians of $reps)" >&2
printf '%s\n' "${results[@]}" | awk '
function get(k,   i, n, kv) {
    n = split(line, kv, " ")
    for (i = 1; i <= n; i++) if (index(kv[i], k "=") == 1) return substr(kv[i], length(k) + 2)
    return ""
}
function fmt(v) { return v >= 100 || v == int(v) ? sprintf("%.0f", v) : sprintf("%.3f", v) }
# The median of the n values of (sc, k); sets lo and hi.
function median(sc, k, n,   i, j, t, a) {
    for (i = 1; i <= n; i++) a[i] = val[sc, k, i] + 0
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    lo = a[1]; hi = a[n]
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fig(sc, k, goal, op, limit,   n, m, out) {
    n = nv[sc, k]
    if (n == 0) return
    m = median(sc, k, n)
    out = sprintf("bench=gateway scenario=%s conns=%s %s=%s", sc, conns[sc], k, fmt(m))
    if (goal != "")
        out = out sprintf(" goal=%s met=%s", goal, (op == "<" ? m < limit : m <= limit) ? "yes" : "no")
    print out sprintf(" runs=%d spread=%s..%s", n, fmt(lo), fmt(hi))
}
{
    line = $0
    sc = get("scenario")
    if (sc == "") next
    if (!(sc in seen)) { seen[sc] = 1; order[++ns] = sc; conns[sc] = get("conns") }
    split("conns_per_sec server_bytes_per_conn deliveries_per_sec server_cpu_us_per_delivery p50_ms p99_ms max_ms all_delivered_max_ms", keys, " ")
    for (i in keys) {
        v = get(keys[i])
        if (v != "") val[sc, keys[i], ++nv[sc, keys[i]]] = v
    }
}
END {
    for (s = 1; s <= ns; s++) {
        sc = order[s]
        fig(sc, "conns_per_sec")
        fig(sc, "server_bytes_per_conn", sc == "idle" ? "<=3072" : "", "<=", 3072)
        fig(sc, "deliveries_per_sec")
        fig(sc, "server_cpu_us_per_delivery", sc == "load" ? "<=5" : "", "<=", 5)
        fig(sc, "p50_ms")
        fig(sc, "p99_ms", sc == "load" ? "<10" : sc == "broadcast" ? "<100" : "", "<", sc == "load" ? 10 : 100)
        fig(sc, "max_ms")
        if (sc == "broadcast") fig(sc, "all_delivered_max_ms")
    }
}'
exit $failed
