package dev.grpcquic.fallback;

import java.time.Duration;

/**
 * How a "QUIC preferred" channel races and remembers.
 *
 * @param raceDelay how long a new connection's QUIC handshake runs alone before TCP + TLS starts
 *     beside it
 * @param brokenFor how long QUIC counts as broken for an endpoint after its first failure (later
 *     failures double it)
 * @param brokenForMax the cap of the doubling
 */
public record FallbackSettings(Duration raceDelay, Duration brokenFor, Duration brokenForMax) {
  /** Default of {@link #raceDelay}: as Chromium's QUIC-to-TCP delay, about one slow handshake. */
  public static final Duration DEFAULT_RACE_DELAY = Duration.ofMillis(300);
  /** Default of {@link #brokenFor}, as Chromium's first broken-alternative-service delay. */
  public static final Duration DEFAULT_BROKEN_FOR = Duration.ofMinutes(5);
  /** Default of {@link #brokenForMax}: a path that blocked UDP once an hour is tried hourly. */
  public static final Duration DEFAULT_BROKEN_FOR_MAX = Duration.ofHours(1);
}
