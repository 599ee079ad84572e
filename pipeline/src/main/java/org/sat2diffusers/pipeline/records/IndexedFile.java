package org.sat2diffusers.pipeline.records;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.sat2diffusers.io.torch.TensorRecord;

/** The tensor records of one checkpoint file, as indexing found them (zip directory + data.pkl only). */
public record IndexedFile(String file, String wrapper, List<TensorRecord> tensors) {
  static final Schema SCHEMA =
      SchemaBuilder.record("IndexedFile")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("file")
          .requiredString("wrapper")
          .name("tensors").type().array().items(TensorRecordAvro.SCHEMA).noDefault()
          .endRecord();

  public IndexedFile {
    tensors = List.copyOf(tensors);
  }

  public static Coder<IndexedFile> coder() {
    return AvroRecordCoder.of(SCHEMA, IndexedFile::toAvro, IndexedFile::fromAvro);
  }

  private static GenericRecord toAvro(IndexedFile f) {
    GenericRecord r = new GenericData.Record(SCHEMA);
    r.put("file", f.file());
    r.put("wrapper", f.wrapper());
    List<GenericRecord> tensors = new ArrayList<>(f.tensors().size());
    for (TensorRecord t : f.tensors()) {
      tensors.add(TensorRecordAvro.toAvro(t));
    }
    r.put("tensors", tensors);
    return r;
  }

  private static IndexedFile fromAvro(GenericRecord r) {
    List<TensorRecord> tensors = new ArrayList<>();
    for (GenericRecord t : AvroFields.records(r, "tensors")) {
      tensors.add(TensorRecordAvro.fromAvro(t));
    }
    return new IndexedFile(AvroFields.string(r, "file"), AvroFields.string(r, "wrapper"), tensors);
  }
}
