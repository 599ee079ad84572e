package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.sat2diffusers.io.deepspeed.SatZero3Checkpoint;
import org.sat2diffusers.io.deepspeed.ZeroCheckpoint;
import org.sat2diffusers.io.sat.RecipeFolder;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.io.trainer.TrainerCheckpoint;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.transforms.convert.CheckpointPlan;
import org.sat2diffusers.transforms.convert.CheckpointPlanner;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.convert.Provenance;
import org.sat2diffusers.transforms.convert.Weights;
import org.sat2diffusers.transforms.convert.SeparateVae;
import org.sat2diffusers.transforms.parallel.ReplicaCheck;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.SourcePart;

/**
 * Planning one checkpoint, in the three parts every front door shares: read its parts (index each
 * torch file; read each recipe folder), plan, and make the checks that need tensor bytes. The
 * pipeline ({@link IndexCheckpointFiles}, {@link PlanConversions}), the dry run and {@code inspect}
 * call the same functions, so a dry run's plan is by construction the plan the conversion executes;
 * the dry run only skips {@link #checkBytes}, and its plan lists those checks ({@link
 * CheckpointPlan#replicaChecks}).
 */
public final class PlanCheckpoint {
  private PlanCheckpoint() {}

  /** One checkpoint file's tensor records: its zip directory and data.pkl only, no tensor bytes. */
  public static CheckpointIndex index(String file, SourceOpener opener) throws IOException {
    try (RandomAccessInput in = opener.open(file)) {
      return new TorchCheckpointReader().index(in);
    }
  }

  /**
   * One part of the job ({@link CheckpointJob#partPaths}): a torch file indexed on its own, or a recipe
   * folder read by its reader. Reads pickles and headers only, no tensor bytes.
   */
  public static SourcePart read(CheckpointJob job, String partPath, SourceOpener opener) throws IOException {
    RecipeFolder folder = job.recipeFolder(partPath);
    return folder == null ? SourcePart.torchFile(index(partPath, opener)) : read(folder, job.settings(), opener);
  }

  /**
   * A recipe folder's tensors: a DeepSpeed ZeRO save's fp32 masters or 16-bit module ({@code --weights};
   * the module of a ZeRO-3 save is placeholders, an error naming {@code fp32-master}), SAT's ZeRO-3
   * ranks consolidated (16-bit module), a trainer checkpoint's model (Diffusers names; a LoRA-only one's
   * LoRA beside the --base-pipeline's transformer).
   */
  public static SourcePart read(RecipeFolder folder, ConversionSettings settings) throws IOException {
    return read(folder, settings, RandomAccessInputs::open);
  }

  /** As {@link #read(RecipeFolder, ConversionSettings)}; a trainer checkpoint's files are opened by {@code opener}. */
  public static SourcePart read(RecipeFolder folder, ConversionSettings settings, SourceOpener opener)
      throws IOException {
    List<TensorRecipe> recipes = switch (folder.kind()) {
      case DEEPSPEED_ZERO -> {
        ZeroCheckpoint zero = ZeroCheckpoint.open(folder.folder());
        yield settings.weights() == Weights.FP32_MASTER ? zero.fp32Master() : zero.module();
      }
      case SAT_ZERO3 -> SatZero3Checkpoint.consolidate(folder.folder());
      case TRAINER -> TrainerCheckpoint.recognize(folder.folder()).model(opener,
          settings.basePipeline() == null ? null : settings.basePipeline().dir() + "/" + Component.TRANSFORMER.folder());
    };
    return SourcePart.recipes(folder.folder(), recipes);
  }

  /**
   * The job's plan from its parts, given in the job's order ({@link CheckpointJob#partPaths}); a
   * {@code --vae} file first checked to be a VAE joining a transformer.
   */
  public static CheckpointPlan plan(CheckpointJob job, List<SourcePart> parts) throws IOException {
    if (job.vae() != null) {
      SeparateVae.check(job.source(), job.vae(), parts);
    }
    return CheckpointPlanner.plan(job.source(), parts, job.settings(), Optional.ofNullable(job.runModelConfig()), provenance(job));
  }

  /**
   * The checks planning cannot make without tensor bytes: every tensor the model-parallel ranks each
   * hold in full must be the same in every rank.
   */
  public static void checkBytes(CheckpointPlan plan, SourceOpener opener) throws IOException {
    ReplicaCheck.verify(plan.replicaChecks(), opener);
  }

  /** What every header and the report record of where the job's output comes from. */
  public static Provenance provenance(CheckpointJob job) {
    return new Provenance(Version.current(), job.source(), job.iteration(), job.fingerprints());
  }
}
