package org.sat2diffusers.pipeline.write;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.pipeline.storage.StorageOptions;

class ShardFilesTest {
  @BeforeAll
  static void storesAsTheCommandLineRegistersThem() {
    FileSystems.setDefaultPipelineOptions(new StorageOptions().applyTo(PipelineOptionsFactory.create()));
  }

  @Test
  void shardsOnLocalDisksAndS3AreWrittenByThreadsOfTheirOwnOtherStoresByOneStream() {
    assertTrue(ShardFiles.writesInParallel("/data/out"));
    assertTrue(ShardFiles.writesInParallel("file:///data/out"));
    assertTrue(ShardFiles.writesInParallel("s3://bucket/out"));
    assertFalse(ShardFiles.writesInParallel("hdfs://namenode:8020/out"));
  }
}
