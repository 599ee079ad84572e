package org.sat2diffusers.io.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.pickle.PickleWriter.Reduce;
import org.sat2diffusers.io.pickle.PickleWriter.Tuple;

/** The expected bytes are CPython 3's {@code pickle.dumps(obj, protocol=2)} of the objects named in each test. */
class PickleWriterTest {
  private static final PickleGlobal ORDERED_DICT = new PickleGlobal("collections", "OrderedDict");

  /** {'a': 1, 'b': (1, 2, 3, 4), 'c': ('x',), 'd': None, 'e': True, 'f': 'x', 'g': (), 'h': 'é€'} */
  @Test
  void writesCPythonsOpcodesForPlainValues() {
    Map<String, Object> dict = new LinkedHashMap<>();
    String x = "x"; // one object twice, as Python's interned 'x': the second is a memo reference
    dict.put("a", 1L);
    dict.put("b", Tuple.of(1L, 2L, 3L, 4L));
    dict.put("c", Tuple.of(x));
    dict.put("d", null);
    dict.put("e", true);
    dict.put("f", x);
    dict.put("g", Tuple.EMPTY);
    dict.put("h", "é€");
    assertEquals("80027d71002858010000006171014b015801000000627102284b014b024b034b047471035801000000637104580100000078"
            + "710585710658010000006471074e58010000006571088858010000006671096805580100000067710a29580100000068710b58"
            + "05000000c3a9e282ac710c752e",
        HexFormat.of().formatHex(PickleWriter.write(dict)));
  }

  /** OrderedDict([('k', 1)]) */
  @Test
  void writesAReductionWithItsDictItems() {
    Map<String, Object> items = Map.of("k", 1L);
    assertEquals("800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000006b71024b01732e",
        HexFormat.of().formatHex(PickleWriter.write(new Reduce(ORDERED_DICT, Tuple.EMPTY, items))));
  }

  /** {str(i): i for i in range(1000)} and OrderedDict((str(i), i) for i in range(1001)): CPython batches them differently. */
  @Test
  void batchesDictItemsAsCPythonDoes() throws NoSuchAlgorithmException {
    Map<String, Object> thousand = new LinkedHashMap<>();
    for (int i = 0; i < 1000; i++) {
      thousand.put(String.valueOf(i), (long) i);
    }
    assertEquals("617add2cdb876ee56506586d37a0a63cd3fe91b794f754cc777012add61a41bf", sha256(PickleWriter.write(thousand)));
    Map<String, Object> items = new LinkedHashMap<>();
    for (int i = 0; i < 1001; i++) {
      items.put(String.valueOf(i), (long) i);
    }
    assertEquals("3b533bfd7208c60d3dc30f1034302fab47b30f862e09a7ea32ac744bc61fd591",
        sha256(PickleWriter.write(new Reduce(ORDERED_DICT, Tuple.EMPTY, items))));
  }

  /**
   * tuple(str(i) for i in range(300)) + (-70000, 70000, 2**31, -2**31-1, 2**40, -2**40, 2**63-1, -2**63,
   * 255, 256, 65535, 65536): memo indexes past 255 and every integer width.
   */
  @Test
  void writesLongMemoIndexesAndEveryIntegerWidth() throws Exception {
    List<Object> items = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      items.add(String.valueOf(i));
    }
    List<Object> ints = List.of(-70000L, 70000L, 1L << 31, -(1L << 31) - 1, 1L << 40, -(1L << 40), Long.MAX_VALUE,
        Long.MIN_VALUE, 255L, 256L, 65535L, 65536L);
    items.addAll(ints);
    byte[] pickle = PickleWriter.write(new Tuple(items));
    assertEquals("97ea67aabd6fec05f8f1ce88183d222a7328de9e602d38b6d5af1830a4c5e0b8", sha256(pickle));
    Object read = PickleReader.read(pickle, "test", new PickleResolver() {}, PickleLimits.DEFAULT);
    assertEquals(items, read);
  }

  @Test
  void refusesValuesItCannotWrite() {
    assertThrows(IllegalArgumentException.class, () -> PickleWriter.write(Map.of("lr", 0.5)));
    assertThrows(IllegalArgumentException.class, () -> PickleWriter.write(List.of(1L)));
  }

  private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
