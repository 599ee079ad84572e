package org.sat2diffusers.pipeline.records;

import static org.sat2diffusers.pipeline.records.AvroFields.longValue;
import static org.sat2diffusers.pipeline.records.AvroFields.longs;
import static org.sat2diffusers.pipeline.records.AvroFields.records;
import static org.sat2diffusers.pipeline.records.AvroFields.string;
import static org.sat2diffusers.pipeline.records.AvroFields.strings;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.LoraDelta;
import org.sat2diffusers.transforms.records.OutputTensor;

/** Avro form of an output tensor's recipe: byte ranges to concatenate, an optional LoRA update or scale, a cast. */
final class OutputTensorAvro {
  static final Schema LORA =
      SchemaBuilder.record("LoraDelta")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("dtype")
          .name("a").type().array().items().array().items(ByteRangeAvro.SCHEMA).noDefault()
          .name("b").type().array().items().array().items(ByteRangeAvro.SCHEMA).noDefault()
          .requiredInt("rank")
          .requiredLong("inFeatures")
          .requiredLong("outPerPart")
          .requiredDouble("alpha")
          .requiredFloat("scale")
          .endRecord();

  static final Schema SCHEMA =
      SchemaBuilder.record("OutputTensor")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("component")
          .requiredString("name")
          .requiredString("dtype")
          .name("shape").type().array().items().longType().noDefault()
          .requiredString("sourceDtype")
          .name("sources").type().array().items(ByteRangeAvro.SCHEMA).noDefault()
          .name("lora").type().optional().type(LORA)
          .name("sourceKeys").type().array().items().stringType().noDefault()
          .name("scale").type().floatType().floatDefault(1f)
          .endRecord();

  private OutputTensorAvro() {}

  static GenericRecord toAvro(OutputTensor t) {
    GenericRecord r = new GenericData.Record(SCHEMA);
    r.put("component", t.component().name());
    r.put("name", t.name());
    r.put("dtype", t.dtype().name());
    r.put("shape", t.shape());
    r.put("sourceDtype", t.sourceDtype().name());
    r.put("sources", ByteRangeAvro.toAvro(t.sources()));
    r.put("lora", t.lora() == null ? null : lora(t.lora()));
    r.put("sourceKeys", t.sourceKeys());
    r.put("scale", t.scale());
    return r;
  }

  static OutputTensor fromAvro(GenericRecord r) {
    GenericRecord lora = (GenericRecord) r.get("lora");
    return new OutputTensor(
        Component.valueOf(string(r, "component")),
        string(r, "name"),
        Dtype.valueOf(string(r, "dtype")),
        longs(r, "shape"),
        Dtype.valueOf(string(r, "sourceDtype")),
        ByteRangeAvro.fromAvro(records(r, "sources")),
        lora == null ? null : lora(lora),
        strings(r, "sourceKeys"),
        (Float) r.get("scale"));
  }

  private static GenericRecord lora(LoraDelta d) {
    GenericRecord r = new GenericData.Record(LORA);
    r.put("dtype", d.dtype().name());
    r.put("a", d.a().stream().map(ByteRangeAvro::toAvro).toList());
    r.put("b", d.b().stream().map(ByteRangeAvro::toAvro).toList());
    r.put("rank", d.rank());
    r.put("inFeatures", d.inFeatures());
    r.put("outPerPart", d.outPerPart());
    r.put("alpha", d.alpha());
    r.put("scale", d.scale());
    return r;
  }

  private static LoraDelta lora(GenericRecord r) {
    return new LoraDelta(
        Dtype.valueOf(string(r, "dtype")),
        parts(r, "a"),
        parts(r, "b"),
        (Integer) r.get("rank"),
        longValue(r, "inFeatures"),
        longValue(r, "outPerPart"),
        (Double) r.get("alpha"),
        (Float) r.get("scale"));
  }

  @SuppressWarnings("unchecked")
  private static List<List<ByteRange>> parts(GenericRecord r, String field) {
    List<List<ByteRange>> parts = new ArrayList<>();
    for (Object part : (List<Object>) r.get(field)) {
      parts.add(ByteRangeAvro.fromAvro(List.copyOf((List<GenericRecord>) part)));
    }
    return parts;
  }
}
