package org.sat2diffusers.pipeline.storage;

import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsRegistrar;

/** How long a run waits for another run's lock on an output ({@code --beam-option outputLockWaitSeconds=N}). */
public interface OutputLockOptions extends PipelineOptions {
  @Description("Seconds to wait for another run that is writing the same output before giving that checkpoint up.")
  @Default.Integer(30)
  int getOutputLockWaitSeconds();

  void setOutputLockWaitSeconds(int value);

  /** Makes the option known to Beam's parser (listed in META-INF/services). */
  final class Registrar implements PipelineOptionsRegistrar {
    @Override
    public Iterable<Class<? extends PipelineOptions>> getPipelineOptions() {
      return List.of(OutputLockOptions.class);
    }
  }
}
