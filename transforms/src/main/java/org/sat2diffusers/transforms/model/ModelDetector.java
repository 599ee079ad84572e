package org.sat2diffusers.transforms.model;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides the CogVideoX family of a transformer: from {@code --model} when given, else from the SAT
 * training YAML, else from the tensors. A Linear patch embedding means 1.5 (I2V with an ofs
 * embedding); a position table means 5B-I2V when in_channels = 2 x out_channels (learned), 2B
 * otherwise (sincos); without a table only a published hidden size decides. A family given by the
 * user is checked against the tensors.
 *
 * <p>The shapes are the transformer's, renamed to Diffusers names, before the position table is
 * dropped.
 */
public final class ModelDetector {
  static final String PATCH = "patch_embed.proj.weight";
  static final String POS_TABLE = "patch_embed.pos_embedding";
  static final String OFS = "ofs_embedding.linear_1.weight";
  static final String PROJ_OUT = "proj_out.weight";

  private ModelDetector() {}

  public static Detection detect(
      Map<String, List<Long>> transformerShapes,
      Optional<ModelFamily> requested,
      Optional<SatTrainingConfig> sat) {
    Evidence e = Evidence.of(new TensorShapes("transformer", transformerShapes));
    if (requested.isPresent()) {
      ModelFamily f = requested.get();
      e.checkFits(f, "--model " + f.cliName());
      return new Detection(f, "--model " + f.cliName());
    }
    Optional<ModelFamily> fromSat = sat.flatMap(ModelDetector::familyOf);
    if (fromSat.isPresent()) {
      ModelFamily f = fromSat.get();
      e.checkFits(f, "the SAT config");
      return new Detection(f, "SAT config: " + describe(sat.get()) + " means " + f.displayName());
    }
    return e.decide();
  }

  /**
   * The family of a checkpoint that holds no transformer (a VAE on its own, as the released
   * {@code 3d-vae.pt}): only {@code --model} or the SAT YAML can name it, since every CogVideoX VAE
   * has the same tensors while its config does not (scaling_factor, invert_scale_latents).
   *
   * @param holds what the checkpoint holds, for the message ({@code "only a vae"})
   * @throws UndecidableModelException when neither names a family
   */
  public static Detection detectWithoutTransformer(
      Optional<ModelFamily> requested, Optional<SatTrainingConfig> sat, String holds) {
    if (requested.isPresent()) {
      return new Detection(requested.get(), "--model " + requested.get().cliName());
    }
    Optional<ModelFamily> fromSat = sat.flatMap(ModelDetector::familyOf);
    if (fromSat.isPresent()) {
      return new Detection(fromSat.get(), "SAT config: " + describe(sat.get()) + " means " + fromSat.get().displayName());
    }
    throw new UndecidableModelException("no transformer, " + holds + " (a VAE's tensors are the same in every"
        + " CogVideoX family, its config's scaling_factor is not)");
  }

  /** The family a SAT YAML describes, when its position mixin or patch size tells. */
  static Optional<ModelFamily> familyOf(SatTrainingConfig sat) {
    if (sat.patchSizeT().isPresent()) {
      return Optional.of(sat.ofsEmbedDim().isPresent()
          ? ModelFamily.COGVIDEOX1_5_5B_I2V : ModelFamily.COGVIDEOX1_5_5B);
    }
    return sat.positions().map(p -> switch (p) {
      case SINCOS -> ModelFamily.COGVIDEOX_2B;
      case ROTARY -> ModelFamily.COGVIDEOX_5B;
      case ROTARY_AND_LEARNED -> ModelFamily.COGVIDEOX_5B_I2V;
    });
  }

  private static String describe(SatTrainingConfig sat) {
    return sat.patchSizeT().isPresent()
        ? "patch_size [t, h, w] with t = " + sat.patchSizeT().get()
            + (sat.ofsEmbedDim().isPresent() ? " and ofs_embed_dim " + sat.ofsEmbedDim().get() : "")
        : "position mixin " + sat.positions().get();
  }

  /** What the transformer tensors say about the family. */
  private record Evidence(
      List<Long> patchShape, boolean linearPatch, boolean hasOfs, List<Long> table, int hidden,
      int inChannels, int outChannels) {

    static Evidence of(TensorShapes t) {
      List<Long> patch = t.shape(PATCH, -1);
      if (patch.size() != 2 && patch.size() != 4) {
        throw new ModelInferenceException("transformer: tensor '" + PATCH + "' has shape " + patch
            + ", expected a Conv2d weight [hidden, in, p, p] or a Linear weight [hidden, in*p*p*pt]");
      }
      boolean linear = patch.size() == 2;
      int in = -1;
      int out = -1;
      if (!linear) {
        // channels are only readable from a Conv2d kernel; a Linear one mixes them with the patch sizes
        int p = t.dim(PATCH, 4, 2);
        in = t.dim(PATCH, 4, 1);
        out = t.exactQuotient(t.dim(PROJ_OUT, 2, 0), (long) p * p, PROJ_OUT + " rows / (p*p)");
      }
      List<Long> table = t.has(POS_TABLE) ? t.shape(POS_TABLE, 3) : null;
      return new Evidence(patch, linear, t.has(OFS), table, t.dim(PATCH, -1, 0), in, out);
    }

    Detection decide() {
      if (linearPatch) {
        ModelFamily f = hasOfs ? ModelFamily.COGVIDEOX1_5_5B_I2V : ModelFamily.COGVIDEOX1_5_5B;
        return new Detection(f, "auto: " + PATCH + " " + patchShape + " is a Linear (temporal patches: CogVideoX 1.5)"
            + (hasOfs ? " and " + OFS + " is present (image-to-video)" : " and there is no ofs embedding")
            + ": " + f.displayName());
      }
      if (table != null) {
        boolean learned = inChannels == 2 * outChannels;
        ModelFamily f = learned ? ModelFamily.COGVIDEOX_5B_I2V : ModelFamily.COGVIDEOX_2B;
        return new Detection(f, "auto: " + POS_TABLE + " " + table + " with in_channels " + inChannels
            + (learned ? " = 2 x out_channels " + outChannels + " (a learned table of an image-to-video model)"
                : " and out_channels " + outChannels + " (a sincos table)")
            + ": " + f.displayName());
      }
      for (ModelFamily f : List.of(ModelFamily.COGVIDEOX_2B, ModelFamily.COGVIDEOX_5B)) {
        if (hidden == f.hiddenSize()) {
          return new Detection(f, "auto: no position table, hidden size " + hidden + " as in " + f.displayName());
        }
      }
      throw new UndecidableModelException("transformer: Conv2d patch embedding, no position table, hidden size "
          + hidden + " (not a published one)");
    }

    void checkFits(ModelFamily f, String source) {
      String prefix = source + " names " + f.displayName() + ", but ";
      if (linearPatch != (f.patchSizeT() != null)) {
        throw new ModelInferenceException(prefix + "the tensors have a " + (linearPatch ? "Linear" : "Conv2d")
            + " patch embedding (" + PATCH + " " + patchShape + ") where it has a "
            + (linearPatch ? "Conv2d" : "Linear"));
      }
      if (hasOfs != (f.ofsEmbedDim() != null)) {
        throw new ModelInferenceException(prefix + (hasOfs
            ? "the tensors have an ofs embedding (" + OFS + "), which it has not"
            : "its ofs embedding (" + OFS + ") is missing"));
      }
      if (f.positions().learned() && table == null) {
        throw new ModelInferenceException(prefix + "its learned position table " + POS_TABLE + " is missing");
      }
      if (table != null && f.positions() == PositionEmbedding.ROTARY) {
        throw new ModelInferenceException(prefix + "the tensors have a position table (" + POS_TABLE + " " + table
            + ") and it uses rotary positions only");
      }
    }
  }
}
