package dev.grpcquic.migration;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicMigrationController;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import dev.grpcquic.testing.UdpRelay;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Measures (does not assert) the stall around a path change: the server streams one 8-byte message
 * every 10 ms over a 50 ms RTT path (relay, 25 ms each way); the client records when each arrives;
 * the figure is the longest gap between two consecutive messages in the second after the change,
 * next to the longest gap in the second before it. Run with
 * {@code -Dtest=MigrationStallMeasurement -Dmigration.stall=true}; results go to the log.
 */
@Timeout(120)
class MigrationStallMeasurement {

  private static final Logger LOG = Logger.getLogger(MigrationStallMeasurement.class.getName());
  private static final int TRIALS = 5;
  private static final int TICKS = 250;
  private static final int CHANGE_AT = 100;

  @Test
  void stallAroundRebindingAndMigration() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("migration.stall"),
        "measurement only: run with -Dmigration.stall=true");
    try (QuicTestServer server = new QuicTestServer();
        UdpRelay relay = new UdpRelay(new InetSocketAddress("127.0.0.1", server.port()), 7)) {
      relay.delay(25, TimeUnit.MILLISECONDS);
      QuicMigrationController migration = new QuicMigrationController();
      ManagedChannel channel = server.track(QuicChannelBuilder.forAddress("127.0.0.1", relay.port())
          .overrideAuthority("localhost").trustManager(TestTls.get().trustManager())
          .migrationController(migration).build());
      ClientCalls.blockingUnaryCall(channel, TestService.ECHO, CallOptions.DEFAULT, new byte[1]);
      report("NAT rebinding", channel, relay::rebind);
      report("client migration", channel, () -> {
        if (migration.migrate() != 1) {
          throw new AssertionError("no connection migrated");
        }
      });
      report("no change (baseline)", channel, () -> { });
    }
  }

  private interface Change {
    void run() throws Exception;
  }

  private static void report(String name, ManagedChannel channel, Change change) throws Exception {
    List<Long> after = new ArrayList<>();
    List<Long> before = new ArrayList<>();
    for (int trial = 0; trial < TRIALS; trial++) {
      long[] gaps = trial(channel, change);
      before.add(gaps[0]);
      after.add(gaps[1]);
    }
    Collections.sort(after);
    Collections.sort(before);
    LOG.info(String.format("%s, 10 ms ticks, 50 ms RTT, %d trials: longest gap in the second"
        + " after the change: median %d ms, max %d ms (all %s); in the second before: median %d ms,"
        + " max %d ms", name, TRIALS, after.get(TRIALS / 2), after.get(TRIALS - 1), after,
        before.get(TRIALS / 2), before.get(TRIALS - 1)));
  }

  /** Returns {longest gap in the 100 messages before the change, longest in the 100 after}. */
  private static long[] trial(ManagedChannel channel, Change change) throws Exception {
    Iterator<byte[]> ticks = ClientCalls.blockingServerStreamingCall(channel, TestService.TICKS,
        CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
        TestService.ticksRequest(TICKS, 10));
    long[] arrival = new long[TICKS];
    int received = 0;
    long changedAt = 0;
    while (ticks.hasNext()) {
      long index = ByteBuffer.wrap(ticks.next()).getLong();
      arrival[(int) index] = System.nanoTime();
      received++;
      if (index == CHANGE_AT) {
        changedAt = System.nanoTime();
        change.run();
      }
    }
    if (received != TICKS) {
      throw new AssertionError("received " + received + " of " + TICKS);
    }
    long beforeGap = 0;
    long afterGap = 0;
    for (int i = 1; i < TICKS; i++) {
      long gap = (arrival[i] - arrival[i - 1]) / 1_000_000;
      if (arrival[i] < changedAt - TimeUnit.SECONDS.toNanos(1)) {
        continue;
      }
      if (arrival[i] <= changedAt) {
        beforeGap = Math.max(beforeGap, gap);
      } else if (arrival[i] <= changedAt + TimeUnit.SECONDS.toNanos(1)) {
        afterGap = Math.max(afterGap, gap);
      }
    }
    return new long[] {beforeGap, afterGap};
  }
}
