package dev.grpcquic.testing;

import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;

/**
 * The QUIC engine the transport tests run on: system property {@code grpcquic.test.engine}
 * ("kwik", the default, or "quiche"). The build runs the engine-neutral tests once per engine.
 */
public final class TestEngine {
  private TestEngine() {}

  public static QuicEngine get() {
    return QuicEngines.named(name());
  }

  public static String name() {
    return System.getProperty("grpcquic.test.engine", "kwik");
  }

  public static boolean isKwik() {
    return name().equals("kwik");
  }
}
