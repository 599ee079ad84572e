package org.sat2diffusers.io.pickle;

/**
 * Hard bounds for one pickle, so a hostile file cannot exhaust memory through the stack, the memo,
 * nested MARKs or giant integers. String and bytes lengths are separately checked against the bytes
 * that remain.
 *
 * @param maxStack objects on the stack at once
 * @param maxMemo memo entries
 * @param maxMarks open MARKs at once (the nesting of tuples, lists and dicts being built)
 * @param maxIntBytes bytes of a LONG1 / LONG4 integer
 */
public record PickleLimits(int maxStack, int maxMemo, int maxMarks, int maxIntBytes) {
  /** Generous for checkpoints: a 5B model's data.pkl has ~10^4 memo entries and nesting depth ~10. */
  public static final PickleLimits DEFAULT = new PickleLimits(1 << 20, 1 << 22, 1 << 10, 64);
}
