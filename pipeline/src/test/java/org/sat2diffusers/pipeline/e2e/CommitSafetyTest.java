package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.pipeline.verify.ConvertedFolderCheck;

/**
 * Issue 18, the commit: it moves and deletes only in real folders of the output (a staging or
 * component folder that is a link is refused, the folder it points to untouched); it replaces an
 * output as a whole (components of an older conversion go), but only once it knows it can (an
 * output it cannot write keeps its old, complete contents); a failed commit leaves no staging.
 * After each: the sources byte for byte as before, nothing outside the output changed, and the
 * output verifies or has no {@code _SUCCESS}.
 */
class CommitSafetyTest {
  private static final String STAGING = ".sat2diffusers-staging";

  @TempDir Path work;
  private Path run;
  private Path out;
  private Path victim;

  @BeforeEach
  void copyRun() throws IOException {
    run = TestPaths.copyTree(TestPaths.sat("cogvideox-2b-sft"), work.resolve("runs/cogvideox-2b-sft"));
    victim = TestPaths.copyTree(TestPaths.sat("cogvideox-5b-lora"), work.resolve("victim"));
    out = work.resolve("out");
  }

  @Test
  void aStagingFolderThatIsALinkIsRefusedAndWhatItPointsToIsUntouched() throws IOException {
    Files.createDirectories(out);
    Files.createSymbolicLink(out.resolve(STAGING), victim);
    Map<String, String> before = outside();

    CliRun r = convert();

    assertEquals(1, r.exitCode(), r.err());
    r.assertNoStackTrace();
    assertTrue(r.err().contains(out.resolve(STAGING) + " is a symbolic link"), r.err());
    assertEquals(before, outside(), "files outside the output");
    assertVerifiesOrUncommitted();
    assertFalse(Files.exists(out.resolve("_SUCCESS")));
  }

  @Test
  void aComponentFolderThatIsALinkIsRefusedBeforeTheOldOutputIsTouched() throws IOException {
    convert().assertSucceeded();
    Path marker = out.resolve("_SUCCESS");
    String committed = Files.readString(marker);
    TestPaths.copyTree(out.resolve("vae"), work.resolve("vae-copy"));
    deleteTree(out.resolve("vae"));
    Files.createSymbolicLink(out.resolve("vae"), victim); // e.g. a shared folder linked in by hand
    Map<String, String> before = outside();

    CliRun r = convert("--overwrite");

    assertEquals(1, r.exitCode(), r.err());
    assertTrue(r.err().contains(out.resolve("vae") + " is a symbolic link"), r.err());
    assertEquals(before, outside(), "files outside the output (the linked folder among them)");
    assertEquals(committed, Files.readString(marker), "the old marker: nothing was replaced");
    assertFalse(Files.exists(out.resolve(STAGING), LinkOption.NOFOLLOW_LINKS), "staging left behind");
  }

  @Test
  void componentsOverwriteReplacesTheWholeOutput() throws IOException {
    convert().assertSucceeded();
    Files.writeString(out.resolve("NOTES.txt"), "a user's own file\n");
    assertTrue(Files.exists(out.resolve("text_encoder")) && Files.exists(out.resolve("model_index.json")));
    Map<String, String> before = outside();

    convert("--overwrite", "--components", "transformer").assertSucceeded();

    assertEquals(List.of("NOTES.txt", "_SUCCESS", "conversion_report.json", "transformer"),
        List.copyOf(OutputFolders.entries(out)), "what the transformer-only output holds");
    assertEquals(before, outside(), "files outside the output");
    // the commit never deletes what is not a converter's (an output given as a home folder by mistake
    // loses nothing); verify flags it as a stray file: gone, the output verifies
    Files.delete(out.resolve("NOTES.txt"));
    assertEquals(List.of(), ConvertedFolderCheck.run(out.toString(), ConvertedFolderCheck.DEFAULT_FILE_TIMEOUT).problems());
  }

  @Test
  void anOutputThatCannotBeWrittenKeepsItsOldCompleteContents() throws IOException, InterruptedException {
    convert().assertSucceeded();
    Map<String, String> old = TreeSnapshot.of(out);
    Map<String, String> before = outside();
    Path transformer = out.resolve("transformer");
    assumeTrue(protect(transformer, true), "cannot make a folder unwritable here (needs chattr as root, or non-root)");
    try {
      CliRun r = convert("--overwrite", "--max-shard-size", "500KB"); // a different output: every file changes

      assertEquals(1, r.exitCode(), r.err());
      assertTrue(r.err().contains(transformer + ": cannot write there"), r.err());
    } finally {
      protect(transformer, false);
    }
    assertAll(
        () -> assertEquals(old, TreeSnapshot.of(out), "the old output, byte for byte"),
        () -> assertEquals(before, outside(), "files outside the output"),
        () -> assertEquals(List.of(), ConvertedFolderCheck.run(out.toString(), ConvertedFolderCheck.DEFAULT_FILE_TIMEOUT).problems()));
  }

  private CliRun convert(String... options) {
    List<Object> args = new java.util.ArrayList<>(List.of("convert", "--source", run, "--output", out));
    args.addAll(List.of(options));
    return CliRun.run(args.toArray());
  }

  /** Everything below the work folder but the output: sources, the linked-to folder. */
  private Map<String, String> outside() throws IOException {
    Map<String, String> all = new TreeMap<>(TreeSnapshot.of(work));
    all.keySet().removeIf(k -> k.equals("out") || k.startsWith("out/"));
    return all;
  }

  private void assertVerifiesOrUncommitted() {
    if (Files.exists(out.resolve("_SUCCESS"))) {
      assertEquals(List.of(), ConvertedFolderCheck.run(out.toString(), ConvertedFolderCheck.DEFAULT_FILE_TIMEOUT).problems());
    }
  }

  /** Makes a folder unwritable (immutable as root, read-only otherwise) or writable again; false when it cannot. */
  private static boolean protect(Path folder, boolean on) throws IOException, InterruptedException {
    if ("root".equals(System.getProperty("user.name"))) {
      Process p = new ProcessBuilder("chattr", on ? "+i" : "-i", folder.toString()).redirectErrorStream(true).start();
      return p.waitFor() == 0;
    }
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString(on ? "r-xr-xr-x" : "rwxr-xr-x"));
    return true;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
