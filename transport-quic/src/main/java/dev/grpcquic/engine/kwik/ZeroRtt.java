package dev.grpcquic.engine.kwik;

import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.engine.EarlyStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.QuicClientConnection.StreamEarlyData;
import tech.kwik.core.QuicSessionTicket;
import tech.kwik.core.impl.QuicClientConnectionImpl;
import tech.kwik.core.impl.QuicSessionTicketImpl;

/**
 * One connect attempt's 0-RTT plan on kwik: which early streams go as 0-RTT data, and the
 * fallback for the rest.
 *
 * <p>kwik's {@code connect(List<StreamEarlyData>)} writes each entry on a new bidirectional stream
 * before the handshake and resends it in 1-RTT when the server rejects 0-RTT. Two of its ways
 * decide what may be given to it: an entry larger than the 0-RTT flow-control limits remembered in
 * the ticket has its remainder written after the handshake <em>with the output closed</em>, even
 * when the entry did not ask for FIN; and it writes into the stream's 50 KiB send buffer, blocking
 * when that is full. So only entries that fit entirely (the remembered connection and stream limits,
 * the remembered stream count, and {@link #MAX_EARLY_BYTES_PER_STREAM}) go early; the others are
 * opened after the handshake and written as ordinary data.
 */
final class ZeroRtt {

  private static final Logger LOG = Logger.getLogger(ZeroRtt.class.getName());
  /** Below kwik's 50 KiB per-stream send buffer, so that the early write never blocks. */
  static final int MAX_EARLY_BYTES_PER_STREAM = 32 * 1024;

  private final List<EarlyStream> all;
  private final List<EarlyStream> early = new ArrayList<>();
  private final JulKwikLogger logger;

  ZeroRtt(QuicSessionTicket ticket, List<EarlyStream> streams, JulKwikLogger logger) {
    this.all = streams;
    this.logger = logger;
    if (ticket == null) {
      return;
    }
    long connectionLeft = ticket.getInitialMaxData();
    long streamLimit = Math.min(ticket.getInitialMaxStreamDataBidiRemote(),
        MAX_EARLY_BYTES_PER_STREAM);
    for (EarlyStream stream : streams) {
      int size = stream.data().remaining();
      if (early.size() >= ticket.getInitialMaxStreamsBidi() || size > streamLimit
          || size > connectionLeft) {
        break; // kwik numbers early streams in list order: keep the rest for after the handshake
      }
      early.add(stream);
      connectionLeft -= size;
    }
  }

  /** The ticket in {@code serialized}, or null when there is none or it does not parse. */
  static QuicSessionTicket ticket(byte[] serialized) {
    if (serialized == null) {
      return null;
    }
    try {
      return QuicSessionTicketImpl.deserialize(serialized);
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "ignoring a session ticket that does not parse", e);
      return null;
    }
  }

  /** What to hand to kwik's connect. */
  List<StreamEarlyData> earlyData() {
    List<StreamEarlyData> data = new ArrayList<>();
    for (EarlyStream stream : early) {
      ByteBuffer bytes = stream.data();
      byte[] copy = new byte[bytes.remaining()];
      bytes.get(copy);
      data.add(new StreamEarlyData(copy, stream.fin()));
    }
    return data;
  }

  /** After the handshake: what became of the attempt. */
  EarlyDataStats stats(QuicClientConnection kwik) {
    if (early.isEmpty()) {
      return new EarlyDataStats(EarlyDataStats.Outcome.NOT_ATTEMPTED, 0,
          logger.zeroRttPacketsSent());
    }
    boolean accepted = kwik instanceof QuicClientConnectionImpl impl
        && impl.getEarlyDataStatus() == QuicClientConnectionImpl.EarlyDataStatus.Accepted;
    return new EarlyDataStats(accepted ? EarlyDataStats.Outcome.ACCEPTED
        : EarlyDataStats.Outcome.REJECTED, early.size(), logger.zeroRttPacketsSent());
  }

  /**
   * After the handshake: binds the streams kwik created for early data, opens the others. kwik's
   * list may hold null where it could not create a stream.
   */
  void openStreams(KwikConnection connection, List<tech.kwik.core.QuicStream> sentEarly) {
    for (int i = 0; i < all.size(); i++) {
      EarlyStream stream = all.get(i);
      int index = early.indexOf(stream);
      tech.kwik.core.QuicStream kwikStream = index >= 0 && index < sentEarly.size()
          ? sentEarly.get(index) : null;
      if (kwikStream != null) {
        connection.adoptEarlyStream(kwikStream, stream);
      } else {
        connection.openStream(true, stream.handler()).whenComplete((opened, error) -> {
          if (error != null) {
            stream.opened().completeExceptionally(error);
          } else {
            opened.write(stream.data(), stream.fin());
            stream.opened().complete(opened);
          }
        });
      }
    }
  }
}
