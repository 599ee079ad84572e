#!/usr/bin/env bash
# Runs a sat2diffusers command on a Spark standalone cluster, through SparkSubmit in client mode:
# the driver is this JVM (Java 17, with the options Spark needs), the executors run on the cluster.
#
# usage: SPARK_HOME=... SPARK_MASTER=spark://HOST:7077 submit.sh [SPARK-SUBMIT-OPTIONS... --] COMMAND [ARGS...]
#   e.g. submit.sh convert --source /data/runs/sft --output /data/diffusers/sft
#        submit.sh --conf spark.ui.enabled=false -- convert --source ... --output ...
# Paths must be readable and writable with the same names on the driver and every worker
# (shared storage, or s3:// / hdfs:// URIs). See README.md for every setting.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "submit.sh: $*" >&2; exit 2; }

[ -n "${SPARK_HOME:-}" ] || die "set SPARK_HOME to a Spark 3.5 installation (its jars/ folder is used)"
[ -d "$SPARK_HOME/jars" ] || die "SPARK_HOME=$SPARK_HOME has no jars/ folder"
[ -n "${SPARK_MASTER:-}" ] || die "set SPARK_MASTER, e.g. spark://HOST:7077"
jar=${SAT2DIFFUSERS_JAR:-$here/../../pipeline/target/sat2diffusers-cluster.jar}
[ -f "$jar" ] || die "no application jar at $jar: build it (mvn -B -DskipTests package) or set SAT2DIFFUSERS_JAR"
java=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}

driver_memory=${DRIVER_MEMORY:-1g}      # heap of this JVM, the driver (it plans; tensor bytes never pass through it)
executor_memory=${EXECUTOR_MEMORY:-2g}  # heap of each executor (shards are streamed: mostly Spark's own needs)
executor_cores=${EXECUTOR_CORES:-1}     # concurrent tasks per executor
total_cores=${TOTAL_EXECUTOR_CORES:-}   # cap on the cores the job takes from the cluster (default: all)

# what a driver needs on Java 17 (Spark's org.apache.spark.launcher.JavaModuleOptions); executors get them from Spark
java17_options=(
  -XX:+IgnoreUnrecognizedVMOptions
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  -Djdk.reflect.useDirectMethodHandle=false
)

submit_options=()
for arg in "$@"; do
  if [ "$arg" = "--" ]; then
    while [ "$1" != "--" ]; do submit_options+=("$1"); shift; done
    shift
    break
  fi
done
[ $# -ge 1 ] || die "name a sat2diffusers command, e.g. convert --source ... --output ..."
command=$1; shift

submit_options+=(--conf "spark.executor.memory=$executor_memory" --conf "spark.executor.cores=$executor_cores")
[ -z "$total_cores" ] || submit_options+=(--conf "spark.cores.max=$total_cores")

# exec: the driver keeps this script's process id, so stopping it by id stops the job
exec "$java" "-Xmx$driver_memory" "${java17_options[@]}" \
  -cp "${SPARK_CONF_DIR:-$SPARK_HOME/conf}:$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit \
  --master "$SPARK_MASTER" --deploy-mode client --name sat2diffusers \
  --class org.sat2diffusers.pipeline.Main "${submit_options[@]}" \
  "$jar" "$command" --runner spark "$@"
