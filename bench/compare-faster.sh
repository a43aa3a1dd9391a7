#!/usr/bin/env bash
# Issue 14's benchmark: FASTER on FileAioDevice against FASTER's own ManagedLocalStorageDevice (what
# Devices.CreateLogDevice gives on Linux), three cases, alternating devices in one run. See docs/faster.md.
#
#   cold  FasterKV YCSB-style (90 % read / 10 % upsert, uniform keys, 1 KiB records), store 10x FASTER's memory, the
#         store files' page cache dropped every DROP_MS ms during the run (posix_fadvise DONTNEED), FileAioDevice O_DIRECT
#   warm  the same with the store files read into the page cache first, FileAioDevice buffered (Direct = false)
#   log   FasterLog 4 KiB appends, a commit every COMMIT_MS ms, FileAioDevice O_DIRECT
#
#   bench/compare-faster.sh                                   # 3 rounds, 15 s per run after 3 s of warm-up
#   RUNTIME=2 WARMUP=1 ROUNDS=1 KEYS=40000 MEMORY_BITS=22 PAGE_BITS=20 bench/compare-faster.sh   # a smoke test
#   CASES="cold" ENGINE=threadpool BENCH_DIR=/mnt/x bench/compare-faster.sh
#
# Each run is its own process: it builds its store (or log) in a fresh directory under BENCH_DIR with the device under
# test, warms up, measures, deletes the files. Devices alternate within a round and swap order from round to round, so
# drift on a shared VM hits both alike; medians over rounds are reported, with every round's numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/var/tmp/fileaio-faster-bench}
RUNTIME=${RUNTIME:-15}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
ENGINE=${ENGINE:-io_uring}
CASES=${CASES:-cold warm log}
KEYS=${KEYS:-1310720}          # 1.25 GiB of 1 KiB records
MEMORY_BITS=${MEMORY_BITS:-27} # FASTER's log memory: 128 MiB, a tenth of the store
PAGE_BITS=${PAGE_BITS:-22}     # 4 MiB pages
THREADS=${THREADS:-2}          # one YCSB client thread per core
DEPTH=${DEPTH:-32}             # operations each client keeps in flight
DROP_MS=${DROP_MS:-5}
COMMIT_MS=${COMMIT_MS:-10}
INLINE_READS=${INLINE_READS:-1} # FileAioDeviceOptions.InlineReadCallbacks (0: every callback hops to the thread pool)
OUT=$BENCH_DIR/results-$(date +%Y%m%d-%H%M%S)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

command -v python3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y python3; }

echo "building bench/FileAio.Faster.Bench (Release)"
dotnet build bench/FileAio.Faster.Bench -c Release -nologo -v quiet >/dev/null || {
  dotnet build bench/FileAio.Faster.Bench -c Release -nologo -v quiet; exit 1; }  # on failure, run again to show why
BENCH=(dotnet bench/FileAio.Faster.Bench/bin/Release/net10.0/FileAio.Faster.Bench.dll)

if ! "${BENCH[@]}" check --engine "$ENGINE"; then
  echo ">>> FileAio's $ENGINE engine is not supported here (reason above): falling back to ENGINE=threadpool."
  ENGINE=threadpool
  "${BENCH[@]}" check --engine "$ENGINE"
fi

mkdir -p "$BENCH_DIR" "$OUT"
run() {  # $1 = case, $2 = device, $3 = output file
  local args=(--device "$2" --dir "$BENCH_DIR" --runtime "$RUNTIME" --warmup "$WARMUP" --engine "$ENGINE"
              --page-bits "$PAGE_BITS" --inline-reads "$INLINE_READS" --json)
  case $1 in
    cold) args=(kv "${args[@]}" --cache cold --direct 1 --keys "$KEYS" --memory-bits "$MEMORY_BITS"
                --threads "$THREADS" --depth "$DEPTH" --drop-ms "$DROP_MS") ;;
    warm) args=(kv "${args[@]}" --cache warm --direct 0 --keys "$KEYS" --memory-bits "$MEMORY_BITS"
                --threads "$THREADS" --depth "$DEPTH") ;;
    log)  args=(log "${args[@]}" --direct 1 --commit-ms "$COMMIT_MS") ;;
  esac
  sync  # the previous run's writeback must not run into this one
  "${BENCH[@]}" "${args[@]}" >"$3"
}

echo
echo "FASTER 2.6.5, .NET $(dotnet --version), $(nproc) CPUs, $(free -g | awk '/^Mem:/ { print $2 }') GiB, kernel $(uname -r), ENGINE=$ENGINE"
echo "RUNTIME=${RUNTIME}s WARMUP=${WARMUP}s ROUNDS=$ROUNDS KEYS=$KEYS MEMORY_BITS=$MEMORY_BITS THREADS=$THREADS DEPTH=$DEPTH INLINE_READS=$INLINE_READS"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "raw JSON of every run: $OUT"
for c in $CASES; do
  for round in $(seq 1 "$ROUNDS"); do
    order="managed fileaio"; [ $((round % 2)) = 0 ] && order="fileaio managed"
    for device in $order; do
      echo "  $c round $round/$ROUNDS: $device (load $(cut -d' ' -f1 /proc/loadavg))"
      run "$c" "$device" "$OUT/$c-$device-$round.json"
    done
  done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$OUT" "$ROUNDS" $CASES <<'PY' | tee "$OUT/summary.txt"
import json, statistics, sys
out, rounds, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
target = {"cold": 2.0, "warm": 1.0, "log": 1.0}
print()
def us(v):  # latencies run from 0.1 us (an append into memory) to tens of ms (a read behind a queue)
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"
print(f"{'case':<5} {'device':<8} {'ops/s':>10} {'p99 us':>9} {'CPU us/op':>10} {'errors':>6}   per round: ops/s | p99 us | CPU us/op | load1")
for c in cases:
    med = {}
    for d in ("managed", "fileaio"):
        runs = [json.load(open(f"{out}/{c}-{d}-{r}.json")) for r in range(1, rounds + 1)]
        m = {k: statistics.median(x[k] for x in runs) for k in ("ops_per_s", "p99_us", "cpu_us_per_op")}
        med[d] = m
        per = "  ".join(f"{x['ops_per_s']:.0f} | {us(x['p99_us'])} | {x['cpu_us_per_op']:.1f} | {x['load1_start']:.1f}" for x in runs)
        print(f"{c:<5} {d:<8} {m['ops_per_s']:>10.0f} {us(m['p99_us']):>9} {m['cpu_us_per_op']:>10.2f} "
              f"{sum(x['errors'] for x in runs):>6}   {per}")
        extra = []
        if c == "cold":
            extra.append("store resident before each drop: mean " + ", ".join(f"{x['resident_mean']:.2%}" for x in runs)
                         + "; disk reads/op " + ", ".join(f"{x['disk_reads'] / max(x['ops'], 1):.2f}" for x in runs))
        if c in ("cold", "warm") and d == "fileaio":
            extra.append("device in flight (mean): " + ", ".join(f"{x['device_inflight_mean']:.1f}" for x in runs)
                         + f" of {runs[0]['threads'] * runs[0]['depth']} operations the clients keep pending")
        if c == "warm":
            extra.append("store resident at start/end: " + ", ".join(f"{x['resident_start']:.1%}/{x['resident_end']:.1%}" for x in runs))
        if c == "log":
            extra.append("commit p99 us: " + ", ".join(us(x["commit_p99_us"]) for x in runs)
                         + "; committed MB/s: " + ", ".join(f"{x['committed_mb_per_s']:.0f}" for x in runs))
        extra.append("fds: " + runs[0]["store_fds"] + "; engine " + runs[0]["engine"])
        for e in extra:
            print(f"{'':<15}{e}")
    r = med["fileaio"]["ops_per_s"] / med["managed"]["ops_per_s"]
    cpu = med["fileaio"]["cpu_us_per_op"] / med["managed"]["cpu_us_per_op"]
    print(f"{c:<5} FileAioDevice/managed: ops/s {r:.2f}x (target {target[c]:.0f}x: {'met' if r >= target[c] else 'NOT met'}), "
          f"CPU per op {cpu:.2f}x")
PY
