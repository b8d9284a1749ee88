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
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    Server server;
    ManagedChannel channel;
    switch (transport) {
      case QUIC: {
        server = QuicServerBuilder.forAddress(any)
            .useTransportSecurity(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile())
            .addService(BenchService.definition())
            .build()
            .start();
        channel = QuicChannelBuilder.forAddress("127.0.0.1", port(server))
            .overrideAuthority("localhost") // kwik checks DNS names only
            .trustCertificates(tls.caPem.toFile())
            .build();
        break;
      }
      case NETTY_TLS: {
        ServerCredentials serverCredentials =
            TlsServerCredentials.create(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile());
        server = NettyServerBuilder.forAddress(any, serverCredentials)
            .addService(BenchService.definition())
            .build()
            .start();
        ChannelCredentials channelCredentials =
            TlsChannelCredentials.newBuilder().trustManager(tls.caPem.toFile()).build();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port(server), channelCredentials)
            .overrideAuthority("localhost")
            .build();
        break;
      }
      case NETTY_H2C: {
        server = NettyServerBuilder.forAddress(any, InsecureServerCredentials.create())
            .addService(BenchService.definition())
            .build()
            .start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port(server),
                InsecureChannelCredentials.create())
            .build();
        break;
      }
      default:
        throw new AssertionError(transport);
    }
    AtomicReference<String> security = new AtomicReference<>("?");
    Channel observed = ClientInterceptors.intercept(channel, new SecurityCapture(security));
    long start = System.nanoTime();
    ClientCalls.blockingUnaryCall(observed, BenchService.UNARY, CallOptions.DEFAULT,
        new byte[BenchService.UNARY_SIZE]);
    double firstMicros = (System.nanoTime() - start) / 1000.0;
    String sec = transport == Transport.QUIC ? "QUIC v1, TLS 1.3 (kwik)" : security.get();
    return new GrpcEndpoint(transport, server, channel, firstMicros, sec);
  }

  private static int port(Server server) {
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
