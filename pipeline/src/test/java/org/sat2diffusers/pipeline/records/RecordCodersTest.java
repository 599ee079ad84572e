package org.sat2diffusers.pipeline.records;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.util.CoderUtils;
import org.sat2diffusers.io.sat.RecipeFolder;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.transforms.convert.Weights;
import org.sat2diffusers.transforms.records.KeyNames;
import org.sat2diffusers.transforms.records.SourcePart;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.config.BasePipeline;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.convert.UnknownKeys;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.LoraDelta;
import org.sat2diffusers.transforms.records.OutputTensor;

class RecordCodersTest {
  private static <T> T roundTrip(Coder<T> coder, T value) throws Exception {
    return CoderUtils.decodeFromByteArray(coder, CoderUtils.encodeToByteArray(coder, value));
  }

  @Test
  void checkpointIndexSurvivesTheShuffle() throws Exception {
    TensorRecord shared =
        new TensorRecord("t.shared.weight", Dtype.BF16, List.of(40L, 12L), List.of(12L, 1L), "3", 0, 4096, 960,
            List.of("t.encoder.embed_tokens.weight"));
    TensorRecord scalar = new TensorRecord("s", Dtype.F32, List.of(), List.of(), "7", 2, 128, 16, List.of());
    CheckpointIndex file = new CheckpointIndex("s3://bucket/run/1000/mp_rank_00_model_states.pt", "module",
        List.of(shared, scalar), Map.of("iteration", "long 1000"));
    assertEquals(file, roundTrip(CheckpointIndexAvro.coder(), file));
    CheckpointIndex bare = new CheckpointIndex("vae/3d-vae.pt", null, List.of(scalar), Map.of());
    assertEquals(bare, roundTrip(CheckpointIndexAvro.coder(), bare));
  }

  @Test
  void shardTaskKeepsRecipesWithAndWithoutLoraAndScale() throws Exception {
    ByteRange w = new ByteRange("/a.pt", 1024, 512);
    LoraDelta lora =
        new LoraDelta(Dtype.BF16, List.of(List.of(new ByteRange("/a.pt", 64, 16), new ByteRange("/b.pt", 64, 16))),
            List.of(List.of(new ByteRange("/a.pt", 96, 32))), 4, 16, 16, 1.0, 0.25f);
    OutputTensor merged =
        new OutputTensor(Component.TRANSFORMER, "transformer_blocks.0.attn1.to_q.weight", Dtype.BF16,
            List.of(16L, 16L), Dtype.BF16, List.of(w), lora, List.of("k.original.weight", "k.matrix_A.0"));
    OutputTensor cast =
        new OutputTensor(Component.VAE, "decoder.conv_in.bias", Dtype.F16, List.of(8L), Dtype.F32,
            List.of(new ByteRange("/v.pt", 0, 32)), null, List.of("decoder.conv_in.bias"));
    OutputTensor foldedB =
        new OutputTensor(Component.TRANSFORMER, "transformer.transformer_blocks.0.attn1.to_q.lora_B.weight",
            Dtype.BF16, List.of(16L, 4L), Dtype.BF16, List.of(new ByteRange("/a.pt", 96, 128)), null,
            List.of("k.matrix_B.0"), 0.25f);
    ShardTask task = new ShardTask("ckpt-1", "/out/.tmp/transformer/x.safetensors", Map.of("format", "pt"),
        List.of(merged, cast, foldedB));
    assertEquals(task, roundTrip(ShardTask.coder(), task));
  }

  /** The header metadata's order is the header's bytes: sorted by key, whatever map it came in and through the shuffle. */
  @Test
  void shardTaskMetadataIsInKeyOrder() throws Exception {
    ShardTask task = new ShardTask("ckpt-1", "/out/.tmp/transformer/pytorch_lora_weights.safetensors",
        Map.of("sat2diffusers", "{}", "lora_adapter_metadata", "{}", "a", "1"), List.of());
    List<String> sorted = List.of("a", "lora_adapter_metadata", "sat2diffusers");
    assertEquals(sorted, List.copyOf(task.metadata().keySet()));
    assertEquals(sorted, List.copyOf(roundTrip(ShardTask.coder(), task).metadata().keySet()));
  }

  @Test
  void shardResultKeepsChecksums() throws Exception {
    ShardResult result = new ShardResult("ckpt-1", "/out/x.safetensors", 4242, "crc32c", "ab12",
        Map.of("a", "cd34", "b", "ef56"), Map.of("b", "1,0"), "Java (sat2diffusers kernel; asked for)");
    assertEquals(result, roundTrip(ShardResult.coder(), result));
  }

  @Test
  void checkpointJobKeepsItsSettingsAndWhatTheDriverRead() throws Exception {
    ConversionSettings settings = new ConversionSettings(4.0, Dtype.BF16, Dtype.F16, 5_000_000_000L, "cogvideox-5b",
        "model: {}\n", List.of(Component.TRANSFORMER, Component.VAE), UnknownKeys.KEEP,
        new BasePipeline("s3://b/base", true, "{\"tokenizer\": [\"transformers\", \"T5Tokenizer\"]}",
            List.of("tokenizer")), LoraMode.BOTH, true, true, true, Digest.SHA256, Weights.FP32_MASTER);
    CheckpointJob job = new CheckpointJob("/out/run/200", "/runs/run", "200",
        List.of("/runs/run/200/mp_rank_00_model_states.pt", "/runs/run/200/mp_rank_01_model_states.pt"),
        "/out/run/200", settings, "/runs/run", "{\"variant\": \"cogvideox-5b\"}")
        .withVae("/runs/vae/3d-vae.pt")
        .withFingerprints(List.of(new FileFingerprint("/runs/run/200/mp_rank_00_model_states.pt", 10, 20, null),
                new FileFingerprint("/runs/run/200/mp_rank_01_model_states.pt", 11, 21, "etag")),
            List.of(new FileFingerprint("s3://b/base/model_index.json", 1, 2, "e")))
        .withRecipeFolders(List.of(new RecipeFolder(RecipeFolder.Kind.DEEPSPEED_ZERO, "/runs/run/200")));
    assertEquals(job, roundTrip(CheckpointJob.coder(), job));

    CheckpointJob plain = new CheckpointJob("o", "s", "1", List.of("f.pt"), "o", ConversionSettings.defaults(), "r", null);
    assertEquals(plain, roundTrip(CheckpointJob.coder(), plain));
  }

  @Test
  void sourcePartKeepsATorchIndexOrRecipes() throws Exception {
    CheckpointIndex index = new CheckpointIndex("/r/1/mp_rank_00_model_states.pt", "module",
        List.of(new TensorRecord("model.diffusion_model.w", Dtype.BF16, List.of(2L, 3L), List.of(3L, 1L), "0", 2, 640,
            16, List.of())), Map.of("iteration", "long 1"));
    SourcePart torchFile = SourcePart.torchFile(index);
    assertEquals(torchFile, roundTrip(SourcePartAvro.coder(), torchFile));
    SourcePart recipes = SourcePart.recipes("/r/global_step3", List.of(
        new TensorRecipe("transformer_blocks.0.w", Dtype.F32, List.of(2L, 2L),
            List.of(new ByteRange("/r/global_step3/a.pt", 64, 8), new ByteRange("/r/global_step3/b.pt", 128, 8))),
        new TensorRecipe("transformer_blocks.0.empty", Dtype.F32, List.of(0L), List.of())));
    assertEquals(KeyNames.DIFFUSERS_TRANSFORMER, recipes.names());
    assertEquals(recipes, roundTrip(SourcePartAvro.coder(), recipes));
  }
}
