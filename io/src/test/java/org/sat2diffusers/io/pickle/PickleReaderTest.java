package org.sat2diffusers.io.pickle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.storage.Fixtures;

class PickleReaderTest {
  private static final PickleResolver INERT = new PickleResolver() {};

  /** Pickle bytes written opcode by opcode. */
  private static final class Bytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Bytes op(int... bytes) {
      for (int b : bytes) {
        out.write(b);
      }
      return this;
    }

    Bytes global(String module, String name) {
      return op('c').text(module + "\n" + name + "\n");
    }

    Bytes unicode(String s) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      return op('X').u32(utf8.length).raw(utf8);
    }

    Bytes u32(long v) {
      return op((int) v & 0xff, (int) (v >> 8) & 0xff, (int) (v >> 16) & 0xff, (int) (v >> 24) & 0xff);
    }

    Bytes text(String s) {
      return raw(s.getBytes(StandardCharsets.US_ASCII));
    }

    Bytes raw(byte[] bytes) {
      out.writeBytes(bytes);
      return this;
    }

    Object read() throws PickleException {
      return read(PickleLimits.DEFAULT);
    }

    Object read(PickleLimits limits) throws PickleException {
      return PickleReader.read(out.toByteArray(), "test.pkl", INERT, limits);
    }
  }

  private static Bytes pickle() {
    return new Bytes().op(0x80, 2);
  }

  @Test
  void aPickleCallingOsSystemIsRefusedAndNothingRuns() throws IOException {
    Path marker = Path.of("/tmp/sat2diffusers-pickle-was-executed"); // what the pickle would create
    Files.deleteIfExists(marker);
    byte[] data = Files.readAllBytes(Fixtures.resource("org/sat2diffusers/io/pickle/os_system.pkl"));
    PickleException e = assertThrows(PickleException.class, () -> PickleReader.read(data, "os_system.pkl", INERT, PickleLimits.DEFAULT));
    assertEquals("os_system.pkl at byte 2: refers to posix.system, which can run code: refusing this pickle"
        + " (nothing was executed)", e.getMessage());
    assertFalse(Files.exists(marker));
  }

  /**
   * torch.storage._load_from_bytes(b) is torch.load(BytesIO(b)): a nested pickle loaded with every
   * global allowed. Refused where it is named, by GLOBAL or STACK_GLOBAL, before any call.
   */
  @Test
  void globalsThatUnpickleTheirArgumentAreRefused() {
    for (String[] g : new String[][] {
        {"torch.storage", "_load_from_bytes"}, {"torch", "load"}, {"torch.serialization", "load"},
        {"torch.jit._serialization", "load"}, {"numpy", "load"}, {"types", "FunctionType"}}) {
      String qualified = g[0] + "." + g[1];
      PickleException byGlobal = assertThrows(PickleException.class,
          () -> pickle().global(g[0], g[1]).op('.').read(), qualified);
      assertEquals("test.pkl at byte 2: refers to " + qualified + ", which can run code: refusing this pickle"
          + " (nothing was executed)", byGlobal.getMessage());
      PickleException byStackGlobal = assertThrows(PickleException.class,
          () -> pickle().unicode(g[0]).unicode(g[1]).op(0x93, '.').read(), qualified);
      assertTrue(byStackGlobal.getMessage().contains("refers to " + qualified + ", which can run code"),
          byStackGlobal.getMessage());
    }
  }

  /** The torch globals a real checkpoint names stay readable. */
  @Test
  void torchRebuildGlobalsAreNotRefused() throws PickleException {
    for (String[] g : new String[][] {
        {"torch._utils", "_rebuild_tensor_v2"}, {"torch", "HalfStorage"}, {"torch.storage", "TypedStorage"},
        {"numpy.core.multiarray", "_reconstruct"}}) {
      assertEquals(new PickleGlobal(g[0], g[1]), pickle().global(g[0], g[1]).op('.').read());
    }
  }

  @Test
  void orderedDictKeepsInsertionOrder() throws PickleException {
    Object value = pickle().global("collections", "OrderedDict").op(')', 'R', '(')
        .unicode("b").op('K', 1).unicode("a").op('K', 2).unicode("c").op('N').op('u', '.').read();
    Map<?, ?> map = assertInstanceOf(Map.class, value);
    assertEquals(List.of("b", "a", "c"), List.copyOf(map.keySet()));
    assertEquals(2L, map.get("a"));
    assertNull(map.get("c"));
  }

  /** Found by the fuzzer: a lone SETITEM or APPEND of None (a checkpoint's {"lr_scheduler": None}) threw NullPointerException. */
  @Test
  void noneIsAValueOfSingleSetitemAndAppend() throws PickleException {
    Map<?, ?> map = assertInstanceOf(Map.class, pickle().op('}').unicode("lr_scheduler").op('N', 's', '.').read());
    assertTrue(map.containsKey("lr_scheduler"));
    assertNull(map.get("lr_scheduler"));
    List<?> list = assertInstanceOf(List.class, pickle().op(']', 'N', 'a', '.').read());
    assertEquals(Arrays.asList((Object) null), list);
  }

  @Test
  void numbersBytesAndSetsAreDecoded() throws PickleException {
    Object value = pickle().op('(')
        .op('J').u32(-5L)                                   // BININT
        .op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1)             // LONG1 2^64
        .op(0x8a, 1, 0xff)                                  // LONG1 -1
        .op('G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0)              // BINFLOAT 1.5
        .global("_codecs", "encode").unicode("\u00ff\u0001").unicode("latin1").op(0x86, 'R')
        .global("__builtin__", "set").op(']').op('K', 3).op('a').op(0x85, 'R')
        .op(0x88)
        .op('t', '.').read();
    List<?> items = assertInstanceOf(List.class, value);
    assertEquals(-5L, items.get(0));
    assertEquals(BigInteger.ONE.shiftLeft(64), items.get(1));
    assertEquals(-1L, items.get(2));
    assertEquals(1.5, items.get(3));
    assertArrayEquals(new byte[] {(byte) 0xff, 1}, (byte[]) items.get(4));
    assertEquals(Set.of(3L), items.get(5));
    assertEquals(Boolean.TRUE, items.get(6));
  }

  @Test
  void unknownGlobalsBecomeInertObjects() throws PickleException {
    Object value = pickle().global("argparse", "Namespace").op(')', 0x81)
        .op('}').unicode("lr").op('K', 7).op('s').op('b', '.').read();
    InertObject namespace = assertInstanceOf(InertObject.class, value);
    assertEquals("argparse.Namespace", namespace.typeName());
    assertEquals(Map.of("lr", 7L), namespace.state());
  }

  @Test
  void memoPutAndGetShareOneObject() throws PickleException {
    Object value = pickle().op(']', 'q', 0, 'h', 0, 0x86, '.').read();
    List<?> pair = assertInstanceOf(List.class, value);
    assertTrue(pair.get(0) == pair.get(1));
  }

  @Test
  void lengthsBeyondTheDataAreRefusedBeforeAllocating() {
    PickleException e = assertThrows(PickleException.class, () -> pickle().op('X').u32(0x7fffffffL).text("abc").read());
    assertEquals("test.pkl at byte 2: length 2147483647 exceeds the 3 bytes that remain", e.getMessage());
  }

  @Test
  void hugeIntegersAreRefused() {
    PickleException e = assertThrows(PickleException.class, () -> pickle().op(0x8b).u32(1 << 20).read());
    assertTrue(e.getMessage().contains("integer of 1048576 bytes exceeds the limit of 64"), e.getMessage());
  }

  @Test
  void stackMemoAndMarkSizesAreBounded() {
    PickleLimits small = new PickleLimits(3, 2, 2, 8);
    assertTrue(assertThrows(PickleException.class, () -> pickle().op('N', 'N', 'N', 'N').read(small))
        .getMessage().contains("more than 3 objects on the stack"));
    assertTrue(assertThrows(PickleException.class, () -> pickle().op('N', 'q', 0, 'q', 1, 'q', 2).read(small))
        .getMessage().contains("more than 2 memo entries"));
    assertTrue(assertThrows(PickleException.class, () -> pickle().op('(', '(', '(').read(small))
        .getMessage().contains("more than 2 nested marks"));
  }

  @Test
  void malformedPicklesAreRefusedWithTheirPosition() {
    assertEquals("test.pkl at byte 2: memo GET of undefined entry 5",
        assertThrows(PickleException.class, () -> pickle().op('h', 5, '.').read()).getMessage());
    assertEquals("test.pkl at byte 2: stack underflow",
        assertThrows(PickleException.class, () -> pickle().op('0').read()).getMessage());
    assertTrue(assertThrows(PickleException.class, () -> pickle().op('I').text("1\n.").read())
        .getMessage().contains("protocol-0 opcode 'I' is not supported"));
    assertTrue(assertThrows(PickleException.class, () -> pickle().op('N').read())
        .getMessage().contains("length 1 exceeds the 0 bytes that remain"));
  }
}
