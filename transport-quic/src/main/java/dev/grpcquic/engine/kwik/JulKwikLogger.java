package dev.grpcquic.engine.kwik;

import java.nio.ByteBuffer;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.log.BaseLogger;

/**
 * Bridges kwik's logger to java.util.logging: everything kwik emits (errors always, warnings when
 * FINE was enabled at creation) goes to the JUL logger {@code dev.grpcquic.engine.kwik.kwik} at FINE.
 * kwik's verbose categories (packets, recovery, streams, ...) stay off.
 */
final class JulKwikLogger extends BaseLogger {

  private static final Logger LOG = Logger.getLogger("dev.grpcquic.engine.kwik.kwik");
  private final String prefix;

  JulKwikLogger(String prefix) {
    this.prefix = prefix;
    logDebug(false);
    logInfo(false);
    logWarning(LOG.isLoggable(Level.FINE));
    logStats(false);
    logRecovery(false);
    logCongestionControl(false);
    logFlowControl(false);
    logStream(false);
    logPackets(false);
    logRaw(false);
    logDecrypted(false);
    logSecrets(false);
  }

  @Override
  protected void log(String message) {
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine(prefix + message);
    }
  }

  @Override
  protected void log(String message, Throwable ex) {
    if (LOG.isLoggable(Level.FINE)) {
      LOG.log(Level.FINE, prefix + message, ex);
    }
  }

  @Override
  protected void logWithHexDump(String message, byte[] data, int length) {
    log(message);
  }

  @Override
  protected void logWithHexDump(String message, ByteBuffer data, int offset, int length) {
    log(message);
  }
}
