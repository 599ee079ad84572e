package org.sat2diffusers.io.pickle;

import java.util.List;

/**
 * Gives meaning to the two things a format on top of pickle defines: calls to its own globals and
 * persistent ids. Implementations build plain data records; they must not execute anything.
 */
public interface PickleResolver {
  /**
   * Stands for {@code callable(*args)} (REDUCE, NEWOBJ, OBJ). The default records the call as an
   * {@link InertObject}.
   */
  default Object call(PickleGlobal callable, List<Object> args) throws PickleException {
    return new InertObject(callable, args);
  }

  /** Stands for the object a persistent id refers to; the default refuses persistent ids. */
  default Object persistentLoad(Object pid) throws PickleException {
    throw new PickleException("persistent id " + pid + " is not supported here");
  }
}
