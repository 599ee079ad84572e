package org.sat2diffusers.pipeline.jobs;

import java.io.IOException;
import java.util.List;

/** The jobs asked for cannot all be run: every problem found, each naming the source, line or field at fault. */
public class InvalidJobsException extends IOException {
  private final List<String> problems;

  public InvalidJobsException(String heading, List<String> problems) {
    super(heading + (problems.size() == 1 ? "" : " (" + problems.size() + " problems)") + ":\n  "
        + String.join("\n  ", problems));
    this.problems = List.copyOf(problems);
  }

  /** One message per problem, without the heading. */
  public List<String> problems() {
    return problems;
  }
}
