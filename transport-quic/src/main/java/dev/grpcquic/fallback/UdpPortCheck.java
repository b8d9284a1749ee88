package dev.grpcquic.fallback;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Asks the network whether anything listens on the server's UDP port, beside the QUIC handshake
 * and sooner than it: one datagram on a connected socket, which hears an ICMP port unreachable
 * (as {@link PortUnreachableException}) where no server is. The handshake's own socket hears the
 * same error, but only after its first datagram, which kwik sends 9 to 11 ms after it was asked to
 * connect (threads, keys, ClientHello; docs/fallback.md): on a refused port this check starts TCP
 * that much sooner.
 *
 * <p>The datagram is one zero byte. Its first bit says short header and its second (the fixed
 * bit) is zero, so every QUIC v1 server discards it (RFC 9000 section 17.3.1), and it is too
 * short to draw a stateless reset (section 10.3: those are at least 21 bytes and less than three
 * times the packet that caused them).
 */
final class UdpPortCheck {
  private static final Logger log = Logger.getLogger(UdpPortCheck.class.getName());
  /** Longest wait for the ICMP error; past the race delay TCP starts anyway. */
  private static final Duration MAX_WAIT = Duration.ofSeconds(1);
  private static final ExecutorService WAITERS = newWaiters();

  private final DatagramSocket socket;
  /** True when the port was refused, false when the wait ended otherwise. */
  private final CompletableFuture<Boolean> done = new CompletableFuture<>();

  private UdpPortCheck(DatagramSocket socket) {
    this.socket = socket;
  }

  private static ExecutorService newWaiters() {
    return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS,
        new SynchronousQueue<>(), new ThreadFactoryBuilder()
            .setNameFormat("grpc-quic-udp-check-%d").setDaemon(true).build());
  }

  /**
   * Sends the datagram to {@code to} and waits up to {@code wait} on a daemon thread; calls
   * {@code onRefused} if the port is unreachable. Null when the check cannot run (an unresolved
   * address, no socket): the race goes on without it.
   */
  static UdpPortCheck start(InetSocketAddress to, Duration wait, Runnable onRefused) {
    if (to.isUnresolved()) {
      return null;
    }
    DatagramSocket socket;
    try {
      socket = new DatagramSocket();
      socket.connect(to);
      socket.setSoTimeout((int) Math.max(1, Math.min(wait.toMillis(), MAX_WAIT.toMillis())));
      socket.send(new DatagramPacket(new byte[1], 1));
    } catch (IOException | RuntimeException e) {
      log.log(Level.FINE, "UDP check of " + to + " not sent", e);
      return null;
    }
    UdpPortCheck check = new UdpPortCheck(socket);
    try {
      WAITERS.execute(() -> check.await(to, onRefused));
    } catch (RejectedExecutionException e) {
      socket.close();
      return null;
    }
    return check;
  }

  private void await(InetSocketAddress to, Runnable onRefused) {
    boolean refused = false;
    try {
      socket.receive(new DatagramPacket(new byte[64], 64));
    } catch (PortUnreachableException e) {
      refused = true;
    } catch (SocketTimeoutException e) {
      // no error within the wait: a server, or a path that drops UDP silently
    } catch (IOException e) {
      // closed by cancel(), or a network error that says nothing about the port
    } finally {
      socket.close();
    }
    try {
      if (refused) {
        log.log(Level.FINE, "UDP check: {0} unreachable", to);
        onRefused.run();
      }
    } finally {
      done.complete(refused);
    }
  }

  /** Completes when the check ends: true when the port was refused. */
  CompletableFuture<Boolean> done() {
    return done;
  }

  /** Stops waiting; {@code onRefused} is not called after this returns (unless it runs now). */
  void cancel() {
    socket.close();
  }
}
