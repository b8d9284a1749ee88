package dev.grpcquic.fallback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The check beside a "QUIC preferred" connection's first QUIC attempt, on real UDP sockets. */
@Timeout(30)
class UdpPortCheckTest {

  @Test
  void aPortWithoutListenerIsReportedRefused() throws Exception {
    InetSocketAddress free;
    try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      free = (InetSocketAddress) s.getLocalSocketAddress();
    }
    assumeTrue(FallbackFixtures.udpFree(free.getPort()), "UDP port " + free + " is taken");
    CompletableFuture<Void> refused = new CompletableFuture<>();
    // The ICMP error is queued on the socket before the check waits: it ends the wait at once.
    UdpPortCheck check = UdpPortCheck.start(free, Duration.ofMinutes(10),
        () -> refused.complete(null));
    assertNotNull(check);
    refused.get(20, TimeUnit.SECONDS);
    assertTrue(check.done().get(20, TimeUnit.SECONDS));
  }

  @Test
  void aListeningPortGetsOneZeroByteAndIsNotReported() throws Exception {
    try (DatagramSocket server = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      server.setSoTimeout(20_000);
      AtomicInteger refusals = new AtomicInteger();
      UdpPortCheck check = UdpPortCheck.start(
          (InetSocketAddress) server.getLocalSocketAddress(), Duration.ofMillis(200),
          refusals::incrementAndGet);
      assertNotNull(check);
      DatagramPacket received = new DatagramPacket(new byte[16], 16);
      server.receive(received);
      assertArrayEquals(new byte[] {0},
          Arrays.copyOf(received.getData(), received.getLength()),
          "one byte whose fixed bit is zero: not a QUIC packet, every QUIC server drops it");
      assertFalse(check.done().get(20, TimeUnit.SECONDS), "the wait ended without an error");
      assertEquals(0, refusals.get());
    }
  }

  @Test
  void cancelEndsTheWaitWithoutAReport() throws Exception {
    try (DatagramSocket server = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      AtomicInteger refusals = new AtomicInteger();
      UdpPortCheck check = UdpPortCheck.start(
          (InetSocketAddress) server.getLocalSocketAddress(), Duration.ofMinutes(10),
          refusals::incrementAndGet);
      assertNotNull(check);
      check.cancel();
      assertFalse(check.done().get(20, TimeUnit.SECONDS));
      assertEquals(0, refusals.get());
    }
  }

  @Test
  void anUnresolvedAddressIsNotChecked() {
    assertEquals(null, UdpPortCheck.start(InetSocketAddress.createUnresolved("example.invalid",
        443), Duration.ofSeconds(1), () -> { }));
  }
}
