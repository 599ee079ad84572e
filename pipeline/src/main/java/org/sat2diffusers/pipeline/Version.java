package org.sat2diffusers.pipeline;

import picocli.CommandLine;

/** The converter's version, from the jar manifest (or "dev" when run from classes). */
public final class Version implements CommandLine.IVersionProvider {
  public static String current() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public String[] getVersion() {
    return new String[] {"sat2diffusers " + current()};
  }
}
