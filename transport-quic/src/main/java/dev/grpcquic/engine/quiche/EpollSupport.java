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
 * Every reference to Netty's epoll classes, which are optional: this class is loaded only once
 * {@link DatagramIo} found them on the class path.
 */
final class EpollSupport {
  private EpollSupport() {}

  /** Why epoll cannot be used here (its native library does not load), or null when it can. */
  static String unavailability() {
    if (Epoll.isAvailable()) {
      return null;
    }
    return "Netty's epoll transport does not load here: " + Epoll.unavailabilityCause();
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
