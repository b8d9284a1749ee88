package dev.grpcquic.engine.quiche;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.SegmentedDatagramPacketAllocator;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.StandardSocketOptions;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * How the quiche engine's UDP sockets do their I/O: Netty's epoll transport when it is on the
 * class path and its native library loads (Linux), the JDK's NIO otherwise. epoll gives what NIO
 * cannot: GSO, so that quiche's packets of one send go to the kernel as one system call instead of
 * one per 1200-byte datagram. {@code -Dgrpcquic.quiche.io=nio} forces NIO (to compare, or to leave
 * a native library unused).
 */
enum DatagramIo {
  NIO, EPOLL;

  private static final Logger LOG = Logger.getLogger(DatagramIo.class.getName());

  /** Datagrams quiche may hand over in one GSO send (the kernel takes up to 64). */
  static final int GSO_SEGMENTS = 16;

  private static final class Chosen {
    static final DatagramIo IO = choose();
  }

  /** The process's choice, made once. */
  static DatagramIo chosen() {
    return Chosen.IO;
  }

  private static DatagramIo choose() {
    String forced = System.getProperty("grpcquic.quiche.io", "").toLowerCase(Locale.ROOT);
    if (forced.equals("nio")) {
      return NIO;
    }
    String why = epollUnavailability();
    if (why == null) {
      LOG.fine("quiche engine: UDP sockets on Netty's epoll transport (GSO)");
      return EPOLL;
    }
    Level level = forced.equals("epoll") ? Level.WARNING : Level.FINE;
    LOG.log(level, "quiche engine: UDP sockets on NIO: {0}", why);
    return NIO;
  }

  /**
   * Why epoll cannot be used, or null. {@link EpollSupport} is not touched before Netty's epoll
   * classes are known to be there: verifying it loads them (a NoClassDefFoundError without them).
   */
  private static String epollUnavailability() {
    try {
      Class.forName("io.netty.channel.epoll.Epoll", false, DatagramIo.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      return "io.netty:netty-transport-native-epoll is not on the class path";
    }
    return EpollSupport.unavailability();
  }

  /** A group of {@code threads} daemon event loops of this kind. */
  EventLoopGroup newGroup(int threads, String name) {
    IoHandlerFactory handlers = this == EPOLL ? EpollSupport.handlerFactory()
        : NioIoHandler.newFactory();
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), handlers);
  }

  Class<? extends DatagramChannel> channelClass() {
    return this == EPOLL ? EpollSupport.channelClass() : NioDatagramChannel.class;
  }

  /** Lets several sockets share one port (the kernel spreads clients over them). */
  void reusePort(Bootstrap bootstrap) {
    if (this == EPOLL) {
      EpollSupport.reusePort(bootstrap);
    } else {
      bootstrap.option(io.netty.channel.socket.nio.NioChannelOption.of(
          StandardSocketOptions.SO_REUSEPORT), true);
    }
  }

  /** GSO for a connection's sends, or {@link SegmentedDatagramPacketAllocator#NONE}. */
  SegmentedDatagramPacketAllocator segments() {
    return this == EPOLL ? EpollSupport.segments(GSO_SEGMENTS)
        : SegmentedDatagramPacketAllocator.NONE;
  }
}
