#!/usr/bin/env bash
# bench/run-runtime.sh: the runtime benchmark, Hearth and the Erlang VM side by side.
#
#   bench/run-runtime.sh [--reps N] [--only W[,W...]] [--schedulers "1 2"] [--forward]
#                        [--verbose]
#
# `./forge bench runtime [args]` calls this after building TYPE=opt. For each workload
# and each scheduler count it runs build/opt/hearth-bench-runtime (bench/runtime/*.c)
# and the Erlang VM (bench/erlang/bench.erl, compiled here into build/opt/erlang/),
# each as a fresh OS process per repetition, Hearth and Erlang alternating (and which
# goes first alternating too, so neither always runs on a machine the other just
# warmed or heated). Both print `result workload=W value=V unit=U`; this script takes
# the medians and prints one line per workload and scheduler count:
#
#   bench=ring schedulers=2 hearth=<median> erlang=<median> unit=hops/s ratio=<x>
#       hearth_spread=<min>..<max> erlang_spread=<min>..<max> runs=<n>
#
# (on one line). ratio above 1 means Hearth is better whichever way the unit points:
# erlang/hearth for times and bytes, hearth/erlang for rates. Progress goes to stderr,
# the results to stdout. Workloads: spawn (gives spawn, idle_process and teardown),
# ring, pingpong, skynet, fanout, fanout_shared.
#
# --forward makes Hearth handlers forward the message they hold instead of sending a
# fresh one (ring, pingpong, skynet); the default matches the Erlang VM, which copies
# every message. Environment: HEARTH_BENCH_BIN (the Hearth program), ERL (erl),
# BENCH_RUN_TIMEOUT (seconds before one run counts as hung; default 120).
set -euo pipefail

cd "$(dirname "$0")/.."

reps=5
only=""
scheds="1 2"
hearth_flags=()
verbose=0

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --reps) reps="${2:?}"; shift 2 ;;
    --reps=*) reps="${1#*=}"; shift ;;
    --only) only="${2:?}"; shift 2 ;;
    --only=*) only="${1#*=}"; shift ;;
    --schedulers) scheds="${2:?}"; shift 2 ;;
    --schedulers=*) scheds="${1#*=}"; shift ;;
    --forward) hearth_flags+=(--forward); shift ;;
    --verbose|-v) verbose=1; shift ;;
    -h|--help) usage ;;
    *) echo "run-runtime.sh: unknown argument: $1" >&2; usage ;;
    esac
done
case "$reps" in ''|*[!0-9]*|0) echo "run-runtime.sh: --reps wants a positive number" >&2; exit 2 ;; esac

# name | arguments (the same on both sides) | the results it gives
workloads=(
    "spawn|1000000|spawn idle_process teardown"
    "ring|1000 10000000|ring"
    "pingpong|2000000|pingpong"
    "skynet|1000000 10|skynet"
    "fanout|100000|fanout"
    "fanout_shared|100000 256|fanout_shared"
)

# A run that takes longer than this (seconds) is killed and counted as failed: the
# slowest runs here (the Erlang VM's 1M spawn and skynet with +S 1) take under 10 s,
# and a hung run must not stall the whole benchmark.
run_timeout="${BENCH_RUN_TIMEOUT:-120}"

bin="${HEARTH_BENCH_BIN:-build/opt/hearth-bench-runtime}"
erl="${ERL:-erl}"
erldir=build/opt/erlang

if [ ! -x "$bin" ]; then
    echo "run-runtime.sh: $bin is missing; building it (make TYPE=opt bench)" >&2
    make -s TYPE=opt bench >&2
fi
mkdir -p "$erldir"
erlc -o "$erldir" bench/erlang/bench.erl

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

selected() {
    [ -z "$only" ] && return 0
    case ",$only," in *",$1,"*) return 0 ;; esac
    return 1
}

for w in "${workloads[@]}"; do
    IFS='|' read -r name _ _ <<<"$w"
    known="${known:-} $name"
done
if [ -n "$only" ]; then
    for o in ${only//,/ }; do
        case " $known " in *" $o "*) ;; *) echo "run-runtime.sh: unknown workload: $o (known:$known)" >&2; exit 2 ;; esac
    done
fi

# run SIDE SCHEDULERS NAME ARGS...: one fresh OS process; appends each result value
# to $tmp/<result>.<side>.<schedulers>.
run() {
    local side="$1" s="$2" name="$3" out="$tmp/out" rc=0 t0 t1
    shift 3
    t0=$(date +%s.%N)
    if [ "$side" = hearth ]; then
        timeout -k 10 "$run_timeout" "$bin" --schedulers "$s" "${hearth_flags[@]}" "$name" "$@" \
            >"$out" 2>"$tmp/err" || rc=$?
    else
        timeout -k 10 "$run_timeout" "$erl" +S "$s" +P 2000000 -noshell -pa "$erldir" \
            -run bench main "$name" "$@" >"$out" 2>"$tmp/err" || rc=$?
    fi
    t1=$(date +%s.%N)
    if [ "$rc" -ne 0 ] || ! grep -q '^result ' "$out"; then
        echo "  $side schedulers=$s $name: FAILED (exit $rc)" >&2
        sed 's/^/    /' "$tmp/err" "$out" | tail -n 20 >&2
        return 0
    fi
    # result workload=W value=V unit=U
    sed -n 's/^result workload=\([a-z_]*\) value=\([-0-9.e+]*\) unit=.*/\1 \2/p' "$out" |
        while read -r result value; do
            echo "$value" >>"$tmp/$result.$side.$s"
        done
    if [ "$verbose" = 1 ]; then
        sed "s/^/  $side schedulers=$s: /" "$out" >&2
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "    (%.1f s wall)\n", b - a }' >&2
    fi
}

# stats FILE: "median min max count" of the numbers in FILE, or "- - - 0".
stats() {
    if [ ! -s "$1" ]; then
        echo "- - - 0"
        return
    fi
    sort -g "$1" | awk '{ v[NR] = $1 }
        END {
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            print m, v[1], v[NR], NR
        }'
}

# fmt UNIT VALUE: seconds with milliseconds, everything else whole.
fmt() {
    if [ "$2" = - ]; then
        echo -n "-"
    elif [ "$1" = s ]; then
        awk -v v="$2" 'BEGIN { printf "%.3f", v }'
    else
        awk -v v="$2" 'BEGIN { printf "%.0f", v }'
    fi
}

# report RESULT SCHEDULERS UNIT: the one line for a result.
report() {
    local result="$1" s="$2" unit="$3" hm hlo hhi hn em elo ehi en ratio extra=""
    read -r hm hlo hhi hn <<<"$(stats "$tmp/$result.hearth.$s")"
    read -r em elo ehi en <<<"$(stats "$tmp/$result.erlang.$s")"
    if [ "$hn" = 0 ] || [ "$en" = 0 ] || [ "$hm" = 0 ]; then
        ratio=-
    else
        case "$unit" in
        s|bytes) ratio=$(awk -v h="$hm" -v e="$em" 'BEGIN { printf "%.2f", e / h }') ;;
        *) ratio=$(awk -v h="$hm" -v e="$em" 'BEGIN { printf "%.2f", h / e }') ;;
        esac
    fi
    if [ "$result" = idle_process ]; then
        # The Erlang figure is the VM's own count (erlang:memory(processes)); its RSS
        # growth, which is what the Hearth figure is, goes alongside.
        local rm
        read -r rm _ <<<"$(stats "$tmp/idle_process_rss.erlang.$s")"
        extra=" erlang_rss=$(fmt bytes "$rm")"
    fi
    echo "bench=$result schedulers=$s hearth=$(fmt "$unit" "$hm") erlang=$(fmt "$unit" "$em")" \
        "unit=$unit ratio=$ratio hearth_spread=$(fmt "$unit" "$hlo")..$(fmt "$unit" "$hhi")" \
        "erlang_spread=$(fmt "$unit" "$elo")..$(fmt "$unit" "$ehi") runs=$hn/$en$extra"
}

unit_of() {
    case "$1" in
    spawn|teardown|skynet) echo s ;;
    idle_process) echo bytes ;;
    ring) echo hops/s ;;
    pingpong) echo rt/s ;;
    fanout|fanout_shared) echo deliveries/s ;;
    esac
}

otp="$("$erl" -noshell -eval 'io:format("~s (erts ~s)", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().')"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "# Hearth runtime vs the Erlang VM: medians of $reps fresh OS processes per side"
echo "# date=$(date -u +%Y-%m-%dT%H:%M:%SZ) nproc=$(nproc) cpu=\"$cpu\" kernel=$(uname -r)"
echo "# otp=\"$otp\" hearth=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "hearth_flags=\"${hearth_flags[*]}\" erl_flags=\"+S <schedulers> +P 2000000\""
echo "# ratio > 1: Hearth better (erlang/hearth for s and bytes, hearth/erlang for rates)"

start=$(date +%s)
for w in "${workloads[@]}"; do
    IFS='|' read -r name args results <<<"$w"
    selected "$name" || continue
    for s in $scheds; do
        for ((r = 1; r <= reps; r++)); do
            echo "$name $args: schedulers=$s run $r/$reps" >&2
            # shellcheck disable=SC2086 # args are words on purpose
            if ((r % 2)); then
                run hearth "$s" "$name" $args
                run erlang "$s" "$name" $args
            else
                run erlang "$s" "$name" $args
                run hearth "$s" "$name" $args
            fi
        done
        for result in $results; do
            report "$result" "$s" "$(unit_of "$result")"
        done
    done
done
echo "# took $(($(date +%s) - start)) s"
