package org.sat2diffusers.pipeline.records;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.DelegateCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;

/**
 * Beam coder for a Java record that travels as an Avro GenericRecord: compact, schema'd, and the
 * same on every runner. The schema and conversions live with each record type.
 */
final class AvroRecordCoder {
  private AvroRecordCoder() {}

  static <T> Coder<T> of(
      Schema schema,
      DelegateCoder.CodingFunction<T, GenericRecord> toAvro,
      DelegateCoder.CodingFunction<GenericRecord, T> fromAvro) {
    return DelegateCoder.of(AvroCoder.of(schema), toAvro, fromAvro);
  }
}
