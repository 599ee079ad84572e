package org.sat2diffusers.pipeline;

public final class Main {
  public static void main(String[] args) {
    System.out.println("sat2diffusers");
  }
}
