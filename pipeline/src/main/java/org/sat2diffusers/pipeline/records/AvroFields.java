package org.sat2diffusers.pipeline.records;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;

/** Reading typed values back out of Avro generic records (strings arrive as Utf8, lists as GenericArray). */
final class AvroFields {
  private AvroFields() {}

  static String string(GenericRecord r, String field) {
    Object v = r.get(field);
    return v == null ? null : v.toString();
  }

  static long longValue(GenericRecord r, String field) {
    return (Long) r.get(field);
  }

  @SuppressWarnings("unchecked")
  static List<Long> longs(GenericRecord r, String field) {
    return List.copyOf((List<Long>) r.get(field));
  }

  @SuppressWarnings("unchecked")
  static List<String> strings(GenericRecord r, String field) {
    List<String> out = new ArrayList<>();
    for (Object o : (List<Object>) r.get(field)) {
      out.add(o.toString());
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  static List<GenericRecord> records(GenericRecord r, String field) {
    return List.copyOf((List<GenericRecord>) r.get(field));
  }

  @SuppressWarnings("unchecked")
  static Map<String, String> stringMap(GenericRecord r, String field) {
    Map<String, String> out = new LinkedHashMap<>();
    ((Map<Object, Object>) r.get(field)).forEach((k, v) -> out.put(k.toString(), v.toString()));
    return out;
  }
}
