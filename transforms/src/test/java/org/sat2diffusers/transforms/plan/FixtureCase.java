package org.sat2diffusers.transforms.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.sat2diffusers.io.dtype.Dtype;

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

  public List<SourceTensor> sources(boolean realStorage) {
    List<SourceTensor> out = new ArrayList<>();
    files.forEach(f -> out.addAll(FixtureSources.load(f, realStorage)));
    return out;
  }

  @Override
  public String toString() {
    return expected;
  }
}
