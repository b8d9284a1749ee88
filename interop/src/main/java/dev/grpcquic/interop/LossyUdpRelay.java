package dev.grpcquic.interop;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A user-space UDP relay on 127.0.0.1 that delays every datagram by a fixed one-way delay and drops
 * a fraction of them at random, in both directions. Clients send to {@link #address()}; each client
 * address gets its own upstream socket towards the target, so the target sees one peer per client.
 *
 * <p>Drops come from {@link Random}s seeded from one logged seed (one per direction), so a run's
 * decisions per direction can be replayed by passing the same seed. Delays come from one scheduler
 * thread; datagrams with equal delay leave in arrival order.
 */
public final class LossyUdpRelay implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(LossyUdpRelay.class.getName());
  private static final int MAX_DATAGRAM = 65_535;

  private final InetSocketAddress target;
  private final long delayNanos;
  private final double dropProbability;
  private final long seed;
  private final Random toTargetDrops;
  private final Random toClientDrops;
  private final DatagramSocket front;
  private final Map<SocketAddress, Upstream> upstreams = new ConcurrentHashMap<>();
  private final ScheduledExecutorService delayer;
  private final AtomicLong forwarded = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private volatile boolean closed;

  /**
   * Starts relaying to {@code target}. {@code dropProbability} is per datagram, per direction.
   */
  public LossyUdpRelay(InetSocketAddress target, long delay, TimeUnit unit, double dropProbability,
      long seed) throws SocketException {
    this.target = target;
    this.delayNanos = unit.toNanos(delay);
    this.dropProbability = dropProbability;
    this.seed = seed;
    Random seeds = new Random(seed);
    this.toTargetDrops = new Random(seeds.nextLong());
    this.toClientDrops = new Random(seeds.nextLong());
    this.front = socket();
    this.delayer = Executors.newSingleThreadScheduledExecutor(daemon("relay-delay"));
    LOG.info(() -> String.format("UDP relay %s -> %s: %d ms one-way delay, %.1f %% drop, seed %d",
        front.getLocalSocketAddress(), target, unit.toMillis(delay), dropProbability * 100, seed));
    daemon("relay-front").newThread(this::readFront).start();
  }

  /** Where clients send. */
  public InetSocketAddress address() {
    return (InetSocketAddress) front.getLocalSocketAddress();
  }

  public long seed() {
    return seed;
  }

  public long forwardedDatagrams() {
    return forwarded.get();
  }

  public long droppedDatagrams() {
    return dropped.get();
  }

  private void readFront() {
    byte[] buffer = new byte[MAX_DATAGRAM];
    while (!closed) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        front.receive(packet);
      } catch (IOException e) {
        if (!closed) {
          LOG.log(Level.WARNING, "relay front socket failed", e);
        }
        return;
      }
      SocketAddress client = packet.getSocketAddress();
      Upstream upstream;
      try {
        upstream = upstreams.computeIfAbsent(client, c -> new Upstream(c));
      } catch (IllegalStateException e) {
        LOG.log(Level.WARNING, "relay could not open an upstream socket", e);
        continue;
      }
      relay(packet, toTargetDrops, upstream.socket, target);
    }
  }

  private void relay(DatagramPacket packet, Random drops, DatagramSocket out,
      SocketAddress destination) {
    boolean drop;
    synchronized (drops) {
      drop = drops.nextDouble() < dropProbability;
    }
    if (drop) {
      dropped.incrementAndGet();
      return;
    }
    byte[] copy = Arrays.copyOfRange(packet.getData(), packet.getOffset(),
        packet.getOffset() + packet.getLength());
    try {
      delayer.schedule(() -> {
        try {
          out.send(new DatagramPacket(copy, copy.length, destination));
          forwarded.incrementAndGet();
        } catch (IOException e) {
          if (!closed) {
            LOG.log(Level.FINE, "relay send failed", e);
          }
        }
      }, delayNanos, TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  /** One client's socket towards the target, and the reader of the target's answers. */
  private final class Upstream {
    final DatagramSocket socket;

    Upstream(SocketAddress client) {
      try {
        socket = socket();
      } catch (SocketException e) {
        throw new IllegalStateException(e);
      }
      daemon("relay-upstream").newThread(() -> {
        byte[] buffer = new byte[MAX_DATAGRAM];
        while (!closed) {
          DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
          try {
            socket.receive(packet);
          } catch (IOException e) {
            return;
          }
          relay(packet, toClientDrops, front, client);
        }
      }).start();
    }
  }

  @Override
  public void close() {
    closed = true;
    delayer.shutdownNow();
    front.close();
    for (Upstream upstream : upstreams.values()) {
      upstream.socket.close();
    }
    LOG.info(() -> "UDP relay closed: " + forwarded.get() + " datagrams forwarded, "
        + dropped.get() + " dropped, seed " + seed);
  }

  /** Large buffers: without delay the relay forwards at loopback speed (soak runs). */
  private static DatagramSocket socket() throws SocketException {
    DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    socket.setReceiveBufferSize(4 << 20);
    socket.setSendBufferSize(4 << 20);
    return socket;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
