package org.sat2diffusers.pipeline.records;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.transforms.records.KeyNames;
import org.sat2diffusers.transforms.records.SourcePart;

/** Avro form of one part of a checkpoint: a torch file's index, or recipes (no tensor bytes either way). */
public final class SourcePartAvro {
  private static final Schema RECIPE =
      SchemaBuilder.record("TensorRecipe")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("key")
          .requiredString("dtype")
          .name("shape").type().array().items().longType().noDefault()
          .name("ranges").type().array().items(ByteRangeAvro.SCHEMA).noDefault()
          .endRecord();

  static final Schema SCHEMA =
      SchemaBuilder.record("SourcePart")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("path")
          .name("torchFile").type().optional().type(CheckpointIndexAvro.SCHEMA)
          .name("recipes").type().optional().array().items(RECIPE)
          .requiredString("names")
          .endRecord();

  private SourcePartAvro() {}

  public static Coder<SourcePart> coder() {
    return AvroRecordCoder.of(SCHEMA, SourcePartAvro::toAvro, SourcePartAvro::fromAvro);
  }

  private static GenericRecord toAvro(SourcePart p) {
    GenericRecord r = new GenericData.Record(SCHEMA);
    r.put("path", p.path());
    r.put("torchFile", p.isTorchFile() ? CheckpointIndexAvro.toAvro(p.torchFile()) : null);
    List<GenericRecord> recipes = null;
    if (!p.isTorchFile()) {
      recipes = new ArrayList<>(p.recipes().size());
      for (TensorRecipe t : p.recipes()) {
        GenericRecord recipe = new GenericData.Record(RECIPE);
        recipe.put("key", t.key());
        recipe.put("dtype", t.dtype().name());
        recipe.put("shape", t.shape());
        recipe.put("ranges", ByteRangeAvro.toAvro(t.ranges()));
        recipes.add(recipe);
      }
    }
    r.put("recipes", recipes);
    r.put("names", p.names().name());
    return r;
  }

  private static SourcePart fromAvro(GenericRecord r) {
    GenericRecord torchFile = (GenericRecord) r.get("torchFile");
    List<TensorRecipe> recipes = null;
    if (r.get("recipes") != null) {
      recipes = new ArrayList<>();
      for (GenericRecord t : AvroFields.records(r, "recipes")) {
        recipes.add(new TensorRecipe(AvroFields.string(t, "key"), Dtype.valueOf(AvroFields.string(t, "dtype")),
            AvroFields.longs(t, "shape"), ByteRangeAvro.fromAvro(AvroFields.records(t, "ranges"))));
      }
    }
    return new SourcePart(AvroFields.string(r, "path"),
        torchFile == null ? null : CheckpointIndexAvro.fromAvro(torchFile), recipes,
        KeyNames.valueOf(AvroFields.string(r, "names")));
  }
}
