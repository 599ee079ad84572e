package org.sat2diffusers.transforms.reverse;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.transforms.model.Detection;
import org.sat2diffusers.transforms.model.ModelDetector;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.PositionEmbedding;
import org.sat2diffusers.transforms.model.SincosPositionTable;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.DiffusersTensor;
import org.sat2diffusers.transforms.records.SatTensor;
import org.sat2diffusers.transforms.route.ComponentRouter;
import org.sat2diffusers.transforms.rules.TextEncoderInverseRules;
import org.sat2diffusers.transforms.rules.TransformerInverseRules;
import org.sat2diffusers.transforms.rules.VaeInverseRules;

/**
 * Plans the way back, Diffusers to SAT, in named steps: decide the family, run each component's
 * inverse rules, restore the LoRA adapter as SAT lora2 (when asked), recompute what Diffusers does
 * not keep (the sincos table of CogVideoX-2B), put the SAT prefixes in front, apply {@code --dtype},
 * and list what SAT's state dict has that cannot come back. Reads no tensor byte.
 */
public final class SatRunPlanner {
  /**
   * @param model {@code --model}, or empty to decide from the folder
   * @param dtype {@code --dtype} for the transformer and text encoder (the VAE keeps its own), or null to keep
   * @param loraRank {@code --lora-rank}: write the adapter as SAT lora2 of this rank, or null
   * @param iteration the iteration folder's number
   */
  public record Settings(Optional<ModelFamily> model, Dtype dtype, Integer loraRank, int iteration) {}

  /** The model_config.json SAT runs carry names this class. */
  static final String VARIANT_MODEL_CLASS = "SATVideoDiffusionEngine";
  static final String FREQS_SIN = "mixins.pos_embed.freqs_sin";
  static final String FREQS_COS = "mixins.pos_embed.freqs_cos";

  private SatRunPlanner() {}

  public static SatRunPlan plan(DiffusersModel model, Settings settings) {
    List<DiffusersTensor> transformer = model.tensors(Component.TRANSFORMER);
    if (transformer.isEmpty()) {
      throw new IllegalArgumentException("the Diffusers folder has no transformer weights: SAT's checkpoint needs them");
    }
    Detection detection = detect(model, settings.model());
    ModelFamily family = detection.family();
    List<String> notWritten = new ArrayList<>();

    List<SatTensor> satTransformer = TransformerInverseRules.apply(transformer);
    Optional<Lora2Restore.Result> lora = Optional.empty();
    if (settings.loraRank() != null) {
      lora = Optional.of(Lora2Restore.restore(satTransformer, model.adapter(), settings.loraRank()));
      satTransformer = lora.get().tensors();
    } else if (model.adapter() != null) {
      throw new IllegalArgumentException(model.adapter().file() + " is a LoRA adapter: give --lora-rank R to write"
          + " it as SAT lora2 (matrix_A/matrix_B beside original weights), or merge it into the weights first"
          + " (merge-lora) and convert the merged folder");
    }
    satTransformer = withPositions(satTransformer, family, model.config(Component.TRANSFORMER), settings.dtype(),
        notWritten);

    List<SatTensor> out = new ArrayList<>();
    out.addAll(prefixed(Component.TRANSFORMER, cast(satTransformer, settings.dtype())));
    if (!model.tensors(Component.TEXT_ENCODER).isEmpty()) {
      out.addAll(prefixed(Component.TEXT_ENCODER,
          cast(TextEncoderInverseRules.apply(model.tensors(Component.TEXT_ENCODER)), settings.dtype())));
    }
    if (!model.tensors(Component.VAE).isEmpty()) {
      out.addAll(prefixed(Component.VAE, VaeInverseRules.apply(model.tensors(Component.VAE))));
      notWritten.add(ComponentRouter.satPrefix(Component.VAE) + "loss.*: the VAE's training loss (discriminator,"
          + " logvar), which Diffusers does not keep; SAT loads checkpoints with strict=False, so only training the VAE"
          + " itself misses it");
    } else {
      notWritten.add(ComponentRouter.satPrefix(Component.VAE) + "*: the Diffusers folder has no vae/");
    }
    if (model.tensors(Component.TEXT_ENCODER).isEmpty()) {
      notWritten.add(ComponentRouter.satPrefix(Component.TEXT_ENCODER) + "*: the Diffusers folder has no text_encoder/");
    }

    String yaml = SatConfigYaml.render(family, satTransformer, model, lora.map(Lora2Restore.Result::alpha),
        settings.loraRank());
    Map<String, Object> runConfig = new LinkedHashMap<>();
    runConfig.put("model_class", VARIANT_MODEL_CLASS);
    runConfig.put("variant", family.cliName());
    return new SatRunPlan(family, detection.reason(), settings.iteration(), out, notWritten, yaml,
        PythonJson.dumps(runConfig, false) + "\n");
  }

  /**
   * The family: {@code --model} (checked against the tensors), else what the transformer's config
   * says about positions and patches, else the tensors alone.
   */
  static Detection detect(DiffusersModel model, Optional<ModelFamily> requested) {
    Map<String, List<Long>> shapes = new LinkedHashMap<>();
    model.tensors(Component.TRANSFORMER).forEach(t -> shapes.put(t.key(), t.shape()));
    if (requested.isPresent()) {
      return ModelDetector.detect(shapes, requested, Optional.empty());
    }
    Map<String, Object> config = model.config(Component.TRANSFORMER);
    Optional<ModelFamily> fromConfig = DiffusersConfigFields.family(config);
    if (fromConfig.isEmpty()) {
      return ModelDetector.detect(shapes, Optional.empty(), Optional.empty());
    }
    ModelDetector.detect(shapes, fromConfig, Optional.empty()); // the tensors must fit what the config says
    return new Detection(fromConfig.get(), "transformer/config.json: " + DiffusersConfigFields.describe(config)
        + " means " + fromConfig.get().displayName());
  }

  /**
   * The position table SAT's state dict holds: a learned table comes back by the rules; the sincos
   * table of Basic3DPositionEmbeddingMixin is recomputed (Diffusers computes its own and keeps none);
   * rotary models' freqs_sin/freqs_cos buffers are not written.
   */
  private static List<SatTensor> withPositions(List<SatTensor> tensors, ModelFamily family, Map<String, Object> config,
      Dtype castTo, List<String> notWritten) {
    PositionEmbedding positions = family.positions();
    if (positions.rotary()) {
      String prefix = ComponentRouter.satPrefix(Component.TRANSFORMER);
      notWritten.add(prefix + FREQS_SIN + ", " + prefix + FREQS_COS + ": rotary"
          + " buffers of Rotary3DPositionEmbeddingMixin, computed when SAT builds the model (it loads checkpoints"
          + " with strict=False); the forward conversion drops them too");
      return tensors;
    }
    if (tensors.stream().anyMatch(t -> t.key().equals(TransformerInverseRules.POSITION_TABLE))) {
      return tensors;
    }
    SatTensor patch = tensors.stream().filter(t -> t.key().equals("mixins.patch_embed.proj.weight")).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("transformer: no patch_embed.proj.weight"));
    Dtype dtype = castTo != null ? castTo : patch.dtype();
    SincosPositionTable.Geometry g = DiffusersConfigFields.sincosGeometry(config, hidden(tensors));
    float[] values = SincosPositionTable.compute(g);
    ByteBuffer bytes = ByteBuffer.allocate(values.length * dtype.size());
    DtypeConversions.encode(dtype, values, values.length, bytes);
    List<SatTensor> out = new ArrayList<>(tensors);
    int at = 0;
    while (at < out.size() && !out.get(at).key().startsWith("mixins.")) {
      at++; // SAT lists the table first among the mixins
    }
    out.add(at, new SatTensor(TransformerInverseRules.POSITION_TABLE, dtype, List.of(1L, g.rows(), (long) g.hidden()),
        dtype, List.of(), bytes.array(), null, List.of(),
        "SAT's 3-D sincos table (" + g.textLength() + " text rows of zeros, " + g.frames() + "x"
            + g.height() + "x" + g.width() + " patches, interpolation " + g.heightInterpolation() + "/"
            + g.widthInterpolation() + "/" + g.timeInterpolation() + ") computed as SAT computes it: float64, then float32, then " + dtype));
    return out;
  }

  /** The hidden size: the rows of the text projection (every family has one). */
  private static int hidden(List<SatTensor> tensors) {
    return tensors.stream().filter(t -> t.key().equals("mixins.patch_embed.text_proj.weight")).findFirst()
        .map(t -> Math.toIntExact(t.shape().get(0)))
        .orElseThrow(() -> new IllegalArgumentException("transformer: no patch_embed.text_proj.weight"));
  }

  private static List<SatTensor> cast(List<SatTensor> tensors, Dtype dtype) {
    if (dtype == null) {
      return tensors;
    }
    List<SatTensor> out = new ArrayList<>();
    for (SatTensor t : tensors) {
      if (t.recomputed() || !t.sourceDtype().isFloatingPoint()) {
        out.add(t);
      } else if (!DtypeConversions.isCastable(t.sourceDtype())) {
        throw new IllegalArgumentException("--dtype: tensor '" + t.key() + "' is " + t.sourceDtype()
            + ", which cannot be cast");
      } else {
        out.add(t.withDtype(dtype));
      }
    }
    return out;
  }

  private static List<SatTensor> prefixed(Component component, List<SatTensor> tensors) {
    String prefix = ComponentRouter.satPrefix(component);
    return tensors.stream().map(t -> t.withKey(prefix + t.key())
        .withTiedTo(t.tiedTo() == null ? null : prefix + t.tiedTo())).toList();
  }
}
