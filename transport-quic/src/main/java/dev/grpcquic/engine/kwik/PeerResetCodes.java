package dev.grpcquic.engine.kwik;

import java.util.concurrent.ConcurrentHashMap;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.ResetStreamFrame;
import tech.kwik.core.packet.QuicPacket;

/**
 * The error codes of the RESET_STREAM frames a peer sent, by stream. kwik parses the code but
 * only reports "Stream reset by peer" to the reader (kwik.md), and the code matters: a server's
 * H3_REQUEST_REJECTED says the request was not processed, so the call may be retried. kwik's
 * logger sees every packet before kwik processes it, so the code is recorded here before the
 * reader learns of the reset. Only streams the connection holds are tracked, so a peer cannot
 * make this grow.
 */
final class PeerResetCodes {
  private static final Long UNKNOWN = -1L;
  private final ConcurrentHashMap<Long, Long> codes = new ConcurrentHashMap<>();

  void track(long streamId) {
    codes.putIfAbsent(streamId, UNKNOWN);
  }

  void forget(long streamId) {
    codes.remove(streamId);
  }

  /** On kwik's receiver thread, before the packet is processed. */
  void received(QuicPacket packet) {
    if (packet == null) {
      return;
    }
    for (QuicFrame frame : packet.getFrames()) {
      if (frame instanceof ResetStreamFrame reset) {
        codes.computeIfPresent((long) reset.getStreamId(),
            (id, old) -> old.equals(UNKNOWN) ? reset.getErrorCode() : old);
      }
    }
  }

  /** The code of the peer's RESET_STREAM for this stream, or -1 when none was seen. */
  long code(long streamId) {
    return codes.getOrDefault(streamId, UNKNOWN);
  }
}
