package dev.grpcquic.admission;

import java.time.Duration;

/**
 * Settings of a server's adaptive concurrency limit (see {@link AdaptiveConcurrencyLimiter} for
 * the algorithm and docs/operations.md for why it is AIMD).
 *
 * @param latencyTarget the latency the server should keep its calls under, at {@code percentile}
 * @param percentile which percentile of call latency is held to the target, in (0, 1): 0.95 for
 *     p95
 * @param initialLimit calls admitted at once before any measurement
 * @param minLimit the limit never falls below this (at least 1: a server always takes a call)
 * @param maxLimit the limit never rises above this
 * @param window latencies are judged over windows of at least this long...
 * @param windowCalls ...and at least this many completed calls
 * @param grantStreamsByLimit whether each connection's MAX_STREAMS credit also follows the limit
 *     (a refused stream's slot is withheld while the connection's credit exceeds it; see {@link
 *     AdmissionServerEngine}); off by default
 */
public record AdaptiveConcurrencyLimit(Duration latencyTarget, double percentile,
    int initialLimit, int minLimit, int maxLimit, Duration window, int windowCalls,
    boolean grantStreamsByLimit) {

  public static final int DEFAULT_INITIAL_LIMIT = 20;
  public static final int DEFAULT_MIN_LIMIT = 1;
  public static final int DEFAULT_MAX_LIMIT = 1000;
  public static final Duration DEFAULT_WINDOW = Duration.ofMillis(100);
  public static final int DEFAULT_WINDOW_CALLS = 20;

  public AdaptiveConcurrencyLimit {
    if (latencyTarget.isNegative() || latencyTarget.isZero()) {
      throw new IllegalArgumentException("latencyTarget must be positive");
    }
    if (!(percentile > 0 && percentile < 1)) {
      throw new IllegalArgumentException("percentile must be in (0, 1), e.g. 0.95");
    }
    if (minLimit < 1 || maxLimit < minLimit || initialLimit < minLimit
        || initialLimit > maxLimit) {
      throw new IllegalArgumentException("need 1 <= minLimit <= initialLimit <= maxLimit");
    }
    if (window.isNegative() || windowCalls < 1) {
      throw new IllegalArgumentException("window must be >= 0 and windowCalls >= 1");
    }
  }

  /** Without stream grants: refusals only. */
  public AdaptiveConcurrencyLimit(Duration latencyTarget, double percentile, int initialLimit,
      int minLimit, int maxLimit, Duration window, int windowCalls) {
    this(latencyTarget, percentile, initialLimit, minLimit, maxLimit, window, windowCalls, false);
  }

  /** The same settings, with the connections' stream credit following the limit or not. */
  public AdaptiveConcurrencyLimit withGrantStreamsByLimit(boolean grant) {
    return new AdaptiveConcurrencyLimit(latencyTarget, percentile, initialLimit, minLimit,
        maxLimit, window, windowCalls, grant);
  }

  /** The defaults around a target: initial limit 20, between 1 and 1000, 100 ms / 20 call windows. */
  public static AdaptiveConcurrencyLimit of(Duration latencyTarget, double percentile) {
    return new AdaptiveConcurrencyLimit(latencyTarget, percentile, DEFAULT_INITIAL_LIMIT,
        DEFAULT_MIN_LIMIT, DEFAULT_MAX_LIMIT, DEFAULT_WINDOW, DEFAULT_WINDOW_CALLS);
  }
}
