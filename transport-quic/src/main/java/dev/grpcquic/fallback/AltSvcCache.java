package dev.grpcquic.fallback;

import com.google.common.base.Ticker;
import java.util.HashMap;
import java.util.Map;
import javax.annotation.concurrent.GuardedBy;

/** The {@code alt-svc: h3} advice received per authority, until its max-age. Thread-safe. */
final class AltSvcCache {
  private final Ticker ticker;
  @GuardedBy("this") private final Map<String, Entry> entries = new HashMap<>();

  private record Entry(AltSvc.H3 h3, long untilNanos) {}

  AltSvcCache(Ticker ticker) {
    this.ticker = ticker;
  }

  synchronized void put(String authority, AltSvc.H3 h3) {
    entries.put(authority, new Entry(h3, ticker.read() + h3.maxAge().toNanos()));
  }

  synchronized void clear(String authority) {
    entries.remove(authority);
  }

  /** The fresh advice for the authority, or null. */
  synchronized AltSvc.H3 get(String authority) {
    Entry entry = entries.get(authority);
    if (entry == null) {
      return null;
    }
    if (entry.untilNanos() - ticker.read() <= 0) {
      entries.remove(authority);
      return null;
    }
    return entry.h3();
  }
}
