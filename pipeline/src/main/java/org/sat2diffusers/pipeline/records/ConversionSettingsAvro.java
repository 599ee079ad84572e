package org.sat2diffusers.pipeline.records;

import static org.sat2diffusers.pipeline.records.AvroFields.string;
import static org.sat2diffusers.pipeline.records.AvroFields.strings;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.config.BasePipeline;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.convert.UnknownKeys;
import org.sat2diffusers.transforms.convert.Weights;

/** Avro form of a job's settings, with the texts read in the driver (SAT config, base model_index.json). */
final class ConversionSettingsAvro {
  private static final Schema BASE_PIPELINE =
      SchemaBuilder.record("BasePipeline")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("dir")
          .requiredBoolean("link")
          .requiredString("modelIndexJson")
          .name("folders").type().array().items().stringType().noDefault()
          .endRecord();

  static final Schema SCHEMA =
      SchemaBuilder.record("ConversionSettings")
          .namespace("org.sat2diffusers")
          .fields()
          .optionalDouble("loraAlpha")
          .optionalString("dtype")
          .optionalString("vaeDtype")
          .requiredLong("maxShardBytes")
          .requiredString("model")
          .optionalString("satConfigYaml")
          .name("components").type().array().items().stringType().noDefault()
          .requiredString("unknownKeys")
          .name("basePipeline").type().optional().type(BASE_PIPELINE)
          .requiredString("loraMode")
          .requiredBoolean("loraFoldScale")
          .requiredBoolean("checkFinite")
          .requiredBoolean("failOnNonfinite")
          .requiredString("digest")
          .requiredString("weights")
          .endRecord();

  private ConversionSettingsAvro() {}

  static GenericRecord toAvro(ConversionSettings s) {
    GenericRecord r = new GenericData.Record(SCHEMA);
    r.put("loraAlpha", s.loraAlpha());
    r.put("dtype", s.dtype() == null ? null : s.dtype().name());
    r.put("vaeDtype", s.vaeDtype() == null ? null : s.vaeDtype().name());
    r.put("maxShardBytes", s.maxShardBytes());
    r.put("model", s.model());
    r.put("satConfigYaml", s.satConfigYaml());
    r.put("components", s.components().stream().map(Component::folder).toList());
    r.put("unknownKeys", s.unknownKeys().name());
    r.put("basePipeline", s.basePipeline() == null ? null : toAvro(s.basePipeline()));
    r.put("loraMode", s.loraMode().name());
    r.put("loraFoldScale", s.loraFoldScale());
    r.put("checkFinite", s.checkFinite());
    r.put("failOnNonfinite", s.failOnNonfinite());
    r.put("digest", s.digest().name());
    r.put("weights", s.weights().name());
    return r;
  }

  static ConversionSettings fromAvro(GenericRecord r) {
    List<Component> components = new ArrayList<>();
    for (String folder : strings(r, "components")) {
      components.add(Component.fromFolder(folder));
    }
    GenericRecord base = (GenericRecord) r.get("basePipeline");
    return new ConversionSettings(
        (Double) r.get("loraAlpha"),
        dtype(string(r, "dtype")),
        dtype(string(r, "vaeDtype")),
        AvroFields.longValue(r, "maxShardBytes"),
        string(r, "model"),
        string(r, "satConfigYaml"),
        components,
        UnknownKeys.valueOf(string(r, "unknownKeys")),
        base == null ? null : basePipeline(base),
        LoraMode.valueOf(string(r, "loraMode")),
        (Boolean) r.get("loraFoldScale"),
        (Boolean) r.get("checkFinite"),
        (Boolean) r.get("failOnNonfinite"),
        Digest.valueOf(string(r, "digest")),
        Weights.valueOf(string(r, "weights")));
  }

  private static GenericRecord toAvro(BasePipeline b) {
    GenericRecord r = new GenericData.Record(BASE_PIPELINE);
    r.put("dir", b.dir());
    r.put("link", b.link());
    r.put("modelIndexJson", b.modelIndexJson());
    r.put("folders", b.folders());
    return r;
  }

  private static BasePipeline basePipeline(GenericRecord r) {
    return new BasePipeline(string(r, "dir"), (Boolean) r.get("link"), string(r, "modelIndexJson"),
        strings(r, "folders"));
  }

  private static Dtype dtype(String name) {
    return name == null ? null : Dtype.valueOf(name);
  }
}
