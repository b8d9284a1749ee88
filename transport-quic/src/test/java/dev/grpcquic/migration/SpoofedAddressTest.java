package dev.grpcquic.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestEngine;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a third party can do with a connection ID and copies of packets. A forwarder sits between
 * client and server and hands the test the client's short-header datagrams; an "attacker" socket
 * sends forged or copied datagrams to the server. The attacker's socket shows whether the server
 * moved the connection to it: then the server's packets arrive there.
 */
@Timeout(60)
class SpoofedAddressTest {

  private QuicTestServer server;
  private Forwarder forwarder;
  private DatagramSocket attacker;

  @AfterEach
  void tearDown() throws Exception {
    if (attacker != null) {
      attacker.close();
    }
    if (forwarder != null) {
      forwarder.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private ManagedChannel setUp() throws Exception {
    server = new QuicTestServer();
    forwarder = new Forwarder(new InetSocketAddress("127.0.0.1", server.port()));
    attacker = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    ManagedChannel channel = server.track(QuicChannelBuilder
        .forAddress("127.0.0.1", forwarder.front.getLocalPort())
        .overrideAuthority("localhost").engine(TestEngine.get())
        .trustManager(TestTls.get().trustManager()).build());
    echo(channel, 3);
    return channel;
  }

  @Test
  void forgedPacketsWithTheConnectionIdDoNotMoveTheConnection() throws Exception {
    ManagedChannel channel = setUp();
    byte[] genuine = forwarder.nextShortHeader();
    Random random = new Random(1);
    for (int i = 0; i < 20; i++) {
      byte[] forged = new byte[genuine.length];
      random.nextBytes(forged);
      // flags and the connection ID (8 bytes on kwik's server, 20 on quiche's)
      System.arraycopy(genuine, 0, forged, 0, 1 + (TestEngine.isKwik() ? 8 : 20));
      attacker.send(new DatagramPacket(forged, forged.length, forwarder.server));
    }
    echo(channel, 5);
    assertEquals(0, receivedByAttacker(300));
  }

  @Test
  void replayedPacketsDoNotMoveTheConnection() throws Exception {
    ManagedChannel channel = setUp();
    for (int i = 0; i < 5; i++) {
      byte[] genuine = forwarder.nextShortHeader();
      // A round trip after the capture: the server has processed the original (and later
      // packets) before the replay arrives, so the replay cannot be a copy that wins the race.
      echo(channel, 1);
      attacker.send(new DatagramPacket(genuine, genuine.length, forwarder.server));
      echo(channel, 1);
    }
    echo(channel, 5);
    assertEquals(0, receivedByAttacker(300));
  }

  /**
   * The remaining risk: a copy that reaches the server before the original moves the connection to
   * the copier, but only until the client's next packet. kwik's server sends at most three times
   * the copy's size plus the allowance to the unvalidated address; quiche's server (a port change
   * on the same IP, {@code NatRebinding}) has no such budget and sends there whatever it has to
   * send until the client's next packet takes the connection back, which this test logs.
   */
  @Test
  void aCopyThatWinsTheRaceMovesTheConnectionBrieflyAndBounded() throws Exception {
    ManagedChannel channel = setUp();
    forwarder.holdNext.set(true);
    Thread calls = new Thread(() -> echo(channel, 1));
    calls.start();
    byte[] held = forwarder.held.poll(10, TimeUnit.SECONDS);
    attacker.send(new DatagramPacket(held, held.length, forwarder.server)); // the copy wins
    long bytes = receivedByAttacker(500);
    forwarder.toServer(held); // the original, late
    calls.join(20_000);
    echo(channel, 10); // the client's next packets move the connection back
    java.util.logging.Logger.getLogger(SpoofedAddressTest.class.getName()).info(
        "a copy of " + held.length + " bytes won the race; the server sent " + bytes
            + " bytes to the copier");
    if (TestEngine.isKwik()) {
      assertTrue(bytes <= 3L * held.length + 6000, "sent to the unvalidated address: " + bytes);
    }
    echo(channel, 3);
    assertEquals(0, receivedByAttacker(300), "the connection came back to the client");
  }

  /** Bytes the attacker's socket receives before {@code quietMillis} pass without any. */
  private long receivedByAttacker(int quietMillis) throws IOException {
    attacker.setSoTimeout(quietMillis);
    long total = 0;
    byte[] buffer = new byte[2048];
    while (true) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        attacker.receive(packet);
        total += packet.getLength();
      } catch (SocketTimeoutException quiet) {
        return total;
      }
    }
  }

  private static void echo(ManagedChannel channel, int times) {
    for (int i = 0; i < times; i++) {
      byte[] reply = ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[] {(byte) i});
      assertEquals((byte) i, reply[0]);
    }
  }

  /** One client; copies its short-header datagrams to a queue; can hold one back. */
  private static final class Forwarder implements AutoCloseable {
    final InetSocketAddress server;
    final DatagramSocket front = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    final DatagramSocket back = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    final LinkedBlockingQueue<byte[]> shortHeaders = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<byte[]> held = new LinkedBlockingQueue<>();
    final AtomicReference<Boolean> holdNext = new AtomicReference<>(false);
    volatile SocketAddress client;

    Forwarder(InetSocketAddress server) throws IOException {
      this.server = server;
      daemon(this::clientToServer);
      daemon(this::serverToClient);
    }

    /** The latest short-header datagram the client sent (already forwarded). */
    byte[] nextShortHeader() throws InterruptedException {
      byte[] latest = shortHeaders.poll(10, TimeUnit.SECONDS);
      if (latest == null) {
        throw new AssertionError("no short-header datagram from the client");
      }
      for (byte[] more = shortHeaders.poll(); more != null; more = shortHeaders.poll()) {
        latest = more;
      }
      return latest;
    }

    void toServer(byte[] data) throws IOException {
      back.send(new DatagramPacket(data, data.length, server));
    }

    private void clientToServer() {
      byte[] buffer = new byte[2048];
      while (!front.isClosed()) {
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        try {
          front.receive(packet);
          client = packet.getSocketAddress();
          byte[] copy = java.util.Arrays.copyOf(packet.getData(), packet.getLength());
          boolean shortHeader = (copy[0] & 0xc0) == 0x40;
          if (shortHeader && holdNext.compareAndSet(true, false)) {
            held.add(copy);
            continue;
          }
          toServer(copy);
          if (shortHeader) {
            shortHeaders.add(copy);
          }
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serverToClient() {
      byte[] buffer = new byte[2048];
      while (!back.isClosed()) {
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        try {
          back.receive(packet);
          front.send(new DatagramPacket(packet.getData(), packet.getLength(), client));
        } catch (IOException e) {
          return;
        }
      }
    }

    private static void daemon(Runnable body) {
      Thread thread = new Thread(body, "spoof-forwarder");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() {
      front.close();
      back.close();
    }
  }
}
