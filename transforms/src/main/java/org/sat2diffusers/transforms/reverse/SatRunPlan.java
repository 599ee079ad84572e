package org.sat2diffusers.transforms.reverse;

import java.util.List;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.records.SatTensor;

/**
 * A SAT run to write from a Diffusers folder: the checkpoint's state dict as recipes, what SAT's
 * state dict has that is not written (each with its rule), and the run's text files.
 *
 * @param family the CogVideoX family
 * @param familyEvidence how it was decided
 * @param iteration the iteration folder's number
 * @param tensors the {@code module} state dict, in order, full SAT keys
 * @param notWritten SAT entries the Diffusers folder cannot give back, with the rule ("… : why")
 * @param configYaml the SAT model config fragment ({@code --sat-config} reads it)
 * @param modelConfigJson the run's {@code model_config.json} (its {@code variant} names the family)
 */
public record SatRunPlan(
    ModelFamily family,
    String familyEvidence,
    int iteration,
    List<SatTensor> tensors,
    List<String> notWritten,
    String configYaml,
    String modelConfigJson) {
  public SatRunPlan {
    tensors = List.copyOf(tensors);
    notWritten = List.copyOf(notWritten);
  }

  /** The tensors computed rather than copied (the sincos table of CogVideoX-2B). */
  public List<SatTensor> recomputed() {
    return tensors.stream().filter(SatTensor::recomputed).toList();
  }

  /** Bytes of the state dict's storages (tied tensors count once). */
  public long storageBytes() {
    return tensors.stream().filter(t -> t.tiedTo() == null).mapToLong(SatTensor::byteLength).sum();
  }
}
