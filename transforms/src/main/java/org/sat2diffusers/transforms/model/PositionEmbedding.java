package org.sat2diffusers.transforms.model;

/** How a CogVideoX transformer encodes positions. */
public enum PositionEmbedding {
  /** A frozen 3-D sincos table (SAT Basic3DPositionEmbeddingMixin; CogVideoX-2B). */
  SINCOS,
  /** 3-D rotary embeddings and no table (SAT Rotary3DPositionEmbeddingMixin). */
  ROTARY,
  /** Rotary plus a learned table (Rotary3DPositionEmbeddingMixin with learnable_pos_embed; 5B-I2V). */
  ROTARY_AND_LEARNED;

  public boolean rotary() {
    return this != SINCOS;
  }

  public boolean learned() {
    return this == ROTARY_AND_LEARNED;
  }
}
