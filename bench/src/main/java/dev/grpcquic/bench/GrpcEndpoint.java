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
 * A server and a channel of one transport on 127.0.0.1 with an ephemeral port, both with
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
    ManagedChannel channel = newChannel(transport, tls, port(server), maxConcurrentCalls, null);
    AtomicReference<String> security = new AtomicReference<>("?");
    Channel observed = ClientInterceptors.intercept(channel, new SecurityCapture(security));
    long start = System.nanoTime();
    ClientCalls.blockingUnaryCall(observed, BenchService.UNARY, CallOptions.DEFAULT,
        new byte[BenchService.UNARY_SIZE]);
    double firstMicros = (System.nanoTime() - start) / 1000.0;
    String sec = transport == Transport.QUIC ? "QUIC v1, TLS 1.3 (kwik)" : security.get();
    return new GrpcEndpoint(transport, server, channel, firstMicros, sec);
  }

  /** A server of {@code transport} on 127.0.0.1, ephemeral port, serving {@link BenchService}. */
  static Server startServer(Transport transport, TlsFiles tls, int maxConcurrentCalls)
      throws IOException {
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    switch (transport) {
      case QUIC: {
        QuicServerBuilder builder = QuicServerBuilder.forAddress(any)
            .useTransportSecurity(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile())
            .addService(BenchService.definition());
        if (maxConcurrentCalls > 0) {
          builder.maxConcurrentCallsPerConnection(maxConcurrentCalls);
        }
        return builder.build().start();
      }
      case NETTY_TLS: {
        ServerCredentials serverCredentials =
            TlsServerCredentials.create(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile());
        return NettyServerBuilder.forAddress(any, serverCredentials)
            .addService(BenchService.definition())
            .build()
            .start();
      }
      case NETTY_H2C:
        return NettyServerBuilder.forAddress(any, InsecureServerCredentials.create())
            .addService(BenchService.definition())
            .build()
            .start();
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
    switch (transport) {
      case QUIC: {
        QuicChannelBuilder builder = QuicChannelBuilder.forAddress("127.0.0.1", port)
            .overrideAuthority("localhost") // kwik checks DNS names only
            .trustCertificates(tls.caPem.toFile());
        if (maxConcurrentCalls > 0) {
          builder.maxConcurrentCallsPerConnection(maxConcurrentCalls);
        }
        if (keepAlive != null) {
          builder.keepAliveTime(keepAlive.toMillis(), TimeUnit.MILLISECONDS);
        }
        return builder.build();
      }
      case NETTY_TLS: {
        ChannelCredentials channelCredentials =
            TlsChannelCredentials.newBuilder().trustManager(tls.caPem.toFile()).build();
        NettyChannelBuilder builder =
            NettyChannelBuilder.forAddress("127.0.0.1", port, channelCredentials)
                .overrideAuthority("localhost");
        if (keepAlive != null) {
          builder.keepAliveTime(keepAlive.toMillis(), TimeUnit.MILLISECONDS);
        }
        return builder.build();
      }
      case NETTY_H2C: {
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress("127.0.0.1", port,
            InsecureChannelCredentials.create());
        if (keepAlive != null) {
          builder.keepAliveTime(keepAlive.toMillis(), TimeUnit.MILLISECONDS);
        }
        return builder.build();
      }
      default:
        throw new AssertionError(transport);
    }
  }

  static int port(Server server) {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    channel.awaitTermination(10, TimeUnit.SECONDS);
    server.awaitTermination(10, TimeUnit.SECONDS);
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
