package dev.grpcquic.transport;

import dev.grpcquic.engine.QuicConnection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The live connections of the channels that share one migration controller, moved together to
 * new local ports on request. Thread-safe; {@link #migrate()} does not block beyond opening the
 * sockets.
 */
public final class MigrationGroup implements ConnectionRegistry {

  private static final Logger LOG = Logger.getLogger(MigrationGroup.class.getName());

  private final Set<QuicConnection> connections = ConcurrentHashMap.newKeySet();

  @Override
  public void add(QuicConnection connection) {
    connections.add(connection);
  }

  @Override
  public void remove(QuicConnection connection) {
    connections.remove(connection);
  }

  /** Moves every live connection to a new local port; returns how many moved. */
  public int migrate() {
    int moved = 0;
    for (QuicConnection connection : connections) {
      if (!connection.isOpen()) {
        connections.remove(connection);
        continue;
      }
      try {
        if (connection.migrate()) {
          moved++;
        }
      } catch (RuntimeException e) {
        LOG.log(Level.FINE, "migration of " + connection + " failed", e);
      }
    }
    return moved;
  }

  /** Live connections {@link #migrate()} would move. */
  public int connectionCount() {
    connections.removeIf(c -> !c.isOpen());
    return connections.size();
  }
}
