package io.grpc.testing.integration;

import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** The official interop suite over QUIC: both ends on quiche. */
@RunWith(JUnit4.class)
public class QuicheToQuicheInteropTest extends QuicToQuicInteropTest {
  @Override
  protected QuicEngine clientEngine() {
    return QuicEngines.quiche();
  }

  @Override
  protected QuicEngine serverEngine() {
    return QuicEngines.quiche();
  }
}
