package org.sat2diffusers.pipeline.e2e;

import java.util.List;

/** A job manifest (docs/manifest.md) written from sources, outputs and convert options. */
final class JobsYaml {
  private final StringBuilder yaml = new StringBuilder();

  /** Adds a job; {@code options} as on the command line ({@code --lora-alpha 4} becomes {@code lora_alpha: 4}). */
  JobsYaml job(String sourceField, String source, String output, List<String> options) {
    yaml.append("- ").append(sourceField).append(": ").append(source).append('\n')
        .append("  output: ").append(output).append('\n');
    for (int i = 0; i < options.size(); i += 2) {
      yaml.append("  ").append(options.get(i).substring(2).replace('-', '_')).append(": ").append(options.get(i + 1))
          .append('\n');
    }
    return this;
  }

  @Override
  public String toString() {
    return yaml.toString();
  }
}
