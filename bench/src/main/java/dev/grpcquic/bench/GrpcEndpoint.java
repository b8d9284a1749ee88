package dev.grpcquic.bench;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicServerBuilder;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSession;

/**
 * A channel of one transport, and its server when that runs in this JVM (on 127.0.0.1 with an
 * ephemeral port; over the link emulator the server is in another JVM, {@link ServerMain}). Both with
 * grpc-java's default executors and flow-control windows (1 MiB per stream for every transport).
 */
final class GrpcEndpoint implements AutoCloseable {
  final Transport transport;
  final Server server;
  final ManagedChannel channel;
  /** What the first call (which includes connection setup) took, in microseconds. */
  final double firstCallMicros;
  /** The negotiated security, as seen by the client. */
  final String security;

  private GrpcEndpoint(Transport transport, Server server, ManagedChannel channel,
      double firstCallMicros, String security) {
    this.transport = transport;
    this.server = server;
    this.channel = channel;
    this.firstCallMicros = firstCallMicros;
    this.security = security;
  }

  /** Server and channel on 127.0.0.1, in this JVM. */
  static GrpcEndpoint start(Transport transport, TlsFiles tls) throws IOException {
    return start(transport, tls, 0);
  }

  /**
   * As {@link #start(Transport, TlsFiles)}; {@code maxConcurrentCalls} above 0 raises the QUIC
   * transport's per-connection call limit (default 100) on both sides, for scenarios with more
   * calls in flight. Netty's default is already unlimited.
   */
  static GrpcEndpoint start(Transport transport, TlsFiles tls, int maxConcurrentCalls)
      throws IOException {
    Server server = startServer(transport, tls, maxConcurrentCalls);
    try {
      return connect(transport, tls, "127.0.0.1", port(server), server, maxConcurrentCalls);
    } catch (IOException | RuntimeException e) {
      server.shutdownNow();
      throw e;
    }
  }

  /**
   * A channel to {@code host:port} (authority "localhost", which the certificate names) and its
   * first call. {@code server} is closed with the endpoint; null when it lives elsewhere (over
   * the link emulator, in {@link ServerMain}).
   */
  static GrpcEndpoint connect(Transport transport, TlsFiles tls, String host, int port,
      Server server) throws IOException {
    return connect(transport, tls, host, port, server, 0);
  }

  private static GrpcEndpoint connect(Transport transport, TlsFiles tls, String host, int port,
      Server server, int maxConcurrentCalls) throws IOException {
    ManagedChannel channel = newChannel(transport, tls, host, port, maxConcurrentCalls, null);
    AtomicReference<String> security = new AtomicReference<>("?");
    Channel observed = ClientInterceptors.intercept(channel, new SecurityCapture(security));
    long start = System.nanoTime();
    try {
      ClientCalls.blockingUnaryCall(observed, BenchService.UNARY,
          CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
          new byte[BenchService.UNARY_SIZE]);
    } catch (RuntimeException e) {
      channel.shutdownNow();
      throw e;
    }
    double firstMicros = (System.nanoTime() - start) / 1000.0;
    String sec = transport == Transport.QUIC ? "QUIC v1, TLS 1.3 (kwik)"
        : transport == Transport.QUIC_QUICHE ? "QUIC v1, TLS 1.3 (quiche, BoringSSL)"
        : transport == Transport.QUIC_QUICHE_BBR ? "QUIC v1, TLS 1.3 (quiche, BoringSSL), BBR"
        : security.get();
    return new GrpcEndpoint(transport, server, channel, firstMicros, sec);
  }

  /** A server of {@code transport} on 127.0.0.1, ephemeral port, serving {@link BenchService}. */
  static Server startServer(Transport transport, TlsFiles tls, int maxConcurrentCalls)
      throws IOException {
    return startServer(transport, tls, new InetSocketAddress("127.0.0.1", 0), maxConcurrentCalls,
        java.util.function.UnaryOperator.identity());
  }

  /** As above; {@code quic} sets more on a QUIC server's builder (ignored for Netty). */
  static Server startServer(Transport transport, TlsFiles tls, int maxConcurrentCalls,
      java.util.function.UnaryOperator<QuicServerBuilder> quic) throws IOException {
    return startServer(transport, tls, new InetSocketAddress("127.0.0.1", 0), maxConcurrentCalls,
        quic);
  }

  /** A server of {@code transport} on {@code bind} serving {@link BenchService}. */
  static Server startServer(Transport transport, TlsFiles tls, InetSocketAddress bind)
      throws IOException {
    return startServer(transport, tls, bind, 0, java.util.function.UnaryOperator.identity());
  }

  private static Server startServer(Transport transport, TlsFiles tls, InetSocketAddress bind,
      int maxConcurrentCalls, java.util.function.UnaryOperator<QuicServerBuilder> quic)
      throws IOException {
    io.grpc.ServerBuilder<?> builder = serverBuilder(transport, tls, bind);
    if (builder instanceof QuicServerBuilder quicBuilder) {
      if (maxConcurrentCalls > 0) {
        quicBuilder.maxConcurrentCallsPerConnection(maxConcurrentCalls);
      }
      builder = quic.apply(quicBuilder);
    }
    return builder.build().start();
  }

  /** The builder of a {@code transport} server on {@code bind} serving {@link BenchService}. */
  static io.grpc.ServerBuilder<?> serverBuilder(Transport transport, TlsFiles tls,
      InetSocketAddress bind) throws IOException {
    switch (transport) {
      case QUIC:
      case QUIC_QUICHE:
      case QUIC_QUICHE_BBR:
        return QuicServerBuilder.forAddress(bind)
            .engine(engine(transport))
            .useTransportSecurity(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile())
            .addService(BenchService.definition());
      case NETTY_TLS: {
        ServerCredentials serverCredentials =
            TlsServerCredentials.create(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile());
        return NettyServerBuilder.forAddress(bind, serverCredentials)
            .addService(BenchService.definition());
      }
      case NETTY_H2C:
        return NettyServerBuilder.forAddress(bind, InsecureServerCredentials.create())
            .addService(BenchService.definition());
      default:
        throw new AssertionError(transport);
    }
  }

  /**
   * A channel of {@code transport} to 127.0.0.1:{@code port}; each channel has its own connection.
   * {@code keepAlive}, when not null, is the keepalive PING interval (a QUIC connection that sends
   * nothing ends at its 30 s idle timeout; TCP connections do not).
   */
  static ManagedChannel newChannel(Transport transport, TlsFiles tls, int port,
      int maxConcurrentCalls, java.time.Duration keepAlive) throws IOException {
    return newChannel(transport, tls, "127.0.0.1", port, maxConcurrentCalls, keepAlive);
  }

  /** As above, to {@code host:port}; TLS channels verify the name "localhost". */
  static ManagedChannel newChannel(Transport transport, TlsFiles tls, String host, int port,
      int maxConcurrentCalls, java.time.Duration keepAlive) throws IOException {
    io.grpc.ManagedChannelBuilder<?> builder = channelBuilder(transport, tls, host, port);
    if (maxConcurrentCalls > 0 && builder instanceof QuicChannelBuilder quic) {
      quic.maxConcurrentCallsPerConnection(maxConcurrentCalls);
    }
    if (keepAlive != null) {
      builder.keepAliveTime(keepAlive.toMillis(), TimeUnit.MILLISECONDS);
    }
    return builder.build();
  }

  /** The builder of a {@code transport} channel to {@code host:port}. */
  static io.grpc.ManagedChannelBuilder<?> channelBuilder(Transport transport, TlsFiles tls,
      String host, int port) throws IOException {
    switch (transport) {
      case QUIC:
      case QUIC_QUICHE:
      case QUIC_QUICHE_BBR:
        return quicChannelBuilder(tls, host, port).engine(engine(transport));
      case NETTY_TLS: {
        ChannelCredentials channelCredentials =
            TlsChannelCredentials.newBuilder().trustManager(tls.caPem.toFile()).build();
        return NettyChannelBuilder.forAddress(host, port, channelCredentials)
            .overrideAuthority("localhost");
      }
      case NETTY_H2C:
        return NettyChannelBuilder.forAddress(host, port, InsecureChannelCredentials.create());
      default:
        throw new AssertionError(transport);
    }
  }

  static dev.grpcquic.QuicEngine engine(Transport transport) {
    switch (transport) {
      case QUIC_QUICHE:
        return dev.grpcquic.QuicEngines.quiche();
      case QUIC_QUICHE_BBR:
        return dev.grpcquic.QuicEngines.quiche().congestionControl("bbr");
      default:
        return dev.grpcquic.QuicEngines.kwik();
    }
  }

  /** A QUIC channel builder to {@code host:port} that verifies the name "localhost". */
  static QuicChannelBuilder quicChannelBuilder(TlsFiles tls, String host, int port)
      throws IOException {
    return QuicChannelBuilder.forAddress(host, port)
        .overrideAuthority("localhost") // the dev certificate's DNS name, whatever host dials
        .trustCertificates(tls.caPem.toFile());
  }

  static int port(Server server) {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    if (server != null) {
      server.shutdownNow();
    }
    channel.awaitTermination(10, TimeUnit.SECONDS);
    if (server != null) {
      server.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** Reads the TLS session (protocol and cipher suite) of the call's transport. */
  private static final class SecurityCapture implements ClientInterceptor {
    private final AtomicReference<String> out;

    SecurityCapture(AtomicReference<String> out) {
      this.out = out;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
        CallOptions callOptions, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          ClientCall<ReqT, RespT> call = this;
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onHeaders(Metadata responseHeaders) {
              SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
              out.set(session == null ? "plaintext"
                  : session.getProtocol() + " " + session.getCipherSuite());
              super.onHeaders(responseHeaders);
            }
          }, headers);
        }
      };
    }
  }
}
