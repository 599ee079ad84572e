package org.sat2diffusers.pipeline.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * The conversions of the shared fixtures, with the command lines /work/shared/checks/fixtures.sh
 * uses (the command-line contract of issue "Conversion") and what each must produce.
 */
enum FixtureConversion {
  SFT_LATEST("cogvideox-2b-sft", List.of(), "1000", false, "1000.json"),
  SFT_BF16("cogvideox-2b-sft", List.of("--dtype", "bf16"), "1000", false, "1000.bf16.json"),
  SFT_ITERATION_500("cogvideox-2b-sft/500", List.of(), "500", false, "500.json"),
  LORA_ALPHA1("cogvideox-5b-lora", List.of("--model", "cogvideox-5b"), "200", false, "200.alpha1.json"),
  LORA_ALPHA4("cogvideox-5b-lora", List.of("--model", "cogvideox-5b", "--lora-alpha", "4"), "200", false, "200.alpha4.json"),
  I2V_RELEASE("cogvideox-5b-i2v-release", List.of(), "1", true, "transformer.json", "vae.json"),
  V15_I2V_LORA("cogvideox1.5-5b-i2v-lora", List.of(), "300", true, "300.alpha1.json");

  /** The --source, relative to testdata/sat/. */
  final String source;
  final List<String> options;
  final String iteration;
  final boolean imageToVideo;
  private final List<String> manifests;

  FixtureConversion(String source, List<String> options, String iteration, boolean imageToVideo, String... manifests) {
    this.source = source;
    this.options = options;
    this.iteration = iteration;
    this.imageToVideo = imageToVideo;
    this.manifests = List.of(manifests);
  }

  /** The fixture folder: the first part of the source. */
  String fixture() {
    return source.split("/")[0];
  }

  /** The expected tensors, {@code testdata/expected/<fixture>/<case>.json}. */
  List<Path> manifests() {
    return manifests.stream().map(m -> TestPaths.expected(fixture()).resolve(m)).toList();
  }

  /** The torch-side descriptions of the checkpoint's .pt files, {@code testdata/expected/source/...json}. */
  List<Path> sourceManifests() {
    return switch (this) {
      case I2V_RELEASE -> List.of(
          TestPaths.expected("source/cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.json"),
          TestPaths.expected("source/cogvideox-5b-i2v-release/vae/3d-vae.json"));
      default -> List.of(TestPaths.expected("source/" + fixture() + "/" + iteration + "/mp_rank_00_model_states.json"));
    };
  }

  /** The convert command line writing to {@code output}. */
  Object[] arguments(Path output) {
    List<Object> args = new ArrayList<>(List.of("convert", "--source", TestPaths.sat(source), "--output", output));
    args.addAll(options);
    return args.toArray();
  }

  String pipelineClass() {
    return imageToVideo ? "CogVideoXImageToVideoPipeline" : "CogVideoXPipeline";
  }
}
