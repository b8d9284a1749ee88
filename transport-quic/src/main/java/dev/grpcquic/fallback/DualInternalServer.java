package dev.grpcquic.fallback;

import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalInstrumented;
import io.grpc.Metadata;
import io.grpc.Attributes;
import io.grpc.internal.InternalServer;
import io.grpc.internal.ServerListener;
import io.grpc.internal.ServerStream;
import io.grpc.internal.ServerTransport;
import io.grpc.internal.ServerTransportListener;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.annotation.concurrent.GuardedBy;

/**
 * One transport server for grpc-core that listens twice on the same port number: QUIC (HTTP/3) on
 * UDP and HTTP/2 + TLS on TCP. grpc-core sees one listener whose transports come from either side;
 * shutdown goes to both, and grpc-core hears of the shutdown once both sides have stopped.
 *
 * <p>With port 0, a port that is free for both protocols is chosen first (a TCP listener and a UDP
 * socket are bound to it and closed again), then both sides bind it. Another process can take it in
 * between; {@code start()} then fails with the bind error.
 */
public final class DualInternalServer implements InternalServer {
  private static final Logger log = Logger.getLogger(DualInternalServer.class.getName());
  private static final int PORT_PAIR_ATTEMPTS = 50;

  /** Makes one side's transport server at an address. */
  public interface Side {
    InternalServer at(InetSocketAddress address) throws IOException;
  }

  /** The HTTP/2 side on grpc-netty. */
  public static Side netty(TcpServerSettings settings,
      List<? extends io.grpc.ServerStreamTracer.Factory> tracerFactories,
      io.grpc.MetricRecorder metricRecorder) {
    return address -> NettyTcpServer.create(address, settings, tracerFactories, metricRecorder);
  }

  private final InetSocketAddress requested;
  private final Side quicSide;
  private final Side tcpSide;
  private final java.time.Duration altSvcMaxAge;
  private final Object lock = new Object();
  @GuardedBy("lock") private InternalServer quic;
  @GuardedBy("lock") private InternalServer tcp;

  /**
   * @param requested where to listen; port 0 picks one free on both UDP and TCP
   * @param quicSide the QUIC listener
   * @param tcpSide the HTTP/2 listener
   * @param altSvcMaxAge the {@code ma} of the {@code alt-svc: h3} header on HTTP/2 responses; zero
   *     sends none
   */
  public DualInternalServer(InetSocketAddress requested, Side quicSide, Side tcpSide,
      java.time.Duration altSvcMaxAge) {
    this.requested = requested;
    this.quicSide = quicSide;
    this.tcpSide = tcpSide;
    this.altSvcMaxAge = altSvcMaxAge;
  }

  @Override
  public void start(ServerListener listener) throws IOException {
    int port = requested.getPort() != 0 ? requested.getPort() : freePortPair(requested.getAddress());
    InetSocketAddress address = new InetSocketAddress(requested.getAddress(), port);
    InternalServer quicServer = quicSide.at(address);
    InternalServer tcpServer = tcpSide.at(address);
    BothShutDown joint = new BothShutDown(listener);
    quicServer.start(joint);
    synchronized (lock) {
      quic = quicServer;
    }
    int quicPort = ((InetSocketAddress) quicServer.getListenSocketAddress()).getPort();
    ServerListener tcpListener = altSvcMaxAge.isZero() ? joint
        : new AltSvcListener(joint, AltSvc.h3(quicPort, altSvcMaxAge));
    try {
      tcpServer.start(tcpListener);
    } catch (IOException | RuntimeException e) {
      quicServer.shutdown();
      throw new IOException("QUIC listens on UDP port " + quicPort
          + " but HTTP/2 cannot listen on TCP port " + port + ": " + e.getMessage(), e);
    }
    synchronized (lock) {
      tcp = tcpServer;
    }
    log.log(Level.FINE, "serving HTTP/3 on UDP and HTTP/2 on TCP, port {0}", port);
  }

  /** A port number free on both TCP and UDP at {@code address}. */
  static int freePortPair(InetAddress address) throws IOException {
    IOException last = null;
    for (int i = 0; i < PORT_PAIR_ATTEMPTS; i++) {
      try (ServerSocket tcpProbe = new ServerSocket(0, 1, address)) {
        int port = tcpProbe.getLocalPort();
        try (DatagramSocket udpProbe = new DatagramSocket(new InetSocketAddress(address, port))) {
          return port;
        } catch (IOException e) {
          last = e; // UDP twin in use: another one
        }
      }
    }
    throw new IOException("no port free on both TCP and UDP", last);
  }

  @Override
  public void shutdown() {
    InternalServer q;
    InternalServer t;
    synchronized (lock) {
      q = quic;
      t = tcp;
    }
    if (q != null) {
      q.shutdown();
    }
    if (t != null) {
      t.shutdown();
    }
  }

  @Override
  public SocketAddress getListenSocketAddress() {
    synchronized (lock) {
      return quic != null ? quic.getListenSocketAddress() : requested;
    }
  }

  @Override
  public InternalInstrumented<SocketStats> getListenSocketStats() {
    synchronized (lock) {
      return tcp != null ? tcp.getListenSocketStats() : null;
    }
  }

  /** The UDP listener first, then the TCP one. */
  @Override
  public List<? extends SocketAddress> getListenSocketAddresses() {
    List<SocketAddress> out = new ArrayList<>();
    synchronized (lock) {
      if (quic == null) {
        return List.of(requested);
      }
      out.addAll(quic.getListenSocketAddresses());
      if (tcp != null) {
        out.addAll(tcp.getListenSocketAddresses());
      }
    }
    return out;
  }

  @Override
  public List<InternalInstrumented<SocketStats>> getListenSocketStatsList() {
    List<InternalInstrumented<SocketStats>> out = new ArrayList<>();
    synchronized (lock) {
      if (quic != null) {
        out.addAll(quic.getListenSocketStatsList());
      }
      if (tcp != null) {
        out.addAll(tcp.getListenSocketStatsList());
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "DualInternalServer(" + getListenSocketAddresses() + ")";
  }

  /** Tells grpc-core the server has shut down once both sides have. */
  private static final class BothShutDown implements ServerListener {
    private final ServerListener delegate;
    private int sidesUp = 2;

    BothShutDown(ServerListener delegate) {
      this.delegate = delegate;
    }

    @Override
    public ServerTransportListener transportCreated(ServerTransport transport) {
      return delegate.transportCreated(transport);
    }

    @Override
    public void serverShutdown() {
      synchronized (this) {
        if (--sidesUp != 0) {
          return;
        }
      }
      delegate.serverShutdown();
    }
  }

  /** Gives every stream of the HTTP/2 side an {@link AltSvcServerStream}. */
  private static final class AltSvcListener implements ServerListener {
    private final ServerListener delegate;
    private final String altSvc;

    AltSvcListener(ServerListener delegate, String altSvc) {
      this.delegate = delegate;
      this.altSvc = altSvc;
    }

    @Override
    public ServerTransportListener transportCreated(ServerTransport transport) {
      ServerTransportListener inner = delegate.transportCreated(transport);
      return new ServerTransportListener() {
        @Override
        public void streamCreated(ServerStream stream, String method, Metadata headers) {
          inner.streamCreated(new AltSvcServerStream(stream, altSvc), method, headers);
        }

        @Override
        public Attributes transportReady(Attributes attributes) {
          return inner.transportReady(attributes);
        }

        @Override
        public void transportTerminated() {
          inner.transportTerminated();
        }
      };
    }

    @Override
    public void serverShutdown() {
      delegate.serverShutdown();
    }
  }
}
