package dev.grpcquic.fallback;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.annotation.concurrent.GuardedBy;

/**
 * Which QUIC endpoints failed recently, per authority and UDP port (as Chromium marks an
 * alternative service broken). A failure marks the endpoint broken for the initial time; each
 * further failure before a success doubles it, up to the cap. A QUIC handshake that completes
 * clears the record. Thread-safe.
 */
final class BrokenQuicMarks {
  private final Duration initial;
  private final Duration max;
  private final Ticker ticker;
  @GuardedBy("this") private final Map<String, Mark> marks = new HashMap<>();

  private record Mark(int failures, long untilNanos) {}

  BrokenQuicMarks(Duration initial, Duration max, Ticker ticker) {
    this.initial = initial;
    this.max = max;
    this.ticker = ticker;
  }

  static String key(String authority, int quicPort) {
    return authority + "/udp:" + quicPort;
  }

  /** Records a failure; returns for how long the endpoint now counts as broken. */
  synchronized Duration markBroken(String key) {
    Mark previous = marks.get(key);
    int failures = previous == null ? 1 : previous.failures() + 1;
    Duration span = initial;
    for (int i = 1; i < failures && span.compareTo(max) < 0; i++) {
      span = span.multipliedBy(2);
    }
    if (span.compareTo(max) > 0) {
      span = max;
    }
    marks.put(key, new Mark(failures, ticker.read() + span.toNanos()));
    return span;
  }

  /** QUIC worked: forget the failures. */
  synchronized void confirm(String key) {
    marks.remove(key);
  }

  /** How long the endpoint still counts as broken; zero when it does not. */
  synchronized Duration remaining(String key) {
    Mark mark = marks.get(key);
    if (mark == null) {
      return Duration.ZERO;
    }
    long left = mark.untilNanos() - ticker.read();
    return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
  }

  boolean isBroken(String key) {
    return !remaining(key).isZero();
  }
}
