package dev.grpcquic.engine.quiche;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;

/**
 * The event loops every quiche connection of the process runs on, one thread per core, created
 * on first use, of the process's {@link DatagramIo} kind. Daemon threads, so an application that forgets to shut a channel down still exits;
 * a connection owns no thread of its own (compare about six per kwik connection).
 */
final class QuicheEventLoops {
  private static final class Holder {
    static final EventLoopGroup GROUP = DatagramIo.chosen().newGroup(
        Runtime.getRuntime().availableProcessors(), "grpc-quic-quiche");
  }

  private QuicheEventLoops() {}

  static EventLoopGroup group() {
    return Holder.GROUP;
  }

  static EventLoop next() {
    return Holder.GROUP.next();
  }
}
