package dev.grpcquic.engine.kwik;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tech.kwik.core.QuicConnection;
import tech.kwik.core.cc.CongestionController;
import tech.kwik.core.common.PnSpace;
import tech.kwik.core.frame.AckFrame;
import tech.kwik.core.frame.PingFrame;
import tech.kwik.core.impl.Role;
import tech.kwik.core.impl.Version;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.packet.ShortHeaderPacket;
import tech.kwik.core.recovery.RecoveryManager;
import tech.kwik.core.recovery.RttEstimator;
import tech.kwik.core.send.Sender;

/**
 * kwik's LossDetector asserts a loss delay above 0 ms, which a 0 ms RTT sample (loopback, a peer
 * that acknowledges within the millisecond) breaks; under -ea the AssertionError aborted the
 * connection (see {@link KwikAssertions}). This feeds kwik's real recovery code a 0 ms RTT and an
 * ACK, as a server connection's receiver thread does on a quiche client's first ACK.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KwikAssertionsTest {

  @Test
  void ackWithZeroMillisecondRttDoesNotThrowUnderEa() {
    assumeTrue(KwikAssertionsTest.class.desiredAssertionStatus(),
        "the kwik assertion only fires with -ea (Surefire's default)");
    KwikAssertions.ensureApplied();
    assertFalse(KwikAssertions.lossDetectorAssertionsEnabled(QuicConnection.class.getClassLoader()),
        "LossDetector runs its assertions");

    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    Clock clock = Clock.fixed(now, ZoneOffset.UTC);
    NullLogger log = new NullLogger();
    RttEstimator rtt = new RttEstimator(log);
    rtt.addSample(now, now, 0); // acknowledged within the millisecond: smoothed and latest RTT 0
    Sender sender = stub(Sender.class, now);
    // Packets built here have no encoded size, which NewReno needs: a controller that counts nothing.
    CongestionController congestion = stub(CongestionController.class, now);
    RecoveryManager recovery = new RecoveryManager(clock, Role.Server, rtt,
        congestion, sender, log);
    try {
      for (long pn = 0; pn < 2; pn++) {
        ShortHeaderPacket packet = new ShortHeaderPacket(Version.getDefault(), new byte[8],
            new PingFrame());
        packet.setPacketNumber(pn);
        recovery.packetSent(packet, now, lost -> {});
      }
      assertDoesNotThrow(() -> recovery.onAckReceived(new AckFrame(1), PnSpace.App, now));
    } finally {
      recovery.stopRecovery();
    }
  }

  /** An implementation doing nothing: false, 0, null, or {@code now} for an Instant. */
  private static <T> T stub(Class<T> type, Instant now) {
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
        (proxy, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
              case "hashCode" -> System.identityHashCode(proxy);
              case "equals" -> proxy == args[0];
              default -> type.getSimpleName() + " stub";
            };
          }
          Class<?> r = method.getReturnType();
          if (r == boolean.class) {
            return false;
          }
          if (r == long.class) {
            return 0L;
          }
          if (r == int.class) {
            return 0;
          }
          return r == Instant.class ? now : null;
        }));
  }
}
