package dev.grpcquic.engine.kwik;

import dev.grpcquic.tls.SecretFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The TLS key log (NSS key log format, what Wireshark and tshark read) of client connections.
 *
 * <p>kwik writes a connection's secrets itself when its builder gets {@code secrets(path)}, but it
 * deletes and recreates that file for every connection, so a channel's second connection would
 * erase the first one's keys. Each connection therefore gets its own file in a private directory,
 * and once the handshake is over its lines are appended to the log the application named. New
 * files are created readable by their owner only: whoever reads them decrypts the traffic.
 */
final class KeyLog {
  private static final Logger LOG = Logger.getLogger(KeyLog.class.getName());

  private final Path target;
  private final Path directory;
  private final Path connectionFile;

  private KeyLog(Path target, Path directory) {
    this.target = target;
    this.directory = directory;
    this.connectionFile = directory.resolve("keys");
  }

  /** A key log for one connection that ends up in {@code target}. */
  static KeyLog forConnection(Path target) throws IOException {
    Path dir = SecretFiles.POSIX
        ? Files.createTempDirectory("grpc-quic-keylog",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
        : Files.createTempDirectory("grpc-quic-keylog");
    return new KeyLog(target, dir);
  }

  /** What to give kwik's {@code secrets(..)}. */
  Path connectionFile() {
    return connectionFile;
  }

  /**
   * Appends what kwik wrote to the target and removes the connection's file. Call once the
   * handshake has ended, successfully or not. Connections of several channels may share a target:
   * the append holds a file lock.
   */
  void publish() {
    try {
      if (Files.exists(connectionFile)) {
        byte[] lines = Files.readAllBytes(connectionFile);
        if (lines.length > 0) {
          append(lines);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.WARNING, "could not write the TLS key log " + target, e);
    } finally {
      try {
        Files.deleteIfExists(connectionFile);
        Files.deleteIfExists(directory);
      } catch (IOException e) {
        LOG.log(Level.FINE, "could not remove " + directory, e);
      }
    }
  }

  private void append(byte[] lines) throws IOException {
    synchronized (KeyLog.class) {
      SecretFiles.createIfAbsent(target);
      try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE,
          StandardOpenOption.WRITE, StandardOpenOption.APPEND);
          FileLock lock = out.lock()) {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(lines);
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
      }
    }
  }
}
