package dev.grpcquic.fallback;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.ForwardingServerCall;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Servers, channels and observations shared by the fallback tests. */
final class FallbackFixtures {
  private FallbackFixtures() {}

  /** How one call went: its status, the protocol that carried it, the server address. */
  record CallResult(Status status, String protocol, SocketAddress remote) {
    int remotePort() {
      return ((InetSocketAddress) remote).getPort();
    }
  }

  /** An HTTP/2 + TLS server (grpc-netty) on 127.0.0.1, at {@code port} (0 picks one). */
  static Server nettyTlsServer(int port, TestService service, ServerInterceptor... interceptors)
      throws IOException {
    TestTls tls = TestTls.get();
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port),
            TlsServerCredentials.create(tls.serverCertChainPem().toFile(),
                tls.serverKeyPem().toFile()))
        .addService(ServerInterceptors.intercept(service.definition(), interceptors))
        .build()
        .start();
  }

  /** A QUIC-only server on 127.0.0.1 UDP {@code port} (0 picks one). */
  static Server quicServer(int port, TestService service, ServerTransportFilter... filters)
      throws IOException {
    TestTls tls = TestTls.get();
    QuicServerBuilder builder = QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .keyStore(tls.serverKeyStore(), tls.keyAlias(), tls.keyPassword())
        .addService(service.definition());
    for (ServerTransportFilter filter : filters) {
      builder.addTransportFilter(filter);
    }
    return builder.build().start();
  }

  static int port(Server server) {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** A "QUIC preferred" channel to 127.0.0.1:port, trusting the test CA. */
  static QuicChannelBuilder fallbackChannel(int port) {
    return QuicTestServer.channelBuilder(port).tcpFallback(true);
  }

  /** A UDP port on 127.0.0.1 where nothing listens (so datagrams to it draw ICMP unreachable). */
  static boolean udpFree(int port) {
    try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** One ECHO call; returns how it went. */
  static CallResult echo(Channel channel) {
    return call(channel, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS)).join();
  }

  static CompletableFuture<CallResult> call(Channel channel, CallOptions options) {
    CompletableFuture<CallResult> result = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(TestService.ECHO, options);
    String[] protocol = {null};
    SocketAddress[] remote = {null};
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onHeaders(Metadata headers) {
        Attributes attributes = call.getAttributes();
        protocol[0] = attributes.get(QuicAttributes.TRANSPORT_PROTOCOL);
        remote[0] = attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        result.complete(new CallResult(status, protocol[0], remote[0]));
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(new byte[] {42});
    call.halfClose();
    return result;
  }

  /**
   * The protocol that channelz shows for the connection of the channel whose target names this
   * port (a socket option of the subchannel's socket); null when there is none.
   */
  static String channelzProtocol(int port) throws Exception {
    io.grpc.InternalChannelz channelz = io.grpc.InternalChannelz.instance();
    for (io.grpc.InternalInstrumented<io.grpc.InternalChannelz.ChannelStats> root
        : channelz.getRootChannels(0, 1000).channels) {
      io.grpc.InternalChannelz.ChannelStats channel = root.getStats().get();
      if (channel.target == null || !channel.target.endsWith(":" + port)) {
        continue;
      }
      for (io.grpc.InternalWithLogId sub : channel.subchannels) {
        var subchannel = channelz.getSubchannel(sub.getLogId().getId());
        if (subchannel == null) {
          continue;
        }
        for (io.grpc.InternalWithLogId socket : subchannel.getStats().get().sockets) {
          var stats = channelz.getSocket(socket.getLogId().getId());
          if (stats != null && stats.getStats().get().socketOptions != null) {
            return stats.getStats().get().socketOptions.others.get("grpc-quic.protocol");
          }
        }
      }
    }
    return null;
  }

  /** Adds {@code alt-svc} to every response, as a server that offers HTTP/3 elsewhere would. */
  static ServerInterceptor altSvc(String value) {
    return new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
          Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void sendHeaders(Metadata responseHeaders) {
            responseHeaders.put(AltSvc.HEADER, value);
            super.sendHeaders(responseHeaders);
          }
        }, headers);
      }
    };
  }

  /** Counts a server's transports by protocol: QUIC ones carry connection statistics. */
  static final class TransportCounter extends ServerTransportFilter {
    final AtomicInteger quicOpened = new AtomicInteger();
    final AtomicInteger tcpOpened = new AtomicInteger();
    final AtomicInteger tcpLive = new AtomicInteger();

    @Override
    public Attributes transportReady(Attributes attributes) {
      if (attributes.get(QuicAttributes.CONNECTION_STATS) != null) {
        quicOpened.incrementAndGet();
      } else {
        tcpOpened.incrementAndGet();
        tcpLive.incrementAndGet();
      }
      return attributes;
    }

    @Override
    public void transportTerminated(Attributes attributes) {
      if (attributes.get(QuicAttributes.CONNECTION_STATS) == null) {
        synchronized (this) {
          tcpLive.decrementAndGet();
          notifyAll();
        }
      }
    }

    /** Waits until no HTTP/2 connection is open (the test's timeout bounds it). */
    synchronized void awaitNoTcp() throws InterruptedException {
      while (tcpLive.get() != 0) {
        wait();
      }
    }
  }

  /** A UDP socket that reads and drops every datagram: a path where UDP is black-holed. */
  static final class BlackHole implements AutoCloseable {
    final DatagramSocket socket;
    final AtomicInteger dropped = new AtomicInteger();

    BlackHole(int port) throws IOException {
      socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", port));
      Thread reader = new Thread(() -> {
        byte[] buffer = new byte[2048];
        while (!socket.isClosed()) {
          try {
            socket.receive(new DatagramPacket(buffer, buffer.length));
            dropped.incrementAndGet();
          } catch (IOException e) {
            return;
          }
        }
      }, "black-hole-" + port);
      reader.setDaemon(true);
      reader.start();
    }

    @Override
    public void close() {
      socket.close();
    }
  }
}
