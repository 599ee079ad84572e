#!/usr/bin/env bash
# Performance harness (issue 6): not part of `mvn verify`. See README "Performance".
#
#   bash benchmarks/run.sh [--runs N] [--only convert|three|lora|kernel]...
#
# Makes the inputs once into $BENCH_DATA (default /work/bench-data; kept between runs), then:
#   convert  cp+sync of the 2B-sized checkpoint vs converter+sync on it, alternating, N runs each;
#            the converter both through bin/sat2diffusers (class-data sharing, serial GC) and as a
#            plain `java -jar`; then one run under -Xmx512m (the bounded-memory check)
#   lora     the same for the 2B-sized checkpoint with SAT LoRA r=128 (the converter merges it)
#   three    cp+sync of three such checkpoints vs one converter run over the three (+sync)
#   kernel   the LoRA merge kernel alone vs numpy matmul on (3072x128)x(128x3072) fp32
# Every timing is a whole process, output durable (sync) on both sides; the converter's peak RSS
# comes from /usr/bin/time -v. Medians and ratios are from the same run. The launcher's class-data
# archive is made by an untimed first conversion (in $SCRATCH, so every harness run starts clean).
# Needs: java 17, mvn (the jar is built if missing), /usr/bin/python3 with torch and numpy,
# /usr/bin/time; for native BLAS: apt-get install libopenblas0-pthread.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${BENCH_DATA:-/work/bench-data}"
JAR="${JAR:-$ROOT/pipeline/target/sat2diffusers.jar}"
JAVA_OPTS="${JAVA_OPTS:-}"
PY=/usr/bin/python3
RUNS=5
ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --only) ONLY+=("$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#ONLY[@]} -gt 0 ] || ONLY=(convert lora three kernel)
wants() { [[ " ${ONLY[*]} " == *" $1 "* ]]; }

OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/s2d-bench.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

PLAIN="$DATA/cogvideox-2b-like.pt"
LORA="$DATA/cogvideox-2b-lora128.pt"

make_inputs() {
  mkdir -p "$DATA"
  [ -s "$PLAIN" ] || "$PY" "$ROOT/benchmarks/make_2b_checkpoint.py" "$PLAIN"
  if wants lora; then
    [ -s "$LORA" ] || "$PY" "$ROOT/benchmarks/make_2b_checkpoint.py" --lora-rank 128 "$LORA"
  fi
  if wants three; then
    # three checkpoints: hard links of the same bytes under three run folders (no extra disk)
    for i in 1 2 3; do
      mkdir -p "$DATA/three/run$i"
      [ -e "$DATA/three/run$i/mp_rank_00_model_states.pt" ] || ln "$PLAIN" "$DATA/three/run$i/mp_rank_00_model_states.pt"
    done
  fi
  [ -s "$JAR" ] || (cd "$ROOT" && mvn -B -q -DskipTests package)
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# time_cmd NAME CMD...: runs CMD then sync under /usr/bin/time -v; appends "seconds rss_kb" to $SCRATCH/NAME
time_cmd() {
  local name="$1"; shift
  sync
  /usr/bin/time -v -o "$SCRATCH/time.txt" bash -c '"$@" > /dev/null 2> "'"$SCRATCH"'/stderr.txt" && sync' _ "$@" \
    || { echo "$name failed:" >&2; tail -20 "$SCRATCH/stderr.txt" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$SCRATCH/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$SCRATCH/time.txt")
  echo "$wall $rss" >> "$SCRATCH/$name"
}

LAUNCHER="$ROOT/bin/sat2diffusers"
export SAT2DIFFUSERS_JAR="$JAR" SAT2DIFFUSERS_CACHE="$SCRATCH/cds" JAVA_OPTS

# report LABEL NAME: "label cp+sync median | NAME median | ratio | peak RSS" from $SCRATCH/cp and $SCRATCH/NAME
report() {
  local label="$1" name="$2" cp_med med rss_max
  cp_med=$(awk '{print $1}' "$SCRATCH/cp" | median)
  med=$(awk '{print $1}' "$SCRATCH/$name" | median)
  rss_max=$(awk '{print $2}' "$SCRATCH/$name" | sort -g | tail -1)
  printf '%-8s cp+sync: %s s (runs: %s) | %s+sync: %s s (runs: %s) | ratio %.2fx | peak RSS %d MB\n' \
    "$label" "$cp_med" "$(awk '{printf "%s ", $1}' "$SCRATCH/cp")" "$name" "$med" \
    "$(awk '{printf "%s ", $1}' "$SCRATCH/$name")" "$(echo "$med / $cp_med" | bc -l)" $((rss_max / 1024))
}

# compare LABEL CP_SOURCES CONVERT_ARGS [plain]: alternating cp+sync and converter+sync, RUNS times
# each; with "plain" also `java -jar` without the launcher's JVM options
compare() {
  local label="$1" sources="$2" args="$3" plain="${4:-}"
  rm -f "$SCRATCH/cp" "$SCRATCH/launcher" "$SCRATCH/java-jar"
  # shellcheck disable=SC2086
  [ -n "$(ls -A "$SCRATCH/cds" 2> /dev/null)" ] || "$LAUNCHER" convert $args --output "$SCRATCH/warm-up" > /dev/null 2>&1
  rm -rf "$SCRATCH/warm-up"
  for run in $(seq 1 "$RUNS"); do
    rm -rf "$SCRATCH/out"; mkdir -p "$SCRATCH/out"
    # shellcheck disable=SC2086
    time_cmd cp bash -c 'i=0; for f in "$@"; do i=$((i+1)); cp "$f" "'"$SCRATCH"'/out/copy$i"; done' _ $sources
    rm -rf "$SCRATCH/out"
    # shellcheck disable=SC2086
    time_cmd launcher "$LAUNCHER" convert $args --output "$SCRATCH/out"
    rm -rf "$SCRATCH/out"
    if [ -n "$plain" ]; then
      # shellcheck disable=SC2086
      time_cmd java-jar java $JAVA_OPTS -jar "$JAR" convert $args --output "$SCRATCH/out"
      rm -rf "$SCRATCH/out"
    fi
  done
  report "$label" launcher
  [ -z "$plain" ] || report "$label" java-jar
}

# bounded LABEL CONVERT_ARGS: one converter run under -Xmx512m: its time and peak RSS
bounded() {
  rm -f "$SCRATCH/xmx512m"
  # shellcheck disable=SC2086
  JAVA_OPTS="$JAVA_OPTS -Xmx512m" time_cmd xmx512m "$LAUNCHER" convert $2 --output "$SCRATCH/out"
  rm -rf "$SCRATCH/out"
  printf '%-8s converter under -Xmx512m: %s s, peak RSS %d MB\n' "$1" "$(awk '{print $1}' "$SCRATCH/xmx512m")" \
    $(($(awk '{print $2}' "$SCRATCH/xmx512m") / 1024))
}

kernel() {
  local cp_file="$SCRATCH/classpath"
  (cd "$ROOT" && mvn -B -q -o -pl transforms -am test-compile > /dev/null \
    && mvn -B -q -o -pl transforms dependency:build-classpath -Dmdep.outputFile="$cp_file" > /dev/null)
  local cp="$ROOT/transforms/target/test-classes:$ROOT/transforms/target/classes:$ROOT/io/target/classes:$(cat "$cp_file")"
  java -cp "$cp" org.sat2diffusers.transforms.lora.LoraKernelBenchmark
  if [ -d "$OPENBLAS_DIR" ]; then
    java -Dsat2diffusers.blas=java -cp "$cp" org.sat2diffusers.transforms.lora.LoraKernelBenchmark 2>/dev/null \
      | sed 's/^/(native BLAS off) /'
  fi
  LD_LIBRARY_PATH="$OPENBLAS_DIR" "$PY" - <<'EOF'
import time, numpy as np
rng = np.random.default_rng(0)
b = (rng.random((3072, 128), dtype=np.float32) - 0.5) * 0.04
a = (rng.random((128, 3072), dtype=np.float32) - 0.5) * 0.04
b @ a
n = 42 * 4
start = time.perf_counter()
for _ in range(n):
    b @ a
dt = time.perf_counter() - start
print(f"numpy matmul: {n} products of (3072x128)x(128x3072) fp32 in {dt:.3f} s = {2 * 3072 * 128 * 3072 * n / dt / 1e9:.1f} GFLOP/s")
EOF
}

make_inputs
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "java: $(java -version 2>&1 | head -1); JAVA_OPTS='$JAVA_OPTS'; runs: $RUNS each, alternating"
echo "inputs: $(du -h "$PLAIN" | cut -f1) $PLAIN$(wants lora && echo ", $(du -h "$LORA" | cut -f1) $LORA")"
wants convert && compare 2B "$PLAIN" "--source $PLAIN" plain && bounded 2B "--source $PLAIN"
wants lora && compare 2B-LoRA "$LORA" "--source $LORA"
wants three && compare 3x2B "$DATA/three/run1/mp_rank_00_model_states.pt $DATA/three/run2/mp_rank_00_model_states.pt $DATA/three/run3/mp_rank_00_model_states.pt" \
  "--source $DATA/three/run1 --source $DATA/three/run2 --source $DATA/three/run3"
wants kernel && kernel
exit 0
