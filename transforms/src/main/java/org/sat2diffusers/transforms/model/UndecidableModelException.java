package org.sat2diffusers.transforms.model;

/** The tensors alone cannot tell which CogVideoX family a checkpoint belongs to. */
public final class UndecidableModelException extends ModelInferenceException {
  public UndecidableModelException(String whatIsKnown) {
    super(
        whatIsKnown
            + ": the tensors cannot tell which CogVideoX family this is; pass --model "
            + ModelFamily.cliNames()
            + " or --sat-config <the SAT training YAML>");
  }
}
