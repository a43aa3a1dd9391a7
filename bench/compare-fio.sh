#!/usr/bin/env bash
# FileAio's raw AioContext, its async AioFile and its loop mode (AioLoop) against fio (io_uring) and .NET's
# RandomAccess.ReadAsync: 4 KiB
# random reads, 32 in flight, on one 1 GiB file, page-cached and O_DIRECT. See docs/benchmarks.md.
#
#   bench/compare-fio.sh                        # RUNTIME=10 s per run, ENGINE=io_uring (falls back to threadpool)
#   RUNTIME=5 ENGINE=threadpool BENCH_DIR=/var/tmp/x bench/compare-fio.sh
#   NATIVE=0 bench/compare-fio.sh               # without the O_DIRECT pairs fio libaio/Linux AIO, fio posixaio/POSIX AIO
#
# The tools run alternately (fio, AioContext, AioFile, loop, RandomAccess; three rounds) so that drift on a shared VM — a noisy
# neighbour, the host's cache behind the virtual disk warming up — hits each of them alike; medians are reported.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/var/tmp/fileaio-bench}
RUNTIME=${RUNTIME:-10}
ENGINE=${ENGINE:-io_uring}
ROUNDS=3
FILE=$BENCH_DIR/randread-1g.dat
OUT=$BENCH_DIR/results-$(date +%Y%m%d-%H%M%S)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# --- tools -----------------------------------------------------------------------------------------------------
if ! command -v fio >/dev/null 2>&1; then
  echo "fio is missing: installing it"
  apt-get update -qq && apt-get install -y fio
fi
if command -v python3 >/dev/null 2>&1; then
  JSON=python3
else
  command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y jq; }
  JSON=jq
fi

echo "building bench/FileAio.Bench (Release)"
dotnet build bench/FileAio.Bench -c Release -nologo -v quiet >/dev/null || {
  dotnet build bench/FileAio.Bench -c Release -nologo -v quiet; exit 1; }  # on failure, run again to show why
BENCH=(dotnet bench/FileAio.Bench/bin/Release/net10.0/FileAio.Bench.dll)

if ! "${BENCH[@]}" check --engine "$ENGINE"; then
  echo ">>> FileAio's $ENGINE engine is not supported here (reason above): falling back to ENGINE=threadpool."
  echo ">>> The FileAio line below is then the portable thread-pool engine, NOT io_uring."
  ENGINE=threadpool
  "${BENCH[@]}" check --engine "$ENGINE"
fi

# --- the file: made once, non-zero, fsync'd; then sync so no writeback runs during the measurements ------------------
mkdir -p "$BENCH_DIR" "$OUT"
"${BENCH[@]}" fill --file "$FILE" --size 1g
sync

# --- metrics: "IOPS CPU-µs-per-op" from each tool's JSON -------------------------------------------------------------
# fio: usr_cpu + sys_cpu are percentages of one CPU over the job's runtime (ms), so µs/op = pct/100 × runtime / ops.
fio_metrics() {
  if [ "$JSON" = python3 ]; then
    python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))["jobs"][0]; r = j["read"]
print(r["iops"], (j["usr_cpu"] + j["sys_cpu"]) / 100 * j["job_runtime"] * 1000 / r["total_ios"])' "$1"
  else
    jq -r '.jobs[0] | "\(.read.iops) \((.usr_cpu + .sys_cpu) / 100 * .job_runtime * 1000 / .read.total_ios)"' "$1"
  fi
}
bench_metrics() {
  if [ "$JSON" = python3 ]; then
    python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); print(j["iops"], j["cpu_us_per_op"], j["alloc_bytes_per_op"])' "$1"
  else
    jq -r '"\(.iops) \(.cpu_us_per_op) \(.alloc_bytes_per_op)"' "$1"
  fi
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --invalidate=0 is the one addition to the plain command: by default fio drops the file's pages from the cache before
# each job, which turns the "cached" runs into disk runs (and leaves a cold cache to the next tool).
run_fio() {  # $1 = direct (0|1), $2 = output file
  fio --name=randread --filename="$FILE" --ioengine=io_uring --rw=randread --bs=4k --iodepth=32 \
      --iodepth_batch_submit=32 --iodepth_batch_complete_min=1 --iodepth_batch_complete_max=32 \
      --fixedbufs --registerfiles --direct="$1" --size=1g --runtime="$RUNTIME" --time_based --numjobs=1 \
      --group_reporting --output-format=json --invalidate=0 >"$2"
}
run_bench() {  # $1 = mode (randread|file|loop|randomaccess), $2 = direct, $3 = output file
  "${BENCH[@]}" "$1" --file "$FILE" --size 1g --bs 4096 --iodepth 32 --runtime "$RUNTIME" --warmup 2 \
      --direct "$2" --engine "$ENGINE" --json >"$3"
}

# The native-AIO pairs (O_DIRECT only): fio's libaio against FileAio's Linux AIO engine, fio's posixaio against its
# POSIX AIO engine — each pair only where FileAio's engine runs here.
run_fio_native() {  # $1 = fio engine (libaio|posixaio), $2 = output file
  local batch=()
  [ "$1" = libaio ] && batch=(--iodepth_batch_submit=32 --iodepth_batch_complete_min=1)
  fio --name=randread --filename="$FILE" --ioengine="$1" --rw=randread --bs=4k --iodepth=32 "${batch[@]}" \
      --direct=1 --size=1g --runtime="$RUNTIME" --time_based --numjobs=1 --group_reporting --output-format=json \
      --invalidate=0 >"$2"
}
# fio reaps one completion per call here (iodepth_batch_complete_max defaults to the min, 1), and so does FileAio
# (--complete-max 1): each completion is replaced at once, and the device sees a steady 32.
run_bench_engine() {  # $1 = FileAio engine, $2 = output file
  "${BENCH[@]}" randread --file "$FILE" --size 1g --bs 4096 --iodepth 32 --complete-max 1 --runtime "$RUNTIME" \
      --warmup 2 --direct 1 --engine "$1" --json >"$2"
}
NATIVE_PAIRS=()
if [ "${NATIVE:-1}" = 1 ]; then
  for pair in libaio:linux-aio posixaio:posix-aio; do
    if "${BENCH[@]}" check --engine "${pair#*:}" >/dev/null 2>&1; then NATIVE_PAIRS+=("$pair")
    else echo "engine ${pair#*:} does not run here: its pair with fio's ${pair%%:*} is left out"; fi
  done
fi

echo
echo "fio $(fio --version | sed 's/^fio-//'), .NET $(dotnet --version), $(nproc) CPUs, kernel $(uname -r), RUNTIME=${RUNTIME}s, ENGINE=$ENGINE"
echo "raw JSON of every run: $OUT"
SUMMARY=$OUT/summary.txt
for mode in cached direct; do
  direct=0; [ "$mode" = direct ] && direct=1
  for round in $(seq 1 "$ROUNDS"); do
    # Page-cached runs should read memory, not the disk: make sure the whole file is in the cache (fast when it is).
    [ "$mode" = cached ] && cat "$FILE" >/dev/null
    echo "  $mode round $round/$ROUNDS: fio, FileAio AioContext ($ENGINE), FileAio AioFile, FileAio loop, RandomAccess"
    run_fio "$direct" "$OUT/fio-$mode-$round.json"
    run_bench randread "$direct" "$OUT/fileaio-$mode-$round.json"
    run_bench file "$direct" "$OUT/aiofile-$mode-$round.json"
    run_bench loop "$direct" "$OUT/loop-$mode-$round.json"
    run_bench randomaccess "$direct" "$OUT/randomaccess-$mode-$round.json"
  done
done
for round in $(seq 1 "$ROUNDS"); do
  for pair in "${NATIVE_PAIRS[@]}"; do
    echo "  native round $round/$ROUNDS: fio ${pair%%:*}, FileAio AioContext (${pair#*:})"
    run_fio_native "${pair%%:*}" "$OUT/fio-${pair%%:*}-$round.json"
    run_bench_engine "${pair#*:}" "$OUT/fileaio-${pair#*:}-$round.json"
  done
done

{
  echo
  printf '%-7s %-32s %12s %11s %10s   %s\n' mode tool "median IOPS" "CPU us/op" "B alloc/op" "IOPS of each run"
  for mode in cached direct; do
    declare -A iops=() cpu=()
    for tool in fio fileaio aiofile loop randomaccess; do
      runs="" cpus="" allocs=""
      for round in $(seq 1 "$ROUNDS"); do
        a=-
        if [ "$tool" = fio ]; then read -r i c < <(fio_metrics "$OUT/$tool-$mode-$round.json")
        else read -r i c a < <(bench_metrics "$OUT/$tool-$mode-$round.json"); fi
        runs+="$i"$'\n'; cpus+="$c"$'\n'; allocs+="$a"$'\n'
      done
      iops[$tool]=$(printf '%s' "$runs" | median)
      cpu[$tool]=$(printf '%s' "$cpus" | median)
      alloc=-; [ "$tool" = fio ] || alloc=$(printf '%s' "$allocs" | median)  # fio: not applicable
      case $tool in
        fio) label="fio io_uring" ;;
        fileaio) label="FileAio AioContext ($ENGINE)" ;;
        aiofile) label="FileAio AioFile.ReadAsync x32" ;;
        loop) label="FileAio loop (AioLoop) x32" ;;
        randomaccess) label="RandomAccess.ReadAsync x32" ;;
      esac
      printf '%-7s %-32s %12.0f %11.2f %10s   %s\n' "$mode" "$label" "${iops[$tool]}" "${cpu[$tool]}" "$alloc" \
        "$(printf '%s' "$runs" | awk '{ printf "%.0f ", $1 }')"
    done
    awk -v m="$mode" -v f="${iops[fio]}" -v a="${iops[fileaio]}" -v l="${iops[aiofile]}" -v r="${iops[randomaccess]}" \
      -v lc="${cpu[aiofile]}" -v rc="${cpu[randomaccess]}" -v p="${iops[loop]}" -v pc="${cpu[loop]}" -v fc="${cpu[fio]}" \
      'BEGIN { printf "%-7s ratio AioContext/fio = %.2f, AioFile/fio = %.2f, loop/fio = %.2f, RandomAccess/fio = %.2f\n", m, a / f, l / f, p / f, r / f
               printf "%-7s ratio AioFile/RandomAccess: IOPS %.2f, CPU per op %.2f\n", m, l / r, lc / rc
               printf "%-7s ratio loop/fio: IOPS %.2f, CPU per read %.2f\n", m, p / f, pc / fc }'
  done
  for pair in "${NATIVE_PAIRS[@]}"; do
    fio_engine=${pair%%:*} ours=${pair#*:}
    fruns="" oruns="" fcpus="" ocpus="" oallocs=""
    for round in $(seq 1 "$ROUNDS"); do
      read -r i c < <(fio_metrics "$OUT/fio-$fio_engine-$round.json"); fruns+="$i"$'\n'; fcpus+="$c"$'\n'
      read -r i c a < <(bench_metrics "$OUT/fileaio-$ours-$round.json"); oruns+="$i"$'\n'; ocpus+="$c"$'\n'; oallocs+="$a"$'\n'
    done
    fi=$(printf '%s' "$fruns" | median) oi=$(printf '%s' "$oruns" | median)
    printf '%-7s %-32s %12.0f %11.2f %10s   %s\n' direct "fio $fio_engine" "$fi" "$(printf '%s' "$fcpus" | median)" - \
      "$(printf '%s' "$fruns" | awk '{ printf "%.0f ", $1 }')"
    printf '%-7s %-32s %12.0f %11.2f %10s   %s\n' direct "FileAio AioContext ($ours)" "$oi" "$(printf '%s' "$ocpus" | median)" \
      "$(printf '%s' "$oallocs" | median)" "$(printf '%s' "$oruns" | awk '{ printf "%.0f ", $1 }')"
    awk -v f="$fi" -v o="$oi" -v n="$ours" -v e="$fio_engine" 'BEGIN { printf "direct  ratio AioContext (%s)/fio %s = %.2f\n", n, e, o / f }'
  done
} | tee "$SUMMARY"
