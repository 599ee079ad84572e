package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/**
 * The converter's version, from a resource Maven fills in at build time: the same whether the code
 * runs from the jar or from class folders (it is recorded in every commit marker).
 */
public final class Version implements CommandLine.IVersionProvider {
  private static final String VERSION = load();

  public static String current() {
    return VERSION;
  }

  @Override
  public String[] getVersion() {
    return new String[] {"sat2diffusers " + current()};
  }

  private static String load() {
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException | NullPointerException e) {
      throw new UncheckedIOException("the build left out version.properties", new IOException(e));
    }
  }
}
