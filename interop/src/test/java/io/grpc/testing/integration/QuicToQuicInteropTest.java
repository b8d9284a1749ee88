package io.grpc.testing.integration;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.interop.InteropTls;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import org.junit.Assume;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * grpc-java's official interop suite (all 35 tests of {@link AbstractInteropTest}), QUIC client
 * against QUIC server on 127.0.0.1 with generated certificates, both on kwik; the subclasses run
 * the other engine pairings (kwik and quiche, each as client and as server). Lives in this package because
 * {@code getListenAddress()} is package-private. Each test has the suite's own 90 s timeout rule.
 */
@RunWith(JUnit4.class)
public class QuicToQuicInteropTest extends AbstractInteropTest {

  @Override
  protected ServerBuilder<?> getServerBuilder() {
    return QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .engine(serverEngine())
        .useTransportSecurity(InteropTls.serverChainPem(), InteropTls.serverKeyPem())
        .flowControlWindow(TEST_FLOW_CONTROL_WINDOW)
        .maxInboundMessageSize(MAX_MESSAGE_SIZE);
  }

  @Override
  protected ManagedChannelBuilder<?> createChannelBuilder() {
    int port = ((InetSocketAddress) getListenAddress()).getPort();
    try {
      return QuicChannelBuilder.forAddress("127.0.0.1", port)
          .engine(clientEngine())
          // kwik checks the certificate against DNS names only; the dev certificate has localhost.
          .overrideAuthority("localhost")
          .trustCertificates(InteropTls.caPem())
          .flowControlWindow(TEST_FLOW_CONTROL_WINDOW)
          .maxInboundMessageSize(MAX_MESSAGE_SIZE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The client's engine; the subclasses run the other pairings. */
  protected QuicEngine clientEngine() {
    return QuicEngines.kwik();
  }

  protected QuicEngine serverEngine() {
    return QuicEngines.kwik();
  }

  /** Exact census metric values are not checked (the interop client does the same). */
  @Override
  protected boolean metricsExpected() {
    return false;
  }

  /**
   * Skipped: needs grpc-census (OpenCensus tag and span propagation through a census client
   * interceptor and server tracer), which is not served at grpc 1.85.1 and is excluded; it tests
   * the census module, not the transport. The base class skips it too, without a reason.
   */
  @Override
  @Test
  public void censusContextsPropagated() {
    Assume.assumeTrue("grpc-census is not on the classpath (not served at grpc 1.85.1)", false);
  }
}
