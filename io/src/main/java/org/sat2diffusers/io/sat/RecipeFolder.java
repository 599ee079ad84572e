package org.sat2diffusers.io.sat;

/**
 * A folder of one checkpoint whose tensors a reader assembles as {@link
 * org.sat2diffusers.io.torch.TensorRecipe}s over several of its files, instead of indexing each file
 * on its own. Which reader is {@code kind}; the files it reads are among the checkpoint's files.
 *
 * @param kind the layout, which names the reader
 * @param folder the folder the reader opens
 */
public record RecipeFolder(Kind kind, String folder) {
  /** The layouts read as recipes. */
  public enum Kind {
    /**
     * A DeepSpeed engine {@code save_checkpoint} tag folder (ZeRO-1/2/3: optimizer partitions beside the
     * model states), read by {@link org.sat2diffusers.io.deepspeed.ZeroCheckpoint}: its fp32 masters, or
     * its 16-bit module.
     */
    DEEPSPEED_ZERO,
    /** A SAT ZeRO-3 iteration ({@code z3_rank_XX_model_states.pt}), read by {@link org.sat2diffusers.io.deepspeed.SatZero3Checkpoint}. */
    SAT_ZERO3,
    /**
     * A Diffusers-based trainer's {@code checkpoint-<step>/} without DeepSpeed ({@code model.safetensors},
     * {@code pytorch_model.bin}) or a torch.distributed.checkpoint folder, read by
     * {@code io.trainer.TrainerCheckpoint#model}: the transformer's tensors under their Diffusers names.
     * (With DeepSpeed, its tag folder is a {@link #DEEPSPEED_ZERO} save.)
     */
    TRAINER
  }
}
