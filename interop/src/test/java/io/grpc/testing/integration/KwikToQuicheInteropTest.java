package io.grpc.testing.integration;

import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** The official interop suite over QUIC: a kwik client against a quiche server. */
@RunWith(JUnit4.class)
public class KwikToQuicheInteropTest extends QuicToQuicInteropTest {
  @Override
  protected QuicEngine clientEngine() {
    return QuicEngines.kwik();
  }

  @Override
  protected QuicEngine serverEngine() {
    return QuicEngines.quiche();
  }
}
