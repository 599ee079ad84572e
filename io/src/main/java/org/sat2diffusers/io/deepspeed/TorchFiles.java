package org.sat2diffusers.io.deepspeed;

import java.io.IOException;
import org.sat2diffusers.io.deepspeed.ZeroCheckpointException.Problem;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.io.torch.TorchPickle;

/** Opens one torch.save file of a ZeRO set and hands its pickle to a parser while the file is open. */
final class TorchFiles {
  interface Parser<T> {
    T parse(TorchPickle pickle, RandomAccessInput in) throws IOException;
  }

  private TorchFiles() {}

  /**
   * Parses {@code file}; a file that is not a readable torch checkpoint (cut short, damaged) is
   * {@link Problem#UNREADABLE_FILE} naming it.
   */
  static <T> T parse(String file, String role, Parser<T> parser) throws IOException {
    try (RandomAccessInput in = RandomAccessInputs.open(file)) {
      TorchPickle pickle;
      try {
        pickle = new TorchCheckpointReader().read(in);
      } catch (ZeroCheckpointException e) {
        throw e;
      } catch (IOException e) {
        throw new ZeroCheckpointException(
            Problem.UNREADABLE_FILE, file, role + " is not a readable torch checkpoint (cut short or damaged?): "
                + withoutPath(file, e.getMessage()));
      }
      return parser.parse(pickle, in);
    }
  }

  /** The readers' messages start with the path, which the exception states already. */
  private static String withoutPath(String file, String message) {
    return message != null && message.startsWith(file + ": ") ? message.substring(file.length() + 2) : message;
  }
}
