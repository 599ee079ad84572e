package org.sat2diffusers.pipeline.jobs;

import java.util.List;

/**
 * One option of a conversion job, declared once for both front doors: {@code convert --lora-mode}
 * on the command line is {@code lora_mode:} in a manifest job. {@link JobOptions} lists them all.
 *
 * @param name the command line name without its dashes ({@code lora-mode})
 * @param kind the form of its value
 * @param label the value as help shows it ({@code merge|adapter|both}); empty for a flag
 * @param description what it does, for {@code convert --help} and docs/manifest.md
 * @param defaultText what applies when it is not given; empty when there is nothing to say
 * @param setter reads the value given into a job's values
 */
public record JobOption(String name, Kind kind, String label, String description, String defaultText, Setter setter) {
  /** The form of an option's value, which says how each front door reads it. */
  public enum Kind {
    /** On or off: {@code --check-finite}; {@code check_finite: true}. */
    FLAG,
    /** A decimal number. */
    NUMBER,
    /** A word from a fixed set ({@code bf16}). */
    NAME,
    /** Any single value ({@code 10GB}). */
    VALUE,
    /** A path or URI; in a manifest relative to its folder. */
    PATH,
    /** A path or URI that the command line takes several times; a manifest job gives one. */
    PATHS,
    /** Items as a YAML list or comma-separated ({@code transformer,vae}). */
    LIST
  }

  /** Reads an option's value(s) into a job's values; IllegalArgumentException says what is wrong with them. */
  public interface Setter {
    /** @param values one item, except for {@link Kind#LIST} and {@link Kind#PATHS}; a flag's is "true" or "false" */
    void set(JobValues job, List<String> values);
  }

  /** {@code --lora-mode}. */
  public String cliName() {
    return "--" + name;
  }

  /** {@code lora_mode}: the manifest field. */
  public String field() {
    return name.replace('-', '_');
  }

  /** The description and the default, as {@code convert --help} shows it. */
  public String help() {
    return defaultText.isEmpty() ? description : description + " Default: " + defaultText + ".";
  }
}
