package org.sat2diffusers.pipeline.write;

import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsRegistrar;

/** Which {@link ShardWriter} the shard-writing step uses (travels to every worker with the options). */
public interface ShardWriteOptions extends PipelineOptions {
  @Description("The class that writes shard files (a ShardWriter with a public no-argument constructor).")
  @Default.Class(ShardFiles.class)
  Class<? extends ShardWriter> getShardWriter();

  void setShardWriter(Class<? extends ShardWriter> value);

  /** A new instance of the configured writer. */
  static ShardWriter writer(PipelineOptions options) {
    Class<? extends ShardWriter> type = options.as(ShardWriteOptions.class).getShardWriter();
    try {
      return type.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException("shardWriter " + type.getName() + " has no public no-argument constructor", e);
    }
  }

  /**
   * Makes {@code --beam-option shardWriter=...} known to Beam's option parser (listed in
   * META-INF/services/org.apache.beam.sdk.options.PipelineOptionsRegistrar).
   */
  final class Registrar implements PipelineOptionsRegistrar {
    @Override
    public Iterable<Class<? extends PipelineOptions>> getPipelineOptions() {
      return List.of(ShardWriteOptions.class);
    }
  }
}
