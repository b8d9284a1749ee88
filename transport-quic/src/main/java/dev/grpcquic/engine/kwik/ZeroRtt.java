package dev.grpcquic.engine.kwik;

import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.engine.PendingStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.QuicClientConnection.StreamEarlyData;
import tech.kwik.core.QuicSessionTicket;
import tech.kwik.core.impl.HandshakeState;
import tech.kwik.core.impl.HandshakeStateListener;
import tech.kwik.core.impl.QuicClientConnectionImpl;
import tech.kwik.core.impl.QuicClientConnectionImpl.EarlyDataStatus;
import tech.kwik.core.impl.QuicSessionTicketImpl;

/**
 * One connect attempt's 0-RTT plan on kwik: which of the streams opened before the start ({@link
 * KwikClientEngine#open}) go as 0-RTT data, and the fallback for the rest; and what happens when
 * the server rejects them.
 *
 * <p>kwik's {@code connect(List<StreamEarlyData>)} writes each entry on a new bidirectional stream
 * before the handshake. Two of its ways decide what may be given to it: an entry larger than the
 * 0-RTT flow-control limits remembered in the ticket has its remainder written after the handshake
 * <em>with the output closed</em>, even when the entry did not ask for FIN; and it writes into the
 * stream's 50 KiB send buffer, blocking when that is full. So only entries that fit entirely (the
 * remembered connection and stream limits, the remembered stream count, and {@link
 * #MAX_EARLY_BYTES_PER_STREAM}) go early; the others are opened after the handshake and written as
 * ordinary data.
 *
 * <p>Rejected early data is not left to kwik's resend. When the server has not accepted it,
 * {@code connect} rewinds each early stream's output to offset 0 and writes the data again
 * ({@code EarlyDataStream.writeRemaining(false)}), but the connection's flow control still counts
 * the bytes the 0-RTT packets took: the sender's next frame asks flow control for a limit below
 * the one already assigned to the stream, {@code FlowControl.increaseFlowControlLimit} throws
 * IllegalArgumentException, kwik's sender thread dies and the connection is aborted (every
 * rejected entry longer than one STREAM frame, and any entry whose first resent frame is shorter
 * than its early one). Instead, a handshake-state listener ({@link Outcome}) notes at handshake
 * completion whether the server accepted, and if it did not, tells kwik it did: kwik then resends
 * nothing itself, and the 0-RTT packets, which the server never acknowledges, are declared lost by
 * loss recovery and their STREAM frames sent again in 1-RTT packets, at the same offsets (as
 * quiche does). kwik's status is read only after the early data is written: {@link
 * ServerHelloGate} holds what the server sends until then, because kwik sets "requested" after
 * writing and would overwrite an "accepted" its receiver thread set first. Without the listener
 * (kwik internals not reachable) nothing goes early.
 */
final class ZeroRtt {

  private static final Logger LOG = Logger.getLogger(ZeroRtt.class.getName());
  /** Below kwik's 50 KiB per-stream send buffer, so that the early write never blocks. */
  static final int MAX_EARLY_BYTES_PER_STREAM = 32 * 1024;

  private final List<PendingStream> all;
  private final List<PendingStream> early = new ArrayList<>();
  private final JulKwikLogger logger;
  /** Set at handshake completion when early data was sent: whether the server accepted it. */
  private volatile Boolean accepted;

  ZeroRtt(QuicSessionTicket ticket, List<PendingStream> streams, JulKwikLogger logger) {
    this.all = streams;
    this.logger = logger;
    if (ticket == null) {
      return;
    }
    long connectionLeft = ticket.getInitialMaxData();
    long streamLimit = Math.min(ticket.getInitialMaxStreamDataBidiRemote(),
        MAX_EARLY_BYTES_PER_STREAM);
    for (PendingStream stream : streams) {
      int size = stream.earlyData().remaining();
      if ((size == 0 && !stream.earlyFin()) || early.size() >= ticket.getInitialMaxStreamsBidi()
          || size > streamLimit || size > connectionLeft) {
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

  /**
   * Before {@code connect}: installs the listener that takes over rejected early data, and makes the
   * gate hold the server's packets until kwik has written the early data. Nothing goes early when
   * the listener cannot be installed.
   */
  void install(QuicClientConnection kwik, ServerHelloGate gate) {
    if (early.isEmpty()) {
      return;
    }
    if (!(kwik instanceof QuicClientConnectionImpl impl) || !Outcome.install(impl, this)) {
      early.clear();
      return;
    }
    gate.awaitEarlyData(impl);
  }

  /** What to hand to kwik's connect. */
  List<StreamEarlyData> earlyData() {
    List<StreamEarlyData> data = new ArrayList<>();
    for (PendingStream stream : early) {
      ByteBuffer bytes = stream.earlyData();
      byte[] copy = new byte[bytes.remaining()];
      bytes.get(copy);
      data.add(new StreamEarlyData(copy, stream.earlyFin()));
    }
    return data;
  }

  /** After the handshake: what became of the attempt. */
  EarlyDataStats stats(QuicClientConnection kwik) {
    if (early.isEmpty()) {
      return new EarlyDataStats(EarlyDataStats.Outcome.NOT_ATTEMPTED, 0,
          logger.zeroRttPacketsSent());
    }
    return new EarlyDataStats(Boolean.TRUE.equals(accepted) ? EarlyDataStats.Outcome.ACCEPTED
        : EarlyDataStats.Outcome.REJECTED, early.size(), logger.zeroRttPacketsSent());
  }

  /**
   * After the handshake: binds the streams kwik created for early data, opens the others. kwik's
   * list may hold null where it could not create a stream.
   */
  void openStreams(KwikConnection connection, List<tech.kwik.core.QuicStream> sentEarly) {
    for (int i = 0; i < all.size(); i++) {
      PendingStream stream = all.get(i);
      int index = early.indexOf(stream);
      tech.kwik.core.QuicStream kwikStream = index >= 0 && index < sentEarly.size()
          ? sentEarly.get(index) : null;
      if (kwikStream != null) {
        connection.adoptEarlyStream(kwikStream, stream);
      } else {
        connection.openStream(true, stream.handler()).whenComplete((opened, error) -> {
          if (error != null) {
            stream.fail(error);
          } else {
            opened.write(stream.earlyData(), stream.earlyFin());
            if (!stream.bind(opened)) {
              opened.reset(0);
            }
          }
        });
      }
    }
  }

  /**
   * Runs on kwik's receiver thread when the client has its 1-RTT keys, before {@code connect}
   * wakes up and looks at the early-data status. kwik offers no public way to add one:
   * {@code QuicConnectionImpl.handshakeStateListeners} is read through {@link KwikPrivateAccess}.
   */
  private static final class Outcome implements HandshakeStateListener {
    private final QuicClientConnectionImpl kwik;
    private final ZeroRtt plan;

    private Outcome(QuicClientConnectionImpl kwik, ZeroRtt plan) {
      this.kwik = kwik;
      this.plan = plan;
    }

    @SuppressWarnings("unchecked")
    static boolean install(QuicClientConnectionImpl kwik, ZeroRtt plan) {
      if (!KwikPrivateAccess.ZERO_RTT.active()) {
        return false;
      }
      try {
        ((List<HandshakeStateListener>) KwikPrivateAccess.CONNECTION_HANDSHAKE_LISTENERS.get(kwik))
            .add(new Outcome(kwik, plan));
        return true;
      } catch (ReflectiveOperationException | RuntimeException e) {
        LOG.log(Level.FINE, "could not listen to kwik's handshake state: no 0-RTT", e);
        return false;
      }
    }

    @Override
    public void handshakeStateChangedEvent(HandshakeState state) {
      if (state != HandshakeState.HasAppKeys || plan.accepted != null) {
        return;
      }
      boolean accepted = kwik.getEarlyDataStatus() == EarlyDataStatus.Accepted;
      plan.accepted = accepted;
      if (!accepted) {
        // kwik's own resend kills its sender (class comment): loss recovery resends instead.
        kwik.setEarlyDataStatus(EarlyDataStatus.Accepted);
      }
    }
  }
}
