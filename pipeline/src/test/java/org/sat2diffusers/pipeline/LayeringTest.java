package org.sat2diffusers.pipeline;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The layering of the three modules, checked on their compiled main classes: io ← transforms ←
 * pipeline, the pure conversion logic never sees Beam, the transforms' data records sit at the
 * bottom, and no package depends on itself around a circle (within a module; Maven forbids it
 * between modules).
 */
class LayeringTest {
  private static final String ROOT = "org.sat2diffusers";
  private static final JavaClasses MAIN = new ClassFileImporter()
      .withImportOption(location -> !location.contains("/test-classes/") && !location.contains("-tests.jar"))
      .importPackages(ROOT);

  @Test
  void everyModuleIsOnTheClassPathChecked() {
    for (String module : List.of("io", "transforms", "pipeline")) {
      assertTrue(MAIN.stream().anyMatch(c -> c.getPackageName().startsWith(ROOT + "." + module + ".")), module);
    }
    assertTrue(MAIN.stream().noneMatch(c -> c.getSimpleName().endsWith("Test")), "test classes imported");
  }

  @Test
  void ioUsesNeitherTransformsNorPipeline() {
    noClasses().that().resideInAPackage(ROOT + ".io..")
        .should().dependOnClassesThat().resideInAnyPackage(ROOT + ".transforms..", ROOT + ".pipeline..")
        .check(MAIN);
  }

  @Test
  void transformsUsesNeitherPipelineNorBeam() {
    noClasses().that().resideInAPackage(ROOT + ".transforms..")
        .should().dependOnClassesThat().resideInAnyPackage(ROOT + ".pipeline..", "org.apache.beam..")
        .check(MAIN);
  }

  @Test
  void theTransformsRecordsUseNothingElseOfTransforms() {
    noClasses().that().resideInAPackage(ROOT + ".transforms.records..")
        .should().dependOnClassesThat(
            DescribedPredicate.describe("transforms outside records",
                (JavaClass c) -> c.getPackageName().startsWith(ROOT + ".transforms")
                    && !c.getPackageName().startsWith(ROOT + ".transforms.records")))
        .check(MAIN);
  }

  @Test
  void noPackageDependsOnItselfAroundACircle() {
    slices().matching(ROOT + ".(**)").should().beFreeOfCycles().check(MAIN);
  }
}
