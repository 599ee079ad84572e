package org.sat2diffusers.pipeline.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.steps.PlanCheckpoint;
import org.sat2diffusers.pipeline.storage.StorageOptions;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.sat.RecipeFolder;
import org.sat2diffusers.io.sat.SatCheckpoint;
import org.sat2diffusers.io.sat.SatLayout;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.trainer.TrainerLayout;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.convert.Weights;
import org.sat2diffusers.transforms.records.SourcePart;
import org.sat2diffusers.transforms.route.ComponentRouter;
import org.sat2diffusers.transforms.route.RoutedTensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code inspect}: what a checkpoint or safetensors file holds, without reading tensor data. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = "Lists the tensors of a SAT checkpoint (any path convert accepts) or a .safetensors file:"
        + " wrapper, components, each tensor's dtype, shape and size, and totals. Reads no tensor data.")
public final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin StorageOptions storage;

  @Parameters(paramLabel = "PATH", description = "A checkpoint path (as for convert) or a .safetensors file.")
  String path;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try {
      FileSystems.setDefaultPipelineOptions(storage.applyTo(PipelineOptionsFactory.create()));
      String absolute = Paths2.absolute(path);
      if (absolute.endsWith(".safetensors")) {
        inspectSafetensors(absolute, out);
      } else {
        // as a conversion resolves it: a trainer's checkpoint folder first (a DeepSpeed one looks like a SAT run)
        SatCheckpoint checkpoint = TrainerLayout.checkpoint(absolute).orElse(null);
        checkpoint = checkpoint != null ? checkpoint : SatLayout.resolve(absolute);
        for (String file : checkpoint.torchFiles()) {
          inspectPart(PlanCheckpoint.index(file, RandomAccessInputs::open), out); // as a conversion indexes it
        }
        for (RecipeFolder folder : checkpoint.recipeFolders()) {
          // a ZeRO-3 engine save's module is placeholders: its weights are the fp32 masters
          inspectPart(PlanCheckpoint.read(folder, ConversionSettings.defaults().withWeights(Weights.FP32_MASTER)), out);
        }
      }
      out.flush();
      return 0;
    } catch (Exception e) {
      spec.commandLine().getErr().println("error: " + ErrorText.of(e));
      return 1;
    }
  }

  private static void inspectPart(CheckpointIndex index, PrintWriter out) {
    out.printf("%s%n  state dict under: %s%n", index.path(), index.wrapperKey() == null ? "(top level)" : index.wrapperKey());
    inspectPart(SourcePart.torchFile(index), out);
    index.otherItems().forEach((k, v) -> out.printf("  other: %s = %s%n", k, v));
  }

  private static void inspectPart(SourcePart part, PrintWriter out) {
    if (!part.isTorchFile()) {
      out.printf("%s%n  assembled from %d file(s): %s%n  key names: %s%n", part.path(), part.files().size(),
          part.files(), part.names().name().toLowerCase());
    }
    Map<String, long[]> perComponent = new LinkedHashMap<>();
    for (RoutedTensor r : ComponentRouter.route(part.sourceTensors())) { // the planner's router
      TensorRecord t = r.source().tensor();
      String component = r.routed() ? r.component().folder() : "(dropped: " + r.dropReason() + ")";
      long[] totals = perComponent.computeIfAbsent(component, c -> new long[2]);
      totals[0]++;
      totals[1] += t.byteLength();
      out.printf("  %-90s %-5s %-20s %12d%s%n", t.key(), t.dtype(), t.shape(), t.byteLength(),
          t.sharedWith().isEmpty() ? "" : "  shares storage with " + t.sharedWith());
    }
    perComponent.forEach((c, totals) -> out.printf("  %-14s %6d tensors %,16d bytes%n", c, totals[0], totals[1]));
  }

  private static void inspectSafetensors(String file, PrintWriter out) throws Exception {
    try (RandomAccessInput in = RandomAccessInputs.open(file)) {
      SafetensorsFile st = SafetensorsFile.open(in);
      out.printf("%s%n  metadata: %s%n", file, st.metadata());
      long total = 0;
      for (SafetensorsEntry e : st.entries()) {
        out.printf("  %-90s %-5s %-20s %12d%n", e.name(), e.dtype(), e.shape(), e.byteLength());
        total += e.byteLength();
      }
      out.printf("  %d tensors, %,d bytes%n", st.entries().size(), total);
    }
  }
}
