package org.sat2diffusers.io.pickle;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a pickle asked to construct ({@code callable(*args)}, then BUILD / APPEND / SETITEM on it),
 * recorded as data and never constructed: numpy arrays, argparse namespaces, and any global the
 * reader does not interpret end up as one of these.
 */
public final class InertObject {
  private final Object callable;
  private final List<Object> args;
  private final List<Object> items = new ArrayList<>();
  private final Map<Object, Object> entries = new LinkedHashMap<>();
  private Object state;

  InertObject(Object callable, List<Object> args) {
    this.callable = callable;
    this.args = args;
  }

  /** Usually a {@link PickleGlobal}; anything else when the pickle called the result of another call. */
  public Object callable() {
    return callable;
  }

  public List<Object> args() {
    return args;
  }

  /** The BUILD argument ({@code __setstate__} / {@code __dict__} update), null if none. */
  public Object state() {
    return state;
  }

  /** Items APPENDed to the object. */
  public List<Object> items() {
    return items;
  }

  /** Items SETITEMed on the object, in order. */
  public Map<Object, Object> entries() {
    return entries;
  }

  /** The callable's qualified name, e.g. {@code argparse.Namespace}. */
  public String typeName() {
    return callable instanceof PickleGlobal global ? global.qualifiedName() : "<result of a call>";
  }

  void build(Object newState) {
    state = newState;
  }

  @Override
  public String toString() {
    return typeName() + "(...)";
  }
}
