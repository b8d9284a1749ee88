package dev.grpcquic.engine.quiche;

import dev.grpcquic.engine.ConnectionAcceptor;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.QuicServerEngine;
import dev.grpcquic.engine.ServerEndpointOptions;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QLogConfiguration;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelOption;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Listening endpoints on quiche through Netty's QUIC codec: one UDP socket on one event loop,
 * its connections on the same loop.
 */
public final class QuicheServerEngine implements QuicServerEngine {
  /** QUIC transport error CONNECTION_REFUSED (RFC 9000 §20.1). */
  static final int CONNECTION_REFUSED = 0x2;
  /** H3_NO_ERROR: what an endpoint closing its connections says. */
  private static final int H3_NO_ERROR = 0x100;

  private final QuicheSettings settings;

  public QuicheServerEngine(QuicheSettings settings) {
    this.settings = settings;
  }

  @Override
  public QuicServerEndpoint bind(ServerEndpointOptions options, ConnectionAcceptor acceptor)
      throws IOException {
    QuicSslContext tls;
    try {
      tls = QuicheTls.server(options.applicationProtocol(), options.keyStore(),
          options.keyAlias(), options.keyPassword(), options.clientTrust(), null);
    } catch (GeneralSecurityException e) {
      throw new IOException("the server's key or certificate cannot be used: " + e.getMessage(),
          e);
    }
    Endpoint endpoint = new Endpoint(acceptor, options.streamReceiveWindow(),
        options.clientTrust() == null);
    long streamWindow = options.streamReceiveWindow();
    QuicServerCodecBuilder builder = new QuicServerCodecBuilder()
        .sslContext(tls)
        .maxIdleTimeout(options.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .initialMaxData(Math.max(options.connectionReceiveWindow(), streamWindow))
        .initialMaxStreamDataBidirectionalLocal(streamWindow)
        .initialMaxStreamDataBidirectionalRemote(streamWindow)
        .initialMaxStreamDataUnidirectional(streamWindow)
        .initialMaxStreamsBidirectional(options.maxPeerBidirectionalStreams())
        .initialMaxStreamsUnidirectional(options.maxPeerUnidirectionalStreams())
        .activeMigration(options.allowClientMigration())
        .congestionControlAlgorithm(QuicCongestionControlAlgorithm.valueOf(
            settings.congestionControl().toUpperCase(Locale.ROOT)))
        .handler(endpoint.connections)
        .streamHandler(PeerStreams.INSTANCE)
        .streamOption(ChannelOption.AUTO_READ, false);
    if (settings.qlogDirectory() != null) {
      builder.option(QuicChannelOption.QLOG, new QLogConfiguration(
          settings.qlogDirectory().toString(), "grpc-quic server", options.bindAddress().toString()));
    }
    ChannelHandler codec = builder.build();
    try {
      endpoint.udp = new Bootstrap().group(QuicheEventLoops.next())
          .channel(NioDatagramChannel.class)
          .option(ChannelOption.SO_RCVBUF, QuicheClientEngine.SOCKET_BUFFER_BYTES)
          .option(ChannelOption.SO_SNDBUF, QuicheClientEngine.SOCKET_BUFFER_BYTES)
          .handler(codec)
          .bind(options.bindAddress()).sync().channel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while binding " + options.bindAddress(), e);
    } catch (Exception e) {
      throw e instanceof IOException io ? io
          : new IOException("cannot bind UDP " + options.bindAddress() + ": " + e, e);
    }
    return endpoint;
  }

  private static final class Endpoint implements QuicServerEndpoint {
    private final ConnectionAcceptor acceptor;
    private final long streamWindow;
    private final boolean halfRtt;
    private final AtomicBoolean accepting = new AtomicBoolean(true);
    private final Set<QuicheConnection> open = ConcurrentHashMap.newKeySet();
    private volatile Channel udp;
    final ChannelHandler connections = new Connections();

    Endpoint(ConnectionAcceptor acceptor, long streamWindow, boolean halfRtt) {
      this.acceptor = acceptor;
      this.streamWindow = streamWindow;
      this.halfRtt = halfRtt;
    }

    /** Makes each new connection's adapter and hands it to the acceptor. */
    @ChannelHandler.Sharable
    private final class Connections extends ChannelInitializer<QuicChannel> {
      @Override
      protected void initChannel(QuicChannel channel) {
        QuicheConnection connection = new QuicheConnection(streamWindow);
        channel.pipeline().addLast(connection);
        if (!accepting.get()) {
          connection.closeWithTransportError(CONNECTION_REFUSED, "server is shutting down");
          return;
        }
        open.add(connection);
        channel.closeFuture().addListener(f -> open.remove(connection));
        // Handed over once the handshake is done: a close in the handshake (the transport's
        // H3_EXCESSIVE_LOAD beyond maxConnections) would not reach the client as such. A 0-RTT
        // request hands it over earlier (see onEstablished), its close waiting for the handshake.
        connection.onEstablished(c -> c.setHandlerOnLoop(acceptor.onConnection(c)), halfRtt);
      }
    }

    @Override
    public InetSocketAddress localAddress() {
      return (InetSocketAddress) udp.localAddress();
    }

    @Override
    public void stopAccepting() {
      accepting.set(false);
    }

    @Override
    public void close() {
      accepting.set(false);
      for (QuicheConnection connection : open) {
        connection.closeImmediately(H3_NO_ERROR, "server closed");
      }
      // Runs after the closes above on the same loop, so their CONNECTION_CLOSE frames go out.
      udp.eventLoop().execute(() -> udp.close());
      udp.closeFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }
}
