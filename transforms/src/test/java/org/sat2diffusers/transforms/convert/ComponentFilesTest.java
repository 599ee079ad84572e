package org.sat2diffusers.transforms.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.transforms.model.Fixtures;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.UndecidableModelException;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.SourcePart;

/**
 * Issue 15, component files: a checkpoint holding a VAE and no transformer (the released
 * {@code 3d-vae.pt}, testdata/training/components) is planned as its VAE folder alone, with the family
 * --model names; and a {@code --vae} file joins a transformer checkpoint only when each holds what it
 * should ({@link SeparateVae}). Plans the real fixture files as the torch reader indexes them.
 */
class ComponentFilesTest {
  private static final String VAE = "training/components/3d-vae.pt";
  private static final String TRANSFORMER = "training/components/transformer.pt";
  private static final String RELEASED_VAE = "sat/cogvideox-5b-i2v-release/vae/3d-vae.pt";
  private static final String SFT = "sat/cogvideox-2b-sft/1000/mp_rank_00_model_states.pt";

  @Test
  void aVaeFileAloneIsPlannedAsItsVaeFolderOnly() {
    CheckpointPlan plan = CheckpointPlanner.plan(VAE, indexes(VAE), settings("cogvideox-2b", List.of()), Optional.empty());

    assertEquals(List.of(Component.VAE), plan.mapping().components());
    assertEquals(ModelFamily.COGVIDEOX_2B, plan.detection().family());
    assertEquals(List.of("vae"), plan.componentFolders(), "no scheduler/: the pipeline-level files are the base model's");
    assertEquals(List.of("vae/config.json"), List.copyOf(plan.smallFiles().keySet()), "no model_index.json");
    assertTrue(plan.smallFiles().get("vae/config.json").contains("\"scaling_factor\": 1.15258426"),
        "the VAE's scaling factor is the family's: " + plan.smallFiles().get("vae/config.json"));
  }

  @Test
  void aVaeFileAloneWithoutAFamilyAsksForModel() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointPlanner.plan(VAE, indexes(VAE), settings("auto", List.of()), Optional.empty()));
    assertTrue(e.getCause() instanceof UndecidableModelException, String.valueOf(e.getCause()));

    assertTrue(e.getMessage().startsWith(VAE + ": no transformer, only vae"), e.getMessage());
    assertTrue(e.getMessage().contains("--model " + ModelFamily.cliNames()), e.getMessage());
  }

  @Test
  void askingAVaeFileForItsTransformerIsAnError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CheckpointPlanner.plan(
        VAE, indexes(VAE), settings("cogvideox-2b", List.of(Component.TRANSFORMER, Component.VAE)), Optional.empty()));

    assertEquals(VAE + ": --components transformer,vae asks for a transformer, but the checkpoint holds none (it"
        + " holds vae)", e.getMessage());
  }

  @Test
  void aTransformerWithASeparateVaeIsOnePipeline() {
    List<SourcePart> files = indexes(TRANSFORMER, VAE);
    SeparateVae.check(TRANSFORMER, path(VAE), files);
    CheckpointPlan plan = CheckpointPlanner.plan(TRANSFORMER, files, ConversionSettings.defaults(), Optional.empty());

    assertEquals(List.of(Component.TRANSFORMER, Component.VAE), plan.mapping().components());
    assertTrue(plan.smallFiles().containsKey("model_index.json"), plan.smallFiles().keySet().toString());
  }

  @Test
  void aVaeFileHoldingATransformerIsRefused() {
    List<SourcePart> files = indexes(TRANSFORMER, SFT);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SeparateVae.check(TRANSFORMER, path(SFT), files));

    assertTrue(e.getMessage().startsWith("--vae " + path(SFT) + " holds more than a VAE: "), e.getMessage());
    assertTrue(e.getMessage().contains("(transformer)"), e.getMessage());

    IllegalArgumentException noVae = assertThrows(IllegalArgumentException.class,
        () -> SeparateVae.check(VAE, path(TRANSFORMER), indexes(VAE, TRANSFORMER)));
    assertTrue(noVae.getMessage().startsWith("--vae " + path(TRANSFORMER) + " holds no VAE: 53 of its tensors are"
        + " not a VAE's, e.g. 'model.diffusion_model."), noVae.getMessage());
  }

  @Test
  void aSourceWithoutATransformerOrWithAVaeOfItsOwnIsRefused() {
    IllegalArgumentException vaeAsSource = assertThrows(IllegalArgumentException.class,
        () -> SeparateVae.check(VAE, path(RELEASED_VAE), indexes(VAE, RELEASED_VAE)));
    assertEquals(VAE + " holds no transformer (only vae): --vae " + path(RELEASED_VAE) + " is converted with the"
        + " transformer of the source, so the source must be a transformer checkpoint", vaeAsSource.getMessage());

    IllegalArgumentException twoVaes = assertThrows(IllegalArgumentException.class,
        () -> SeparateVae.check(SFT, path(VAE), indexes(SFT, VAE)));
    assertTrue(twoVaes.getMessage().startsWith(SFT + " holds a VAE of its own"), twoVaes.getMessage());
  }

  private static ConversionSettings settings(String model, List<Component> components) {
    return new ConversionSettings(null, null, null, 0, model, null, components);
  }

  private static String path(String relative) {
    return Fixtures.testdata().resolve(relative).toString();
  }

  private static List<SourcePart> indexes(String... relative) {
    List<SourcePart> out = new ArrayList<>();
    for (String f : relative) {
      try (RandomAccessInput in = RandomAccessInputs.open(path(f))) {
        out.add(SourcePart.torchFile(new TorchCheckpointReader().index(in)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }
}
