package org.sat2diffusers.transforms.convert;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.sat2diffusers.transforms.records.SourcePart;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.transforms.model.Fixtures;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.records.TensorMapping;

/**
 * One conversion of testdata/README.md's table: the expected json, the source files and the settings
 * its command line in checks/fixtures.sh sets.
 *
 * @param expected path under testdata/expected
 * @param files .pt paths under testdata/sat, in the order the checkpoint lists them
 * @param settings the conversion settings
 * @param wholeCheckpoint the expected json names every component of the plan (the released layout
 *     splits its components over two expected files)
 */
public record FixtureCase(String expected, List<String> files, ConversionSettings settings, boolean wholeCheckpoint) {
  public static Stream<FixtureCase> all() {
    String sft = "cogvideox-2b-sft/";
    String lora = "cogvideox-5b-lora/200/mp_rank_00_model_states.pt";
    List<String> release = List.of(
        "cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.pt", "cogvideox-5b-i2v-release/vae/3d-vae.pt");
    ConversionSettings auto = ConversionSettings.defaults();
    return Stream.of(
        new FixtureCase(sft + "1000.json", List.of(sft + "1000/mp_rank_00_model_states.pt"), auto, true),
        new FixtureCase(sft + "1000.bf16.json", List.of(sft + "1000/mp_rank_00_model_states.pt"),
            new ConversionSettings(null, Dtype.BF16, null, 0, "auto", null, List.of()), true),
        new FixtureCase(sft + "500.json", List.of(sft + "500/mp_rank_00_model_states.pt"), auto, true),
        new FixtureCase("cogvideox-5b-lora/200.alpha1.json", List.of(lora),
            new ConversionSettings(null, null, null, 0, "cogvideox-5b", null, List.of()), true),
        new FixtureCase("cogvideox-5b-lora/200.alpha4.json", List.of(lora),
            new ConversionSettings(4.0, null, null, 0, "cogvideox-5b", null, List.of()), true),
        new FixtureCase("cogvideox-5b-i2v-release/transformer.json", release, auto, false),
        new FixtureCase("cogvideox-5b-i2v-release/vae.json", release, auto, false),
        new FixtureCase("cogvideox1.5-5b-i2v-lora/300.alpha1.json",
            List.of("cogvideox1.5-5b-i2v-lora/300/mp_rank_00_model_states.pt"), auto, true));
  }

  /** The expected outputs: {@code testdata/expected/<expected>}. */
  public JsonNode expectedJson() {
    return Fixtures.readTree(Fixtures.testdata().resolve("expected").resolve(expected));
  }

  /** The LoRA alpha the conversion applies (SAT's default 1 unless the settings name one). */
  public double loraAlpha() {
    return settings.loraAlpha() == null ? 1.0 : settings.loraAlpha();
  }

  /** The source files as the torch reader indexes them: true file offsets, so that tests can read the bytes. */
  public List<CheckpointIndex> indexes() {
    List<CheckpointIndex> out = new ArrayList<>();
    for (String f : files) {
      String pt = Fixtures.testdata().resolve("sat").resolve(f).toString();
      try (RandomAccessInput in = RandomAccessInputs.open(pt)) {
        out.add(new TorchCheckpointReader().index(in));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  /** The tensors of the source files in checkpoint order. */
  public List<SourceTensor> sources() {
    List<SourceTensor> out = new ArrayList<>();
    indexes().forEach(index -> index.tensors().forEach(t -> out.add(new SourceTensor(index.path(), t))));
    return out;
  }

  /** What the conversion's planner makes of every key, as a real conversion plans it. */
  public TensorMapping mapping() {
    return CheckpointPlanner.plan(expected, SourcePart.torchFiles(indexes()), settings, Optional.empty()).mapping();
  }

  @Override
  public String toString() {
    return expected;
  }
}
