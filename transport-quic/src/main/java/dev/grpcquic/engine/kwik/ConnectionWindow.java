package dev.grpcquic.engine.kwik;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
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
 * reaches it by reflection (resolved once). Without it the window stays at kwik's 10x, and the
 * transport logs that stalled streams can then hold up others.
 */
final class ConnectionWindow {
  private static final Logger LOG = Logger.getLogger(ConnectionWindow.class.getName());
  private static final Field CONFIG;
  private static final Method SETTER;

  static {
    Field config = null;
    Method setter = null;
    try {
      Class<?> builderImpl =
          Class.forName("tech.kwik.core.impl.QuicClientConnectionImpl$BuilderImpl");
      config = builderImpl.getDeclaredField("connectionProperties");
      config.setAccessible(true);
      setter = Class.forName("tech.kwik.core.impl.ClientConnectionConfig")
          .getDeclaredMethod("setMaxConnectionBufferSize", long.class);
      setter.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.WARNING, "cannot set kwik's client connection window; it stays at 10 stream"
          + " windows, and streams whose readers stall can then hold up other streams", e);
      config = null;
      setter = null;
    }
    CONFIG = config;
    SETTER = setter;
  }

  private ConnectionWindow() {}

  /** Call after {@code defaultStreamReceiveBufferSize}, which resets the window to 10x. */
  static void set(QuicClientConnection.Builder builder, long bytes) {
    if (SETTER == null) {
      return;
    }
    try {
      SETTER.invoke(CONFIG.get(builder), bytes);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.WARNING, "cannot set kwik's client connection window", e);
    }
  }
}
