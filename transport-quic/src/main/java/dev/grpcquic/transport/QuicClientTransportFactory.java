package dev.grpcquic.transport;

import io.grpc.ChannelLogger;
import io.grpc.internal.ClientTransportFactory;
import io.grpc.internal.ConnectionClientTransport;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.SharedResourceHolder;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.Collections;
import java.util.concurrent.ScheduledExecutorService;

/** Makes one {@link QuicClientTransport} per address the channel's load balancer wants. */
public final class QuicClientTransportFactory implements ClientTransportFactory {
  private final ClientTransportSettings settings;
  private final ScheduledExecutorService timer =
      SharedResourceHolder.get(GrpcUtil.TIMER_SERVICE);
  private boolean closed;

  /** @param settings what every transport of the channel shares */
  public QuicClientTransportFactory(ClientTransportSettings settings) {
    this.settings = settings;
  }

  @Override
  public ConnectionClientTransport newClientTransport(
      SocketAddress address, ClientTransportOptions options, ChannelLogger channelLogger) {
    if (closed) {
      throw new IllegalStateException("transport factory is closed");
    }
    return new QuicClientTransport(
        (InetSocketAddress) address, options.getAuthority(), options.getUserAgent(),
        options.getEagAttributes(), settings, timer);
  }

  @Override
  public ScheduledExecutorService getScheduledExecutorService() {
    return timer;
  }

  @Override
  public SwapChannelCredentialsResult swapChannelCredentials(io.grpc.ChannelCredentials creds) {
    return null;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    SharedResourceHolder.release(GrpcUtil.TIMER_SERVICE, timer);
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getSupportedSocketAddressTypes() {
    return Collections.singleton(InetSocketAddress.class);
  }
}
