package org.sat2diffusers.io.sat;

import java.util.List;

/**
 * One checkpoint to convert: the files of one iteration of a SAT run (one per model-parallel rank),
 * or of the released layout (transformer checkpoint plus the separate VAE file).
 *
 * @param source the path the user gave
 * @param iteration the iteration folder name ({@code 1000}, {@code 1000-ema}, {@code release}), or the file
 *     name without extension for a bare .pt file
 * @param files the checkpoint files, transformer first
 */
public record SatCheckpoint(String source, String iteration, List<String> files) {
  public SatCheckpoint {
    files = List.copyOf(files);
  }
}
