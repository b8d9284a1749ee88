package dev.grpcquic.engine.quiche;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.quic.QuicStreamChannel;

/** Hands each stream the peer opens to its connection's {@link QuicheConnection}. */
@ChannelHandler.Sharable
final class PeerStreams extends ChannelInitializer<QuicStreamChannel> {
  static final PeerStreams INSTANCE = new PeerStreams();

  private PeerStreams() {}

  @Override
  protected void initChannel(QuicStreamChannel stream) {
    QuicheConnection connection = stream.parent().pipeline().get(QuicheConnection.class);
    if (connection == null) {
      stream.close();
      return;
    }
    connection.acceptPeerStream(stream);
  }
}
