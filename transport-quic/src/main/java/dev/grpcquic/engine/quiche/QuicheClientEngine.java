package dev.grpcquic.engine.quiche;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicClientEngine;
import dev.grpcquic.engine.PendingStream;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.UnstartedConnection;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.quic.QLogConfiguration;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelOption;
import io.netty.handler.codec.quic.QuicSslContext;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLEngine;

/**
 * Client connections on quiche through Netty's QUIC codec. Nothing blocks: the UDP socket is
 * bound, the handshake run and the connect timeout kept on one of the shared event loops.
 *
 * <p>Each connection has its own connected UDP socket, so that ICMP port unreachable (no QUIC
 * server on that port) fails the connection at once instead of after the connect timeout, and
 * its own codec, since each connection's windows are sized for its path (built ahead of need:
 * {@link ClientCodecs}). TLS contexts are shared between connections with the same trust and key
 * material.
 */
public final class QuicheClientEngine implements QuicClientEngine {
  private static final Logger LOG = Logger.getLogger(QuicheClientEngine.class.getName());
  static final int SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
  /** HTTP/3 needs three unidirectional streams from the server; leave room for grease streams. */
  private static final int MIN_PEER_UNI_STREAMS = 8;

  private final QuicheSettings settings;
  private final List<CachedContext> contexts = new ArrayList<>();

  private record CachedContext(ClientConnectionOptions key, RecordingTrustManager trust,
      QuicSslContext context) {
    boolean matches(ClientConnectionOptions o) {
      return key.trustManager() == o.trustManager()
          && key.clientKeyManager() == o.clientKeyManager()
          && Objects.equals(key.keyLogFile(), o.keyLogFile())
          && key.applicationProtocol().equals(o.applicationProtocol());
    }
  }

  public QuicheClientEngine(QuicheSettings settings) {
    this.settings = settings;
  }

  /**
   * Streams opened before the start are {@link PendingStream}s, which {@link QuicheConnection}
   * sends as 0-RTT data when quiche gets into early data.
   */
  @Override
  public UnstartedConnection open(ClientConnectionOptions options, ConnectionHandler handler) {
    return PendingStream.collector(early -> startConnection(options, handler, early));
  }

  /**
   * Connects, resuming with the options' session ticket when there is one (see {@link
   * SessionTickets}); the early streams go as 0-RTT data when quiche resumed a session that
   * allows it, after the handshake otherwise.
   */
  private CompletableFuture<QuicConnection> startConnection(ClientConnectionOptions options,
      ConnectionHandler handler, List<PendingStream> earlyStreams) {
    CompletableFuture<QuicConnection> future = new CompletableFuture<>();
    CachedContext tls;
    try {
      tls = context(options);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
      earlyStreams.forEach(early -> early.fail(e));
      return future;
    }
    InetSocketAddress remote = new InetSocketAddress(options.host(), options.port());
    String serverName = options.serverName() == null || options.serverName().isEmpty()
        ? options.host() : options.serverName();
    String target = serverName + " (" + remote.getAddress().getHostAddress() + ":"
        + options.port() + ")";
    EventLoop loop = QuicheEventLoops.next();
    QuicheConnection connection = new QuicheConnection(options.streamReceiveWindow());
    connection.setHandler(handler);
    SessionTickets tickets = new SessionTickets(tls.context(), serverName);
    if (options.sessionTicket() != null && !tickets.offer(options.sessionTicket())) {
      LOG.fine("ignoring a session ticket that is not quiche's (a full handshake follows)");
    }
    connection.setClient(tickets, earlyStreams);
    future.whenComplete((c, error) -> {
      if (error != null) {
        tickets.take(); // not used: nothing stays in Netty's cache
        connection.onConnectFailed(error);
      }
    });
    long streamWindow = options.streamReceiveWindow();
    ChannelHandler codec = ClientCodecs.take(new ClientCodecs.Parameters(
        options.idleTimeout().toMillis(),
        Math.max(options.connectionReceiveWindow(), streamWindow), streamWindow,
        Math.max(MIN_PEER_UNI_STREAMS, options.maxPeerUnidirectionalStreams()),
        settings.congestionControl()));
    UdpErrors udpErrors = new UdpErrors(future, target);
    new Bootstrap().group(loop).channel(DatagramIo.chosen().channelClass())
        .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER_BYTES)
        .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER_BYTES)
        .handler(new ChannelInitializer<DatagramChannel>() {
          @Override
          protected void initChannel(DatagramChannel ch) {
            ch.pipeline().addLast(codec, udpErrors);
          }
        })
        // Connected: only a connected UDP socket hears ICMP port unreachable.
        .connect(remote, new InetSocketAddress(
            remote.getAddress() instanceof java.net.Inet6Address ? "::" : "0.0.0.0", 0))
        .addListener(bound -> {
          if (!bound.isSuccess()) {
            future.completeExceptionally(bound.cause());
            return;
          }
          Channel udp = ((io.netty.channel.ChannelFuture) bound).channel();
          startHandshake(udp, remote, options, connection, tls, target, serverName,
              tickets.key(), future);
        });
    return future;
  }

  private void startHandshake(Channel udp, InetSocketAddress remote,
      ClientConnectionOptions options, QuicheConnection connection, CachedContext tls,
      String target, String serverName, int sessionKey,
      CompletableFuture<QuicConnection> future) {
    var bootstrap = QuicChannel.newBootstrap(udp)
        .attr(ClientCodecs.TLS_CONTEXT, tls.context())
        .attr(ClientCodecs.SERVER_NAME, serverName)
        .attr(ClientCodecs.SESSION_KEY, sessionKey)
        .handler(connection)
        .streamHandler(PeerStreams.INSTANCE)
        .streamOption(ChannelOption.AUTO_READ, false)
        .option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
            DatagramIo.chosen().segments())
        .remoteAddress(remote);
    if (settings.qlogDirectory() != null) {
      bootstrap.option(QuicChannelOption.QLOG, new QLogConfiguration(
          settings.qlogDirectory().toString(), "grpc-quic client", target));
    }
    var connecting = bootstrap.connect();
    udp.eventLoop().schedule(() -> {
      if (!future.isDone()) {
        future.completeExceptionally(new java.net.SocketTimeoutException("QUIC handshake with "
            + target + " did not complete within " + options.connectTimeout().toMillis()
            + " ms: no answer on that UDP port (a firewall may drop UDP)"));
        // Closing the socket fails the handshake (cancelling it first made Netty's bootstrap
        // fail its promise a second time, logged as a warning).
        udp.close();
      }
    }, options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    connecting.addListener(done -> {
      if (done.isSuccess()) {
        QuicChannel quic = (QuicChannel) done.getNow();
        quic.closeFuture().addListener(closed -> udp.close());
        if (!future.isDone()) {
          connection.onHandshakeDone();
        }
        if (!future.complete(connection)) {
          quic.close(); // the timeout or a port-unreachable error came first
        }
      } else {
        future.completeExceptionally(describe(done.cause(), tls, connecting, target));
        udp.close();
      }
    });
  }

  private static Throwable describe(Throwable cause, CachedContext tls,
      io.netty.util.concurrent.Future<QuicChannel> connecting, String target) {
    if (tls.trust() != null) {
      QuicChannel quic = connecting.getNow();
      SSLEngine engine = quic == null ? null : quic.sslEngine();
      CertificateException refused = engine == null ? null : tls.trust().failure(engine);
      if (refused != null) {
        return new javax.net.ssl.SSLHandshakeException("the certificate of " + target
            + " was refused: " + refused.getMessage());
      }
    }
    if (cause instanceof io.netty.handler.codec.quic.QuicClosedChannelException closed
        && closed.event() != null) {
      String text = "QUIC connection to " + target + " closed by the server during the handshake: "
          + CloseDescriptions.describe(closed.event());
      if (!closed.event().isApplicationClose() && !closed.event().isTlsError()
          && closed.event().error() == QuicheServerEngine.CONNECTION_REFUSED) {
        text += " (the server is shutting down or full)";
      }
      return new java.net.ConnectException(text);
    }
    return cause;
  }

  private CachedContext context(ClientConnectionOptions options) {
    synchronized (contexts) {
      for (CachedContext c : contexts) {
        if (c.matches(options)) {
          return c;
        }
      }
      RecordingTrustManager trust = QuicheTls.recording(options.trustManager());
      CachedContext created = new CachedContext(options, trust, QuicheTls.client(
          options.applicationProtocol(), trust, options.clientKeyManager(),
          options.keyLogFile()));
      contexts.add(created);
      return created;
    }
  }

  /**
   * Sits behind the codec on the UDP channel: ICMP port unreachable on the connected socket means
   * nothing listens on that UDP port, which fails a connection still in its handshake at once.
   */
  private static final class UdpErrors extends ChannelInboundHandlerAdapter {
    private final CompletableFuture<QuicConnection> future;
    private final String target;

    UdpErrors(CompletableFuture<QuicConnection> future, String target) {
      this.future = future;
      this.target = target;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof PortUnreachableException && !future.isDone()) {
        PortUnreachableException e = new PortUnreachableException(
            "no QUIC server answered at " + target + " (UDP port unreachable)");
        e.initCause(cause);
        future.completeExceptionally(e);
        ctx.channel().close();
        return;
      }
      LOG.log(Level.FINE, "UDP socket of a QUIC connection to " + target + " failed", cause);
    }
  }
}
