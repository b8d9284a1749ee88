package dev.grpcquic.fallback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Reading and writing alt-svc values (RFC 7838). */
@Timeout(10)
class AltSvcTest {

  private static AltSvc.H3 offered(String value) {
    return assertInstanceOf(AltSvc.Offered.class, AltSvc.parse(value)).h3();
  }

  @Test
  void readsWhatTheServerWrites() {
    assertEquals(new AltSvc.H3(8443, Duration.ofSeconds(3600)),
        offered(AltSvc.h3(8443, Duration.ofHours(1))));
  }

  @Test
  void readsCommonForms() {
    assertEquals(new AltSvc.H3(443, AltSvc.DEFAULT_MAX_AGE), offered("h3=\":443\""));
    assertEquals(new AltSvc.H3(50781, Duration.ofSeconds(2592000)),
        offered("h3-29=\":443\"; ma=86400, h3=\":50781\"; ma=2592000; persist=1"));
    assertEquals(new AltSvc.H3(443, AltSvc.DEFAULT_MAX_AGE), offered("h3=\":443\"; ma=x"));
    assertInstanceOf(AltSvc.Cleared.class, AltSvc.parse(" clear "));
  }

  @Test
  void ignoresWhatItCannotUse() {
    assertInstanceOf(AltSvc.Silent.class, AltSvc.parse("h2=\":443\""));
    assertInstanceOf(AltSvc.Silent.class, AltSvc.parse("h3=\"other.example:443\""));
    assertInstanceOf(AltSvc.Silent.class, AltSvc.parse("h3=\":0\""));
    assertInstanceOf(AltSvc.Silent.class, AltSvc.parse("h3=\":99999\""));
    assertInstanceOf(AltSvc.Silent.class, AltSvc.parse(""));
    assertInstanceOf(AltSvc.Silent.class, AltSvc.parse(null));
  }
}
