package dev.grpcquic.engine.quiche;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.engine.PendingStream;
import dev.grpcquic.engine.StreamHandler;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionStats;
import io.netty.handler.codec.quic.QuicStreamType;
import java.nio.ByteBuffer;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A client connection's early streams: opened with their first bytes as 0-RTT data when quiche
 * resumes a session that allows it, handed to their callers once the handshake is done, and the
 * 0-RTT outcome. Event loop only, except {@link #stats}. A server connection has none.
 */
final class ZeroRttStreams {
  private static final Logger LOG = Logger.getLogger(ZeroRttStreams.class.getName());

  private final QuicheConnection connection;
  private List<PendingStream> streams;
  /** The early streams that went as 0-RTT data, with their streams. */
  private final Map<PendingStream, EarlyWrites> sent = new IdentityHashMap<>();
  private long zeroRttPackets;
  private volatile EarlyDataStats stats = EarlyDataStats.NONE;

  ZeroRttStreams(QuicheConnection connection, List<PendingStream> streams) {
    this.connection = connection;
    this.streams = streams;
  }

  boolean isEmpty() {
    return streams.isEmpty();
  }

  EarlyDataStats stats() {
    return stats;
  }

  /**
   * The handshake is under way in early data: open the early streams, write their first bytes
   * and have quiche send them now, in 0-RTT packets (left to the next packet or timer, they would
   * go as 1-RTT). A stream quiche refuses (beyond the stream limit remembered from the server)
   * and those after it are opened after the handshake.
   */
  void send(QuicChannel channel) {
    if (!sent.isEmpty()) {
      return;
    }
    long sentBefore = packetsSent(channel);
    for (PendingStream early : streams) {
      if (!early.earlyData().hasRemaining() && !early.earlyFin()) {
        break; // nothing to send early: this one and the rest open after the handshake
      }
      EarlyWrites writes = new EarlyWrites();
      QuicheStream stream = new QuicheStream(connection, writes, true, false, false);
      var created = channel.newStreamBootstrap()
          .type(QuicStreamType.BIDIRECTIONAL)
          .option(ChannelOption.AUTO_READ, false)
          .handler(stream)
          .create();
      // Created inline on the event loop; quiche refuses at once past the remembered limit.
      if (!created.isDone() || !created.isSuccess()) {
        LOG.log(Level.FINE, "0-RTT stream not created; the rest go after the handshake",
            created.cause());
        break;
      }
      writes.stream = stream;
      stream.writeNow(early.earlyData(), early.earlyFin());
      sent.put(early, writes);
    }
    if (sent.isEmpty()) {
      return;
    }
    NettyQuicInternals.sendNow(channel);
    zeroRttPackets = Math.max(0, packetsSent(channel) - sentBefore);
    stats = new EarlyDataStats(EarlyDataStats.Outcome.PENDING, sent.size(), zeroRttPackets);
  }

  private static long packetsSent(QuicChannel channel) {
    QuicConnectionStats s = channel.collectStats().getNow();
    return s == null ? 0 : s.sent();
  }

  /**
   * The handshake is done and the connection not yet handed out: settles the 0-RTT outcome and
   * hands each early stream over (those that did not go early are opened now and written as
   * ordinary data).
   *
   * <p>Netty does not tell whether the server accepted the early data, only whether it resumed
   * the session: a server that did not (an unknown or expired ticket, another server) rejected
   * the early data with it, and quiche sends it again in 1-RTT packets when it declares the
   * unacknowledged 0-RTT packets lost.
   */
  void onHandshakeDone(QuicChannel channel) {
    if (!sent.isEmpty()) {
      boolean resumed = NettyQuicInternals.isResumed(channel.sslEngine());
      stats = new EarlyDataStats(resumed ? EarlyDataStats.Outcome.ACCEPTED
          : EarlyDataStats.Outcome.REJECTED, sent.size(), zeroRttPackets);
    }
    for (PendingStream early : streams) {
      EarlyWrites writes = sent.get(early);
      if (writes != null) {
        writes.stream.setHandler(early.handler());
        if (writes.written > 0) {
          early.handler().onWritten((int) writes.written);
        }
        early.bind(writes.stream);
      } else {
        connection.openStream(true, early.handler()).whenComplete((stream, error) -> {
          if (error != null) {
            early.fail(error);
          } else {
            stream.write(early.earlyData(), early.earlyFin());
            if (!early.bind(stream)) {
              stream.reset(0);
            }
          }
        });
      }
    }
    streams = List.of();
    sent.clear();
  }

  /** The connection was not made; no early stream will open. */
  void onConnectFailed(Throwable error) {
    for (PendingStream early : streams) {
      early.fail(error);
    }
  }

  /**
   * Stands in for an early stream's handler until the handshake is done (the caller gets the
   * stream only then): counts what quiche accepted, to be reported when the stream is handed over.
   * Nothing else can happen before: the stream reads nothing without credit, and the server cannot
   * answer before the client has the 1-RTT keys.
   */
  private static final class EarlyWrites implements StreamHandler {
    QuicheStream stream;
    long written;

    @Override
    public void onData(ByteBuffer data) {}

    @Override
    public void onEndOfStream() {}

    @Override
    public void onReset(long applicationErrorCode) {}

    @Override
    public void onStopSending(long applicationErrorCode) {}

    @Override
    public void onWritten(int bytes) {
      written += bytes;
    }

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {}
  }
}
