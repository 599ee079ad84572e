package org.sat2diffusers.transforms.parallel;

import java.util.List;
import java.util.regex.Pattern;

/**
 * How SAT's model-parallel layers ({@code sat/mpu/layers.py}) lay one parameter out over the ranks
 * {@code mp_rank_00 … mp_rank_NN}, and so how the ranks' slices merge back into the full tensor:
 *
 * <ul>
 *   <li>{@code ColumnParallelLinear} (Y = XA, A split along its output dimension): rank r holds rows of
 *       the weight {@code [out, in]} and of the bias {@code [out]}. With stride s (the fused
 *       {@code query_key_value} has s = 3: q, k and v) the output splits into s parts first and each
 *       rank holds its slice of every part, so rank r's rows are {@code [q_r; k_r; v_r]}. Merged:
 *       for each part, the ranks' slices of it in rank order ({@code ColumnParallelLinear.merge}).
 *   <li>{@code RowParallelLinear} (A split along its input dimension): rank r holds columns
 *       {@code [out, in/p]} of the weight; row i of the merged weight is the concatenation over ranks
 *       of rank r's row i. Its bias is added after the all-reduce, so every rank holds all of it:
 *       replicated.
 *   <li>{@code VocabParallelEmbedding}: rank r holds a contiguous block of vocabulary rows; merged by
 *       concatenating the blocks in rank order (a stride-1 column split).
 *   <li>Everything else is an ordinary torch module that every rank holds in full: layernorms, the
 *       position embedding, the CogVideoX mixins (patch embedding, adaLN modulations, q/k norms,
 *       final layer, time embedding), the T5 conditioner and the VAE. Replicated: the same bytes on
 *       every rank, checked, and taken once.
 * </ul>
 *
 * In a SAT transformer these are {@code attention.query_key_value} (column, stride 3),
 * {@code attention.dense} (row), {@code mlp.dense_h_to_4h} and its gate (column),
 * {@code mlp.dense_4h_to_h} (row), cross attention's {@code query} (column), {@code key_value}
 * (column, stride 2) and {@code dense} (row), and {@code transformer.word_embeddings} (vocab).
 */
public final class ParallelLayout {
  /** How one parameter is split over the ranks. */
  public enum Split {
    /** Rows (output dimension) split, per stride part. */
    COLUMN,
    /** Columns (input dimension) split. */
    ROW,
    /** Held in full by every rank. */
    REPLICATED
  }

  /** One parameter's split, and for a column split the number of fused parts (the stride). */
  public record Partition(Split split, int stride) {
    static final Partition REPLICATED = new Partition(Split.REPLICATED, 1);
  }

  private record Rule(Pattern key, Partition partition) {}

  private static final String LAYER = "(^|\\.)transformer\\.layers\\.\\d+\\.";
  private static final List<Rule> RULES = List.of(
      rule(LAYER + "attention\\.query_key_value\\.(weight|bias)$", Split.COLUMN, 3),
      rule(LAYER + "attention\\.dense\\.weight$", Split.ROW, 1),
      rule(LAYER + "cross_attention\\.query\\.(weight|bias)$", Split.COLUMN, 1),
      rule(LAYER + "cross_attention\\.key_value\\.(weight|bias)$", Split.COLUMN, 2),
      rule(LAYER + "cross_attention\\.dense\\.weight$", Split.ROW, 1),
      rule(LAYER + "mlp\\.dense_h_to_4h(_gate)?(_\\d+)?\\.(weight|bias)$", Split.COLUMN, 1),
      rule(LAYER + "mlp\\.dense_4h_to_h(_\\d+)?\\.weight$", Split.ROW, 1),
      rule("(^|\\.)transformer\\.word_embeddings\\.weight$", Split.COLUMN, 1));

  /** A SAT lora2 module's tensors: {@code M.original.weight|bias}, {@code M.matrix_A.i}, {@code M.matrix_B.i}. */
  static final Pattern LORA_KEY = Pattern.compile("\\.(original\\.(weight|bias)|matrix_[AB]\\.\\d+)$");

  private ParallelLayout() {}

  private static Rule rule(String key, Split split, int stride) {
    return new Rule(Pattern.compile(key), new Partition(split, stride));
  }

  /** The partition of a state-dict key; anything not a model-parallel layer is replicated. */
  public static Partition of(String key) {
    for (Rule r : RULES) {
      if (r.key().matcher(key).find()) {
        return r.partition();
      }
    }
    return Partition.REPLICATED;
  }
}
