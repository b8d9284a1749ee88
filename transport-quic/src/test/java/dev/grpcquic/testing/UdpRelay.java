package dev.grpcquic.testing;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * A user-space UDP relay on 127.0.0.1 between QUIC clients and one server, like a NAT: each
 * client address gets its own upstream socket, whose port is what the server sees. It can delay
 * datagrams (each way), drop them at random (seeded), drop everything (a dead path), and
 * {@link #rebind} its upstream sockets to new ports (NAT rebinding). For tests only.
 */
public final class UdpRelay implements AutoCloseable {
  private static final Logger log = Logger.getLogger(UdpRelay.class.getName());
  private static final int MAX_DATAGRAM = 65_535;

  private final InetSocketAddress server;
  private final DatagramSocket front;
  private final Map<SocketAddress, Upstream> upstreams = new ConcurrentHashMap<>();
  private final DelayQueue<Scheduled> queue = new DelayQueue<>();
  private final Random random;
  private final Thread frontReader;
  private final Thread sender;
  private volatile long delayNanos;
  private volatile double lossRate;
  private volatile boolean blackhole;
  private volatile boolean closed;
  public final AtomicLong dropped = new AtomicLong();
  public final AtomicLong forwarded = new AtomicLong();
  /** 0-RTT packets (QUIC v1 long header type 1) in the datagrams clients sent so far. */
  public final AtomicLong zeroRttFromClients = new AtomicLong();

  public UdpRelay(InetSocketAddress server, long seed) throws SocketException {
    this.server = server;
    this.random = new Random(seed);
    log.info("UDP relay to " + server + ", random seed " + seed);
    front = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    front.setReceiveBufferSize(4 << 20);
    front.setSendBufferSize(4 << 20);
    frontReader = daemon(this::readFront, "udp-relay-front");
    sender = daemon(this::sendLoop, "udp-relay-send");
  }

  /** The port clients connect to. */
  public int port() {
    return front.getLocalPort();
  }

  /** One-way delay added in each direction. */
  public UdpRelay delay(long duration, TimeUnit unit) {
    delayNanos = unit.toNanos(duration);
    return this;
  }

  /** Probability of dropping each datagram, in each direction. */
  public UdpRelay loss(double rate) {
    lossRate = rate;
    return this;
  }

  /** Drops every datagram while on: a path that died. */
  public UdpRelay blackhole(boolean on) {
    blackhole = on;
    return this;
  }

  /** Moves every client to a new upstream port: the server sees new source addresses. */
  public void rebind() throws SocketException {
    rebind(InetAddress.getLoopbackAddress());
  }

  /**
   * Moves every client to a new upstream socket on {@code local} (another 127.x.y.z address on
   * Linux): the server sees a new IP address, as when a client changes networks.
   */
  public void rebind(InetAddress local) throws SocketException {
    for (Map.Entry<SocketAddress, Upstream> entry : upstreams.entrySet()) {
      Upstream fresh = new Upstream(entry.getKey(), local);
      Upstream old = entry.getValue();
      entry.setValue(fresh);
      old.close();
    }
  }

  @Override
  public void close() {
    closed = true;
    front.close();
    upstreams.values().forEach(Upstream::close);
    sender.interrupt();
  }

  private void readFront() {
    byte[] buffer = new byte[MAX_DATAGRAM];
    while (!closed) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        front.receive(packet);
      } catch (IOException e) {
        return;
      }
      SocketAddress client = packet.getSocketAddress();
      Upstream upstream = upstreams.computeIfAbsent(client, c -> {
        try {
          return new Upstream(c, InetAddress.getLoopbackAddress());
        } catch (SocketException e) {
          return null;
        }
      });
      int zeroRtt = zeroRttPackets(packet.getData(), packet.getOffset(), packet.getLength());
      if (zeroRtt > 0) {
        zeroRttFromClients.addAndGet(zeroRtt);
      }
      if (upstream != null) {
        schedule(upstream.socket, packet, server);
      }
    }
  }

  private void schedule(DatagramSocket via, DatagramPacket packet, SocketAddress to) {
    if (blackhole || (lossRate > 0 && nextDouble() < lossRate)) {
      dropped.incrementAndGet();
      return;
    }
    byte[] copy = new byte[packet.getLength()];
    System.arraycopy(packet.getData(), packet.getOffset(), copy, 0, copy.length);
    queue.add(new Scheduled(System.nanoTime() + delayNanos, via, copy, to));
  }

  private synchronized double nextDouble() {
    return random.nextDouble();
  }

  private void sendLoop() {
    while (!closed) {
      Scheduled next;
      try {
        next = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      try {
        next.via.send(new DatagramPacket(next.bytes, next.bytes.length, next.to));
        forwarded.incrementAndGet();
      } catch (IOException e) {
        // the upstream socket was replaced by rebind(): this datagram is lost, as on a real path
        dropped.incrementAndGet();
      }
    }
  }

  /**
   * Counts the 0-RTT packets among the coalesced QUIC v1 packets of one datagram (RFC 9000
   * §12.2, §17.2): long-header packets carry their length, a short-header packet takes the rest.
   */
  static int zeroRttPackets(byte[] d, int offset, int length) {
    int count = 0;
    int p = offset;
    int end = offset + length;
    try {
      while (p + 6 < end && (d[p] & 0x80) != 0) {
        int type = (d[p] & 0x30) >> 4;
        int version = ((d[p + 1] & 0xff) << 24) | ((d[p + 2] & 0xff) << 16)
            | ((d[p + 3] & 0xff) << 8) | (d[p + 4] & 0xff);
        if (version != 1 || type == 3) {
          return count; // version negotiation, another version, Retry: no length to follow
        }
        int q = p + 5;
        q += 1 + (d[q] & 0xff); // destination connection ID
        q += 1 + (d[q] & 0xff); // source connection ID
        if (type == 0) {
          long[] token = varInt(d, q);
          q = (int) (token[1] + token[0]);
        }
        long[] packetLength = varInt(d, q);
        if (type == 1) {
          count++;
        }
        p = (int) (packetLength[1] + packetLength[0]);
      }
    } catch (ArrayIndexOutOfBoundsException e) {
      // not QUIC as expected: count what was seen
    }
    return count;
  }

  /** {value, offset after it}. */
  private static long[] varInt(byte[] d, int at) {
    int first = d[at] & 0xff;
    int bytes = 1 << (first >> 6);
    long value = first & 0x3f;
    for (int i = 1; i < bytes; i++) {
      value = (value << 8) | (d[at + i] & 0xff);
    }
    return new long[] {value, at + bytes};
  }

  private static Thread daemon(Runnable body, String name) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /** The relay's socket towards the server for one client, and its reader of replies. */
  private final class Upstream {
    final DatagramSocket socket;

    Upstream(SocketAddress client, InetAddress local) throws SocketException {
      socket = new DatagramSocket(new InetSocketAddress(local, 0));
      socket.setReceiveBufferSize(4 << 20);
      socket.setSendBufferSize(4 << 20);
      daemon(() -> readReplies(client), "udp-relay-up-" + socket.getLocalPort());
    }

    private void readReplies(SocketAddress client) {
      byte[] buffer = new byte[MAX_DATAGRAM];
      while (!closed && !socket.isClosed()) {
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        try {
          socket.receive(packet);
        } catch (IOException e) {
          return;
        }
        schedule(front, packet, client);
      }
    }

    void close() {
      socket.close();
    }
  }

  private static final class Scheduled implements Delayed {
    final long dueNanos;
    final DatagramSocket via;
    final byte[] bytes;
    final SocketAddress to;

    Scheduled(long dueNanos, DatagramSocket via, byte[] bytes, SocketAddress to) {
      this.dueNanos = dueNanos;
      this.via = via;
      this.bytes = bytes;
      this.to = to;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
      return Long.compare(dueNanos, ((Scheduled) other).dueNanos);
    }
  }
}
