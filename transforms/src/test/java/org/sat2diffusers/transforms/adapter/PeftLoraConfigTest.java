package org.sat2diffusers.transforms.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PeftLoraConfigTest {
  private static final List<String> TARGETS = List.of("to_q", "to_k", "to_v", "to_out.0");

  /** Byte for byte what Python's json.dumps(fields, indent=2, sort_keys=True) gives (made with /usr/bin/python3). */
  private static final String PYTHON_DUMPS = "{\n  \"transformer.alpha_pattern\": {},\n  \"transformer.bias\": \"none\",\n"
      + "  \"transformer.fan_in_fan_out\": false,\n  \"transformer.init_lora_weights\": true,\n"
      + "  \"transformer.lora_alpha\": 1,\n  \"transformer.lora_dropout\": 0.0,\n  \"transformer.r\": 4,\n"
      + "  \"transformer.rank_pattern\": {\n    \"transformer_blocks\\\\.3\\\\.attn1\\\\.to_q\": 8\n  },\n"
      + "  \"transformer.target_modules\": [\n    \"to_k\",\n    \"to_out.0\",\n    \"to_q\",\n    \"to_v\"\n  ],\n"
      + "  \"transformer.use_dora\": false,\n  \"transformer.use_rslora\": false\n}";

  private static Map<String, Integer> ranks() {
    Map<String, Integer> ranks = new LinkedHashMap<>();
    for (int i = 0; i < 4; i++) {
      for (String t : TARGETS) {
        ranks.put("transformer_blocks." + i + ".attn1." + t, i == 3 && t.equals("to_q") ? 8 : 4);
      }
    }
    return ranks;
  }

  @Test
  void metadataIsWrittenAsDiffusersWritesIt() {
    PeftLoraConfig config = PeftLoraConfig.forSatModules(ranks(), 1.0, false, TARGETS);
    assertEquals(PYTHON_DUMPS, config.adapterMetadata("transformer"));
  }

  @Test
  void peftScaleIsSatScaleForEveryModuleAndReadsBack() {
    PeftLoraConfig config = PeftLoraConfig.forSatModules(ranks(), 2.0, false, TARGETS);
    PeftLoraConfig read = PeftLoraConfig.fromAdapterMetadata(config.adapterMetadata("transformer"), "transformer", "f");
    ranks().forEach((module, rank) -> {
      assertEquals(rank, read.rank(module), module);
      assertEquals(2.0 / rank, read.scale(module, read.rank(module)), module);
    });
    assertEquals(4, read.rank("transformer_blocks.13.attn1.to_q"), "a pattern matches whole dotted names only");
  }

  @Test
  void foldedScaleGivesScaleOneEverywhere() {
    PeftLoraConfig config = PeftLoraConfig.forSatModules(ranks(), 1.0, true, TARGETS);
    PeftLoraConfig read = PeftLoraConfig.fromAdapterMetadata(config.adapterMetadata("transformer"), "transformer", "f");
    ranks().forEach((module, rank) -> assertEquals(1.0, read.scale(module, read.rank(module)), module));
  }

  @Test
  void adapterConfigWithRsloraAndUnprefixedMetadataAreRead() {
    PeftLoraConfig rs = PeftLoraConfig.fromAdapterConfig("{\"r\": 16, \"lora_alpha\": 8, \"use_rslora\": true}", "c");
    assertEquals(2.0, rs.scale("to_q", 16));
    PeftLoraConfig plain = PeftLoraConfig.fromAdapterMetadata("{\"r\": 8, \"lora_alpha\": 4}", "transformer", "f");
    assertEquals(0.5, plain.scale("x", plain.rank("x")));
  }

  @Test
  void doraAndMissingAlphaAreRefusedNamingTheFile() {
    IllegalArgumentException dora = assertThrows(IllegalArgumentException.class, () ->
        PeftLoraConfig.fromAdapterConfig("{\"r\": 4, \"lora_alpha\": 4, \"use_dora\": true}", "/x/adapter_config.json"));
    assertTrue(dora.getMessage().contains("/x/adapter_config.json") && dora.getMessage().contains("DoRA"));
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () ->
        PeftLoraConfig.fromAdapterMetadata("{\"transformer.r\": 4}", "transformer", "/x/l.safetensors"));
    assertTrue(missing.getMessage().contains("lora_alpha"));
  }
}
