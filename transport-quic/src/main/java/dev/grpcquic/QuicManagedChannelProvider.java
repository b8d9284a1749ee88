package dev.grpcquic;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannelProvider;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.Collections;

/**
 * Lets {@code Grpc.newChannelBuilder(target, QuicChannelCredentials...)} find this transport. It
 * accepts only {@link QuicChannelCredentials}, and its low priority keeps
 * {@code ManagedChannelBuilder.forTarget} with Netty when Netty is on the class path.
 */
public final class QuicManagedChannelProvider extends ManagedChannelProvider {
  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 1;
  }

  @Override
  protected QuicChannelBuilder builderForAddress(String name, int port) {
    return QuicChannelBuilder.forAddress(name, port);
  }

  @Override
  protected QuicChannelBuilder builderForTarget(String target) {
    return QuicChannelBuilder.forTarget(target);
  }

  @Override
  protected NewChannelBuilderResult newChannelBuilder(String target, ChannelCredentials creds) {
    if (creds instanceof QuicChannelCredentials) {
      return NewChannelBuilderResult.channelBuilder(
          QuicChannelBuilder.forTarget(target, (QuicChannelCredentials) creds));
    }
    return NewChannelBuilderResult.error("the QUIC transport takes only QuicChannelCredentials");
  }

  @Override
  protected Collection<Class<? extends SocketAddress>> getSupportedSocketAddressTypes() {
    return Collections.singleton(InetSocketAddress.class);
  }
}
