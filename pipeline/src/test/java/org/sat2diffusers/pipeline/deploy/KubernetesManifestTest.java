package org.sat2diffusers.pipeline.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.pipeline.Main;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * deploy/kubernetes cannot run here (no cluster), so its manifests are checked for what can go
 * wrong without one: the arguments parse with this command line, the main class and jar are this
 * build's, and the driver gets the options Spark needs on Java 17.
 */
class KubernetesManifestTest {
  private static final Path MANIFEST =
      TestPaths.repoRoot().resolve("deploy/kubernetes/sat2diffusers-sparkapplication.yaml");

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> applicationSpecs() throws IOException {
    List<Map<String, Object>> specs = new ArrayList<>();
    for (Object doc : new Yaml().loadAll(Files.readString(MANIFEST))) {
      Map<String, Object> spec = (Map<String, Object>) ((Map<String, Object>) doc).get("spec");
      specs.add(spec.containsKey("template") ? (Map<String, Object>) spec.get("template") : spec);
    }
    return specs;
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyApplicationRunsThisBuildsMainWithArgumentsItAccepts() throws IOException {
    List<Map<String, Object>> specs = applicationSpecs();
    assertEquals(2, specs.size(), "a SparkApplication and a ScheduledSparkApplication");
    for (Map<String, Object> spec : specs) {
      assertEquals(Main.class.getName(), spec.get("mainClass"));
      assertTrue(spec.get("mainApplicationFile").toString().endsWith("/sat2diffusers-cluster.jar"), spec.toString());
      List<String> args = ((List<Object>) spec.get("arguments")).stream().map(Object::toString).toList();
      CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
      CommandLine.ParseResult convert = parsed.subcommand();
      assertEquals("convert", convert.commandSpec().name());
      assertEquals("spark", convert.matchedOptionValue("--runner", null).toString());
      assertTrue(convert.hasMatchedOption("--source-root") && convert.hasMatchedOption("--output"), args.toString());
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void theDriverGetsSparksJava17Options() throws IOException {
    Map<String, Object> driver = (Map<String, Object>) applicationSpecs().get(0).get("driver");
    String javaOptions = driver.get("javaOptions").toString();
    assertTrue(javaOptions.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"), javaOptions);
  }
}
