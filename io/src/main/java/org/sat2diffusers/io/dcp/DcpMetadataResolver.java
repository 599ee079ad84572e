package org.sat2diffusers.io.dcp;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.sat2diffusers.io.pickle.PickleException;
import org.sat2diffusers.io.pickle.PickleGlobal;
import org.sat2diffusers.io.pickle.PickleReader;
import org.sat2diffusers.io.pickle.PickleResolver;

/**
 * The classes a DCP {@code .metadata} pickle may construct (torch 2.6
 * torch/distributed/checkpoint/metadata.py and filesystem.py), kept as inert objects; a call to
 * anything else refuses the pickle. {@code torch.Size} becomes a list.
 */
final class DcpMetadataResolver implements PickleResolver {
  static final Set<String> ALLOWED = Set.of(
      "torch.distributed.checkpoint.metadata.Metadata",
      "torch.distributed.checkpoint.metadata.TensorStorageMetadata",
      "torch.distributed.checkpoint.metadata.ChunkStorageMetadata",
      "torch.distributed.checkpoint.metadata.TensorProperties",
      "torch.distributed.checkpoint.metadata.BytesStorageMetadata",
      "torch.distributed.checkpoint.metadata.MetadataIndex",
      "torch.distributed.checkpoint.metadata.StorageMeta",
      "torch.distributed.checkpoint.metadata._MEM_FORMAT_ENCODING",
      "torch.distributed.checkpoint.filesystem._StorageInfo",
      "torch.serialization._get_layout",
      // StorageMeta.checkpoint_id: the folder the save wrote to (pathlib._local from Python 3.13)
      "pathlib.PosixPath", "pathlib._local.PosixPath");

  @Override
  public Object call(PickleGlobal callable, List<Object> args) throws PickleException {
    if (callable.qualifiedName().equals("torch.Size")) {
      if (args.isEmpty()) {
        return List.of();
      }
      if (!(args.get(0) instanceof List<?> sizes)) {
        throw new PickleException("torch.Size of " + PickleReader.describe(args.get(0)));
      }
      return new ArrayList<>(sizes);
    }
    if (!ALLOWED.contains(callable.qualifiedName())) {
      throw new PickleException(callable.qualifiedName() + " is not a torch.distributed.checkpoint metadata class;"
          + " refusing this .metadata (nothing was executed)");
    }
    return PickleResolver.super.call(callable, args);
  }
}
