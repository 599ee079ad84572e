package org.sat2diffusers.io.pickle;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes a tree of plain values as a protocol-2 pickle, opcode for opcode as CPython's pickler
 * (which torch.save uses) writes the same objects: a tree that mirrors torch's objects gives torch's
 * bytes. It writes only what {@link PickleReader} reads and nothing that names code: the tree holds
 * data and the globals the caller names, no object is introspected.
 *
 * <p>Values: null → None, Boolean → bool, Integer / Long → int, String → str, a
 * {@link Map} → dict (in its iteration order), {@link Tuple}, {@link PickleGlobal}, {@link Reduce}
 * ({@code callable(*args)}, then dict items set on the result, as {@code collections.OrderedDict}
 * reduces), {@link PersistentId}. Like CPython, strings, tuples, dicts and reduced objects are
 * memoized by identity (the same Java object written twice is written once and then referenced) and
 * globals by name; numbers, booleans and None never are.
 */
public final class PickleWriter {
  /** A Python tuple. */
  public record Tuple(List<Object> items) {
    public static final Tuple EMPTY = new Tuple(List.of());

    public Tuple {
      items = Collections.unmodifiableList(new ArrayList<>(items)); // null items allowed
    }

    public static Tuple of(Object... items) {
      return new Tuple(Arrays.asList(items));
    }
  }

  /** {@code callable(*args)}, then {@code result[k] = v} for each of {@code dictItems} in order. */
  public record Reduce(PickleGlobal callable, Tuple args, Map<?, ?> dictItems) {}

  /** An object the pickle refers to by a persistent id (torch: a storage, whose bytes are elsewhere). */
  public record PersistentId(Tuple id) {}

  private static final int PROTOCOL = 2;
  /** CPython's BATCHSIZE: SETITEMS takes at most this many pairs. */
  private static final int BATCH = 1000;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final Map<Object, Integer> memo = new IdentityHashMap<>();
  private final Map<String, Integer> globals = new HashMap<>();

  private PickleWriter() {}

  /** The pickle of {@code root}; an IllegalArgumentException names a value of a type it cannot write. */
  public static byte[] write(Object root) {
    PickleWriter writer = new PickleWriter();
    writer.op(0x80);
    writer.op(PROTOCOL);
    writer.save(root);
    writer.op('.');
    return writer.out.toByteArray();
  }

  private void save(Object value) {
    if (value == null) {
      op('N');
    } else if (value instanceof Boolean b) {
      op(b ? 0x88 : 0x89);
    } else if (value instanceof Integer i) {
      saveLong(i);
    } else if (value instanceof Long l) {
      saveLong(l);
    } else if (!memoGet(value)) {
      saveMemoizable(value);
    }
  }

  private void saveMemoizable(Object value) {
    if (value instanceof String s) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      op('X');
      u32(utf8.length);
      out.writeBytes(utf8);
      memoize(value);
    } else if (value instanceof Tuple t) {
      saveTuple(t);
    } else if (value instanceof Map<?, ?> map) {
      op('}');
      memoize(value);
      setItems(map, true);
    } else if (value instanceof PickleGlobal g) {
      saveGlobal(g);
    } else if (value instanceof Reduce r) {
      saveGlobal(r.callable());
      save(r.args());
      op('R');
      memoize(value);
      setItems(r.dictItems(), false);
    } else if (value instanceof PersistentId p) {
      save(p.id());
      op('Q');
    } else {
      throw new IllegalArgumentException(
          "cannot pickle a " + value.getClass().getName() + "; only None, bool, int, str, dicts, tuples,"
              + " globals, reductions and persistent ids");
    }
  }

  /** EMPTY_TUPLE (never memoized), TUPLE1..3 below 4 items (protocol 2), else MARK ... TUPLE. */
  private void saveTuple(Tuple tuple) {
    List<Object> items = tuple.items();
    if (items.isEmpty()) {
      op(')');
      return;
    }
    if (items.size() > 3) {
      op('(');
    }
    for (Object item : items) {
      save(item);
    }
    op(items.size() > 3 ? 't' : 0x84 + items.size());
    memoize(tuple);
  }

  private void saveGlobal(PickleGlobal global) {
    Integer index = globals.get(global.qualifiedName());
    if (index != null) {
      get(index);
      return;
    }
    op('c');
    out.writeBytes((global.module() + "\n" + global.name() + "\n").getBytes(StandardCharsets.UTF_8));
    int at = memo.size() + globals.size();
    globals.put(global.qualifiedName(), at);
    put(at);
  }

  /**
   * Dict items as CPython batches them: one pair is a SETITEM; more go as MARK k v ... SETITEMS per
   * {@link #BATCH} pairs. A dict's own items ({@code exactDict}) are always batched that way, even a
   * last batch of one or none (after a full batch); items of a reduced object (an iterator in
   * CPython) end with a SETITEM when one pair is left over.
   */
  private void setItems(Map<?, ?> map, boolean exactDict) {
    Iterator<? extends Map.Entry<?, ?>> items = map.entrySet().iterator();
    if (map.size() == 1) {
      setItem(items.next());
      return;
    }
    if (map.isEmpty()) {
      return;
    }
    int remaining = map.size();
    int batch;
    do {
      batch = Math.min(BATCH, remaining);
      if (batch == 1 && !exactDict) {
        setItem(items.next());
      } else {
        op('(');
        for (int i = 0; i < batch; i++) {
          Map.Entry<?, ?> item = items.next();
          save(item.getKey());
          save(item.getValue());
        }
        op('u');
      }
      remaining -= batch;
    } while (exactDict ? batch == BATCH : remaining > 0);
  }

  private void setItem(Map.Entry<?, ?> item) {
    save(item.getKey());
    save(item.getValue());
    op('s');
  }

  /** BININT1 / BININT2 / BININT where they fit (as CPython's save_long), else LONG1 with minimal two's complement. */
  private void saveLong(long value) {
    if (value >= 0 && value < 0x100) {
      op('K');
      op((int) value);
    } else if (value >= 0 && value < 0x10000) {
      op('M');
      op((int) value);
      op((int) (value >>> 8));
    } else if (value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE) {
      op('J');
      u32((int) value);
    } else {
      int bytes = 8;
      while (bytes > 1 && (value >> (8 * (bytes - 1) - 1)) == (value >> 63)) {
        bytes--; // the byte below still carries the sign bit
      }
      op(0x8a);
      op(bytes);
      for (int i = 0; i < bytes; i++) {
        op((int) (value >>> (8 * i)));
      }
    }
  }

  private boolean memoGet(Object value) {
    Integer index = memo.get(value);
    if (index == null) {
      return false;
    }
    get(index);
    return true;
  }

  private void memoize(Object value) {
    int at = memo.size() + globals.size();
    memo.put(value, at);
    put(at);
  }

  private void put(int index) {
    if (index < 0x100) {
      op('q');
      op(index);
    } else {
      op('r');
      u32(index);
    }
  }

  private void get(int index) {
    if (index < 0x100) {
      op('h');
      op(index);
    } else {
      op('j');
      u32(index);
    }
  }

  private void u32(int value) {
    op(value);
    op(value >>> 8);
    op(value >>> 16);
    op(value >>> 24);
  }

  private void op(int b) {
    out.write(b);
  }
}
