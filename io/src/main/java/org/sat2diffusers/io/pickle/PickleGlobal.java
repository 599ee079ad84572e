package org.sat2diffusers.io.pickle;

/** A reference to a Python global ({@code module.name}), kept as a name: never imported or looked up. */
public record PickleGlobal(String module, String name) {
  public String qualifiedName() {
    return module + "." + name;
  }

  @Override
  public String toString() {
    return qualifiedName();
  }
}
