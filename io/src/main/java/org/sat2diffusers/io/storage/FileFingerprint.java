package org.sat2diffusers.io.storage;

import java.io.Serializable;

/**
 * What identifies a file's version without reading it whole: size, modification time, and a
 * checksum: the store's when it has one (an S3 ETag), else for checkpoints one over the few
 * kilobytes that change with any edit (see {@code CheckpointFingerprints}); null when there is
 * none. A converted output records the fingerprints of its sources; a later run redoes it only when
 * they differ.
 */
public record FileFingerprint(String path, long sizeBytes, long lastModifiedMillis, String checksum)
    implements Serializable {}
