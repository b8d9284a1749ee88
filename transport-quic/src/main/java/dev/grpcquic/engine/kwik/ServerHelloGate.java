package dev.grpcquic.engine.kwik;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.impl.QuicClientConnectionImpl;
import tech.kwik.core.impl.QuicClientConnectionImpl.EarlyDataStatus;

/**
 * Holds back what a client connection receives until its TLS engine waits for the ServerHello.
 *
 * <p>The bug (agent15 3.1, kwik 0.10.8's TLS engine; unchanged in agent15's latest source):
 * {@code TlsClientEngineImpl.startHandshake} hands the ClientHello to kwik, whose sender thread
 * sends it at once, and only then sets its state from {@code Start} to {@code WaitServerHello};
 * {@code received(ServerHello)} in any other state returns without a word. kwik processes the
 * server's answer on its receiver thread. When the connecting thread loses the CPU between the
 * two (seen: 96 ms beside a CPU burner), the ServerHello is dropped, yet kwik has acknowledged the
 * Initial packet that carried it, so the server never sends it again. The client then has no
 * Handshake keys: it discards every Handshake packet of the server and keeps probing with Initial
 * PINGs, which the server acknowledges, until the connect timeout (20 s by default). No probe
 * timeout (RFC 9002 6.2) recovers a message the receiver has consumed and acknowledged, so the
 * connection is stuck for good: 1 of 5500 connections beside a CPU burner on a 2-core machine,
 * up to 2 in 100 in the interop runs that reported it (HandshakeUnderLoadTest; docs/operations.md).
 *
 * <p>The workaround: {@link ClientDatagramSocket#receive} (kwik's receiver thread) asks
 * {@link #awaitOpen} before it hands a datagram to kwik; until the engine has left {@code Start}
 * the datagram waits (parked 100 us at a time, kernel-buffered meanwhile). The engine's state is
 * read through {@link KwikPrivateAccess}, as nothing public tells it; if that fails, or after {@link #MAX_HOLD}, the
 * gate opens and kwik behaves as without it. Once open, the check is one volatile read.
 *
 * <p>On a connection that sends early data the gate also stays shut until kwik has written it
 * ({@link #awaitEarlyData}).
 */
final class ServerHelloGate {

  private static final Logger LOG = Logger.getLogger(ServerHelloGate.class.getName());
  /** Longest a datagram is held: well above any preemption, well below a connect timeout. */
  static final long MAX_HOLD = TimeUnit.SECONDS.toNanos(2);
  private static final long PARK = TimeUnit.MICROSECONDS.toNanos(100);
  private static final String START = "Start";
  private static final KwikPrivateAccess.PrivateField STATUS =
      KwikPrivateAccess.SERVER_HELLO_GATE.active() ? KwikPrivateAccess.TLS_CLIENT_STATUS : null;

  private volatile Object engine;
  private volatile boolean open;
  private volatile boolean tlsUnknown;
  /** Set when the connection sends early data: hold until kwik has written it ({@link ZeroRtt}). */
  private volatile QuicClientConnectionImpl earlyData;

  /** The connection whose TLS engine to watch; the gate stays shut until this is called. */
  void watch(QuicClientConnection kwik) {
    Object tls = KwikInternals.tlsEngine(kwik);
    if (STATUS == null || tls == null || !STATUS.declaredBy(tls)) {
      tlsUnknown = true;
      open = true;
    } else {
      engine = tls;
    }
  }

  /**
   * The connection sends early data: also hold datagrams until kwik has written it and set its
   * early-data status to "requested", so that the server's answer cannot set "accepted" first and
   * be overwritten. Called before {@code connect}.
   */
  void awaitEarlyData(QuicClientConnectionImpl kwik) {
    earlyData = kwik;
    open = false;
  }

  /** On kwik's receiver thread, before a received datagram goes to kwik. */
  void awaitOpen() {
    if (open) {
      return;
    }
    long deadline = System.nanoTime() + MAX_HOLD;
    boolean logged = false;
    while (!handshakeStarted()) {
      if (Thread.currentThread().isInterrupted()) {
        break; // kwik stops its receiver: let it see the interrupt (a park would not wait)
      }
      if (System.nanoTime() - deadline > 0) {
        LOG.log(Level.FINE, "TLS engine still in Start after {0} ms; letting datagrams through",
            TimeUnit.NANOSECONDS.toMillis(MAX_HOLD));
        break;
      }
      if (!logged) {
        LOG.log(Level.FINE, "holding a datagram until the TLS engine waits for the ServerHello");
        logged = true;
      }
      LockSupport.parkNanos(PARK);
    }
    open = true;
  }

  private boolean handshakeStarted() {
    QuicClientConnectionImpl early = earlyData;
    if (early != null && early.getEarlyDataStatus() == EarlyDataStatus.None) {
      return false;
    }
    if (tlsUnknown) {
      return true;
    }
    Object tls = engine;
    if (tls == null) {
      return false; // connect() not reached yet: nothing can have been sent
    }
    try {
      Object status = STATUS.get(tls);
      return status != null && !START.equals(status.toString());
    } catch (ReflectiveOperationException | RuntimeException e) {
      return true;
    }
  }

  boolean isOpen() {
    return open;
  }
}
