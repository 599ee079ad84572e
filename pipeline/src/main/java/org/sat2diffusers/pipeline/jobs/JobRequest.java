package org.sat2diffusers.pipeline.jobs;

import java.util.List;
import org.sat2diffusers.io.sat.IterationSelection;
import org.sat2diffusers.io.storage.TreeListing;
import org.sat2diffusers.transforms.convert.ConversionSettings;

/**
 * What one command line (or one manifest entry) asks to convert, before the sources are looked at.
 *
 * @param sources paths given with {@code --source}: run folders, iteration folders, .pt files, released layouts
 * @param sourceRoots folders given with {@code --source-root}, searched for runs
 * @param iterations the {@code --iterations} given, or null when the option was absent (then {@code latest})
 * @param output the output folder (absolute, or a URI)
 * @param settings the conversion options every checkpoint of the request gets
 * @param maxDepth how many folder levels below each source root are searched
 * @param vae the file given with {@code --vae}, converted with each checkpoint's transformer, or null
 */
public record JobRequest(
    List<String> sources,
    List<String> sourceRoots,
    IterationSelection iterations,
    String output,
    ConversionSettings settings,
    int maxDepth,
    String vae) {
  public JobRequest {
    sources = List.copyOf(sources);
    sourceRoots = List.copyOf(sourceRoots);
  }

  /** A request searching source roots to the default depth, without a separate VAE. */
  public JobRequest(List<String> sources, List<String> sourceRoots, IterationSelection iterations, String output,
      ConversionSettings settings) {
    this(sources, sourceRoots, iterations, output, settings, TreeListing.DEFAULT_MAX_DEPTH, null);
  }

  /** The iterations to take from each run: those given, else {@code latest}. */
  public IterationSelection effectiveIterations() {
    return iterations == null ? IterationSelection.latest() : iterations;
  }
}
