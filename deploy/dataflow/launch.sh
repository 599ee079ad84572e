#!/usr/bin/env bash
# Runs a sat2diffusers conversion on Google Cloud Dataflow.
# Needs a jar built with the Dataflow runner (mvn -B -Pdataflow -DskipTests package) and Google
# application default credentials (gcloud auth application-default login, or a service account).
#
# usage: GCP_PROJECT=... GCP_REGION=... GCS_TEMP=gs://bucket/tmp launch.sh convert --source-root gs://... --output gs://... [options]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "launch.sh: $*" >&2; exit 2; }

: "${GCP_PROJECT:?set GCP_PROJECT to the Google Cloud project}"
: "${GCP_REGION:?set GCP_REGION, e.g. europe-west4}"
: "${GCS_TEMP:?set GCS_TEMP to a gs:// folder for Dataflow staging and temporary files}"
jar=${SAT2DIFFUSERS_JAR:-$here/../../pipeline/target/sat2diffusers.jar}
[ -f "$jar" ] || die "no jar at $jar: build it with mvn -B -Pdataflow -DskipTests package"
[ $# -ge 1 ] || die "name a sat2diffusers command, e.g. convert --source-root gs://... --output gs://..."
command=$1; shift

workers=${MAX_WORKERS:-8}
machine=${WORKER_MACHINE_TYPE:-n2-highmem-2}  # shard writers stream: memory per core matters little

exec "${JAVA:-java}" -Xmx1g -jar "$jar" "$command" --runner dataflow \
  --beam-option "project=$GCP_PROJECT" --beam-option "region=$GCP_REGION" \
  --beam-option "tempLocation=$GCS_TEMP" --beam-option "maxNumWorkers=$workers" \
  --beam-option "workerMachineType=$machine" --beam-option "jobName=sat2diffusers-$(date -u +%Y%m%d-%H%M%S)" \
  --temp-location "$GCS_TEMP/run-logs" "$@"
