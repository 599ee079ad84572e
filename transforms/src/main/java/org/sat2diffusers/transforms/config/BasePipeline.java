package org.sat2diffusers.transforms.config;

import java.io.Serializable;
import java.util.List;

/**
 * A Diffusers pipeline folder of the base model ({@code --base-pipeline}), as read when the job was
 * made: it supplies the components a checkpoint does not hold (tokenizer, scheduler, and the text
 * encoder or VAE a fine-tune may not save) and the classes its {@code model_index.json} names.
 *
 * @param dir the folder
 * @param link hard- or symbolic-link its files into the output where the filesystem allows, else copy
 * @param modelIndexJson the text of its {@code model_index.json}
 * @param folders the component folders it holds: named in its model_index.json with a class, and not empty
 */
public record BasePipeline(String dir, boolean link, String modelIndexJson, List<String> folders)
    implements Serializable {
  public BasePipeline {
    folders = List.copyOf(folders);
  }
}
