package org.sat2diffusers.io.dtype;

/** The element types a checkpoint or a safetensors file can hold, named as safetensors names them. */
public enum Dtype {
  F64(8, true),
  F32(4, true),
  F16(2, true),
  BF16(2, true),
  I64(8, false),
  I32(4, false),
  I16(2, false),
  I8(1, false),
  U8(1, false),
  BOOL(1, false);

  private final int size;
  private final boolean floatingPoint;

  Dtype(int size, boolean floatingPoint) {
    this.size = size;
    this.floatingPoint = floatingPoint;
  }

  /** Bytes per element. */
  public int size() {
    return size;
  }

  public boolean isFloatingPoint() {
    return floatingPoint;
  }

  /** The safetensors header name (F32, BF16, ...). */
  public String safetensorsName() {
    return name();
  }

  /** Parses a safetensors dtype name; throws IllegalArgumentException naming the bad value. */
  public static Dtype fromSafetensorsName(String name) {
    for (Dtype d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown safetensors dtype '" + name + "'");
  }
}
