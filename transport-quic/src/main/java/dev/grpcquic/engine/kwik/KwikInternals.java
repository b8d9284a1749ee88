package dev.grpcquic.engine.kwik;

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
 * #inputClosed}), for a request stream admission holds unread. The members are {@link
 * KwikPrivateAccess}'s.
 */
final class KwikInternals {

  private KwikInternals() {}

  /**
   * Whether kwik has finished the stream's receiving side ({@code QuicStreamImpl.inputClosed}:
   * read to the end, aborted, or reset by the peer), which kwik tells no one whose read is not
   * pending; false when unknown.
   */
  static boolean inputClosed(tech.kwik.core.QuicStream stream) {
    KwikPrivateAccess.PrivateField closed = KwikPrivateAccess.STREAM_INPUT_CLOSED;
    if (!closed.declaredBy(stream)) {
      return false;
    }
    try {
      return closed.getBoolean(stream); // a volatile field: a volatile read
    } catch (IllegalAccessException e) {
      return false;
    }
  }

  /** The connection's TLS engine (agent15), or null when unknown. */
  static Object tlsEngine(Object kwik) {
    return invoke(KwikPrivateAccess.CONNECTION_TLS_ENGINE, kwik);
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
    return invoke(KwikPrivateAccess.CONNECTION_SENDER, kwik) instanceof SenderImpl sender
        ? sender.getCongestionController() : null;
  }

  private static Object invoke(KwikPrivateAccess.PrivateMethod method, Object kwik) {
    if (!method.reachable() || !(kwik instanceof QuicConnectionImpl)) {
      return null;
    }
    try {
      return method.invoke(kwik);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
