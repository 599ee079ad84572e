package org.sat2diffusers.pipeline.write;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.convert.FixtureCase;
import org.sat2diffusers.transforms.records.OutputTensor;

/** The parallel local writer gives the same file and checksums as the streaming one, on every fixture. */
class ShardFileWriterTest {
  private static final Map<String, String> METADATA = Map.of("source", "fixture");

  @TempDir Path dir;

  static Stream<FixtureCase> cases() {
    return FixtureCase.all();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void localParallelWriteEqualsTheStreamedFile(FixtureCase c) throws IOException {
    TensorMapping plan = c.mapping();
    for (Component component : plan.components()) {
      List<OutputTensor> tensors = plan.outputs(component);
      Path streamed = dir.resolve(component.folder() + "-streamed.safetensors");
      ShardFileWriter.Written expected;
      try (SeekableByteChannel out = Files.newByteChannel(streamed, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        expected = ShardFileWriter.write(streamed.toString(), tensors, METADATA, RandomAccessInputs::open, out,
            Digest.SHA256);
      }
      Path local = dir.resolve("nested/" + component.folder() + "/local.safetensors");
      ShardFileWriter.Written written =
          ShardFileWriter.writeLocal(local, tensors, METADATA, RandomAccessInputs::open, 3, Digest.SHA256);

      byte[] bytes = Files.readAllBytes(local);
      assertArrayEquals(Files.readAllBytes(streamed), bytes, c + " " + component.folder());
      long dataStart = 8 + ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      assertEquals(sha256(Arrays.copyOf(bytes, (int) dataStart)), written.headerDigest());
      try (RandomAccessInput in = RandomAccessInputs.open(local.toString())) {
        SafetensorsFile file = SafetensorsFile.open(in);
        for (SafetensorsEntry e : file.entries()) {
          assertEquals(sha256(file.readTensor(e.name())), written.tensorDigests().get(e.name()), e.name());
        }
      }
      assertEquals(expected, written);
      assertEquals(tensors.size(), written.tensorDigests().size());
    }
  }

  @Test
  void aFailingTensorFailsTheShardNamingTheSource() throws IOException {
    FixtureCase c = FixtureCase.all().findFirst().orElseThrow();
    TensorMapping plan = c.mapping();
    List<OutputTensor> tensors = plan.outputs(plan.components().get(0));
    OutputTensor first = tensors.get(0);
    ByteRange range = first.sources().get(0);
    ByteRange beyondTheEnd = new ByteRange(range.file(), Files.size(Path.of(range.file())), range.length());
    OutputTensor broken = new OutputTensor(first.component(), first.name(), first.dtype(), first.shape(), first.sourceDtype(),
        List.of(beyondTheEnd), first.lora(), first.sourceKeys());
    List<OutputTensor> withBroken = Stream.concat(Stream.of(broken), tensors.stream().skip(1)).toList();

    IOException e = assertThrows(IOException.class, () -> ShardFileWriter.writeLocal(
        dir.resolve("broken.safetensors"), withBroken, METADATA, RandomAccessInputs::open, 2, Digest.CRC32C));
    assertTrue(e.getMessage().contains(range.file()), e.getMessage());
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
