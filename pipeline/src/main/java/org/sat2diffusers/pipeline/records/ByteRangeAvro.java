package org.sat2diffusers.pipeline.records;

import static org.sat2diffusers.pipeline.records.AvroFields.longValue;
import static org.sat2diffusers.pipeline.records.AvroFields.string;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.sat2diffusers.io.storage.ByteRange;

/** Avro form of byte ranges, as output tensors and source recipes carry them. */
final class ByteRangeAvro {
  static final Schema SCHEMA =
      SchemaBuilder.record("ByteRange")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("file")
          .requiredLong("offset")
          .requiredLong("length")
          .endRecord();

  private ByteRangeAvro() {}

  static List<GenericRecord> toAvro(List<ByteRange> ranges) {
    List<GenericRecord> out = new ArrayList<>(ranges.size());
    for (ByteRange b : ranges) {
      GenericRecord r = new GenericData.Record(SCHEMA);
      r.put("file", b.file());
      r.put("offset", b.offset());
      r.put("length", b.length());
      out.add(r);
    }
    return out;
  }

  static List<ByteRange> fromAvro(List<GenericRecord> records) {
    List<ByteRange> out = new ArrayList<>(records.size());
    for (GenericRecord r : records) {
      out.add(new ByteRange(string(r, "file"), longValue(r, "offset"), longValue(r, "length")));
    }
    return out;
  }
}
