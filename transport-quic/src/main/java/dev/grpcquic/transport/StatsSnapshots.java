package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.stats.QuicConnectionStats;
import dev.grpcquic.stats.QuicEarlyDataStats;

/** The engine's counts turned into the snapshots applications see, so no engine type leaks. */
final class StatsSnapshots {

  private StatsSnapshots() {}

  /** Null for null (a client transport that has not connected yet). */
  static QuicConnectionStats of(ConnectionStats s) {
    if (s == null) {
      return null;
    }
    return new QuicConnectionStats(s.smoothedRttMillis(), s.rttVarianceMillis(),
        s.latestRttMillis(), s.packetsSent(), s.packetsLost(), s.bytesSent(), s.datagramsSent(),
        s.congestionWindowBytes(), s.bytesInFlight(), s.streamBytesRead(), s.peakDeliveryRate(),
        s.streamReceiveWindow(), s.streamBytesUnread());
  }

  static QuicEarlyDataStats of(EarlyDataStats s) {
    if (s == null) {
      return null;
    }
    return new QuicEarlyDataStats(outcome(s.outcome()), s.streams(), s.zeroRttPackets());
  }

  private static QuicEarlyDataStats.Outcome outcome(EarlyDataStats.Outcome outcome) {
    return switch (outcome) {
      case NOT_ATTEMPTED -> QuicEarlyDataStats.Outcome.NOT_ATTEMPTED;
      case PENDING -> QuicEarlyDataStats.Outcome.PENDING;
      case ACCEPTED -> QuicEarlyDataStats.Outcome.ACCEPTED;
      case REJECTED -> QuicEarlyDataStats.Outcome.REJECTED;
    };
  }
}
