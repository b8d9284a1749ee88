package dev.grpcquic.engine.kwik;

import java.lang.reflect.Method;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.agent15.engine.TlsClientEngine;
import tech.kwik.agent15.engine.TlsServerEngine;
import tech.kwik.core.cc.CongestionController;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.send.SenderImpl;

/**
 * Reads state that kwik keeps behind protected accessors of {@code QuicConnectionImpl}: the
 * negotiated cipher suite (its TLS engine) and the congestion window and bytes in flight (its
 * sender). Diagnostics, and the TLS engine for {@link ServerHelloGate}: when reflection fails the
 * values read as unknown. And whether a stream's receiving side is finished ({@link
 * #inputClosed}), for a request stream admission holds unread.
 */
final class KwikInternals {
  private static final Logger LOG = Logger.getLogger(KwikInternals.class.getName());
  private static final Method TLS_ENGINE = accessor("getTlsEngine");
  private static final Method SENDER = accessor("getSender");

  /**
   * {@code QuicStreamImpl.inputClosed}: kwik's record that a stream's receiving side is finished
   * (read to the end, aborted, or reset by the peer), which kwik tells no one whose read is not
   * pending. Null when unreachable.
   */
  private static final java.lang.invoke.VarHandle INPUT_CLOSED = inputClosedHandle();

  private KwikInternals() {}

  private static java.lang.invoke.VarHandle inputClosedHandle() {
    try {
      Class<?> stream = Class.forName("tech.kwik.core.stream.QuicStreamImpl");
      return java.lang.invoke.MethodHandles
          .privateLookupIn(stream, java.lang.invoke.MethodHandles.lookup())
          .findVarHandle(stream, "inputClosed", boolean.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.WARNING, "kwik's QuicStreamImpl.inputClosed is not reachable: a held request"
          + " stream that its client resets is not noticed (admission's stream grants)", e);
      return null;
    }
  }

  /** Whether kwik has finished the stream's receiving side; false when unknown. */
  static boolean inputClosed(tech.kwik.core.QuicStream stream) {
    if (INPUT_CLOSED == null || !INPUT_CLOSED.varType().equals(boolean.class)
        || !INPUT_CLOSED.coordinateTypes().get(0).isInstance(stream)) {
      return false;
    }
    return (boolean) INPUT_CLOSED.getVolatile(stream);
  }

  private static Method accessor(String name) {
    try {
      Method m = QuicConnectionImpl.class.getDeclaredMethod(name);
      m.setAccessible(true);
      return m;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "kwik's " + name + " is not reachable; channelz shows less", e);
      return null;
    }
  }

  /** The connection's TLS engine (agent15), or null when unknown. */
  static Object tlsEngine(Object kwik) {
    return invoke(TLS_ENGINE, kwik);
  }

  /** The standard name of the negotiated cipher suite, or null before the handshake or unknown. */
  static String cipherSuite(Object kwik) {
    Object engine = tlsEngine(kwik);
    Object suite = null;
    if (engine instanceof TlsClientEngine client) {
      suite = client.getSelectedCipher();
    } else if (engine instanceof TlsServerEngine server) {
      suite = server.getSelectedCipher();
    }
    // agent15's enum constants carry the IANA names.
    return suite == null ? null : suite.toString();
  }

  /** The congestion controller of the connection's sender, or null when unknown. */
  static CongestionController congestionController(Object kwik) {
    return invoke(SENDER, kwik) instanceof SenderImpl sender ? sender.getCongestionController() : null;
  }

  private static Object invoke(Method method, Object kwik) {
    if (method == null || !(kwik instanceof QuicConnectionImpl)) {
      return null;
    }
    try {
      return method.invoke(kwik);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
