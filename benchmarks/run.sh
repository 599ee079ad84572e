#!/usr/bin/env bash
# Performance harness (issues 6 and 17): not part of `mvn verify`. See README "Performance".
#
#   bash benchmarks/run.sh [--runs N] [--only convert|lora|ten|5b|s3|spark|kernel]...
#
# Makes the inputs once into $BENCH_DATA (default /work/bench-data; kept between runs, never in git),
# then, per mode (all by default; --only, repeatable, picks some):
#   convert  cp+sync of the 2B-sized checkpoint (3.4 GB) vs converter+sync on it, alternating, N runs
#            each: through bin/sat2diffusers and as a plain `java -jar`; then one run under -Xmx512m
#   lora     the same through the launcher for the 2B-sized checkpoint with SAT LoRA r=128 (merged)
#   ten      cp+sync of ten such checkpoints (hard links of one) vs one converter run over the ten
#   5b       cp+sync of a 5B-sized checkpoint (42 layers, hidden 3072, bf16, 11 GB) vs the converter
#   s3       S3Proxy on loopback (filesystem store in the scratch folder): `aws s3 cp s3://bench-in/X s3://bench-out/Y`
#            of the 2B checkpoint vs the converter s3:// to s3:// (one shard)
#   spark    the converter over the ten checkpoints on Spark local[2] vs embedded (DirectRunner)
#   kernel   the LoRA merge kernel alone (native BLAS, then the Java kernel) vs numpy matmul on
#            (3072x128)x(128x3072) fp32; the kernel runs the products on as many threads as there are
#            cores (each its own parts, like the converter's shard writers), as numpy uses every core
# Each mode first leaves only its own sources in the page cache (read once, untimed; the other
# inputs dropped from it). Every timing is a whole process, output durable (sync) on both sides; the converter's peak RSS
# comes from /usr/bin/time -v. Medians and ratios are from the same run. Each mode ends with its
# targets (issue 17) as "target ... ratio (limit) pass|MISS" lines, repeated at the end. The
# launcher's class-data archive is made by an untimed conversion of a small fixture (in $SCRATCH, so
# every harness run starts clean). The machine may be shared: only same-run ratios mean anything.
# Needs: java 17, mvn (the jar is built if missing), /usr/bin/python3 with torch and numpy,
# /usr/bin/time; for native BLAS: apt-get install libopenblas0-pthread; for s3: the aws CLI.
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
[ ${#ONLY[@]} -gt 0 ] || ONLY=(convert lora ten 5b s3 spark kernel)
for mode in "${ONLY[@]}"; do
  case "$mode" in convert|lora|ten|5b|s3|spark|kernel) ;; *) echo "unknown mode $mode" >&2; exit 2 ;; esac
done
wants() { [[ " ${ONLY[*]} " == *" $1 "* ]]; }

OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/s2d-bench.XXXXXX")"
S3PROXY_PID=
trap '[ -z "$S3PROXY_PID" ] || kill "$S3PROXY_PID" 2> /dev/null; rm -rf "$SCRATCH"' EXIT
touch "$SCRATCH/targets"

PLAIN="$DATA/cogvideox-2b-like.pt"
LORA="$DATA/cogvideox-2b-lora128.pt"
FIVE_B="$DATA/cogvideox-5b-like.pt"
TEN=10

make_inputs() {
  mkdir -p "$DATA"
  [ -s "$PLAIN" ] || "$PY" "$ROOT/benchmarks/make_2b_checkpoint.py" "$PLAIN"
  if wants lora; then
    [ -s "$LORA" ] || "$PY" "$ROOT/benchmarks/make_2b_checkpoint.py" --lora-rank 128 "$LORA"
  fi
  if wants 5b; then
    [ -s "$FIVE_B" ] || "$PY" "$ROOT/benchmarks/make_2b_checkpoint.py" --size 5b "$FIVE_B"
  fi
  if wants ten || wants spark; then
    # ten checkpoints: hard links of the same bytes under ten run folders (no extra disk)
    for i in $(seq 1 $TEN); do
      mkdir -p "$DATA/ten/run$i"
      [ -e "$DATA/ten/run$i/mp_rank_00_model_states.pt" ] || ln "$PLAIN" "$DATA/ten/run$i/mp_rank_00_model_states.pt"
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

# cache_only FILES...: the page cache holds FILES (read once, untimed) and none of the other inputs.
# Every mode then starts alike, its sources in memory as the targets assume, whatever ran before:
# the 5B mode's 11 GB source and 11 GB output barely fit in this machine's memory beside the rest.
cache_only() {
  "$PY" - "$@" "$PLAIN" "$LORA" "$FIVE_B" <<'EOF_PY'
import os, sys
keep = set(sys.argv[1:-3])
for path in sys.argv[-3:]:
    if os.path.exists(path) and path not in keep:
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
for path in keep:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass
EOF_PY
}

LAUNCHER="$ROOT/bin/sat2diffusers"
export SAT2DIFFUSERS_JAR="$JAR" SAT2DIFFUSERS_CACHE="$SCRATCH/cds" JAVA_OPTS

# report LABEL NAME: "label cp+sync median | NAME median | ratio | peak RSS" from $SCRATCH/cp and $SCRATCH/NAME
report() {
  local label="$1" name="$2" cp_med med rss_max
  cp_med=$(awk '{print $1}' "$SCRATCH/cp" | median)
  med=$(awk '{print $1}' "$SCRATCH/$name" | median)
  rss_max=$(awk '{print $2}' "$SCRATCH/$name" | sort -g | tail -1)
  printf '%-8s %s: %s s (runs: %s) | %s+sync: %s s (runs: %s) | ratio %.2fx | peak RSS %d MB\n' \
    "$label" "$BASELINE_NAME" "$cp_med" "$(awk '{printf "%s ", $1}' "$SCRATCH/cp")" "$name" "$med" \
    "$(awk '{printf "%s ", $1}' "$SCRATCH/$name")" "$(echo "$med / $cp_med" | bc -l)" $((rss_max / 1024))
  RATIO=$(echo "$med / $cp_med" | bc -l)
  RSS_MB=$((rss_max / 1024))
}
BASELINE_NAME=cp+sync

# target WHAT VALUE LIMIT le|ge [UNIT]: one issue-17 target with its verdict, kept for the summary
target() {
  local what="$1" value="$2" limit="$3" sense="$4" unit="${5:-x}" verdict
  if [ "$sense" = le ]; then
    verdict=$(echo "$value <= $limit" | bc -l)
  else
    verdict=$(echo "$value >= $limit" | bc -l)
  fi
  [ "$verdict" = 1 ] && verdict=pass || verdict=MISS
  printf 'target %-55s %8.2f%s (%s %s%s) %s\n' "$what" "$value" "$unit" "$([ "$sense" = le ] && echo '<=' || echo '>=')" \
    "$limit" "$unit" "$verdict" | tee -a "$SCRATCH/targets"
}

# warm_up: the launcher's class-data archive, recorded by an untimed conversion of a small fixture
warm_up() {
  if [ -z "$(ls -A "$SCRATCH/cds" 2> /dev/null)" ]; then
    "$LAUNCHER" convert --source "$ROOT/testdata/sat/cogvideox-2b-sft" --output "$SCRATCH/warm-up" > /dev/null 2>&1
    rm -rf "$SCRATCH/warm-up"
  fi
}

# compare LABEL CP_SOURCES CONVERT_ARGS [plain]: alternating cp+sync and converter+sync, RUNS times
# each; with "plain" also `java -jar` without the launcher's JVM options
compare() {
  local label="$1" sources="$2" args="$3" plain="${4:-}"
  rm -f "$SCRATCH/cp" "$SCRATCH/launcher" "$SCRATCH/java-jar"
  warm_up
  # shellcheck disable=SC2086
  cache_only $(printf '%s\n' $sources | sort -u)
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
  LAUNCHER_RATIO=$RATIO LAUNCHER_RSS=$RSS_MB
  if [ -n "$plain" ]; then
    report "$label" java-jar
    JAVA_JAR_RATIO=$RATIO
  fi
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

# engines CONVERT_ARGS: the converter on the embedded DirectRunner vs Spark local[2], alternating
engines() {
  local args="$1" d s
  rm -f "$SCRATCH/direct" "$SCRATCH/spark"
  warm_up
  cache_only "$PLAIN"
  for run in $(seq 1 "$RUNS"); do
    # shellcheck disable=SC2086
    time_cmd direct "$LAUNCHER" convert $args --output "$SCRATCH/out"
    rm -rf "$SCRATCH/out"
    # shellcheck disable=SC2086
    time_cmd spark "$LAUNCHER" convert $args --runner spark --spark-master 'local[2]' --output "$SCRATCH/out"
    rm -rf "$SCRATCH/out"
  done
  d=$(awk '{print $1}' "$SCRATCH/direct" | median)
  s=$(awk '{print $1}' "$SCRATCH/spark" | median)
  printf 'engines  embedded: %s s (runs: %s) | spark local[2]: %s s (runs: %s) | peak RSS %d MB\n' "$d" \
    "$(awk '{printf "%s ", $1}' "$SCRATCH/direct")" "$s" "$(awk '{printf "%s ", $1}' "$SCRATCH/spark")" \
    $(($(awk '{print $2}' "$SCRATCH/spark" | sort -g | tail -1) / 1024))
  target "spark local[2], $TEN checkpoints / embedded" "$(echo "$s / $d" | bc -l)" 1.3 le
}

# s3: S3Proxy on loopback with a filesystem store; `aws s3 cp` S3 to S3 vs the converter S3 to S3
s3() {
  local proxy_jar="$ROOT/pipeline/target/s3proxy/s3proxy.jar" port endpoint store="$SCRATCH/s3store" failed=""
  [ -s "$proxy_jar" ] || (cd "$ROOT" && mvn -B -q -o -pl pipeline process-test-resources > /dev/null)
  command -v aws > /dev/null || { echo "s3: no aws CLI on PATH; skipped" | tee -a "$SCRATCH/targets"; return; }
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  endpoint="http://127.0.0.1:$port"
  mkdir -p "$store"
  printf '%s\n' "s3proxy.endpoint=$endpoint" s3proxy.authorization=aws-v2-or-v4 \
    s3proxy.identity=bench s3proxy.credential=bench-secret s3proxy.ignore-unknown-headers=true \
    jclouds.provider=filesystem "jclouds.filesystem.basedir=$store" jclouds.identity=unused \
    jclouds.credential=unused > "$SCRATCH/s3proxy.conf"
  java -Xmx512m -jar "$proxy_jar" --properties "$SCRATCH/s3proxy.conf" > "$SCRATCH/s3proxy.log" 2>&1 &
  S3PROXY_PID=$!
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  for _ in $(seq 1 300); do
    aws --endpoint-url "$endpoint" s3 ls > /dev/null 2>&1 && break
    sleep 0.2
  done
  aws --endpoint-url "$endpoint" s3 mb s3://bench-in > /dev/null
  aws --endpoint-url "$endpoint" s3 mb s3://bench-out > /dev/null
  aws --endpoint-url "$endpoint" s3 cp "$PLAIN" s3://bench-in/cogvideox-2b-like.pt > /dev/null
  rm -f "$SCRATCH/cp" "$SCRATCH/converter-s3"
  warm_up
  cache_only
  for run in $(seq 1 "$RUNS"); do
    time_cmd cp aws --endpoint-url "$endpoint" s3 cp s3://bench-in/cogvideox-2b-like.pt "s3://bench-out/copy$run.pt"
    aws --endpoint-url "$endpoint" s3 rm "s3://bench-out/copy$run.pt" > /dev/null
    # a failure is this target's miss, not the harness's end (a subshell: time_cmd exits on failure).
    # The commit completes the shard's multipart upload, and S3Proxy answers only once it has joined
    # the parts (AWS sends blanks meanwhile): the SDK's 30 s read timeout can be too short.
    ( time_cmd converter-s3 "$LAUNCHER" convert --source s3://bench-in/cogvideox-2b-like.pt \
      --output "s3://bench-out/run$run" --s3-endpoint "$endpoint" --s3-path-style \
      --beam-option 'httpClientConfiguration={"socketTimeout":1800000}' ) || failed=$run
    aws --endpoint-url "$endpoint" s3 rm --recursive "s3://bench-out/run$run" > /dev/null
  done
  if [ -n "$failed" ]; then
    echo "target S3 -> S3 one shard / aws s3 cp (S3Proxy): converter failed in run $failed: MISS" \
      | tee -a "$SCRATCH/targets"
  else
    BASELINE_NAME="aws s3 cp" report S3 converter-s3
    target "S3 -> S3 one shard / aws s3 cp (S3Proxy)" "$RATIO" 1.3 le
  fi
  kill "$S3PROXY_PID"
  wait "$S3PROXY_PID" 2> /dev/null || true
  S3PROXY_PID=
}

# gflops FILE: the GFLOP/s of a kernel line
gflops() { sed -n 's/.*= \([0-9.]*\) GFLOP\/s.*/\1/p' "$1" | tail -1; }

kernel() {
  local cp_file="$SCRATCH/classpath" bench=org.sat2diffusers.transforms.lora.LoraKernelBenchmark numpy
  # one reactor run: the classpath of transforms names io's classes, which are in no repository
  (cd "$ROOT" && mvn -B -q -o -pl transforms -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$cp_file" > /dev/null)
  local cp="$ROOT/transforms/target/test-classes:$ROOT/transforms/target/classes:$ROOT/io/target/classes:$(cat "$cp_file")"
  if [ -d "$OPENBLAS_DIR" ]; then
    # one OpenBLAS thread per call, as bin/sat2diffusers runs it: the cores are the kernel's threads
    OPENBLAS_NUM_THREADS=1 java -Dsat2diffusers.blas=native -cp "$cp" $bench | tee "$SCRATCH/k-native"
  fi
  java -Dsat2diffusers.blas=java -cp "$cp" $bench 2> /dev/null | sed 's/^/(Java path) /' | tee "$SCRATCH/k-java"
  LD_LIBRARY_PATH="$OPENBLAS_DIR" "$PY" - <<'EOF' | tee "$SCRATCH/k-numpy"
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
  numpy=$(gflops "$SCRATCH/k-numpy")
  target "LoRA kernel, Java path / numpy" "$(echo "100 * $(gflops "$SCRATCH/k-java") / $numpy" | bc -l)" 25 ge %
  if [ -s "$SCRATCH/k-native" ]; then
    target "LoRA kernel, native BLAS / numpy" "$(echo "100 * $(gflops "$SCRATCH/k-native") / $numpy" | bc -l)" 70 ge %
  else
    echo "target LoRA kernel, native BLAS: not measured (apt-get install libopenblas0-pthread)" | tee -a "$SCRATCH/targets"
  fi
}

make_inputs
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "java: $(java -version 2>&1 | head -1); JAVA_OPTS='$JAVA_OPTS'; runs: $RUNS each, alternating"
echo "inputs: $(du -h "$PLAIN" | cut -f1) $PLAIN$(wants lora && echo ", $(du -h "$LORA" | cut -f1) $LORA")$(wants 5b && echo ", $(du -h "$FIVE_B" | cut -f1) $FIVE_B")"
if wants convert; then
  compare 2B "$PLAIN" "--source $PLAIN" plain
  target "2B 3.4 GB, java -jar / cp+sync" "$JAVA_JAR_RATIO" 1.5 le
  target "2B 3.4 GB, bin/sat2diffusers / cp+sync" "$LAUNCHER_RATIO" 1.25 le
  bounded 2B "--source $PLAIN"
fi
if wants lora; then
  compare 2B-LoRA "$LORA" "--source $LORA"
  target "2B LoRA r=128, bin/sat2diffusers / cp+sync" "$LAUNCHER_RATIO" 1.5 le
fi
TEN_FILES="" TEN_ARGS=""
for i in $(seq 1 $TEN); do
  TEN_FILES="$TEN_FILES $DATA/ten/run$i/mp_rank_00_model_states.pt" TEN_ARGS="$TEN_ARGS --source $DATA/ten/run$i"
done
if wants ten; then
  compare "${TEN}x2B" "$TEN_FILES" "$TEN_ARGS"
  target "$TEN x 2B (hard links), bin/sat2diffusers / cp+sync" "$LAUNCHER_RATIO" 1.15 le
fi
if wants 5b; then
  compare 5B "$FIVE_B" "--source $FIVE_B --model cogvideox-5b"
  target "5B 11 GB, bin/sat2diffusers / cp+sync" "$LAUNCHER_RATIO" 1.15 le
  target "5B 11 GB, peak RSS" "$LAUNCHER_RSS" 1024 le " MB"
fi
wants s3 && s3
wants spark && engines "$TEN_ARGS"
wants kernel && kernel
echo
echo "targets (issue 17):"
cat "$SCRATCH/targets"
exit 0
