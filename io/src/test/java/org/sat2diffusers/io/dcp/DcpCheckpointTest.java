package org.sat2diffusers.io.dcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sat2diffusers.io.dcp.DcpException.Problem;
import org.sat2diffusers.io.torch.RecipeDigests;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.Fixtures;
import org.sat2diffusers.io.torch.TensorRecipe;

class DcpCheckpointTest {
  private static final Path DCP = Fixtures.testdata().resolve("training/dcp");
  private static final Path EXPECTED = Fixtures.testdata().resolve("training/expected/dcp");

  @ParameterizedTest
  @ValueSource(strings = {"cogkit-t2v-sft", "fsdp2-t2v-lora-2ranks"})
  void modelTensorsAreWhatDcpSaved(String name) throws Exception {
    DcpCheckpoint checkpoint = DcpCheckpoint.open(DCP.resolve(name).resolve("checkpoint-3").toString());
    assertEquals(
        RecipeDigests.expected(EXPECTED.resolve(name).resolve("checkpoint-3.json")),
        RecipeDigests.actual(checkpoint.recipes("app.model.")));
  }

  @Test
  void twoRankChunksAreReadFromBothFiles() throws Exception {
    DcpCheckpoint checkpoint = DcpCheckpoint.open(DCP.resolve("fsdp2-t2v-lora-2ranks/checkpoint-3").toString());
    DcpCheckpoint.DcpTensor loraA = checkpoint.tensors().stream()
        .filter(t -> t.key().equals("app.model.transformer_blocks.0.attn1.to_q.lora_A.weight")).findFirst().orElseThrow();
    assertEquals(Dtype.BF16, loraA.dtype());
    assertEquals(List.of(5L, 16L), loraA.shape());
    assertEquals(List.of(List.of(3L, 16L), List.of(2L, 16L)), loraA.chunks().stream().map(DcpCheckpoint.Chunk::sizes).toList());
    TensorRecipe recipe = checkpoint.recipes("app.model.transformer_blocks.0.attn1.to_q.lora_A.weight").get(0);
    assertEquals(2, recipe.files().size());
  }

  @Test
  void aMissingDistcpFileIsAnErrorNamingIt(@TempDir Path tmp) throws Exception {
    Path folder = tmp.resolve("checkpoint-3");
    Files.createDirectories(folder);
    Path source = DCP.resolve("fsdp2-t2v-lora-2ranks/checkpoint-3");
    Files.copy(source.resolve(".metadata"), folder.resolve(".metadata"));
    Files.copy(source.resolve("__0_0.distcp"), folder.resolve("__0_0.distcp"));
    DcpCheckpoint checkpoint = DcpCheckpoint.open(folder.toString());
    DcpException e = assertThrows(DcpException.class, () -> checkpoint.recipes("app.model."));
    assertEquals(Problem.MISSING_DATA, e.problem());
    assertEquals(folder.resolve("__1_0.distcp").toString(), e.file());
  }

  @Test
  void aCutShortDistcpFileIsAnErrorNamingIt(@TempDir Path tmp) throws Exception {
    Path folder = tmp.resolve("checkpoint-3");
    Files.createDirectories(folder);
    Path source = DCP.resolve("cogkit-t2v-sft/checkpoint-3");
    Files.copy(source.resolve(".metadata"), folder.resolve(".metadata"));
    byte[] data = Files.readAllBytes(source.resolve("__0_0.distcp"));
    Files.write(folder.resolve("__0_0.distcp"), java.util.Arrays.copyOf(data, data.length / 2));
    DcpException e = assertThrows(DcpException.class, () -> DcpCheckpoint.open(folder.toString()).recipes("app."));
    assertEquals(Problem.MISSING_DATA, e.problem());
    assertEquals(folder.resolve("__0_0.distcp").toString(), e.file());
  }

  @Test
  void aFolderWithoutMetadataIsNotACheckpoint(@TempDir Path tmp) {
    DcpException e = assertThrows(DcpException.class, () -> DcpCheckpoint.open(tmp.toString()));
    assertEquals(Problem.NOT_A_DCP_CHECKPOINT, e.problem());
    assertTrue(e.getMessage().contains(".metadata"));
  }

  @Test
  void aMetadataNamingAnotherClassIsRefused(@TempDir Path tmp) throws Exception {
    // the same .metadata with its pathlib PosixPath renamed to a class off the allowlist (same length)
    byte[] data = Files.readAllBytes(DCP.resolve("cogkit-t2v-sft/checkpoint-3/.metadata"));
    String latin1 = new String(data, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertTrue(latin1.contains("PosixPath"));
    Files.write(tmp.resolve(".metadata"), latin1.replace("PosixPath", "Evil_Path").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    DcpException e = assertThrows(DcpException.class, () -> DcpCheckpoint.open(tmp.toString()));
    assertEquals(Problem.MALFORMED_METADATA, e.problem());
    assertTrue(e.getMessage().contains("Evil_Path is not a torch.distributed.checkpoint metadata class"), e.getMessage());
  }
}
