package org.sat2diffusers.transforms.plan;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.transforms.model.Fixtures;

/**
 * One conversion of testdata/README.md's table: the expected json, the source files and the options
 * its command line in checks/fixtures.sh sets.
 *
 * @param expected path under testdata/expected
 * @param files .pt paths under testdata/sat, in the order the checkpoint lists them
 * @param options the plan options
 * @param wholeCheckpoint the expected json names every component of the plan (the released layout
 *     splits its components over two expected files)
 */
public record FixtureCase(String expected, List<String> files, PlanOptions options, boolean wholeCheckpoint) {
  public static Stream<FixtureCase> all() {
    String sft = "cogvideox-2b-sft/";
    String lora = "cogvideox-5b-lora/200/mp_rank_00_model_states.pt";
    List<String> release = List.of(
        "cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.pt", "cogvideox-5b-i2v-release/vae/3d-vae.pt");
    PlanOptions keep = PlanOptions.defaults();
    return Stream.of(
        new FixtureCase(sft + "1000.json", List.of(sft + "1000/mp_rank_00_model_states.pt"), keep, true),
        new FixtureCase(sft + "1000.bf16.json", List.of(sft + "1000/mp_rank_00_model_states.pt"),
            keep.withModelDtype(Dtype.BF16), true),
        new FixtureCase(sft + "500.json", List.of(sft + "500/mp_rank_00_model_states.pt"), keep, true),
        new FixtureCase("cogvideox-5b-lora/200.alpha1.json", List.of(lora), keep, true),
        new FixtureCase("cogvideox-5b-lora/200.alpha4.json", List.of(lora), keep.withLoraAlpha(4), true),
        new FixtureCase("cogvideox-5b-i2v-release/transformer.json", release,
            keep.withLearnedPositionEmbedding(true), false),
        new FixtureCase("cogvideox-5b-i2v-release/vae.json", release, keep.withLearnedPositionEmbedding(true), false),
        new FixtureCase("cogvideox1.5-5b-i2v-lora/300.alpha1.json",
            List.of("cogvideox1.5-5b-i2v-lora/300/mp_rank_00_model_states.pt"), keep, true));
  }

  /** The expected outputs: {@code testdata/expected/<expected>}. */
  public JsonNode expectedJson() {
    return Fixtures.readTree(Fixtures.testdata().resolve("expected").resolve(expected));
  }

  /**
   * The tensors of the source files in checkpoint order, as the torch reader indexes them: true file
   * offsets, so that tests can read the bytes.
   */
  public List<SourceTensor> sources() {
    List<SourceTensor> out = new ArrayList<>();
    for (String f : files) {
      String pt = Fixtures.testdata().resolve("sat").resolve(f).toString();
      try (RandomAccessInput in = RandomAccessInputs.open(pt)) {
        new TorchCheckpointReader().index(in).tensors().forEach(t -> out.add(new SourceTensor(pt, t)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return expected;
  }
}
