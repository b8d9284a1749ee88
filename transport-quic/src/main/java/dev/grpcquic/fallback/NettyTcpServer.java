package dev.grpcquic.fallback;

import io.grpc.MetricRecorder;
import io.grpc.ServerStreamTracer;
import io.grpc.TlsServerCredentials;
import io.grpc.internal.InternalServer;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;

/**
 * grpc-netty's HTTP/2 + TLS listener, made as a transport server only, so that the server's one
 * {@code ServerImpl} (services, interceptors, executor, handshake timeout, channelz) serves it
 * beside the QUIC listener.
 *
 * <p>grpc-netty makes its {@link InternalServer} in {@code NettyServerBuilder.buildTransportServers},
 * which is package-private: it is reached by reflection here, the only such access in this
 * project. The alternative, a second {@code Server} fed with copies of every builder call, would
 * split channelz, the executor and the shutdown in two.
 */
final class NettyTcpServer {
  private static final Method BUILD_TRANSPORT_SERVERS = buildTransportServersMethod();

  private NettyTcpServer() {}

  private static Method buildTransportServersMethod() {
    try {
      Method m = NettyServerBuilder.class.getDeclaredMethod(
          "buildTransportServers", List.class, MetricRecorder.class);
      m.setAccessible(true);
      return m;
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("this grpc-netty version offers no"
          + " NettyServerBuilder.buildTransportServers(List, MetricRecorder): use the grpc-netty"
          + " version grpc-quic was built with", e);
    }
  }

  /** The HTTP/2 listener at {@code address}, not started. */
  static InternalServer create(InetSocketAddress address, TcpServerSettings settings,
      List<? extends ServerStreamTracer.Factory> tracerFactories, MetricRecorder metricRecorder)
      throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(address, credentials(settings))
        .flowControlWindow(settings.flowControlWindow())
        .maxInboundMetadataSize(settings.maxInboundMetadataSize())
        .maxInboundMessageSize(settings.maxInboundMessageSize())
        .maxConcurrentCallsPerConnection(settings.maxConcurrentCallsPerConnection());
    try {
      return (InternalServer) BUILD_TRANSPORT_SERVERS.invoke(builder, tracerFactories,
          metricRecorder);
    } catch (InvocationTargetException e) {
      throw new IOException("cannot make the HTTP/2 listener: " + e.getCause(), e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * TLS with the QUIC side's key entry only (the key store may hold others), and the QUIC side's
   * client-certificate requirement.
   */
  private static TlsServerCredentials credentials(TcpServerSettings settings) throws IOException {
    try {
      KeyStore source = settings.keyStore();
      char[] password = settings.keyPassword();
      KeyStore one = KeyStore.getInstance("PKCS12");
      one.load(null, null);
      Certificate[] chain = source.getCertificateChain(settings.keyAlias());
      one.setKeyEntry(settings.keyAlias(), source.getKey(settings.keyAlias(), password), password,
          chain);
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(one, password);
      TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder()
          .keyManager(factory.getKeyManagers());
      if (settings.clientTrust() != null) {
        tls.trustManager(settings.clientTrust())
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
      }
      return (TlsServerCredentials) tls.build();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use the server key for TLS over TCP: " + e.getMessage(), e);
    }
  }
}
