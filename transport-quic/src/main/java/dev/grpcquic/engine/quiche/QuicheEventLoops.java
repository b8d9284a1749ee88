package dev.grpcquic.engine.quiche;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The event loops every quiche connection of the process runs on, one thread per core, created
 * on first use. Daemon threads, so an application that forgets to shut a channel down still exits;
 * a connection owns no thread of its own (compare about six per kwik connection).
 */
final class QuicheEventLoops {
  private static final class Holder {
    static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(
        Runtime.getRuntime().availableProcessors(),
        new DefaultThreadFactory("grpc-quic-quiche", true),
        NioIoHandler.newFactory());
  }

  private QuicheEventLoops() {}

  static EventLoopGroup group() {
    return Holder.GROUP;
  }

  static EventLoop next() {
    return Holder.GROUP.next();
  }
}
