package org.sat2diffusers.transforms.route;

import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.SourceTensor;

/**
 * Where the router sent one source tensor: a component and the key inside it, or nowhere with the
 * reason.
 *
 * @param source the tensor
 * @param component its component, or null when dropped
 * @param localKey the key with the component prefix stripped, or null when dropped
 * @param dropReason why no component takes it, or null when routed
 */
public record RoutedTensor(SourceTensor source, Component component, String localKey, String dropReason) {
  public boolean routed() {
    return component != null;
  }
}
