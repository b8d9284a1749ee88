package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.stats.QuicConnectionStats;
import dev.grpcquic.stats.QuicEarlyDataStats;
import java.lang.reflect.RecordComponent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The public snapshots carry every figure of the engine's records, unchanged. */
class StatsSnapshotsTest {

  @Test
  @Timeout(10)
  void connectionSnapshotCopiesEveryFigure() throws Exception {
    ConnectionStats engine =
        new ConnectionStats(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11.5, 12, 13);
    QuicConnectionStats snapshot = StatsSnapshots.of(engine);
    for (RecordComponent c : QuicConnectionStats.class.getRecordComponents()) {
      Object expected = ConnectionStats.class.getMethod(c.getName()).invoke(engine);
      assertEquals(expected, c.getAccessor().invoke(snapshot), c.getName());
    }
    assertEquals(ConnectionStats.class.getRecordComponents().length,
        QuicConnectionStats.class.getRecordComponents().length);
    assertNull(StatsSnapshots.of((ConnectionStats) null));
  }

  @Test
  @Timeout(10)
  void earlyDataSnapshotKeepsEveryOutcome() {
    for (EarlyDataStats.Outcome outcome : EarlyDataStats.Outcome.values()) {
      QuicEarlyDataStats snapshot = StatsSnapshots.of(new EarlyDataStats(outcome, 3, 7));
      assertEquals(new QuicEarlyDataStats(QuicEarlyDataStats.Outcome.valueOf(outcome.name()), 3, 7),
          snapshot);
    }
    assertEquals(EarlyDataStats.Outcome.values().length,
        QuicEarlyDataStats.Outcome.values().length);
    assertEquals(QuicEarlyDataStats.Outcome.NOT_ATTEMPTED,
        StatsSnapshots.of(EarlyDataStats.NONE).outcome());
  }
}
