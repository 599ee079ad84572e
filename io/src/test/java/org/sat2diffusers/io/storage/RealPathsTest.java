package org.sat2diffusers.io.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RealPathsTest {
  @TempDir Path dir;

  @Test
  void linksAndDotDotResolveToOnePlace() throws IOException {
    Path real = Files.createDirectories(dir.resolve("a/b")).toRealPath();
    Path link = Files.createSymbolicLink(dir.resolve("l"), real);
    assertEquals(real.toString(), RealPaths.of(link.toString()));
    assertEquals(real.resolve("new/x").toString(), RealPaths.of(link + "/new/x"));
    // l/.. is the parent of the link's target (a), not dir: as the kernel sees it
    assertEquals(real.getParent().toString(), RealPaths.of(link + "/.."));
    assertEquals(real.toString(), RealPaths.of(dir + "/a/../a/./b"));
  }

  @Test
  void aLinkLoopIsAnError() throws IOException {
    Files.createSymbolicLink(dir.resolve("x"), dir.resolve("y"));
    Files.createSymbolicLink(dir.resolve("y"), dir.resolve("x"));
    IOException e = assertThrows(IOException.class, () -> RealPaths.of(dir + "/x/out"));
    assertTrue(e.getMessage().contains("too many symbolic links"), e.getMessage());
  }

  @Test
  void objectStoreKeysAreNormalized() throws IOException {
    assertEquals("s3://bucket/run/out", RealPaths.of("s3://bucket/run//x/../out/"));
    assertTrue(RealPaths.contains("s3://bucket/run", RealPaths.of("s3://bucket/run/../run/1000")));
    assertFalse(RealPaths.contains("s3://bucket/run", "s3://bucket/run2"));
  }
}
