package dev.grpcquic.interop;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A UDP relay on 127.0.0.1 that drops a share of the datagrams in each direction (seeded): clients
 * dial {@link #port()}, each client address gets its own upstream socket towards the server.
 */
final class LossyRelay implements AutoCloseable {
  private static final int MAX_DATAGRAM = 65_535;

  final AtomicLong forwarded = new AtomicLong();
  final AtomicLong dropped = new AtomicLong();
  private final InetSocketAddress server;
  private final double loss;
  private final Random random;
  private final DatagramSocket front;
  private final Map<SocketAddress, DatagramSocket> upstreams = new ConcurrentHashMap<>();
  private volatile boolean closed;

  LossyRelay(InetSocketAddress server, double loss, long seed) throws SocketException {
    this.server = server;
    this.loss = loss;
    this.random = new Random(seed);
    this.front = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    front.setReceiveBufferSize(4 << 20);
    front.setSendBufferSize(4 << 20);
    daemon(() -> pump(front, null), "relay-front").start();
  }

  int port() {
    return front.getLocalPort();
  }

  /** Client to server on {@code from}'s socket, or server to client on an upstream socket. */
  private void pump(DatagramSocket from, SocketAddress client) {
    DatagramPacket packet = new DatagramPacket(new byte[MAX_DATAGRAM], MAX_DATAGRAM);
    while (!closed) {
      try {
        packet.setLength(MAX_DATAGRAM);
        from.receive(packet);
        if (drop()) {
          continue;
        }
        if (client == null) {
          upstream(packet.getSocketAddress()).send(
              new DatagramPacket(packet.getData(), packet.getLength(), server));
        } else {
          front.send(new DatagramPacket(packet.getData(), packet.getLength(), client));
        }
        forwarded.incrementAndGet();
      } catch (IOException e) {
        if (!closed) {
          System.err.println("relay: " + e);
        }
      }
    }
  }

  private boolean drop() {
    synchronized (random) {
      if (random.nextDouble() >= loss) {
        return false;
      }
    }
    dropped.incrementAndGet();
    return true;
  }

  private DatagramSocket upstream(SocketAddress client) {
    return upstreams.computeIfAbsent(client, c -> {
      try {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        socket.setReceiveBufferSize(4 << 20);
        socket.setSendBufferSize(4 << 20);
        daemon(() -> pump(socket, c), "relay-upstream").start();
        return socket;
      } catch (SocketException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private static Thread daemon(Runnable task, String name) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    return thread;
  }

  @Override
  public void close() {
    closed = true;
    front.close();
    upstreams.values().forEach(DatagramSocket::close);
  }
}
