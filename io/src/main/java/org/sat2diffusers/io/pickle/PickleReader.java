package org.sat2diffusers.io.pickle;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted unpickler that turns a pickle into inert Java data and never executes anything.
 *
 * <p>Why not Pyrolite (or any general unpickler): those construct objects by class name through a
 * registry or reflection, and place no bound on stack, memo or allocation sizes. A checkpoint's
 * pickle is untrusted input; here there is no object construction at all, so the only things a
 * pickle can make are the values below, and every size is bounded before anything is allocated.
 *
 * <p>Values: None → null, bool → Boolean, int → Long (BigInteger past 64 bits), float → Double,
 * str → String, bytes / bytearray → byte[], tuple → unmodifiable List, list → ArrayList, dict and
 * {@code collections.OrderedDict} → LinkedHashMap (insertion order kept), set / frozenset →
 * LinkedHashSet, a global → {@link PickleGlobal}. Calls to globals go to the {@link PickleResolver}
 * ({@code _codecs.encode(str, "latin1")}, protocol 2's spelling of bytes, is decoded here); anything
 * the resolver does not know becomes an {@link InertObject}.
 *
 * <p>Supported: the binary opcodes of protocols 1 to 5 plus GLOBAL (what torch.save emits with its
 * default protocol 2 and what newer pickle protocols add). Refused: the text opcodes of protocol 0
 * other than GLOBAL, the extension registry (EXT1/2/4), out-of-band buffers, and any reference to a
 * global of a module that can run code ({@code os.system}, {@code builtins.eval}, {@code
 * subprocess.*}, ...). Nothing would run anyway; refusing such a file makes the attack visible.
 */
public final class PickleReader {
  private static final Object MARK = new Object();
  private static final int HIGHEST_PROTOCOL = 5;

  /** Modules whose globals only a malicious pickle would name in a checkpoint. */
  private static final Set<String> CODE_RUNNING_MODULES = Set.of(
      "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "importlib", "runpy", "pty",
      "code", "codeop", "ctypes", "pickle", "_pickle", "marshal", "webbrowser", "multiprocessing",
      "asyncio", "commands", "pdb", "bdb", "timeit", "profile", "cProfile", "trace", "signal",
      "operator");
  private static final Set<String> CODE_RUNNING_BUILTINS = Set.of(
      "eval", "exec", "execfile", "compile", "open", "file", "input", "getattr", "setattr", "delattr",
      "__import__", "globals", "locals", "vars", "breakpoint", "apply", "reload", "memoryview");
  /**
   * Modules (and everything below them) that load, compile or unpickle what they are given, inside
   * packages whose other globals are harmless; torch.serialization covers torch.load.
   */
  private static final Set<String> CODE_RUNNING_SUBMODULES = Set.of(
      "torch.serialization", "torch.jit", "torch.hub", "torch.package", "torch.utils.cpp_extension",
      "numpy.lib.npyio", "dill", "cloudpickle", "joblib", "types");
  /**
   * Single globals that unpickle their argument with no restriction. torch.storage._load_from_bytes
   * is what a storage pickled outside torch.save calls: torch.load(BytesIO(arg)), a second pickle
   * that CPython would load with every global allowed.
   */
  private static final Set<String> CODE_RUNNING_GLOBALS = Set.of(
      "torch.storage._load_from_bytes", "torch.load", "numpy.load", "numpy.loads",
      "numpy.core.multiarray.loads", "pandas.read_pickle", "pandas.io.pickle.read_pickle");

  private final byte[] data;
  private final String source;
  private final PickleResolver resolver;
  private final PickleLimits limits;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();
  private int pos;
  private int opStart;

  private PickleReader(byte[] data, String source, PickleResolver resolver, PickleLimits limits) {
    this.data = data;
    this.source = source;
    this.resolver = resolver;
    this.limits = limits;
  }

  /**
   * Reads one pickle.
   *
   * @param source names the pickle in error messages (e.g. {@code model.pt (data.pkl)})
   */
  public static Object read(byte[] data, String source, PickleResolver resolver, PickleLimits limits)
      throws PickleException {
    return new PickleReader(data, source, resolver, limits).run();
  }

  private Object run() throws PickleException {
    while (true) {
      opStart = pos;
      int op = u8();
      switch (op) {
        case 0x80 -> { // PROTO
          int protocol = u8();
          if (protocol > HIGHEST_PROTOCOL) {
            throw error("pickle protocol " + protocol + " is newer than " + HIGHEST_PROTOCOL);
          }
        }
        case 0x95 -> checkLength(u64Length()); // FRAME: the whole pickle is in memory, frames need nothing
        case '.' -> { // STOP
          if (stack.size() != 1 || !marks.isEmpty()) {
            throw error("STOP with " + stack.size() + " objects on the stack and " + marks.size() + " open marks");
          }
          return stack.get(0);
        }
        case '(' -> {
          if (marks.size() >= limits.maxMarks()) {
            throw error("more than " + limits.maxMarks() + " nested marks");
          }
          marks.add(stack.size());
        }
        case '0' -> pop();
        case '1' -> popMark();
        case '2' -> push(peek());
        case 'N' -> push(null);
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'J' -> push((long) s32());
        case 'K' -> push((long) u8());
        case 'M' -> push((long) (u8() | u8() << 8));
        case 0x8a -> push(longValue(u8()));
        case 0x8b -> push(longValue(u32Length()));
        case 'G' -> push(Double.longBitsToDouble(bigEndianLong()));
        case 'X' -> push(string(u32Length()));
        case 0x8c -> push(string(u8()));
        case 0x8d -> push(string(u64Length()));
        case 'T' -> push(latin1(u32Length())); // BINSTRING: a Python 2 str, decoded as torch does
        case 'U' -> push(latin1(u8()));
        case 'B' -> push(bytes(u32Length()));
        case 'C' -> push(bytes(u8()));
        case 0x8e, 0x96 -> push(bytes(u64Length()));
        case ')' -> push(Collections.emptyList());
        case 't' -> push(tuple(popMark()));
        case 0x85 -> push(tuple(popN(1)));
        case 0x86 -> push(tuple(popN(2)));
        case 0x87 -> push(tuple(popN(3)));
        case ']' -> push(new ArrayList<>());
        case 'l' -> push(new ArrayList<>(popMark()));
        case '}' -> push(new LinkedHashMap<>());
        case 'd' -> push(dict(popMark()));
        case 0x8f -> push(new LinkedHashSet<>());
        case 0x91 -> push(Collections.unmodifiableSet(new LinkedHashSet<>(popMark())));
        case 'a' -> append(Collections.singletonList(pop())); // None is null: no List.of
        case 'e' -> append(popMark());
        case 's' -> {
          Object value = pop();
          Object key = pop();
          setItems(Arrays.asList(key, value));
        }
        case 'u' -> setItems(popMark());
        case 0x90 -> addItems(popMark());
        case 'q' -> put(u8());
        case 'r' -> put(u32Length());
        case 0x94 -> put(memo.size());
        case 'h' -> push(get(u8()));
        case 'j' -> push(get(u32Length()));
        case 'c' -> push(global(line(), line()));
        case 0x93 -> { // STACK_GLOBAL
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw error("STACK_GLOBAL needs two strings");
          }
          push(global(m, n));
        }
        case 'R' -> {
          Object args = pop();
          push(call(pop(), args));
        }
        case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args), recorded like a call
          Object args = pop();
          push(call(pop(), args));
        }
        case 0x92 -> { // NEWOBJ_EX: keyword arguments are dropped, the object is inert anyway
          pop();
          Object args = pop();
          push(call(pop(), args));
        }
        case 'o' -> { // OBJ: MARK cls args...
          List<Object> items = popMark();
          if (items.isEmpty()) {
            throw error("OBJ without a class");
          }
          push(call(items.get(0), tuple(items.subList(1, items.size()))));
        }
        case 'b' -> build(pop());
        case 'Q' -> {
          Object pid = pop();
          push(resolved(() -> resolver.persistentLoad(pid)));
        }
        case 'P', 'I', 'L', 'F', 'S', 'V', 'g', 'p', 'i' ->
            throw error("protocol-0 opcode '" + (char) op + "' is not supported (torch.save writes protocol 2)");
        case 0x82, 0x83, 0x84 -> throw error("extension registry opcodes (EXT1/2/4) are not supported");
        case 0x97, 0x98 -> throw error("out-of-band buffers are not supported");
        default -> throw error(String.format("unknown opcode 0x%02x", op));
      }
    }
  }

  private PickleGlobal global(String module, String name) throws PickleException {
    String root = module.contains(".") ? module.substring(0, module.indexOf('.')) : module;
    boolean builtin = root.equals("builtins") || root.equals("__builtin__");
    if (CODE_RUNNING_MODULES.contains(root) || (builtin && CODE_RUNNING_BUILTINS.contains(name))
        || CODE_RUNNING_GLOBALS.contains(module + "." + name) || inCodeRunningSubmodule(module)) {
      throw error(
          "refers to " + module + "." + name + ", which can run code: refusing this pickle (nothing was"
              + " executed)");
    }
    return new PickleGlobal(module, name);
  }

  private static boolean inCodeRunningSubmodule(String module) {
    for (String m = module; ; m = m.substring(0, m.lastIndexOf('.'))) {
      if (CODE_RUNNING_SUBMODULES.contains(m)) {
        return true;
      }
      if (!m.contains(".")) {
        return false;
      }
    }
  }

  private Object call(Object callable, Object args) throws PickleException {
    if (!(args instanceof List<?> list)) {
      throw error("call arguments must be a tuple, got " + describe(args));
    }
    @SuppressWarnings("unchecked")
    List<Object> arguments = (List<Object>) list;
    if (!(callable instanceof PickleGlobal global)) {
      return new InertObject(callable, arguments);
    }
    switch (global.qualifiedName()) {
      case "collections.OrderedDict", "builtins.dict", "__builtin__.dict":
        return arguments.isEmpty() ? new LinkedHashMap<>() : dict(pairs(global, arguments.get(0)));
      case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset":
        return arguments.isEmpty() ? new LinkedHashSet<>() : new LinkedHashSet<>(sequence(global, arguments.get(0)));
      case "_codecs.encode":
        if (arguments.size() == 2 && arguments.get(0) instanceof String text && "latin1".equals(arguments.get(1))) {
          return text.getBytes(StandardCharsets.ISO_8859_1);
        }
        break;
      default:
        break;
    }
    return resolved(() -> resolver.call(global, arguments));
  }

  private interface Resolution {
    Object get() throws PickleException;
  }

  /** Runs a resolver step, adding where in which pickle it failed. */
  private Object resolved(Resolution resolution) throws PickleException {
    try {
      return resolution.get();
    } catch (PickleException e) {
      throw error(e.getMessage());
    }
  }

  private void build(Object state) throws PickleException {
    Object target = peek();
    if (target instanceof InertObject inert) {
      inert.build(state);
    } else if (state != null && !(state instanceof Map<?, ?> m && m.isEmpty())) {
      throw error("BUILD with state on a " + describe(target) + " is not supported");
    }
  }

  @SuppressWarnings("unchecked")
  private void append(List<Object> items) throws PickleException {
    Object target = peek();
    if (target instanceof ArrayList<?> list) {
      ((List<Object>) list).addAll(items);
    } else if (target instanceof InertObject inert) {
      inert.items().addAll(items);
    } else {
      throw error("APPEND to a " + describe(target));
    }
  }

  @SuppressWarnings("unchecked")
  private void setItems(List<Object> keysAndValues) throws PickleException {
    Object target = peek();
    Map<Object, Object> map;
    if (target instanceof LinkedHashMap<?, ?> dict) {
      map = (Map<Object, Object>) dict;
    } else if (target instanceof InertObject inert) {
      map = inert.entries();
    } else {
      throw error("SETITEM on a " + describe(target));
    }
    if (keysAndValues.size() % 2 != 0) {
      throw error("SETITEMS with an odd number of items");
    }
    for (int i = 0; i < keysAndValues.size(); i += 2) {
      map.put(key(keysAndValues.get(i)), keysAndValues.get(i + 1));
    }
  }

  @SuppressWarnings("unchecked")
  private void addItems(List<Object> items) throws PickleException {
    Object target = peek();
    if (!(target instanceof LinkedHashSet<?> set)) {
      throw error("ADDITEMS to a " + describe(target));
    }
    ((Set<Object>) set).addAll(items);
  }

  private Map<Object, Object> dict(List<Object> keysAndValues) throws PickleException {
    if (keysAndValues.size() % 2 != 0) {
      throw error("DICT with an odd number of items");
    }
    Map<Object, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.size(); i += 2) {
      map.put(key(keysAndValues.get(i)), keysAndValues.get(i + 1));
    }
    return map;
  }

  /** Flattens {@code [(k, v), ...]}, the argument of {@code OrderedDict(...)}, into k, v, k, v. */
  private List<Object> pairs(PickleGlobal global, Object argument) throws PickleException {
    List<Object> flat = new ArrayList<>();
    for (Object pair : sequence(global, argument)) {
      if (!(pair instanceof List<?> kv) || kv.size() != 2) {
        throw error(global + " expects (key, value) pairs, got " + describe(pair));
      }
      flat.addAll(kv);
    }
    return flat;
  }

  private List<?> sequence(PickleGlobal global, Object argument) throws PickleException {
    if (argument instanceof List<?> list) {
      return list;
    }
    if (argument instanceof Set<?> set) {
      return List.copyOf(set);
    }
    throw error(global + " expects a list or tuple, got " + describe(argument));
  }

  /** Python keys are hashable; mutable Java containers would break the map, and no checkpoint uses them. */
  private Object key(Object key) throws PickleException {
    if (key instanceof ArrayList<?> || key instanceof Map<?, ?> || key instanceof byte[]) {
      throw error("unhashable dict key " + describe(key));
    }
    return key;
  }

  private static List<Object> tuple(List<Object> items) {
    return Collections.unmodifiableList(Arrays.asList(items.toArray()));
  }

  private void put(long index) throws PickleException {
    if (stack.isEmpty()) {
      throw error("memo PUT on an empty stack");
    }
    if (!memo.containsKey(index) && memo.size() >= limits.maxMemo()) {
      throw error("more than " + limits.maxMemo() + " memo entries");
    }
    memo.put(index, peek());
  }

  private Object get(long index) throws PickleException {
    if (!memo.containsKey(index)) {
      throw error("memo GET of undefined entry " + index);
    }
    return memo.get(index);
  }

  private void push(Object value) throws PickleException {
    if (stack.size() >= limits.maxStack()) {
      throw error("more than " + limits.maxStack() + " objects on the stack");
    }
    stack.add(value);
  }

  private Object pop() throws PickleException {
    int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    if (stack.size() <= floor) {
      throw error("stack underflow");
    }
    return stack.remove(stack.size() - 1);
  }

  private Object peek() throws PickleException {
    int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    if (stack.size() <= floor) {
      throw error("stack underflow");
    }
    return stack.get(stack.size() - 1);
  }

  private List<Object> popN(int n) throws PickleException {
    Object[] items = new Object[n];
    for (int i = n - 1; i >= 0; i--) {
      items[i] = pop();
    }
    return Arrays.asList(items);
  }

  private List<Object> popMark() throws PickleException {
    if (marks.isEmpty()) {
      throw error("no MARK to pop to");
    }
    int mark = marks.remove(marks.size() - 1);
    List<Object> top = stack.subList(mark, stack.size());
    List<Object> items = new ArrayList<>(top);
    top.clear();
    return items;
  }

  private Object longValue(long length) throws PickleException {
    if (length > limits.maxIntBytes()) {
      throw error("integer of " + length + " bytes exceeds the limit of " + limits.maxIntBytes());
    }
    checkLength(length);
    byte[] littleEndian = Arrays.copyOfRange(data, pos, pos + (int) length);
    pos += (int) length;
    if (length == 0) {
      return 0L;
    }
    byte[] bigEndian = new byte[littleEndian.length];
    for (int i = 0; i < littleEndian.length; i++) {
      bigEndian[i] = littleEndian[littleEndian.length - 1 - i];
    }
    BigInteger value = new BigInteger(bigEndian); // two's complement, as pickle stores it
    return value.bitLength() < 64 ? (Object) value.longValue() : value;
  }

  private String string(long length) throws PickleException {
    checkLength(length);
    String text = new String(data, pos, (int) length, StandardCharsets.UTF_8);
    pos += (int) length;
    return text;
  }

  private String latin1(long length) throws PickleException {
    checkLength(length);
    String text = new String(data, pos, (int) length, StandardCharsets.ISO_8859_1);
    pos += (int) length;
    return text;
  }

  private byte[] bytes(long length) throws PickleException {
    checkLength(length);
    byte[] bytes = Arrays.copyOfRange(data, pos, pos + (int) length);
    pos += (int) length;
    return bytes;
  }

  /** A newline-terminated ASCII line (GLOBAL's operands), bounded by the data. */
  private String line() throws PickleException {
    int start = pos;
    while (pos < data.length && data[pos] != '\n') {
      pos++;
    }
    if (pos == data.length) {
      throw error("unterminated GLOBAL operand");
    }
    String text = new String(data, start, pos - start, StandardCharsets.US_ASCII);
    pos++;
    return text;
  }

  private void checkLength(long length) throws PickleException {
    if (length < 0 || length > data.length - pos) {
      throw error("length " + length + " exceeds the " + (data.length - pos) + " bytes that remain");
    }
  }

  private int u8() throws PickleException {
    checkLength(1);
    return data[pos++] & 0xff;
  }

  private int s32() throws PickleException {
    checkLength(4);
    int value = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16 | data[pos + 3] << 24;
    pos += 4;
    return value;
  }

  private long u32Length() throws PickleException {
    return s32() & 0xffffffffL;
  }

  private long u64Length() throws PickleException {
    long low = u32Length();
    long high = u32Length();
    return high > Integer.MAX_VALUE ? -1 : high << 32 | low; // negative: rejected by checkLength
  }

  private long bigEndianLong() throws PickleException {
    checkLength(8);
    long value = 0;
    for (int i = 0; i < 8; i++) {
      value = value << 8 | (data[pos++] & 0xff);
    }
    return value;
  }

  private PickleException error(String message) {
    return new PickleException(source + " at byte " + opStart + ": " + message);
  }

  /** A short description of a value for messages: its kind and size, never its whole content. */
  public static String describe(Object value) {
    if (value == null) {
      return "None";
    }
    if (value instanceof String s) {
      return "str '" + (s.length() > 40 ? s.substring(0, 40) + "...'" : s + "'");
    }
    if (value instanceof Boolean || value instanceof Long || value instanceof BigInteger || value instanceof Double) {
      return value.getClass().getSimpleName().toLowerCase() + " " + value;
    }
    if (value instanceof byte[] b) {
      return "bytes of length " + b.length;
    }
    if (value instanceof List<?> l) {
      return (l instanceof ArrayList<?> ? "list" : "tuple") + " of " + l.size();
    }
    if (value instanceof Map<?, ?> m) {
      return "dict of " + m.size();
    }
    if (value instanceof Set<?> s) {
      return "set of " + s.size();
    }
    if (value instanceof PickleGlobal g) {
      return "global " + g.qualifiedName();
    }
    if (value instanceof InertObject o) {
      return o.typeName() + " object (inert)";
    }
    return value.toString();
  }
}
