package org.sat2diffusers.pipeline.records;

import static org.sat2diffusers.pipeline.records.AvroFields.longValue;
import static org.sat2diffusers.pipeline.records.AvroFields.longs;
import static org.sat2diffusers.pipeline.records.AvroFields.string;
import static org.sat2diffusers.pipeline.records.AvroFields.strings;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.torch.TensorRecord;

/** Avro form of a source tensor descriptor (no bytes: key, dtype, shape, where its storage lies). */
final class TensorRecordAvro {
  static final Schema SCHEMA =
      SchemaBuilder.record("TensorRecord")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("key")
          .requiredString("dtype")
          .name("shape").type().array().items().longType().noDefault()
          .name("stride").type().array().items().longType().noDefault()
          .requiredString("storageKey")
          .requiredLong("storageOffset")
          .requiredLong("storageFileOffset")
          .requiredLong("storageBytes")
          .name("sharedWith").type().array().items().stringType().noDefault()
          .endRecord();

  private TensorRecordAvro() {}

  static GenericRecord toAvro(TensorRecord t) {
    GenericRecord r = new GenericData.Record(SCHEMA);
    r.put("key", t.key());
    r.put("dtype", t.dtype().name());
    r.put("shape", t.shape());
    r.put("stride", t.stride());
    r.put("storageKey", t.storageKey());
    r.put("storageOffset", t.storageOffset());
    r.put("storageFileOffset", t.storageFileOffset());
    r.put("storageBytes", t.storageBytes());
    r.put("sharedWith", t.sharedWith());
    return r;
  }

  static TensorRecord fromAvro(GenericRecord r) {
    return new TensorRecord(
        string(r, "key"),
        Dtype.valueOf(string(r, "dtype")),
        longs(r, "shape"),
        longs(r, "stride"),
        string(r, "storageKey"),
        longValue(r, "storageOffset"),
        longValue(r, "storageFileOffset"),
        longValue(r, "storageBytes"),
        strings(r, "sharedWith"));
  }
}
