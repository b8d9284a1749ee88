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
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.quic.QLogConfiguration;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelOption;
import io.netty.handler.codec.quic.QuicCodecDispatcher;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import io.netty.handler.codec.quic.QuicConnectionIdGenerator;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Listening endpoints on quiche through Netty's QUIC codec: one UDP socket on one of the shared
 * event loops, its connections on the same loop; or, with {@code eventLoopThreads}, several
 * sockets on one port, each on a thread of the endpoint's own, each with its connections.
 */
public final class QuicheServerEngine implements QuicServerEngine {
  /** QUIC transport error CONNECTION_REFUSED (RFC 9000 §20.1). */
  static final int CONNECTION_REFUSED = 0x2;
  /** H3_NO_ERROR: what an endpoint closing its connections says. */
  private static final int H3_NO_ERROR = 0x100;
  /** Length of the server's connection IDs (Netty's default, quiche's maximum). */
  static final int CONNECTION_ID_LENGTH = 20;
  /** active_connection_id_limit, which is also quiche's limit of paths per connection. */
  static final long PATHS_PER_CONNECTION = 8;

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
    if (options.eventLoopThreads() > 0) {
      bindSockets(options, tls, endpoint);
    } else {
      ChannelHandler codec = codecBuilder(options, tls, endpoint)
          .localConnectionIdLength(CONNECTION_ID_LENGTH)
          .build();
      boolean follow = options.allowClientMigration();
      bindOne(new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel udp) {
          udp.pipeline().addLast(new NatRebinding(CONNECTION_ID_LENGTH, follow), codec);
        }
      }, QuicheEventLoops.next(), options.bindAddress(), endpoint, false);
    }
    return endpoint;
  }

  /** A codec builder with this server's settings; each socket's codec needs its own. */
  private QuicServerCodecBuilder codecBuilder(ServerEndpointOptions options, QuicSslContext tls,
      Endpoint endpoint) {
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
        // quiche keeps at most this many paths per connection, and a path it left keeps its
        // slot: the default of 2 lets a client change its IP address once (port changes stay
        // on one path, see NatRebinding).
        .activeConnectionIdLimit(PATHS_PER_CONNECTION)
        .congestionControlAlgorithm(QuicCongestionControlAlgorithm.valueOf(
            settings.congestionControl().toUpperCase(Locale.ROOT)))
        .handler(endpoint.connections)
        .streamHandler(PeerStreams.INSTANCE)
        .streamOption(ChannelOption.AUTO_READ, false)
        .option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
            DatagramIo.chosen().segments());
    if (settings.qlogDirectory() != null) {
      builder.option(QuicChannelOption.QLOG, new QLogConfiguration(
          settings.qlogDirectory().toString(), "grpc-quic server", options.bindAddress().toString()));
    }
    return builder;
  }

  /**
   * {@code eventLoopThreads} sockets on one port (SO_REUSEPORT), each on a thread of a group of
   * the endpoint's own. The kernel picks a socket by the client's address; Netty's dispatcher
   * puts the socket's index into every connection ID the socket's codec issues and hands each
   * short-header datagram to the socket its ID names, so a connection whose client moved (and
   * whose datagrams the kernel now gives another socket) stays on its thread and codec.
   */
  private void bindSockets(ServerEndpointOptions options, QuicSslContext tls, Endpoint endpoint)
      throws IOException {
    if (!ReusePort.AVAILABLE) {
      throw new IOException("eventLoopThreads needs SO_REUSEPORT for UDP, which this platform ("
          + QuicheAvailability.platform() + ") does not offer");
    }
    int threads = options.eventLoopThreads();
    endpoint.ownLoops = DatagramIo.chosen().newGroup(threads, "grpc-quic-quiche-server");
    QuicCodecDispatcher dispatcher = new QuicCodecDispatcher() {
      @Override
      protected void initChannel(Channel channel, int localConnectionIdLength,
          QuicConnectionIdGenerator idGenerator) {
        channel.pipeline().addLast(
            new NatRebinding(localConnectionIdLength, options.allowClientMigration()),
            codecBuilder(options, tls, endpoint)
                .localConnectionIdLength(localConnectionIdLength)
                .connectionIdAddressGenerator(idGenerator)
                .build());
      }
    };
    try {
      InetSocketAddress address = options.bindAddress();
      for (EventExecutor loop : endpoint.ownLoops) {
        Channel udp = bindOne(dispatcher, (EventLoop) loop, address, endpoint, true);
        // Port 0: the others join the port the first one got.
        address = (InetSocketAddress) udp.localAddress();
      }
    } catch (IOException | RuntimeException e) {
      endpoint.close();
      throw e;
    }
  }

  /** Binds one UDP socket on {@code loop}; SO_REUSEPORT when others share its port. */
  private static Channel bindOne(ChannelHandler handler, EventLoop loop,
      InetSocketAddress address, Endpoint endpoint, boolean reusePort) throws IOException {
    Bootstrap bootstrap = new Bootstrap().group(loop)
        .channel(DatagramIo.chosen().channelClass())
        .option(ChannelOption.SO_RCVBUF, QuicheClientEngine.SOCKET_BUFFER_BYTES)
        .option(ChannelOption.SO_SNDBUF, QuicheClientEngine.SOCKET_BUFFER_BYTES)
        .handler(handler);
    if (reusePort) {
      DatagramIo.chosen().reusePort(bootstrap);
    }
    try {
      Channel udp = bootstrap.bind(address).sync().channel();
      endpoint.sockets.add(udp);
      return udp;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while binding " + address, e);
    } catch (Exception e) {
      throw e instanceof IOException io ? io
          : new IOException("cannot bind UDP " + address + ": " + e, e);
    }
  }

  /** Whether the JDK can set SO_REUSEPORT on a datagram channel here (Linux, macOS, BSDs). */
  private static final class ReusePort {
    static final boolean AVAILABLE = check();

    private static boolean check() {
      try (java.nio.channels.DatagramChannel probe = java.nio.channels.DatagramChannel.open()) {
        return probe.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT);
      } catch (IOException | UnsupportedOperationException e) {
        return false;
      }
    }
  }

  private static final class Endpoint implements QuicServerEndpoint {
    private final ConnectionAcceptor acceptor;
    private final long streamWindow;
    private final boolean halfRtt;
    private final AtomicBoolean accepting = new AtomicBoolean(true);
    private final Set<QuicheConnection> open = ConcurrentHashMap.newKeySet();
    /** The UDP sockets: one, or one per thread of {@link #ownLoops}. */
    final List<Channel> sockets = new CopyOnWriteArrayList<>();
    /** The endpoint's own event loops (eventLoopThreads); null on the shared ones. */
    EventLoopGroup ownLoops;
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
        NatRebinding rebinding = NatRebinding.of(channel);
        if (rebinding != null) {
          rebinding.register(channel);
        }
        // Handed over once the handshake is done: a close in the handshake (the transport's
        // H3_EXCESSIVE_LOAD beyond maxConnections) would not reach the client as such. A 0-RTT
        // request hands it over earlier (see onEstablished), its close waiting for the handshake.
        connection.onEstablished(c -> c.setHandlerOnLoop(acceptor.onConnection(c)), halfRtt);
      }
    }

    @Override
    public InetSocketAddress localAddress() {
      return (InetSocketAddress) sockets.get(0).localAddress();
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
      for (Channel udp : sockets) {
        udp.eventLoop().execute(() -> udp.close());
      }
      for (Channel udp : sockets) {
        udp.closeFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
      }
      if (ownLoops != null) {
        ownLoops.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10,
            TimeUnit.SECONDS);
      }
    }
  }
}
