package org.sat2diffusers.transforms.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The published CogVideoX models, with what their tensors cannot tell: sample sizes, VAE scaling,
 * scheduler shift and position scheme (DESIGN.md section 4, and diffusers'
 * {@code scripts/convert_cogvideox_to_diffusers.py}). A checkpoint of a family keeps its own sizes
 * (layers, widths, channels): those come from its tensors.
 */
public enum ModelFamily {
  COGVIDEOX_2B("cogvideox-2b", "CogVideoX-2B", 1920, 16, PositionEmbedding.SINCOS,
      null, true, null, 60, 90, 49, 1.15258426, false, 3.0, false),
  COGVIDEOX_5B("cogvideox-5b", "CogVideoX-5B", 3072, 16, PositionEmbedding.ROTARY,
      null, true, null, 60, 90, 49, 0.7, false, 1.0, false),
  COGVIDEOX_5B_I2V("cogvideox-5b-i2v", "CogVideoX-5B-I2V", 3072, 32, PositionEmbedding.ROTARY_AND_LEARNED,
      null, true, null, 60, 90, 49, 0.7, false, 1.0, true),
  COGVIDEOX1_5_5B("cogvideox1.5-5b", "CogVideoX1.5-5B", 3072, 16, PositionEmbedding.ROTARY,
      2, false, null, 300, 300, 81, 0.7, true, 1.0, false),
  COGVIDEOX1_5_5B_I2V("cogvideox1.5-5b-i2v", "CogVideoX1.5-5B-I2V", 3072, 32, PositionEmbedding.ROTARY,
      2, false, 512, 300, 300, 81, 0.7, true, 1.0, true);

  /** Spatial patch size of every published model. */
  public static final int PATCH_SIZE = 2;
  /** Text tokens the published models are configured for (T5 max_length). */
  public static final int MAX_TEXT_SEQ_LENGTH = 226;
  /** Frames per latent frame (the VAE's temporal compression). */
  public static final int TEMPORAL_COMPRESSION_RATIO = 4;

  private final String cliName;
  private final String displayName;
  private final int hiddenSize;
  private final int inChannels;
  private final PositionEmbedding positions;
  private final Integer patchSizeT;
  private final boolean patchBias;
  private final Integer ofsEmbedDim;
  private final int sampleHeight;
  private final int sampleWidth;
  private final int sampleFrames;
  private final double vaeScalingFactor;
  private final boolean invertScaleLatents;
  private final double snrShiftScale;
  private final boolean imageToVideo;

  ModelFamily(String cliName, String displayName, int hiddenSize, int inChannels,
      PositionEmbedding positions, Integer patchSizeT, boolean patchBias, Integer ofsEmbedDim,
      int sampleHeight, int sampleWidth, int sampleFrames, double vaeScalingFactor,
      boolean invertScaleLatents, double snrShiftScale, boolean imageToVideo) {
    this.cliName = cliName;
    this.displayName = displayName;
    this.hiddenSize = hiddenSize;
    this.inChannels = inChannels;
    this.positions = positions;
    this.patchSizeT = patchSizeT;
    this.patchBias = patchBias;
    this.ofsEmbedDim = ofsEmbedDim;
    this.sampleHeight = sampleHeight;
    this.sampleWidth = sampleWidth;
    this.sampleFrames = sampleFrames;
    this.vaeScalingFactor = vaeScalingFactor;
    this.invertScaleLatents = invertScaleLatents;
    this.snrShiftScale = snrShiftScale;
    this.imageToVideo = imageToVideo;
  }

  /** The {@code --model} value, e.g. {@code cogvideox1.5-5b-i2v}. */
  public String cliName() {
    return cliName;
  }

  public String displayName() {
    return displayName;
  }

  /** Hidden size of the published model (1920 or 3072). */
  public int hiddenSize() {
    return hiddenSize;
  }

  /** Transformer input channels of the published model (32 for image-to-video: latents + image). */
  public int inChannels() {
    return inChannels;
  }

  public PositionEmbedding positions() {
    return positions;
  }

  /** Temporal patch size (CogVideoX 1.5), or null when patches are 2-D (1.0). */
  public Integer patchSizeT() {
    return patchSizeT;
  }

  public boolean patchBias() {
    return patchBias;
  }

  /** Width of the ofs (frame offset) embedding (1.5 I2V), or null. */
  public Integer ofsEmbedDim() {
    return ofsEmbedDim;
  }

  /** Latent height the model is configured for. */
  public int sampleHeight() {
    return sampleHeight;
  }

  /** Latent width the model is configured for. */
  public int sampleWidth() {
    return sampleWidth;
  }

  /** Video frames the model is configured for. */
  public int sampleFrames() {
    return sampleFrames;
  }

  public double vaeScalingFactor() {
    return vaeScalingFactor;
  }

  public boolean invertScaleLatents() {
    return invertScaleLatents;
  }

  public double snrShiftScale() {
    return snrShiftScale;
  }

  /** Image-to-video: the pipeline is CogVideoXImageToVideoPipeline. */
  public boolean imageToVideo() {
    return imageToVideo;
  }

  /** Parses a {@code --model} value other than {@code auto}. */
  public static ModelFamily fromCliName(String name) {
    for (ModelFamily f : values()) {
      if (f.cliName.equals(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown --model '" + name + "': expected auto|" + cliNames());
  }

  /** The {@code --model} values, joined by {@code |}. */
  public static String cliNames() {
    return Arrays.stream(values()).map(ModelFamily::cliName).collect(Collectors.joining("|"));
  }
}
