package dev.grpcquic.engine.kwik;

import dev.grpcquic.engine.EngineTestSupport;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.EngineTestSupport;
import dev.grpcquic.engine.QuicClientEngine;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.QuicServerEngine;
import dev.grpcquic.testing.TestTls;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Handshakes must not hang. A lost Initial or Handshake packet is recovered by a probe timeout
 * within a second or so (RFC 9002 6.2); a handshake that takes {@link #STUCK} is stuck, whatever
 * the load. kwik's client lost the ServerHello when it arrived before agent15's TLS engine waited
 * for it (see {@link ServerHelloGate}) and hung until the connect timeout: 1 of 5500 connections
 * beside a CPU burner here, up to 2 in 100 in the interop runs that reported it. The load test
 * guards against any hang; the race test below makes that one certain.
 */
class HandshakeUnderLoadTest {

  /**
   * A handshake that takes this long is stuck (connect timeout of each attempt). Not 5 s: at a
   * load average of 13 on 2 cores one handshake of 2000 took 3.9 s, and the hang lasts forever.
   */
  static final Duration STUCK = Duration.ofSeconds(10);
  /**
   * 300 by default, or fewer if {@link #BUDGET} runs out first (a busy machine). For a measurement:
   * {@code -Dgrpcquic.test.handshakes=N -Dgrpcquic.test.handshakeBudgetSeconds=S
   * -Djunit.jupiter.execution.timeout.mode=disabled}.
   */
  static final int CONNECTIONS = Integer.getInteger("grpcquic.test.handshakes", 300);
  static final Duration BUDGET =
      Duration.ofSeconds(Integer.getInteger("grpcquic.test.handshakeBudgetSeconds", 60));
  /** Fewer connections than this in the budget would say nothing. */
  static final int AT_LEAST = 50;

  @Test
  @Timeout(120)
  void handshakesBesideACpuBurnerNeverHang() throws Exception {
    LoadRun run = openConnectionsBesideBurner(new KwikClientEngine(), KwikServerEndpoint::start,
        CONNECTIONS, BUDGET);
    System.out.println("kwik: " + run);
    assertEquals(List.of(), run.stuck(), run.toString());
    assertTrue(run.connections() >= AT_LEAST, run.toString());
  }

  /** The same on the quiche engine (issue 15 asks for both). */
  @Test
  @Timeout(120)
  void quicheHandshakesBesideACpuBurnerNeverHang() throws Exception {
    LoadRun run = openConnectionsBesideBurner(
        new dev.grpcquic.engine.quiche.QuicheClientEngine(
            dev.grpcquic.engine.quiche.QuicheSettings.DEFAULT),
        new dev.grpcquic.engine.quiche.QuicheServerEngine(
            dev.grpcquic.engine.quiche.QuicheSettings.DEFAULT),
        CONNECTIONS, BUDGET);
    System.out.println("quiche: " + run);
    assertEquals(List.of(), run.stuck(), run.toString());
    assertTrue(run.connections() >= AT_LEAST, run.toString());
  }

  /**
   * The race itself, made certain: kwik's packet log lets the test stop the connecting thread
   * right after it sent the ClientHello (inside {@code TlsClientEngineImpl.startHandshake}, before
   * the engine waits for the ServerHello) until the client either processed the server's
   * ServerHello (kwik alone: lost, the handshake hangs) or held it back ({@link ServerHelloGate}).
   */
  @Test
  @Timeout(60)
  void aServerHelloThatArrivesBeforeTheEngineWaitsForItIsNotLost() throws Exception {
    CountDownLatch serverHelloReached = new CountDownLatch(1);
    Handler widenRace = new Handler() {
      @Override
      public void publish(LogRecord record) {
        String message = record.getMessage();
        if (message == null) {
          return;
        }
        if (message.startsWith("client: ") && message.contains(">- CryptoStream[I|ClientHello]")) {
          try {
            // The connecting thread, between sending the ClientHello and the state change.
            serverHelloReached.await(3, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        } else if (message.startsWith("client: ")
            && message.contains("-< CryptoStream[I|ServerHello]")) {
          serverHelloReached.countDown();
        } else if (message.startsWith("holding a datagram")) {
          serverHelloReached.countDown();
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger packets = JulKwikLogger.PACKETS;
    Logger gate = Logger.getLogger(ServerHelloGate.class.getName());
    Level packetsBefore = packets.getLevel();
    Level gateBefore = gate.getLevel();
    try (QuicServerEndpoint server =
        KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
            EngineTestSupport.acceptor(EngineTestSupport::echo))) {
      packets.setLevel(Level.FINE);
      gate.setLevel(Level.FINE);
      packets.addHandler(widenRace);
      gate.addHandler(widenRace);
      QuicConnection connection;
      try {
        connection = new KwikClientEngine()
            .connect(clientOptions(server.localAddress()), new EngineTestSupport.ClientHandler())
            .get(STUCK.toSeconds() + 10, TimeUnit.SECONDS);
      } finally {
        packets.removeHandler(widenRace);
        gate.removeHandler(widenRace);
        packets.setLevel(packetsBefore);
        gate.setLevel(gateBefore);
      }
      assertEquals(0, serverHelloReached.getCount(), "the race window was not reached");
      assertTrue(connection.isOpen());
      connection.close(0, "done");
    }
  }

  /** What {@link #openConnectionsBesideBurner} saw. */
  record LoadRun(int connections, List<String> stuck, long slowestMillis, int slowest,
      long medianMillis, int overOneSecond, String loadAverage) {
    @Override
    public String toString() {
      return connections + " connections, " + stuck.size() + " stuck, slowest handshake "
          + slowestMillis + " ms (#" + slowest + "), median " + medianMillis + " ms, " + overOneSecond
          + " over 1 s, load average " + loadAverage
          + (stuck.isEmpty() ? "" : ": " + stuck);
    }
  }

  /**
   * Opens up to {@code connections} connections one after the other, each a fresh connection (new
   * socket, full handshake) to one server, while one busy thread per core runs in this JVM; each
   * connection is closed once its handshake completed. No new connection starts after
   * {@code budget}. A handshake that fails or takes {@link #STUCK} counts as stuck.
   * Engine-independent: the engines are the parameters.
   */
  static LoadRun openConnectionsBesideBurner(QuicClientEngine client, QuicServerEngine server,
      int connections, Duration budget) throws Exception {
    List<String> stuck = new ArrayList<>();
    long[] millis = new long[connections];
    int opened = 0;
    CpuBurner burner = new CpuBurner(Runtime.getRuntime().availableProcessors());
    try (QuicServerEndpoint endpoint = server.bind(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(EngineTestSupport::echo))) {
      burner.start();
      long end = System.nanoTime() + budget.toNanos();
      for (int i = 0; i < connections && System.nanoTime() - end < 0; i++) {
        opened++;
        long start = System.nanoTime();
        try {
          QuicConnection connection = client
              .connect(clientOptions(endpoint.localAddress()), new EngineTestSupport.ClientHandler())
              .get(STUCK.toSeconds() + 10, TimeUnit.SECONDS);
          connection.close(0, "done");
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
          Throwable cause = e instanceof TimeoutException ? e : e.getCause();
          stuck.add("#" + i + ": " + cause);
          System.out.println("stuck: #" + i + ": " + cause);
        }
        millis[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      }
    } finally {
      burner.stop();
    }
    long[] sorted = java.util.Arrays.copyOf(millis, Math.max(1, opened));
    java.util.Arrays.sort(sorted);
    int overOneSecond = (int) java.util.Arrays.stream(sorted).filter(ms -> ms > 1000).count();
    int slowest = 0;
    for (int i = 0; i < opened; i++) {
      slowest = millis[i] > millis[slowest] ? i : slowest;
    }
    return new LoadRun(opened, stuck, sorted[sorted.length - 1], slowest,
        sorted[sorted.length / 2], overOneSecond, loadAverage());
  }

  static ClientConnectionOptions clientOptions(InetSocketAddress server) {
    return new ClientConnectionOptions("127.0.0.1", server.getPort(), "localhost", "h3",
        TestTls.get().trustManager(), STUCK, Duration.ofSeconds(30), 1 << 20, 10 << 20, 3, 0);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  /** Busy threads (daemons) that keep the cores occupied until stopped. */
  static final class CpuBurner {
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;
    volatile long sink;

    CpuBurner(int threadCount) {
      for (int i = 0; i < threadCount; i++) {
        Thread thread = new Thread(this::burn, "cpu-burner-" + i);
        thread.setDaemon(true);
        threads.add(thread);
      }
    }

    void start() {
      threads.forEach(Thread::start);
    }

    private void burn() {
      long x = 1;
      while (running) {
        for (int i = 0; i < 100_000; i++) {
          x = x * 6364136223846793005L + 1442695040888963407L;
        }
        sink = x;
      }
    }

    void stop() throws InterruptedException {
      running = false;
      for (Thread thread : threads) {
        thread.join(5_000);
      }
    }
  }
}
