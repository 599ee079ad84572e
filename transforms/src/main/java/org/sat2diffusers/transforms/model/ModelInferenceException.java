package org.sat2diffusers.transforms.model;

/** The tensors (or a training config) do not describe a model this converter can name or configure. */
public class ModelInferenceException extends IllegalArgumentException {
  public ModelInferenceException(String message) {
    super(message);
  }
}
