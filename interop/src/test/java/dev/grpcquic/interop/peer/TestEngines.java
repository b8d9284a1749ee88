package dev.grpcquic.interop.peer;

import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;

/**
 * The engine our side of the peer tests runs on: system property {@code grpcquic.test.engine}
 * ("kwik" by default; the build runs these tests again with "quiche").
 */
final class TestEngines {
  private TestEngines() {}

  static QuicEngine ours() {
    return QuicEngines.named(System.getProperty("grpcquic.test.engine", "kwik"));
  }
}
