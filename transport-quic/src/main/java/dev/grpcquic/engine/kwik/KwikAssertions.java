package dev.grpcquic.engine.kwik;

import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.QuicConnection;

/**
 * Turns off the Java assertions of kwik 0.10.8's {@code tech.kwik.core.recovery.LossDetector}
 * before that class is initialised, so that a JVM run with {@code -ea} (Maven Surefire's default)
 * does not abort connections to a fast peer.
 *
 * <p>The bug: {@code LossDetector.detectLostPackets()} (LossDetector.java:176-177) computes
 * {@code lossDelay = (int) (9/8 * max(smoothedRtt, latestRtt))} in whole milliseconds and then
 * {@code assert lossDelay > 0}. RTT samples are truncated to milliseconds
 * ({@code RttEstimator.addSample}), so on loopback, against a peer that acknowledges within the
 * same millisecond (quiche does, for the server's first Initial/Handshake flight), both are 0 and
 * the assertion fails. The {@link AssertionError} is thrown on the connection's receiver thread
 * while it processes the ACK; kwik catches it and calls {@code abortConnection}, which only takes
 * the connection out of the server's connection registry: the connection is neither closed nor
 * told, the server drops every later packet for it ("non existent connection") and sends nothing,
 * so the client waits until its idle timeout. When the connection finally terminates, its
 * {@code postTerminateHook} calls {@code ServerConnectorImpl.closed} a second time, finds nothing
 * in the registry and throws the NullPointerException on "removedConnection"
 * (ServerConnectorImpl.java:456).
 *
 * <p>Without {@code -ea} kwik runs on with a loss delay of 0 ms (RFC 9002 6.1.2 asks for at least
 * kGranularity, 1 ms): time-threshold loss detection is only more eager, which costs at most a
 * spurious retransmission. That is what this class makes happen under {@code -ea} too. The
 * setting is per class (the class's own assertion status) and leaves every other class alone.
 */
final class KwikAssertions {

  private static final Logger LOG = Logger.getLogger(KwikAssertions.class.getName());
  static final String LOSS_DETECTOR = "tech.kwik.core.recovery.LossDetector";

  static {
    apply();
  }

  private KwikAssertions() {}

  /** Called before any kwik connection is built; the work is done once, by the class initialiser. */
  static void ensureApplied() {}

  private static void apply() {
    ClassLoader kwikLoader = QuicConnection.class.getClassLoader();
    if (kwikLoader == null) {
      return;
    }
    kwikLoader.setClassAssertionStatus(LOSS_DETECTOR, false);
    if (lossDetectorAssertionsEnabled(kwikLoader)) {
      LOG.log(Level.WARNING, "{0} was initialised with assertions enabled before grpc-quic could"
          + " turn them off; with -ea, connections to peers on loopback may abort (RTT of 0 ms)",
          LOSS_DETECTOR);
    }
  }

  /**
   * Whether the loaded LossDetector runs its assertions (initialises it if needed); false when it
   * cannot be told.
   */
  static boolean lossDetectorAssertionsEnabled(ClassLoader kwikLoader) {
    KwikPrivateAccess.PrivateField disabled = KwikPrivateAccess.LOSS_DETECTOR_ASSERTIONS_DISABLED;
    try {
      Class<?> detector = Class.forName(LOSS_DETECTOR, true, kwikLoader);
      if (!disabled.reachable() || disabled.field().getDeclaringClass() != detector) {
        return false;
      }
      return !disabled.getBoolean(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "cannot read the assertion status of " + LOSS_DETECTOR, e);
      return false;
    }
  }
}
