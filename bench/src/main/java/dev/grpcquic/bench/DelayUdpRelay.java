package dev.grpcquic.bench;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A user-space UDP relay on 127.0.0.1 that delays every datagram by a fixed time in each
 * direction (no loss, no reordering, no rate limit): a path with RTT = 2 x delay for QUIC.
 * Each client address gets its own upstream socket, so the server sees one address per client.
 */
final class DelayUdpRelay implements AutoCloseable {
  private final DatagramSocket front;
  private final InetSocketAddress server;
  private final DelayLine toServer;
  private final DelayLine toClient;
  private final Map<SocketAddress, DatagramSocket> upstreams = new ConcurrentHashMap<>();
  private volatile boolean closed;

  DelayUdpRelay(InetSocketAddress server, long oneWayNanos) throws IOException {
    this.server = server;
    this.front = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    front.setReceiveBufferSize(4 << 20);
    front.setSendBufferSize(4 << 20);
    toServer = new DelayLine("relay-udp-to-server", oneWayNanos);
    toClient = new DelayLine("relay-udp-to-client", oneWayNanos);
    Thread t = new Thread(this::frontLoop, "relay-udp-front");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return front.getLocalPort();
  }

  private void frontLoop() {
    byte[] buffer = new byte[65536];
    while (!closed) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        front.receive(packet);
      } catch (IOException e) {
        return;
      }
      SocketAddress client = packet.getSocketAddress();
      byte[] data = java.util.Arrays.copyOf(packet.getData(), packet.getLength());
      DatagramSocket upstream = upstreams.computeIfAbsent(client, this::newUpstream);
      if (upstream != null) {
        toServer.submit(() -> send(upstream, new DatagramPacket(data, data.length, server)));
      }
    }
  }

  private DatagramSocket newUpstream(SocketAddress client) {
    try {
      DatagramSocket upstream = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
      upstream.setReceiveBufferSize(4 << 20);
      Thread t = new Thread(() -> {
        byte[] buffer = new byte[65536];
        while (!closed && !upstream.isClosed()) {
          DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
          try {
            upstream.receive(packet);
          } catch (IOException e) {
            return;
          }
          byte[] data = java.util.Arrays.copyOf(packet.getData(), packet.getLength());
          toClient.submit(() -> send(front, new DatagramPacket(data, data.length, client)));
        }
      }, "relay-udp-back");
      t.setDaemon(true);
      t.start();
      return upstream;
    } catch (IOException e) {
      return null;
    }
  }

  private static void send(DatagramSocket socket, DatagramPacket packet) {
    try {
      socket.send(packet);
    } catch (IOException e) {
      // closed at teardown
    }
  }

  @Override
  public void close() {
    closed = true;
    front.close();
    upstreams.values().forEach(DatagramSocket::close);
    toServer.close();
    toClient.close();
  }
}
