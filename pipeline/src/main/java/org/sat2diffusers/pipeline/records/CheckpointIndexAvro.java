package org.sat2diffusers.pipeline.records;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecord;

/** Avro form of one indexed checkpoint file (zip directory + data.pkl only: no tensor bytes). */
public final class CheckpointIndexAvro {
  static final Schema SCHEMA =
      SchemaBuilder.record("CheckpointIndex")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("path")
          .optionalString("wrapperKey")
          .name("tensors").type().array().items(TensorRecordAvro.SCHEMA).noDefault()
          .name("otherItems").type().map().values().stringType().noDefault()
          .endRecord();

  private CheckpointIndexAvro() {}

  public static Coder<CheckpointIndex> coder() {
    return AvroRecordCoder.of(SCHEMA, CheckpointIndexAvro::toAvro, CheckpointIndexAvro::fromAvro);
  }

  static GenericRecord toAvro(CheckpointIndex f) {
    GenericRecord r = new GenericData.Record(SCHEMA);
    r.put("path", f.path());
    r.put("wrapperKey", f.wrapperKey());
    List<GenericRecord> tensors = new ArrayList<>(f.tensors().size());
    for (TensorRecord t : f.tensors()) {
      tensors.add(TensorRecordAvro.toAvro(t));
    }
    r.put("tensors", tensors);
    r.put("otherItems", f.otherItems());
    return r;
  }

  static CheckpointIndex fromAvro(GenericRecord r) {
    List<TensorRecord> tensors = new ArrayList<>();
    for (GenericRecord t : AvroFields.records(r, "tensors")) {
      tensors.add(TensorRecordAvro.fromAvro(t));
    }
    return new CheckpointIndex(AvroFields.string(r, "path"), AvroFields.string(r, "wrapperKey"), tensors,
        AvroFields.stringMap(r, "otherItems"));
  }
}
