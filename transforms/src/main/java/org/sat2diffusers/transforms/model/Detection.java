package org.sat2diffusers.transforms.model;

/**
 * The family a checkpoint was found to belong to.
 *
 * @param family the family whose presets fill what the tensors cannot tell
 * @param reason why, in words a person can check (for the conversion report)
 */
public record Detection(ModelFamily family, String reason) {}
