package dev.grpcquic.engine.kwik;

import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.agent15.engine.TrafficSecrets;
import tech.kwik.core.QuicConnection;
import tech.kwik.core.server.impl.ServerConnectionImpl;

/**
 * Lets a kwik server answer 0-RTT requests at once ("0.5-RTT data", RFC 9001 §4.1.1 and RFC 8446
 * §2.3): data sent after the server's Finished and before the client's.
 *
 * <p>kwik 0.10.8 derives its 1-RTT keys and enables sending 1-RTT packets only when the client's
 * Finished arrives, although its TLS engine has the application secrets as soon as the server's
 * Finished is sent. A response to a 0-RTT request therefore waited a full round trip for the
 * client's Finished, and 0-RTT saved nothing. When kwik hands the server a connection from a 0-RTT
 * packet (the ClientHello is processed by then), this installs the 1-RTT keys from the TLS engine
 * and enables the application level of the sender, both as kwik does later at handshake completion
 * (which recomputes the same keys). Private kwik fields are read through {@link
 * KwikPrivateAccess}; without them the server sends at handshake completion as before.
 *
 * <p>Security: 0.5-RTT data goes to a client that has not proven it holds the handshake keys. It is
 * encrypted with keys only the real client (or whoever knows the ticket's secret and the client's
 * key share) can derive, so a replayed 0-RTT request gets a response nobody but the original client
 * can read. A server that authenticated clients by certificate would have to hold responses until
 * the client's Finished; kwik's server cannot request client certificates at all.
 */
final class HalfRttData {

  private static final Logger LOG = Logger.getLogger(HalfRttData.class.getName());
  private static final boolean ACTIVE = KwikPrivateAccess.HALF_RTT_DATA.active();

  private HalfRttData() {}

  /**
   * On kwik's receiver thread, in {@code createConnection}: if the handshake is not complete yet
   * (the connection comes from a 0-RTT packet), enable sending 1-RTT data now. Returns whether it
   * did.
   */
  static boolean enableIfEarly(QuicConnection quic) {
    if (!ACTIVE || !(quic instanceof ServerConnectionImpl server)) {
      return false;
    }
    try {
      if ("Connected".equals(String.valueOf(KwikPrivateAccess.CONNECTION_STATE.get(server)))) {
        return false; // the usual path: kwik enabled it itself
      }
      TrafficSecrets secrets = (TrafficSecrets) KwikPrivateAccess.SERVER_TLS_ENGINE.get(server);
      if (secrets.getServerApplicationTrafficSecret() == null
          || secrets.getClientApplicationTrafficSecret() == null) {
        return false;
      }
      KwikPrivateAccess.SECRETS_COMPUTE_APPLICATION.invoke(
          KwikPrivateAccess.CONNECTION_SECRETS.get(server), secrets);
      KwikPrivateAccess.SENDER_ENABLE_APP_LEVEL.invoke(KwikPrivateAccess.SERVER_SENDER.get(server));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "could not enable 0.5-RTT data", e);
      return false;
    }
  }
}
