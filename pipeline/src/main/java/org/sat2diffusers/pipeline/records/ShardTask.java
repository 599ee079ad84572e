package org.sat2diffusers.pipeline.records;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * One safetensors file to write: its path in the checkpoint's staging folder, header metadata, and
 * the recipes of its tensors. A shard writer needs nothing else: it range-reads the sources itself.
 */
public record ShardTask(String checkpointId, String path, Map<String, String> metadata, List<OutputTensor> tensors) {
  static final Schema SCHEMA =
      SchemaBuilder.record("ShardTask")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("checkpointId")
          .requiredString("path")
          .name("metadata").type().map().values().stringType().noDefault()
          .name("tensors").type().array().items(OutputTensorAvro.SCHEMA).noDefault()
          .endRecord();

  public ShardTask {
    // sorted: the header's bytes must not depend on a map's iteration order (Map.copyOf's changes per JVM)
    metadata = Collections.unmodifiableMap(new TreeMap<>(metadata));
    tensors = List.copyOf(tensors);
  }

  public static Coder<ShardTask> coder() {
    return AvroRecordCoder.of(SCHEMA, ShardTask::toAvro, ShardTask::fromAvro);
  }

  private static GenericRecord toAvro(ShardTask s) {
    GenericRecord r = new GenericData.Record(SCHEMA);
    r.put("checkpointId", s.checkpointId());
    r.put("path", s.path());
    r.put("metadata", s.metadata());
    List<GenericRecord> tensors = new ArrayList<>(s.tensors().size());
    for (OutputTensor t : s.tensors()) {
      tensors.add(OutputTensorAvro.toAvro(t));
    }
    r.put("tensors", tensors);
    return r;
  }

  private static ShardTask fromAvro(GenericRecord r) {
    List<OutputTensor> tensors = new ArrayList<>();
    for (GenericRecord t : AvroFields.records(r, "tensors")) {
      tensors.add(OutputTensorAvro.fromAvro(t));
    }
    return new ShardTask(
        AvroFields.string(r, "checkpointId"),
        AvroFields.string(r, "path"),
        AvroFields.stringMap(r, "metadata"),
        tensors);
  }
}
