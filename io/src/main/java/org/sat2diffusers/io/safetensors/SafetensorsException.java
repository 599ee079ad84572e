package org.sat2diffusers.io.safetensors;

import java.io.IOException;

/** A safetensors file that breaks the format; {@link #problem()} says how, the message says where. */
public final class SafetensorsException extends IOException {
  /** The ways a file can be wrong, after the reference implementation's SafeTensorError. */
  public enum Problem {
    /** The file is shorter than the 8-byte header length. */
    HEADER_TOO_SMALL,
    /** The header length is over the 100 MB the reference accepts. */
    HEADER_TOO_LARGE,
    /** The header length runs past the end of the file. */
    INVALID_HEADER_LENGTH,
    /** The header is not valid UTF-8. */
    INVALID_HEADER,
    /** The header is not a JSON object of tensor descriptions (bad syntax, missing or mistyped field, duplicate key). */
    INVALID_HEADER_JSON,
    /** {@code __metadata__} is not an object of string values. */
    INVALID_METADATA,
    /** A dtype name the format does not define. */
    UNKNOWN_DTYPE,
    /** Shape x dtype size differs from the bytes the data offsets give the tensor. */
    TENSOR_INVALID_INFO,
    /** Shape or byte counts overflow 64 bits. */
    VALIDATION_OVERFLOW,
    /** Data offsets that are reversed, leave a gap, or overlap another tensor. */
    INVALID_OFFSET,
    /** The tensors do not end where the file ends. */
    METADATA_INCOMPLETE_BUFFER,
    /** A tensor name the file does not have. */
    TENSOR_NOT_FOUND
  }

  private final Problem problem;
  private final String file;
  private final String tensor;

  /** {@code tensor} may be null when the problem concerns the file as a whole. */
  public SafetensorsException(Problem problem, String file, String tensor, String detail) {
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

  /** The tensor concerned, or null. */
  public String tensor() {
    return tensor;
  }
}
