package dev.grpcquic.engine.kwik;

import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.QuicClientConnection;

/**
 * Sets a kwik client's connection receive window (initial_max_data), which kwik's public builder
 * fixes at 10 stream windows. That is too small for a gRPC client: a stream whose application
 * stopped reading keeps up to a stream window unread inside kwik, and ten such streams would use
 * up the connection window and stall every other stream of the connection. The window must cover
 * one stream window per stream that can be open at once.
 *
 * <p>kwik keeps the value in a package-private setter of its builder's configuration; this class
 * reaches it through {@link KwikPrivateAccess}. Without it the window stays at kwik's 10x (the
 * engine's start-up report says so).
 */
final class ConnectionWindow {
  private static final Logger LOG = Logger.getLogger(ConnectionWindow.class.getName());

  private ConnectionWindow() {}

  /** Call after {@code defaultStreamReceiveBufferSize}, which resets the window to 10x. */
  static void set(QuicClientConnection.Builder builder, long bytes) {
    if (!KwikPrivateAccess.CLIENT_CONNECTION_WINDOW.active()) {
      return;
    }
    try {
      KwikPrivateAccess.CLIENT_CONFIG_MAX_CONNECTION_BUFFER.invoke(
          KwikPrivateAccess.CLIENT_BUILDER_CONFIG.get(builder), bytes);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.WARNING, "cannot set kwik's client connection window", e);
    }
  }
}
