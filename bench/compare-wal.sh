#!/usr/bin/env bash
# The write-ahead-log pattern: commits (a 4 KiB write, then fdatasync) per second and commit latency, for FileAio's
# AioFile with the appenders on the thread pool (`fileaio bench --rw wal --api file`) and on one engine thread (`--api
# loop`, the thread-per-core mode), .NET's FileStream.Write + Flush(true) with the same number of appenders (`--api
# filestream`), and fio's `--rw=write --bs=4k --fdatasync=1` (one job, as fio users measure a log). The two AioFile
# apis also run with `--wal-flush with-write` (each appender begins its flush right after its write, then awaits both).
# See docs/benchmarks.md, "The write-ahead log".
#
#   bench/compare-wal.sh                               # 16 appenders, RUNTIME=10 s per run, page-cached writes
#   APPENDERS="1 4 16" RUNTIME=5 bench/compare-wal.sh
#   DIRECT=1 bench/compare-wal.sh                      # O_DIRECT writes (+ fdatasync) for every tool
#   FIO_JOBS=16 bench/compare-wal.sh                   # also fio with 16 jobs on the same file (the kernel's own grouping)
#   CLI_BEFORE=/old/FileAio.Cli.dll bench/compare-wal.sh   # also AioFile from another build (before/after a change)
#
# Each round runs the tools one after the other (fio, AioFile, AioFile on a loop, the two with-write, FileStream), so drift on a shared VM hits them alike;
# three rounds, medians. The load average is printed before each round. On a machine shared with other benchmarks,
# LOCK=/path/to/lockfile holds that flock(1) lock for each round.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/var/tmp/fileaio-bench}
RUNTIME=${RUNTIME:-10}
APPENDERS=${APPENDERS:-16}
DIRECT=${DIRECT:-0}
FIO_JOBS=${FIO_JOBS:-}
CLI_BEFORE=${CLI_BEFORE:-}
ROUNDS=${ROUNDS:-3}
LOCK=${LOCK:-}
SIZE=64m
FILE=$BENCH_DIR/wal-64m.dat
OUT=$BENCH_DIR/wal-$(date +%Y%m%d-%H%M%S)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

command -v fio >/dev/null 2>&1 || { echo "fio is missing: installing it"; apt-get update -qq && apt-get install -y fio; }
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed to read the JSON"; exit 1; }

echo "building src/FileAio.Cli (Release)"
dotnet build src/FileAio.Cli -c Release -nologo -v quiet >/dev/null || { dotnet build src/FileAio.Cli -c Release -nologo -v quiet; exit 1; }
CLI=(dotnet src/FileAio.Cli/bin/Release/net10.0/FileAio.Cli.dll)

# The log: laid out once (non-zero data, real extents), then sync'd so no writeback runs during the measurements. Every
# tool overwrites it from the start and wraps at its end.
mkdir -p "$BENCH_DIR" "$OUT"
[ -f "$FILE" ] || fio --name=layout --filename="$FILE" --rw=write --bs=1m --size=$SIZE --end_fsync=1 --output=/dev/null
sync

run_fio() {  # $1 = jobs, $2 = output file
  fio --name=wal --filename="$FILE" --rw=write --bs=4k --fdatasync=1 --size=$SIZE --runtime="$RUNTIME" --time_based \
      --numjobs="$1" --group_reporting --direct="$DIRECT" --output-format=json >"$2"
}
run_bench() {  # $1 = api, $2 = appenders, $3 = output file; $4 = another build's FileAio.Cli.dll (optional); $5 = --wal-flush
  local cli=("${CLI[@]}"); [ -n "${4:-}" ] && cli=(dotnet "$4")
  local flush=(); [ -n "${5:-}" ] && flush=(--wal-flush "$5")
  "${cli[@]}" bench --file "$FILE" --size $SIZE --rw wal --bs 4k --iodepth "$2" --api "$1" --direct "$DIRECT" \
      --runtime "$RUNTIME" --warmup 2 "${flush[@]}" --json >"$3"
}
round() {  # $1 = round; every tool once, for every appender count
  for n in $APPENDERS; do
    run_fio 1 "$OUT/fio-$n-$1.json"
    [ -n "$FIO_JOBS" ] && run_fio "$FIO_JOBS" "$OUT/fiojobs-$n-$1.json"
    run_bench file "$n" "$OUT/file-$n-$1.json"
    run_bench loop "$n" "$OUT/loop-$n-$1.json"
    run_bench file "$n" "$OUT/filew-$n-$1.json" "" with-write
    run_bench loop "$n" "$OUT/loopw-$n-$1.json" "" with-write
    [ -n "$CLI_BEFORE" ] && run_bench file "$n" "$OUT/before-$n-$1.json" "$CLI_BEFORE"
    run_bench filestream "$n" "$OUT/filestream-$n-$1.json"
  done
  sync
}
echo "fio $(fio --version | sed 's/^fio-//'), .NET $(dotnet --version), $(nproc) CPUs, kernel $(uname -r)," \
     "RUNTIME=${RUNTIME}s, APPENDERS=$APPENDERS, DIRECT=$DIRECT, file $FILE ($SIZE)"
echo "raw JSON of every run: $OUT"
for r in $(seq 1 "$ROUNDS"); do
  echo "  round $r/$ROUNDS: fio${FIO_JOBS:+, fio x$FIO_JOBS jobs}, AioFile, AioFile on a loop, both with-write${CLI_BEFORE:+, AioFile (before)}, FileStream; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ -n "$LOCK" ]; then exec 9>"$LOCK"; flock 9; fi   # held for one round (about 6 x RUNTIME per appender count)
  round "$r"
  if [ -n "$LOCK" ]; then flock -u 9; exec 9>&-; fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$OUT" "$ROUNDS" "$APPENDERS" "${FIO_JOBS:-0}" "$CLI_BEFORE" <<'PY' | tee "$OUT/summary.txt"
import json, statistics, sys
out, rounds, appenders, fio_jobs, before = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), int(sys.argv[4]), sys.argv[5]
def fio(path):
    j = json.load(open(path))["jobs"][0]
    w, s = j["write"], j["sync"]["lat_ns"]
    p = s.get("percentile", {})
    # fio reports the write and the fdatasync apart; a commit is both: p50 of each, summed, is an estimate.
    return w["iops"], (w["lat_ns"]["percentile"]["50.000000"] if "percentile" in w["lat_ns"] else w["clat_ns"]["percentile"]["50.000000"]) / 1e3 + p.get("50.000000", 0) / 1e3, p.get("99.000000", 0) / 1e3
def bench(path):
    c = json.load(open(path))["cases"][0]
    assert c["errors"] == 0, f"{path}: {c.get('first_error')}"
    return c["iops"], c["lat_us"]["p50"], c["lat_us"]["p99"]
tools = [("fio", "fio --fdatasync=1, 1 job", fio)]
if fio_jobs:
    tools.append(("fiojobs", f"fio --fdatasync=1, {fio_jobs} jobs", fio))
tools.append(("file", "AioFile write+FlushAsync(dataOnly)", bench))
tools.append(("loop", "the same on an AioLoop", bench))
tools.append(("filew", "AioFile, flush begun with the write", bench))
tools.append(("loopw", "AioLoop, flush begun with the write", bench))
if before:
    tools.append(("before", "AioFile, the CLI_BEFORE build", bench))
tools.append(("filestream", "FileStream Write+Flush(true)", bench))
print(f"{'appenders':>9} {'tool':<36} {'commits/s':>10} {'p50 us':>9} {'p99 us':>9}   commits/s of each round")
for n in appenders:
    med = {}
    for key, label, read in tools:
        runs = [read(f"{out}/{key}-{n}-{r}.json") for r in range(1, rounds + 1)]
        m = [statistics.median(x[i] for x in runs) for i in range(3)]
        med[key] = m[0]
        print(f"{n:>9} {label:<36} {m[0]:10.0f} {m[1]:9.0f} {m[2]:9.0f}   {' '.join(f'{x[0]:.0f}' for x in runs)}")
    print(f"{n:>9} ratio AioFile/FileStream = {med['file'] / med['filestream']:.2f}, AioFile/fio = {med['file'] / med['fio']:.2f}, "
          f"loop/FileStream = {med['loop'] / med['filestream']:.2f}, loop/fio = {med['loop'] / med['fio']:.2f}, "
          f"with-write: AioFile/FileStream = {med['filew'] / med['filestream']:.2f}, loop/FileStream = {med['loopw'] / med['filestream']:.2f}, "
          f"loop/fio = {med['loopw'] / med['fio']:.2f}"
          + (f", AioFile/fio x{fio_jobs} = {med['file'] / med['fiojobs']:.2f}" if fio_jobs else "")
          + (f", AioFile/before = {med['file'] / med['before']:.2f}" if before else ""))
print("fio latency: p50 = write p50 + fdatasync p50 (fio reports them apart), p99 = the fdatasync's p99.")
PY
