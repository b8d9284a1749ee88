package dev.grpcquic.engine.kwik;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.EngineTestSupport;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.testing.TestTls;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One tick per kwik connection runs all its periodic checks, each at its own period. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectionTickerTest {

  private static final long TICK = TimeUnit.MILLISECONDS.toNanos(ConnectionTicker.TICK_MILLIS);

  /**
   * A client with keep-alive and quiet-path probe and its server connection: one task each on
   * the adapter's timer (there were six and three; seven checks now), which end with the connections.
   */
  @Test
  void eachConnectionHasOneTickThatEndsWithIt() throws Exception {
    int before = ConnectionTicker.TIMER.getQueue().size();
    try (KwikServerEndpoint server = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(s -> new EngineTestSupport.Recorder(s, true)))) {
      ClientConnectionOptions options = new ClientConnectionOptions("127.0.0.1",
          server.localAddress().getPort(), "localhost", "h3", TestTls.get().trustManager(),
          Duration.ofSeconds(10), Duration.ofSeconds(30), 1 << 20, 10 << 20, 3, 5,
          null, Duration.ofSeconds(1));
      EngineTestSupport.ClientHandler handler = new EngineTestSupport.ClientHandler();
      QuicConnection connection = new KwikClientEngine().connect(options, handler)
          .get(15, TimeUnit.SECONDS);
      KwikConnection client = (KwikConnection) connection;
      // Send-stall guard, STOP_SENDING watch, read wake-up watch, session-ticket poll (for 10 s),
      // keep-alive, quiet-path probe, abort watch.
      assertEquals(7, client.ticker().checkCount());
      assertTrue(client.ticker().ticking());
      assertTrue(EngineTestSupport.eventually(() -> server.connectionCount() == 1, 10_000));
      assertEquals(before + 2, ConnectionTicker.TIMER.getQueue().size(),
          "timer tasks for one client and one server connection");

      connection.close(0, "");
      handler.closed.get(10, TimeUnit.SECONDS);
      assertTrue(EngineTestSupport.eventually(() -> server.connectionCount() == 0, 10_000));
      assertTrue(EngineTestSupport.eventually(() -> !client.ticker().ticking(), 10_000),
          client.ticker().checkCount() + " checks left");
      assertTrue(EngineTestSupport.eventually(
          () -> ConnectionTicker.TIMER.getQueue().size() == before, 10_000),
          ConnectionTicker.TIMER.getQueue().size() + " timer tasks, " + before + " before");
    }
  }

  /** Ticks 10 ms apart (called here with those times): each check runs at its own period. */
  @Test
  void checksRunAtTheirOwnPeriods() {
    ConnectionTicker ticker = new ConnectionTicker(false);
    AtomicInteger guard = new AtomicInteger();
    AtomicInteger watch = new AtomicInteger();
    AtomicInteger probe = new AtomicInteger();
    AtomicInteger keepAlive = new AtomicInteger();
    AtomicInteger soon = new AtomicInteger();
    ticker.every(TICK, false, guard::incrementAndGet);
    ticker.every(2 * TICK, false, watch::incrementAndGet);
    ticker.every(TimeUnit.MILLISECONDS.toNanos(250), false, probe::incrementAndGet);
    ticker.every(TimeUnit.SECONDS.toNanos(1), false, keepAlive::incrementAndGet);
    ConnectionTicker.Check first = ticker.every(TICK, true, () -> {
      if (soon.incrementAndGet() == 1) {
        throw new IllegalStateException("a failing check stops no other");
      }
    });
    long start = System.nanoTime();
    for (int i = 1; i <= 200; i++) {
      ticker.runDue(start + i * TICK);
      if (i == 1) {
        assertEquals(1, soon.get(), "a check to run soon runs at the first tick");
      }
      if (i == 100) {
        first.cancel();
      }
    }
    assertEquals(200, guard.get());
    assertEquals(100, watch.get());
    assertEquals(8, probe.get());
    assertEquals(2, keepAlive.get());
    assertEquals(100, soon.get());
    assertEquals(4, ticker.checkCount());
    assertFalse(ticker.ticking());
  }
}
