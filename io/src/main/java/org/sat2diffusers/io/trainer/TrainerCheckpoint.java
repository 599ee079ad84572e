package org.sat2diffusers.io.trainer;

import java.io.IOException;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.dcp.DcpCheckpoint;
import org.sat2diffusers.io.deepspeed.ZeroCheckpoint;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;

/**
 * A {@code checkpoint-<step>/} folder of a Diffusers-based trainer, recognized by what it holds.
 * CogVideo's {@code finetune/} saves through accelerate's {@code save_state}: with DeepSpeed, the
 * engine's {@code save_checkpoint(dir, "pytorch_model")} ({@code latest} names {@code pytorch_model/}),
 * else {@code model.safetensors} (or {@code pytorch_model.bin} with safe serialization off); a LoRA
 * run's save hook adds {@code pytorch_lora_weights.safetensors}. CogKit (FSDP) saves a
 * torch.distributed.checkpoint folder. Optimizer, scheduler and RNG files are never weights.
 *
 * @param folder the checkpoint folder
 * @param step the step in its name
 * @param layout how its full weights are stored
 * @param loraFile the PEFT LoRA weights file, or null
 */
public record TrainerCheckpoint(String folder, long step, Layout layout, String loraFile) {
  private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
  static final String LORA_FILE = "pytorch_lora_weights.safetensors";
  static final String SAFETENSORS_FILE = "model.safetensors";
  static final String BIN_FILE = "pytorch_model.bin";
  /** The module prefix of a Diffusers pipeline's LoRA file ({@code save_lora_weights}). */
  private static final String LORA_PREFIX = "transformer.";
  /** The weight files of a Diffusers model folder: {@code <this>.safetensors} or its shards. */
  private static final String BASE_WEIGHTS = "diffusion_pytorch_model";
  private static final String BASE_HINT = "pass --base-pipeline DIR (the Diffusers folder of the model it was trained"
      + " from) to merge it into that model's transformer";

  /** Where the full (base or fine-tuned) weights are. */
  public enum Layout {
    /** A DeepSpeed engine checkpoint in the folder {@code latest} names: module or fp32 masters. */
    DEEPSPEED,
    /** {@code model.safetensors}, keys as the trainer's (possibly DDP-wrapped) module names them. */
    SAFETENSORS,
    /** {@code pytorch_model.bin}, a torch.save state dict. */
    PYTORCH_BIN,
    /** A torch.distributed.checkpoint folder; the model's tensors are {@code app.model.*} (CogKit). */
    DCP,
    /** No full weights: only the LoRA file (the base comes from elsewhere). */
    LORA_ONLY
  }

  /** Which DeepSpeed weights to read. */
  public enum Weights {
    /** The 16-bit module (ZeRO-1/2 only). */
    MODULE,
    /** The fp32 masters assembled from the optimizer partitions. */
    FP32_MASTER
  }

  /**
   * The key prefix under which CogKit's AppState puts the model in a DCP checkpoint: its trainer saves
   * {@code dcp.save({"app": AppState(model, optimizer)}, checkpoint_id=output_dir/checkpoint-<step>)}
   * and {@code AppState.state_dict} returns {@code {"model": ..., "optim": ...}}, which DCP flattens to
   * {@code app.model.<name>} (THUDM/CogKit {@code src/cogkit/finetune/base/base_trainer.py}
   * {@code save_checkpoint}, {@code src/cogkit/finetune/utils/ckpt.py} {@code AppState}; its own
   * {@code tools/converters/merge.py} reads {@code state["app"]["model"]}). It is the AppState of
   * PyTorch's distributed checkpoint recipe, which other FSDP2 trainers copy.
   */
  public static final String DCP_MODEL_PREFIX = "app.model.";
  /** The prefix DistributedDataParallel puts before every name when the wrapper's state dict is saved. */
  static final String DDP_PREFIX = "module.";
  private static final Pattern DISTCP_FILE = Pattern.compile("__\\d+_\\d+\\.distcp");

  /** Recognizes {@code folder}; an error naming it when it holds none of the layouts. */
  public static TrainerCheckpoint recognize(String folder) throws IOException {
    String dir = StorageFiles.isLocal(folder) ? Paths.get(folder).toAbsolutePath().normalize().toString() : folder;
    String name = dir.substring(dir.lastIndexOf('/') + 1);
    Matcher m = NAME.matcher(name);
    long step = m.matches() ? Long.parseLong(m.group(1)) : -1;
    List<String> files = StorageFiles.list(dir + "/*");
    String lora = files.contains(dir + "/" + LORA_FILE) ? dir + "/" + LORA_FILE : null;
    Layout layout;
    if (files.contains(dir + "/latest")) {
      layout = Layout.DEEPSPEED;
    } else if (files.contains(dir + "/" + SAFETENSORS_FILE)) {
      layout = Layout.SAFETENSORS;
    } else if (files.contains(dir + "/" + BIN_FILE)) {
      layout = Layout.PYTORCH_BIN;
    } else if (files.contains(dir + "/.metadata")) {
      layout = Layout.DCP;
    } else if (lora != null) {
      layout = Layout.LORA_ONLY;
    } else {
      throw new TrainerCheckpointException(dir + ": not a trainer checkpoint: none of 'latest' (DeepSpeed), " + SAFETENSORS_FILE + ", "
          + BIN_FILE + ", .metadata (torch.distributed.checkpoint) or " + LORA_FILE);
    }
    return new TrainerCheckpoint(dir, step, layout, lora);
  }

  /**
   * The full weights as recipes, keys as saved. {@code weights} matters for DeepSpeed only; a
   * LoRA-only checkpoint has none (an empty list).
   */
  public List<TensorRecipe> weights(Weights weights) throws IOException {
    switch (layout) {
      case DEEPSPEED: {
        ZeroCheckpoint zero = ZeroCheckpoint.open(folder);
        return weights == Weights.MODULE ? zero.module() : zero.fp32Master();
      }
      case SAFETENSORS:
        return safetensors(folder + "/" + SAFETENSORS_FILE, RandomAccessInputs::open);
      case PYTORCH_BIN:
        return torchFile(folder + "/" + BIN_FILE, RandomAccessInputs::open);
      case DCP:
        return DcpCheckpoint.open(folder).recipes(DCP_MODEL_PREFIX);
      default:
        return List.of();
    }
  }

  /**
   * The model's tensors under the names the trainer's model gives them: a DCP checkpoint's {@code
   * app.model.} and a DDP wrapper's {@code module.} taken off (for CogVideoX trainers, the Diffusers
   * transformer's names). For the layouts read file by file (not DeepSpeed, whose tag folder is read
   * as a ZeRO save); an error naming the folder when there is no model to read.
   */
  public List<TensorRecipe> model() throws IOException {
    return model(RandomAccessInputs::open);
  }

  /** As {@link #model()}, every file opened by {@code opener}. */
  public List<TensorRecipe> model(SourceOpener opener) throws IOException {
    return model(opener, null);
  }

  /**
   * As {@link #model()}; a checkpoint holding only a PEFT LoRA (the LoRA file alone, or CogKit's
   * LoRA-only DCP save) gives the tensors of {@code baseTransformer} (a base model's Diffusers {@code
   * transformer/} folder, its {@code *.safetensors}) and the LoRA's {@code <module>.lora_A.weight} /
   * {@code lora_B.weight} beside them, for the planner to merge; without a base, an error saying so.
   *
   * @param baseTransformer the base model's transformer folder, or null
   */
  public List<TensorRecipe> model(SourceOpener opener, String baseTransformer) throws IOException {
    List<TensorRecipe> saved = switch (layout) {
      case SAFETENSORS -> safetensors(folder + "/" + SAFETENSORS_FILE, opener);
      case PYTORCH_BIN -> torchFile(folder + "/" + BIN_FILE, opener);
      case DCP -> DcpCheckpoint.open(folder, opener).recipes(DCP_MODEL_PREFIX).stream()
          .map(r -> r.named(r.key().substring(DCP_MODEL_PREFIX.length()))).toList();
      case DEEPSPEED -> throw new TrainerCheckpointException(folder + ": a DeepSpeed checkpoint is read as the ZeRO save in the"
          + " folder its 'latest' names, not file by file");
      case LORA_ONLY -> {
        // the PEFT file names the modules as the pipeline's LoRA loader does: transformer.<module>
        List<TensorRecipe> lora = safetensors(loraFile, opener);
        if (baseTransformer == null) {
          throw new TrainerCheckpointException(folder + ": holds only the PEFT LoRA file " + loraFile + " (a LoRA run without"
              + " DeepSpeed, or CogKit's low-VRAM save), no transformer weights: " + BASE_HINT);
        }
        yield onBase(baseTransformer, lora.stream().map(r -> r.named(r.key().startsWith(LORA_PREFIX)
            ? r.key().substring(LORA_PREFIX.length()) : r.key())).toList(), opener);
      }
    };
    if (saved.isEmpty()) {
      throw new TrainerCheckpointException(folder + ": no model tensors in " + String.join(", ", files())
          + (layout == Layout.DCP ? " (expected keys under '" + DCP_MODEL_PREFIX + "', as CogKit saves them)" : ""));
    }
    if (layout != Layout.LORA_ONLY && saved.stream().allMatch(r -> r.key().contains(".lora_A.") || r.key().contains(".lora_B."))) {
      if (baseTransformer == null) {
        throw new TrainerCheckpointException(folder + ": holds LoRA weights only (" + saved.size() + " tensors such as '"
            + saved.get(0).key() + "': CogKit saves get_peft_model_state_dict for a LoRA run), no transformer weights: "
            + BASE_HINT);
      }
      return onBase(baseTransformer, saved, opener);
    }
    if (saved.stream().allMatch(r -> r.key().startsWith(DDP_PREFIX))) {
      return saved.stream().map(r -> r.named(r.key().substring(DDP_PREFIX.length()))).toList();
    }
    return saved;
  }

  /**
   * Every file {@link #model} reads: the weights file, or a DCP folder's {@code .metadata} and its
   * {@code __<rank>_<n>.distcp} files, or the LoRA file of a LoRA-only checkpoint; none for DeepSpeed (see
   * {@link TrainerLayout}).
   */
  public List<String> files() throws IOException {
    List<String> files = new ArrayList<>();
    switch (layout) {
      case SAFETENSORS -> files.add(folder + "/" + SAFETENSORS_FILE);
      case PYTORCH_BIN -> files.add(folder + "/" + BIN_FILE);
      case DCP -> {
        files.add(folder + "/.metadata");
        StorageFiles.list(folder + "/*.distcp").stream()
            .filter(f -> DISTCP_FILE.matcher(f.substring(f.lastIndexOf('/') + 1)).matches()).forEach(files::add);
      }
      case LORA_ONLY -> files.add(loraFile);
      default -> { }
    }
    return files;
  }

  /** The PEFT LoRA weights ({@code transformer.<module>.lora_A.weight}, ...), empty when there is no LoRA file. */
  public List<TensorRecipe> lora() throws IOException {
    return loraFile == null ? List.of() : safetensors(loraFile, RandomAccessInputs::open);
  }

  /** The base transformer's tensors, then the LoRA's: the planner folds each module's pair into its weight. */
  private static List<TensorRecipe> onBase(String baseTransformer, List<TensorRecipe> lora, SourceOpener opener)
      throws IOException {
    // its weights only, one file or shards: not a LoRA file a conversion with --lora-mode may have put beside them
    List<String> files = StorageFiles.list(baseTransformer + "/" + BASE_WEIGHTS + "*.safetensors").stream().sorted().toList();
    if (files.isEmpty()) {
      throw new TrainerCheckpointException(baseTransformer + ": no " + BASE_WEIGHTS + "*.safetensors: the base pipeline's"
          + " transformer is needed to merge a LoRA-only checkpoint into");
    }
    List<TensorRecipe> tensors = new ArrayList<>();
    for (String file : files) {
      tensors.addAll(safetensors(file, opener));
    }
    tensors.addAll(lora);
    return tensors;
  }

  private static List<TensorRecipe> torchFile(String file, SourceOpener opener) throws IOException {
    try (RandomAccessInput in = opener.open(file)) {
      CheckpointIndex index = new TorchCheckpointReader().index(in);
      List<TensorRecipe> recipes = new ArrayList<>();
      for (TensorRecord record : index.tensors()) {
        recipes.add(TensorRecipe.of(file, record));
      }
      return recipes;
    }
  }

  private static List<TensorRecipe> safetensors(String file, SourceOpener opener) throws IOException {
    try (RandomAccessInput in = opener.open(file)) {
      List<TensorRecipe> recipes = new ArrayList<>();
      for (SafetensorsEntry entry : SafetensorsFile.open(in).entries()) {
        recipes.add(new TensorRecipe(entry.name(), entry.dtype(), entry.shape(), List.of(entry.range(file))));
      }
      return recipes;
    }
  }
}
