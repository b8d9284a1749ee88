package dev.grpcquic.engine;

import java.nio.ByteBuffer;

/**
 * Events of one stream. Calls for one stream never overlap; they come from engine threads, which
 * must not be blocked for long. Inbound events end with exactly one of {@link #onEndOfStream},
 * {@link #onReset}, or {@link #onConnectionClosed}; the one exception: {@link #onReset} may follow
 * {@link #onEndOfStream} when the peer stops our sending side (STOP_SENDING) after its own FIN.
 */
public interface StreamHandler {

  /** Bytes of the stream, in order, never more in total than requested. */
  void onData(ByteBuffer data);

  /**
   * The peer finished its sending side (FIN) and every byte before it was delivered. Like data, it
   * is only noticed while read credit is outstanding: request at least one byte more than the data
   * you expect to see the end.
   */
  void onEndOfStream();

  /**
   * The peer reset its sending side (RESET_STREAM), or stopped ours and the engine reset it.
   * {@code applicationErrorCode} is -1 when the engine does not tell the code (kwik never does). A
   * STOP_SENDING is only noticed by the engine's next write on the stream (kwik limitation).
   */
  void onReset(long applicationErrorCode);

  /** The engine accepted {@code bytes} of the queued data (they now count against QUIC flow control). */
  void onWritten(int bytes);

  /** The connection ended while this stream was open. */
  void onConnectionClosed(ConnectionCloseInfo info);
}
