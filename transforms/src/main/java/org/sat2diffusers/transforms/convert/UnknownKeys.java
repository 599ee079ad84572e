package org.sat2diffusers.transforms.convert;

/**
 * What becomes of source keys no rule knows: keys under no component prefix, and keys of a component
 * that are not parameters of its Diffusers model.
 */
public enum UnknownKeys {
  /** Refuse the checkpoint, listing every such key (the default: a silent drop can lose weights). */
  FAIL,
  /** Leave them out; the report lists each with the reason. */
  DROP,
  /** Write them into the component whose prefix they carry; a key under no component prefix still fails. */
  KEEP
}
