package org.sat2diffusers.pipeline.runner;

/** The values of --runner. */
public enum RunnerChoice {
  /** Beam's embedded DirectRunner: no setup, this JVM only. */
  direct,
  /** Beam's classic SparkRunner: embedded local[N] or a standalone cluster. */
  spark,
  /** Google Cloud Dataflow: only in a build with the Dataflow runner ({@code mvn -Pdataflow package}). */
  dataflow
}
