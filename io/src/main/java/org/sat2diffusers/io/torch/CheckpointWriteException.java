package org.sat2diffusers.io.torch;

import java.io.IOException;

/** A checkpoint that cannot be written as asked; {@link #problem()} says why, the message says where. */
public final class CheckpointWriteException extends IOException {
  /** The ways a checkpoint's contents can be wrong. */
  public enum Problem {
    /** Two tensors, or a tensor and a top-level value, have the same name. */
    DUPLICATE_NAME,
    /** A negative size or stride, a stride list of another length than the shape, or a size that overflows. */
    INVALID_SHAPE,
    /** A storage's byte length is not a whole number of its dtype's elements. */
    STORAGE_SIZE,
    /** A tensor's view reaches past the end of its storage. */
    OUT_OF_STORAGE,
    /** A storage source wrote another number of bytes than it declared. */
    SOURCE_LENGTH,
    /** A top-level value of a type not every weights_only loader reads (only None, bool, int, str are). */
    INVALID_VALUE
  }

  private final Problem problem;
  private final String file;
  private final String tensor;

  /** {@code tensor} may be null when the problem concerns the file as a whole. */
  public CheckpointWriteException(Problem problem, String file, String tensor, String detail) {
    super(file + ": " + (tensor == null ? "" : "tensor '" + tensor + "': ") + detail + " (" + problem + ")");
    this.problem = problem;
    this.file = file;
    this.tensor = tensor;
  }

  public Problem problem() {
    return problem;
  }

  public String file() {
    return file;
  }

  /** The tensor (or top-level key) concerned, or null. */
  public String tensor() {
    return tensor;
  }
}
