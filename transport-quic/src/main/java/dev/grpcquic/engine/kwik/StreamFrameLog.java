package dev.grpcquic.engine.kwik;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import tech.kwik.core.common.PnSpace;
import tech.kwik.core.frame.AckFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.Range;
import tech.kwik.core.frame.ResetStreamFrame;
import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.packet.QuicPacket;

/**
 * What a client connection's packets say about its streams that kwik's API does not (kwik.md):
 * the error code of the peer's RESET_STREAM (kwik only reports "reset by peer"; a server's
 * H3_REQUEST_REJECTED means the request may be retried), and whether the peer has acknowledged a
 * STREAM frame of a stream we opened. A peer running kwik drops a RESET_STREAM that comes before
 * it has seen any frame of the stream, and the stream's slot is then lost to the connection; a
 * frame that was sent may still be lost, and kwik does not send it again once the stream is reset.
 *
 * <p>Fed by the connection's kwik logger, which sees every packet before kwik processes it and
 * every datagram right after it was sent. Only streams the connection holds are tracked, so a peer
 * cannot make this grow. Server connections share one logger, so theirs is not fed: codes stay
 * unknown and nothing waits (a client knows every stream a server opens).
 */
final class StreamFrameLog {
  private static final int RECENT_PACKETS = 8;
  private final boolean fed;
  private final ConcurrentHashMap<Long, Entry> streams = new ConcurrentHashMap<>();
  /**
   * Streams with frames sent and none acknowledged yet: each stays about one RTT, from its first
   * frame to the first ACK that covers one (ACK ranges do not repeat, so every ACK is looked at).
   */
  private final ConcurrentHashMap<Long, Entry> unacked = new ConcurrentHashMap<>();

  private static final class Entry {
    volatile long peerResetCode = -1;
    volatile boolean frameAcked;
    /**
     * Guarded by the entry: the latest application packets that carried STREAM frames of the
     * stream (a lost one is sent again in a later packet, so the latest are enough).
     */
    final long[] packets = new long[RECENT_PACKETS];
    int packetCount;
    /** Guarded by the entry. */
    Runnable afterAck;
  }

  /** {@code fed}: a logger of this connection alone calls {@link #received} and {@link #sent}. */
  StreamFrameLog(boolean fed) {
    this.fed = fed;
  }

  void track(long streamId) {
    if (fed) {
      streams.putIfAbsent(streamId, new Entry());
    }
  }

  /** kwik sent frames of this stream before we tracked it (0-RTT data): nothing waits for them. */
  void markSeenByPeer(long streamId) {
    Entry e = streams.get(streamId);
    if (e != null) {
      e.frameAcked = true;
    }
  }

  /** The stream is done (a stream with an action waiting is not done before it ran). */
  void forget(long streamId) {
    streams.remove(streamId);
    unacked.remove(streamId);
  }

  /** On kwik's receiver thread, before the packet is processed. */
  void received(QuicPacket packet) {
    if (packet == null || streams.isEmpty()) {
      return;
    }
    for (QuicFrame frame : packet.getFrames()) {
      if (frame instanceof ResetStreamFrame reset) {
        Entry e = streams.get((long) reset.getStreamId());
        if (e != null && e.peerResetCode < 0) {
          e.peerResetCode = reset.getErrorCode();
        }
      } else if (frame instanceof AckFrame ack && packet.getPnSpace() == PnSpace.App
          && !unacked.isEmpty()) {
        acknowledged(ack.getAcknowledgedRanges());
      }
    }
  }

  private void acknowledged(List<Range> ranges) {
    for (Long streamId : unacked.keySet()) {
      Entry e = unacked.get(streamId);
      if (e == null) {
        continue;
      }
      boolean acked = false;
      synchronized (e) {
        for (int i = 0; i < Math.min(e.packetCount, RECENT_PACKETS); i++) {
          for (Range r : ranges) {
            acked |= r.contains(e.packets[i]);
          }
        }
      }
      if (acked) {
        frameAcked(streamId, e);
      }
    }
  }

  /** On kwik's sender thread, right after the datagram left. */
  void sent(List<QuicPacket> packets) {
    for (QuicPacket packet : packets) {
      if (packet.getPnSpace() != PnSpace.App || packet.getPacketNumber() == null) {
        continue;
      }
      for (QuicFrame frame : packet.getFrames()) {
        if (frame instanceof StreamFrame stream) {
          Entry e = streams.get((long) stream.getStreamId());
          if (e != null && !e.frameAcked) {
            synchronized (e) {
              if (!e.frameAcked) {
                if (e.packetCount == 0) {
                  unacked.put((long) stream.getStreamId(), e);
                }
                e.packets[e.packetCount++ % RECENT_PACKETS] = packet.getPacketNumber();
              }
            }
          }
        }
      }
    }
  }

  private void frameAcked(long streamId, Entry e) {
    Runnable action;
    synchronized (e) {
      e.frameAcked = true;
      action = e.afterAck;
      e.afterAck = null;
    }
    unacked.remove(streamId, e);
    if (action != null) {
      action.run();
    }
  }

  /**
   * Runs what waits now: no frame of this stream will leave any more (kwik refused its bytes), or
   * the acknowledgement was missed (an ACK processed before the sent datagram was logged; ACK
   * ranges repeat only while the peer keeps acknowledging).
   */
  void runWaitingNow(long streamId) {
    Entry e = streams.get(streamId);
    if (e != null) {
      frameAcked(streamId, e);
    }
  }

  /** The code of the peer's RESET_STREAM for this stream, or -1 when none was seen. */
  long peerResetCode(long streamId) {
    Entry e = streams.get(streamId);
    return e == null ? -1 : e.peerResetCode;
  }

  /**
   * Keeps {@code action} until the peer acknowledged a STREAM frame of this stream, and returns
   * true; returns false (the caller runs it) when it already did, or when this log is not fed. The
   * action runs on kwik's receiver thread: it must only hand work on.
   */
  boolean deferUntilPeerHasFrame(long streamId, Runnable action) {
    Entry e = fed ? streams.get(streamId) : null;
    if (e == null) {
      return false;
    }
    synchronized (e) {
      if (e.frameAcked) {
        return false;
      }
      e.afterAck = action;
    }
    return true;
  }
}
