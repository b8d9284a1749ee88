package dev.grpcquic.engine.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The server socket handed to kwik. kwik 0.10.8's server {@code Receiver} calls
 * kwik's JVM-ending {@code exit(9)} (the abort callback set in {@code ServerConnectorImpl}'s constructor) when
 * {@code receive} throws an IOException other than {@link SocketTimeoutException} while the receiver
 * is not shutting down, for instance when the socket is closed before the connector, or on a
 * transient socket error. This socket never lets such an exception reach kwik: receive failures
 * become a {@link SocketTimeoutException}, which kwik's loop treats as "nothing arrived" and then
 * re-checks its shutdown flag. Once closed, receive waits (100 ms at a time, or until kwik
 * interrupts its receiver on shutdown) before reporting the timeout, so the loop never spins.
 *
 * <p>With a {@link MigrationTracker}, the socket also keeps the client address kwik sees stable
 * per connection and sends kwik's packets to the client's current address (see the tracker).
 */
final class GuardedDatagramSocket extends DatagramSocket {

  private static final Logger LOG = Logger.getLogger(GuardedDatagramSocket.class.getName());

  private volatile MigrationTracker tracker;

  GuardedDatagramSocket(SocketAddress bindAddress) throws SocketException {
    super(bindAddress);
  }

  void setMigrationTracker(MigrationTracker tracker) {
    this.tracker = tracker;
  }

  @Override
  public void send(DatagramPacket packet) throws IOException {
    MigrationTracker t = tracker;
    if (t != null && packet.getSocketAddress() instanceof InetSocketAddress destination) {
      InetSocketAddress to = t.outbound(destination, packet.getLength());
      if (to == null) {
        return; // over the amplification limit of an unvalidated address: lost, as on the wire
      }
      if (!to.equals(destination)) {
        super.send(new DatagramPacket(packet.getData(), packet.getOffset(), packet.getLength(), to));
        return;
      }
    }
    super.send(packet);
  }

  @Override
  public void receive(DatagramPacket packet) throws IOException {
    try {
      super.receive(packet);
      MigrationTracker t = tracker;
      if (t != null && packet.getSocketAddress() instanceof InetSocketAddress source) {
        InetSocketAddress shown =
            t.inbound(packet.getData(), packet.getOffset(), packet.getLength(), source);
        if (shown != source) {
          packet.setSocketAddress(shown);
        }
      }
    } catch (SocketTimeoutException timeout) {
      throw timeout;
    } catch (IOException | RuntimeException e) {
      if (isClosed()) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        Thread.interrupted();
        throw new SocketTimeoutException("socket closed");
      }
      LOG.log(Level.WARNING, "UDP receive failed; kwik sees a timeout instead", e);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      throw new SocketTimeoutException("receive failed: " + e);
    }
  }
}
