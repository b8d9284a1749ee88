package io.grpc.testing.integration;

import dev.grpcquic.interop.InteropTls;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import org.junit.Assume;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * The baseline: the same official suite over grpc-java's own Netty HTTP/2 transport on TCP with
 * TLS, with the same certificates, windows and message limits as {@link QuicToQuicInteropTest}.
 * A test that fails here and over QUIC is not a QUIC transport bug.
 */
@RunWith(JUnit4.class)
public class NettyTlsInteropTest extends AbstractInteropTest {

  @Override
  protected ServerBuilder<?> getServerBuilder() {
    try {
      return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .sslContext(GrpcSslContexts
              .forServer(InteropTls.serverChainPem(), InteropTls.serverKeyPem())
              .build())
          .flowControlWindow(TEST_FLOW_CONTROL_WINDOW)
          .maxInboundMessageSize(MAX_MESSAGE_SIZE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected ManagedChannelBuilder<?> createChannelBuilder() {
    try {
      return NettyChannelBuilder.forAddress(getListenAddress())
          .overrideAuthority("localhost")
          .sslContext(GrpcSslContexts.forClient()
              .trustManager(InteropTls.caPem())
              .build())
          .flowControlWindow(TEST_FLOW_CONTROL_WINDOW)
          .maxInboundMessageSize(MAX_MESSAGE_SIZE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

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
