package org.sat2diffusers.pipeline.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.sat2diffusers.pipeline.storage.StorageOptions;
import org.sat2diffusers.pipeline.verify.ConvertedFolderCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code verify}: re-reads a converted folder and compares it with its conversion report. */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Re-reads a converted Diffusers folder: the commit marker against the report, every weight file's size and"
          + " safetensors format, the digest (crc32c or sha256) of its header and of each tensor against"
          + " conversion_report.json, every config file's sha256, each index against its shards, and nothing in the"
          + " folder the report does not list. Never opens anything outside DIR, or anything but regular files.",
      "Exit codes: 0 the folder is exactly as converted; 1 a difference (each printed on its own line, naming the"
          + " file); 2 usage error."
    })
public final class VerifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "A folder written by convert (any storage convert writes to).")
  String dir;

  @Option(names = "--file-timeout", paramLabel = "SECONDS", defaultValue = "60",
      description = "Give up on a file that is not read within SECONDS plus 1 s per 32 MiB of it, and report it"
          + " (a hung mount or store); default ${DEFAULT-VALUE}.")
  long fileTimeoutSeconds;

  @Mixin StorageOptions storage;

  @Override
  public Integer call() {
    FileSystems.setDefaultPipelineOptions(storage.applyTo(PipelineOptionsFactory.create()));
    String absolute = Paths2.absolute(dir);
    if (fileTimeoutSeconds < 0) {
      spec.commandLine().getErr().println("error: --file-timeout must be 0 or more, got " + fileTimeoutSeconds);
      return ExitCodes.USAGE;
    }
    ConvertedFolderCheck.Result result = ConvertedFolderCheck.run(absolute, Duration.ofSeconds(fileTimeoutSeconds));
    PrintWriter err = spec.commandLine().getErr();
    for (String problem : result.problems()) {
      err.println("error: " + problem.replace('\n', ' '));
    }
    err.flush();
    if (!result.ok()) {
      return ExitCodes.FAILED;
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf("verified %s: %d file(s), %d tensors, %,d bytes, all as recorded%n", absolute, result.files(),
        result.tensors(), result.bytes());
    out.flush();
    return ExitCodes.OK;
  }
}
