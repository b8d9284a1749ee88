package dev.grpcquic.fallback;

import com.google.common.base.Ticker;
import io.grpc.ChannelCredentials;
import io.grpc.ChannelLogger;
import io.grpc.internal.ClientTransportFactory;
import io.grpc.internal.ConnectionClientTransport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.Collections;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The transports of a "QUIC preferred" channel: each is a {@link RacingClientTransport} over the
 * channel's QUIC transport factory and grpc-netty's HTTP/2 one. It owns what the connections of
 * the channel learn together: the broken marks of QUIC endpoints and the {@code alt-svc} advice.
 */
public final class QuicPreferredTransportFactory implements ClientTransportFactory {
  private final ClientTransportFactory quic;
  private final ClientTransportFactory tcp;
  private final FallbackSettings settings;
  private final BrokenQuicMarks marks;
  private final AltSvcCache altSvc;

  /**
   * @param quic makes QUIC transports; closed with this factory
   * @param tcp makes HTTP/2 + TLS transports; closed with this factory
   */
  public QuicPreferredTransportFactory(ClientTransportFactory quic, ClientTransportFactory tcp,
      FallbackSettings settings) {
    this(quic, tcp, settings, Ticker.systemTicker());
  }

  QuicPreferredTransportFactory(ClientTransportFactory quic, ClientTransportFactory tcp,
      FallbackSettings settings, Ticker ticker) {
    this.quic = quic;
    this.tcp = tcp;
    this.settings = settings;
    this.marks = new BrokenQuicMarks(settings.brokenFor(), settings.brokenForMax(), ticker);
    this.altSvc = new AltSvcCache(ticker);
  }

  @Override
  public ConnectionClientTransport newClientTransport(SocketAddress address,
      ClientTransportOptions options, ChannelLogger channelLogger) {
    return new RacingClientTransport(this, (InetSocketAddress) address, options, channelLogger);
  }

  ClientTransportFactory quic() {
    return quic;
  }

  ClientTransportFactory tcp() {
    return tcp;
  }

  FallbackSettings settings() {
    return settings;
  }

  BrokenQuicMarks marks() {
    return marks;
  }

  AltSvcCache altSvc() {
    return altSvc;
  }

  ScheduledExecutorService timer() {
    return quic.getScheduledExecutorService();
  }

  @Override
  public ScheduledExecutorService getScheduledExecutorService() {
    return quic.getScheduledExecutorService();
  }

  @Override
  public SwapChannelCredentialsResult swapChannelCredentials(ChannelCredentials credentials) {
    return null;
  }

  @Override
  public void close() {
    quic.close();
    tcp.close();
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getSupportedSocketAddressTypes() {
    return Collections.singleton(InetSocketAddress.class);
  }
}
