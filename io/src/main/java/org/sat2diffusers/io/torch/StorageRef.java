package org.sat2diffusers.io.torch;

import org.sat2diffusers.io.dtype.Dtype;

/**
 * A storage named by a persistent id {@code ("storage", torch.XxxStorage, key, location, numel)}:
 * its bytes are the zip entry {@code <top>/data/<key>}.
 */
record StorageRef(String key, Dtype dtype, String location, long numel) {}
