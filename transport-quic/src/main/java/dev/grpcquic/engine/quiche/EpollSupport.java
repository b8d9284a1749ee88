package dev.grpcquic.engine.quiche;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.quic.EpollQuicUtils;
import io.netty.handler.codec.quic.SegmentedDatagramPacketAllocator;
import java.net.InetSocketAddress;

/**
 * Every reference to Netty's epoll classes, which are optional: nothing here is loaded unless
 * {@link #unavailability()} found them.
 */
final class EpollSupport {
  private EpollSupport() {}

  /** Why epoll cannot be used here, or null when it can. */
  static String unavailability() {
    try {
      Class.forName("io.netty.channel.epoll.Epoll", false, EpollSupport.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      return "io.netty:netty-transport-native-epoll is not on the class path";
    }
    return Loaded.why();
  }

  /** Touches Epoll only once its class is known to be there. */
  private static final class Loaded {
    static String why() {
      if (Epoll.isAvailable()) {
        return null;
      }
      Throwable cause = Epoll.unavailabilityCause();
      return "Netty's epoll transport does not load here: " + cause;
    }
  }

  static IoHandlerFactory handlerFactory() {
    return EpollIoHandler.newFactory();
  }

  static Class<? extends DatagramChannel> channelClass() {
    return EpollDatagramChannel.class;
  }

  static void reusePort(Bootstrap bootstrap) {
    bootstrap.option(EpollChannelOption.SO_REUSEPORT, true);
  }

  static SegmentedDatagramPacketAllocator segments(int segments) {
    return EpollQuicUtils.newSegmentedAllocator(segments);
  }

  /**
   * A GSO send addressed to {@code recipient} instead, with its segment size; null when {@code
   * packet} is not one.
   */
  static DatagramPacket redirected(DatagramPacket packet, InetSocketAddress recipient) {
    if (packet instanceof io.netty.channel.unix.SegmentedDatagramPacket segmented) {
      return new io.netty.channel.epoll.SegmentedDatagramPacket(segmented.content(),
          segmented.segmentSize(), recipient, segmented.sender());
    }
    return null;
  }
}
