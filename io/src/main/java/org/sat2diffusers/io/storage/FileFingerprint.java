package org.sat2diffusers.io.storage;

import java.io.Serializable;

/**
 * What identifies a file's version without reading it: size, modification time, and the store's
 * checksum when it has one (an S3 etag, for instance). A converted output records the fingerprints
 * of its sources; a later run redoes it only when they differ.
 */
public record FileFingerprint(String path, long sizeBytes, long lastModifiedMillis, String checksum)
    implements Serializable {}
