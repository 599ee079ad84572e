package org.sat2diffusers.pipeline.records;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;

/**
 * A written shard: its size and a digest ({@code crc32c} or {@code sha256}) of its header and of
 * each tensor (together they cover every byte), for the index, the report and verification, and
 * (with --check-finite) the tensors holding NaN or infinity, as {@code "nan,inf"} counts, and the
 * BLAS that multiplied its LoRA products ({@code ""} when it merged none).
 */
public record ShardResult(
    String checkpointId,
    String path,
    long bytes,
    String digest,
    String headerDigest,
    Map<String, String> tensorDigests,
    Map<String, String> nonFinite,
    String loraBlas) {
  static final Schema SCHEMA =
      SchemaBuilder.record("ShardResult")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("checkpointId")
          .requiredString("path")
          .requiredLong("bytes")
          .requiredString("digest")
          .requiredString("headerDigest")
          .name("tensorDigests").type().map().values().stringType().noDefault()
          .name("nonFinite").type().map().values().stringType().mapDefault(Map.of())
          .name("loraBlas").type().stringType().stringDefault("")
          .endRecord();

  public ShardResult {
    tensorDigests = Collections.unmodifiableMap(new TreeMap<>(tensorDigests)); // a stable order for the report
    nonFinite = Collections.unmodifiableMap(new TreeMap<>(nonFinite));
  }

  public static Coder<ShardResult> coder() {
    return AvroRecordCoder.of(SCHEMA, ShardResult::toAvro, ShardResult::fromAvro);
  }

  private static GenericRecord toAvro(ShardResult s) {
    GenericRecord r = new GenericData.Record(SCHEMA);
    r.put("checkpointId", s.checkpointId());
    r.put("path", s.path());
    r.put("bytes", s.bytes());
    r.put("digest", s.digest());
    r.put("headerDigest", s.headerDigest());
    r.put("tensorDigests", s.tensorDigests());
    r.put("nonFinite", s.nonFinite());
    r.put("loraBlas", s.loraBlas());
    return r;
  }

  private static ShardResult fromAvro(GenericRecord r) {
    return new ShardResult(
        AvroFields.string(r, "checkpointId"),
        AvroFields.string(r, "path"),
        AvroFields.longValue(r, "bytes"),
        AvroFields.string(r, "digest"),
        AvroFields.string(r, "headerDigest"),
        AvroFields.stringMap(r, "tensorDigests"),
        AvroFields.stringMap(r, "nonFinite"),
        AvroFields.string(r, "loraBlas"));
  }
}
