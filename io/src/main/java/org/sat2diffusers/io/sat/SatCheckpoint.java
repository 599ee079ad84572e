package org.sat2diffusers.io.sat;

import java.util.List;

/**
 * One checkpoint to convert: the files of one iteration of a SAT run (one per model-parallel rank),
 * or of the released layout (transformer checkpoint plus the separate VAE file), or of a
 * partitioned save read as recipes.
 *
 * @param source the path the user gave
 * @param iteration the iteration folder name ({@code 1000}, {@code 1000-ema}, {@code release}), or the file
 *     name without extension for a bare .pt file
 * @param files every file the checkpoint is read from, transformer first
 * @param recipeFolders the folders among them read as recipes ({@link RecipeFolder}); their files are
 *     not indexed one by one. Empty for SAT's torch files
 */
public record SatCheckpoint(String source, String iteration, List<String> files, List<RecipeFolder> recipeFolders) {
  public SatCheckpoint {
    files = List.copyOf(files);
    recipeFolders = List.copyOf(recipeFolders);
  }

  /** A checkpoint of torch files only. */
  public SatCheckpoint(String source, String iteration, List<String> files) {
    this(source, iteration, files, List.of());
  }

  /** The files indexed one by one (those in no recipe folder), in order. */
  public List<String> torchFiles() {
    return files.stream().filter(f -> recipeFolders.stream().noneMatch(r -> SatLayout.parent(f).equals(r.folder())))
        .toList();
  }
}
