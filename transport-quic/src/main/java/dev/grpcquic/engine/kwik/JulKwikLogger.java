package dev.grpcquic.engine.kwik;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.log.BaseLogger;
import tech.kwik.core.packet.QuicPacket;

/**
 * Bridges kwik's logger to java.util.logging: everything kwik emits (errors always, warnings when
 * FINE was enabled at creation) goes to the JUL logger {@code dev.grpcquic.engine.kwik.kwik} at FINE.
 * kwik's verbose categories (packets, recovery, streams, ...) stay off, unless the logger
 * {@code dev.grpcquic.engine.kwik.kwik.packets} is at FINE when the connection (or server) is
 * created: then kwik's packet, recovery, info and warning output goes there, one line per event
 * (a packet log of a handshake, for instance; costly: for diagnosis only).
 *
 * <p>A server logger may also feed a {@link MigrationTracker}: kwik calls {@code encrypted} just
 * before it decrypts a packet, {@code received} once it has, and {@code sent} right after a
 * datagram left the socket, whatever the log levels. A client logger feeds its connection's
 * {@link StreamFrameLog} from both.
 */
final class JulKwikLogger extends BaseLogger {

  private static final Logger LOG = Logger.getLogger("dev.grpcquic.engine.kwik.kwik");
  /** At FINE when a connection is created: its packet log (what kwik sends, receives, recovers). */
  static final Logger PACKETS = Logger.getLogger("dev.grpcquic.engine.kwik.kwik.packets");
  private static final String ENCRYPTED_PAYLOAD = "Encrypted payload";
  private final String prefix;
  private final Logger out;
  private final MigrationTracker tracker;
  private final StreamFrameLog frameLog;
  private final java.util.concurrent.atomic.AtomicLong zeroRttPackets =
      new java.util.concurrent.atomic.AtomicLong();

  /** {@code tracker} and {@code frameLog} may be null. */
  JulKwikLogger(String prefix, MigrationTracker tracker, StreamFrameLog frameLog) {
    this.prefix = prefix;
    this.tracker = tracker;
    this.frameLog = frameLog;
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
    if (PACKETS.isLoggable(Level.FINE)) {
      out = PACKETS;
      logPackets(true);
      logRecovery(true);
      logInfo(true);
      logWarning(true);
    } else {
      out = LOG;
    }
  }

  /** The last error kwik reported with an exception (the cause of an abort), or null. */
  private volatile String lastError;

  /** 0-RTT packets sent so far (kwik reports every packet it sends here, whatever the levels). */
  long zeroRttPacketsSent() {
    return zeroRttPackets.get();
  }

  @Override
  protected void log(String message) {
    if (out.isLoggable(Level.FINE)) {
      out.fine(prefix + message);
    }
  }

  @Override
  protected void log(String message, Throwable ex) {
    if (out.isLoggable(Level.FINE)) {
      out.log(Level.FINE, prefix + message, ex);
    }
  }

  @Override
  public void error(String message, Throwable error) {
    lastError = message + ": " + error;
    super.error(message, error);
  }

  /** For {@link AbortWatch}: what kwik last reported as an error with an exception. */
  String lastError() {
    return lastError;
  }

  @Override
  protected void logWithHexDump(String message, byte[] data, int length) {
    log(message);
  }

  @Override
  protected void logWithHexDump(String message, ByteBuffer data, int offset, int length) {
    log(message);
  }

  /** TLS secrets never reach a log, whatever is switched on: they belong in a key log only. */
  @Override
  public void secret(String message, byte[] secret) {
  }

  @Override
  public void encrypted(String message, byte[] data) {
    if (tracker != null && ENCRYPTED_PAYLOAD.equals(message)) {
      tracker.encryptedPayload(data);
    }
    super.encrypted(message, data);
  }

  @Override
  public void received(Instant timeReceived, int datagram, QuicPacket packet) {
    if (tracker != null) {
      tracker.received(packet);
    }
    if (frameLog != null) {
      frameLog.received(packet);
    }
    super.received(timeReceived, datagram, packet);
  }

  @Override
  public void sent(Instant sent, List<QuicPacket> packets) {
    for (QuicPacket packet : packets) {
      if (packet instanceof tech.kwik.core.packet.ZeroRttPacket) {
        zeroRttPackets.incrementAndGet();
      }
    }
    if (tracker != null) {
      tracker.sent(packets);
    }
    if (frameLog != null) {
      frameLog.sent(packets);
    }
    super.sent(sent, packets);
  }
}
