package org.sat2diffusers.io.dcp;

import java.io.IOException;

/** A torch.distributed.checkpoint folder that cannot be read as tensors; the message names the file. */
public final class DcpException extends IOException {
  /** The ways a DCP folder can be wrong or beyond what is read here. */
  public enum Problem {
    /** No {@code .metadata}, or it is not a DCP {@code Metadata} pickle. */
    NOT_A_DCP_CHECKPOINT,
    /** The metadata lacks an entry or holds it in another form, or names a class not on the allowlist. */
    MALFORMED_METADATA,
    /** A {@code .distcp} file the metadata points into is absent or shorter than the chunk it should hold. */
    MISSING_DATA,
    /** A chunk's bytes are not the torch.save of a tensor of the chunk's dtype and size. */
    BAD_CHUNK,
    /** The chunks do not cover the tensor exactly once. */
    CHUNKS_DO_NOT_TILE,
    /** The tensor is split other than along its first dimension; not read here. */
    UNSUPPORTED_CHUNKING
  }

  private final Problem problem;
  private final String file;

  public DcpException(Problem problem, String file, String detail) {
    super(file + ": " + detail + " (" + problem + ")");
    this.problem = problem;
    this.file = file;
  }

  public Problem problem() {
    return problem;
  }

  public String file() {
    return file;
  }
}
