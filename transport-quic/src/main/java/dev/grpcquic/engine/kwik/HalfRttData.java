package dev.grpcquic.engine.kwik;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.logging.Level;
import java.util.logging.Logger;
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
 * (which recomputes the same keys). Private kwik fields are read by reflection; if that fails the
 * server sends at handshake completion as before.
 *
 * <p>Security: 0.5-RTT data goes to a client that has not proven it holds the handshake keys. It is
 * encrypted with keys only the real client (or whoever knows the ticket's secret and the client's
 * key share) can derive, so a replayed 0-RTT request gets a response nobody but the original client
 * can read. A server that authenticated clients by certificate would have to hold responses until
 * the client's Finished; kwik's server cannot request client certificates at all.
 */
final class HalfRttData {

  private static final Logger LOG = Logger.getLogger(HalfRttData.class.getName());
  private static final Field STATE;
  private static final Field SECRETS;
  private static final Field SENDER;
  private static final Field TLS;
  private static final Method COMPUTE_APP_SECRETS;
  private static final Method ENABLE_APP_LEVEL;

  static {
    Field state = null;
    Field secrets = null;
    Field sender = null;
    Field tls = null;
    Method compute = null;
    Method enable = null;
    try {
      state = tech.kwik.core.impl.QuicConnectionImpl.class.getDeclaredField("connectionState");
      state.setAccessible(true);
      secrets = tech.kwik.core.impl.QuicConnectionImpl.class.getDeclaredField("connectionSecrets");
      sender = ServerConnectionImpl.class.getDeclaredField("sender");
      tls = ServerConnectionImpl.class.getDeclaredField("tlsEngine");
      secrets.setAccessible(true);
      sender.setAccessible(true);
      tls.setAccessible(true);
      compute = tech.kwik.core.crypto.ConnectionSecrets.class.getMethod(
          "computeApplicationSecrets", tech.kwik.agent15.engine.TrafficSecrets.class);
      enable = tech.kwik.core.send.SenderImpl.class.getMethod("enableAppLevel");
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "kwik internals not reachable; 0-RTT answers wait for the handshake", e);
      state = secrets = sender = tls = null;
    }
    STATE = state;
    SECRETS = secrets;
    SENDER = sender;
    TLS = tls;
    COMPUTE_APP_SECRETS = compute;
    ENABLE_APP_LEVEL = enable;
  }

  private HalfRttData() {}

  /**
   * On kwik's receiver thread, in {@code createConnection}: if the handshake is not complete yet
   * (the connection comes from a 0-RTT packet), enable sending 1-RTT data now. Returns whether it
   * did.
   */
  static boolean enableIfEarly(QuicConnection quic) {
    if (SECRETS == null || !(quic instanceof ServerConnectionImpl server)) {
      return false;
    }
    try {
      if ("Connected".equals(String.valueOf(STATE.get(server)))) {
        return false; // the usual path: kwik enabled it itself
      }
      tech.kwik.agent15.engine.TrafficSecrets secrets =
          (tech.kwik.agent15.engine.TrafficSecrets) TLS.get(server);
      if (secrets.getServerApplicationTrafficSecret() == null
          || secrets.getClientApplicationTrafficSecret() == null) {
        return false;
      }
      COMPUTE_APP_SECRETS.invoke(SECRETS.get(server), secrets);
      ENABLE_APP_LEVEL.invoke(SENDER.get(server));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "could not enable 0.5-RTT data", e);
      return false;
    }
  }
}
