#!/usr/bin/env bash
# Nightly incremental conversion: every SAT run below SAT2D_ROOT, every iteration, into SAT2D_OUTPUT.
# Outputs already converted from the same sources, converter version and options are skipped, so a
# night with no new checkpoints does nothing. Exits non-zero when any checkpoint failed (cron mails
# it, systemd marks the unit failed); one JSON log line per event goes to SAT2D_LOG.
#
# Settings (environment, or /etc/default/sat2diffusers when run by the systemd unit):
#   SAT2D_JAR        the executable jar (pipeline/target/sat2diffusers.jar)
#   SAT2D_ROOT       where training runs appear (local path, s3://bucket/prefix, hdfs://...)
#   SAT2D_OUTPUT     where Diffusers folders go
#   SAT2D_LOG        log file (default /var/log/sat2diffusers/nightly.log)
#   SAT2D_JAVA       java binary (default: java on PATH; Java 17)
#   SAT2D_JAVA_OPTS  JVM options (default -Xmx1g)
#   SAT2D_ARGS       more convert options, e.g. "--dtype bf16 --runner spark --spark-master spark://host:7077"
set -euo pipefail

: "${SAT2D_JAR:?set SAT2D_JAR to the sat2diffusers jar}"
: "${SAT2D_ROOT:?set SAT2D_ROOT to the folder holding the SAT runs}"
: "${SAT2D_OUTPUT:?set SAT2D_OUTPUT to the folder for the Diffusers outputs}"
log=${SAT2D_LOG:-/var/log/sat2diffusers/nightly.log}
java=${SAT2D_JAVA:-java}
mkdir -p "$(dirname "$log")"

# One run at a time: a slow night must not overlap the next one.
exec 9>"$log.lock"
if ! flock -n 9; then
  echo "$(date -u +%FT%TZ) another sat2diffusers nightly run is still going; not starting" >>"$log"
  exit 75
fi

# shellcheck disable=SC2086  # SAT2D_JAVA_OPTS and SAT2D_ARGS are word lists on purpose
"$java" ${SAT2D_JAVA_OPTS:--Xmx1g} -jar "$SAT2D_JAR" convert \
  --source-root "$SAT2D_ROOT" --iterations all --output "$SAT2D_OUTPUT" \
  --log-format json ${SAT2D_ARGS:-} >>"$log" 2>&1
