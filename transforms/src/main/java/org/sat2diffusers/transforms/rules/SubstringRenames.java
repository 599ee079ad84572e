package org.sat2diffusers.transforms.rules;

import java.util.ArrayList;
import java.util.List;

/**
 * An ordered table of substring replacements, applied one after the other to a key, each replacing
 * every occurrence (Python's {@code str.replace}, as the published converter does). Later entries see
 * the result of earlier ones, so the order is part of the rule.
 */
public final class SubstringRenames {
  private record Rename(String from, String to) {}

  private final List<Rename> renames;

  private SubstringRenames(List<Rename> renames) {
    this.renames = List.copyOf(renames);
  }

  /** Pairs {@code from, to, from, to, ...}, in the order they apply. */
  public static SubstringRenames of(String... pairs) {
    if (pairs.length % 2 != 0) {
      throw new IllegalArgumentException("renames come in from/to pairs");
    }
    List<Rename> list = new ArrayList<>();
    for (int i = 0; i < pairs.length; i += 2) {
      list.add(new Rename(pairs[i], pairs[i + 1]));
    }
    return new SubstringRenames(list);
  }

  /**
   * The renames undone: each pair swapped, in reverse order. Only a true inverse when no target
   * occurs in a key but as the product of its own rename; callers check the result by applying the
   * forward table again.
   */
  public SubstringRenames inverse() {
    List<Rename> list = new ArrayList<>();
    for (int i = renames.size() - 1; i >= 0; i--) {
      list.add(new Rename(renames.get(i).to, renames.get(i).from));
    }
    return new SubstringRenames(list);
  }

  public String apply(String key) {
    String out = key;
    for (Rename r : renames) {
      out = out.replace(r.from, r.to);
    }
    return out;
  }
}
