package dev.grpcquic;

import dev.grpcquic.transport.ConnectionRegistry;
import dev.grpcquic.transport.MigrationGroup;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Moves the QUIC connections of one or more channels to new local UDP ports on request (QUIC
 * client migration): calls in flight go on over the new port. Hand it to
 * {@link QuicChannelBuilder#migrationController}; call {@link #migrate()} when the old path is
 * known or suspected to be bad (the device changed networks, a NAT binding is about to expire).
 *
 * <pre>{@code
 * QuicMigrationController migration = new QuicMigrationController();
 * ManagedChannel channel = QuicChannelBuilder.forAddress("example.com", 443)
 *     .migrationController(migration)
 *     .build();
 * ...
 * migration.migrate(); // every live connection of the channel now uses a new local port
 * }</pre>
 *
 * <p>What a move does (kwik's client): it opens a new socket on a fresh ephemeral port of the
 * wildcard address, closes the old one and sends a PING from the new one at once, so that the
 * server learns the new address even when the client has nothing to send. The connection keeps its
 * connection IDs (kwik 0.10.8 does not switch to a new one, so an observer can link the two
 * paths), and the client does no path validation of its own. Packets the server sent to the old
 * port in the meantime are lost and resent after kwik's loss detection. The server must allow
 * migration: a grpc-quic server does unless built with {@code allowClientMigration(false)}; other
 * servers may drop the connection, as kwik's server advertises {@code disable_active_migration}.
 *
 * <p>Thread-safe; {@link #migrate()} does not block beyond opening the sockets.
 */
public final class QuicMigrationController {

  private static final Logger LOG = Logger.getLogger(QuicMigrationController.class.getName());

  private final MigrationGroup connections = new MigrationGroup();

  /**
   * Moves every live connection of the channels that use this controller to a new local port.
   * Returns how many connections moved (0 when none is connected: a connection made later starts
   * on a new port anyway).
   */
  public int migrate() {
    int moved = connections.migrate();
    LOG.log(Level.FINE, "migrated {0} connection(s)", moved);
    return moved;
  }

  /** Live connections this controller would move. */
  public int connectionCount() {
    return connections.connectionCount();
  }

  ConnectionRegistry registry() {
    return connections;
  }
}
