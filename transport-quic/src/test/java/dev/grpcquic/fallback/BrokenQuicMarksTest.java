package dev.grpcquic.fallback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The broken marks' arithmetic, on a clock the test moves. */
@Timeout(10)
class BrokenQuicMarksTest {
  private final AtomicLong now = new AtomicLong();
  private final Ticker ticker = new Ticker() {
    @Override
    public long read() {
      return now.get();
    }
  };

  @Test
  void doublesOnEachFailureUpToTheCapAndASuccessClears() {
    BrokenQuicMarks marks = new BrokenQuicMarks(Duration.ofMinutes(5), Duration.ofMinutes(30),
        ticker);
    String key = BrokenQuicMarks.key("example.com:443", 443);
    assertFalse(marks.isBroken(key));
    assertEquals(Duration.ofMinutes(5), marks.markBroken(key));
    assertEquals(Duration.ofMinutes(10), marks.markBroken(key));
    assertEquals(Duration.ofMinutes(20), marks.markBroken(key));
    assertEquals(Duration.ofMinutes(30), marks.markBroken(key));
    assertEquals(Duration.ofMinutes(30), marks.markBroken(key));
    assertTrue(marks.isBroken(key));
    now.addAndGet(Duration.ofMinutes(29).toNanos());
    assertEquals(Duration.ofMinutes(1), marks.remaining(key));
    now.addAndGet(Duration.ofMinutes(1).toNanos());
    assertFalse(marks.isBroken(key), "expired");
    assertEquals(Duration.ofMinutes(30), marks.markBroken(key), "failures are remembered");
    marks.confirm(key);
    assertFalse(marks.isBroken(key));
    assertEquals(Duration.ofMinutes(5), marks.markBroken(key), "a success starts over");
    assertFalse(marks.isBroken(BrokenQuicMarks.key("example.com:443", 8443)),
        "per endpoint");
  }

  @Test
  void altSvcAdviceExpiresWithItsMaxAge() {
    AltSvcCache cache = new AltSvcCache(ticker);
    cache.put("a:443", new AltSvc.H3(8443, Duration.ofSeconds(60)));
    assertEquals(8443, cache.get("a:443").port());
    now.addAndGet(Duration.ofSeconds(60).toNanos());
    assertEquals(null, cache.get("a:443"));
  }
}
