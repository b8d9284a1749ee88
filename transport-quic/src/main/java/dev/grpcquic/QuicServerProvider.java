package dev.grpcquic;

import io.grpc.ServerCredentials;
import io.grpc.ServerProvider;

/**
 * Lets {@code Grpc.newServerBuilderForPort(port, QuicServerCredentials...)} find this transport.
 * It accepts only {@link QuicServerCredentials}; its low priority keeps
 * {@code ServerBuilder.forPort} with Netty when Netty is on the class path.
 */
public final class QuicServerProvider extends ServerProvider {
  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 1;
  }

  @Override
  protected QuicServerBuilder builderForPort(int port) {
    return QuicServerBuilder.forPort(port);
  }

  @Override
  protected NewServerBuilderResult newServerBuilderForPort(int port, ServerCredentials creds) {
    if (creds instanceof QuicServerCredentials) {
      return NewServerBuilderResult.serverBuilder(
          QuicServerBuilder.forPort(port, (QuicServerCredentials) creds));
    }
    return NewServerBuilderResult.error("the QUIC transport takes only QuicServerCredentials");
  }
}
