package dev.grpcquic.engine;

import java.nio.ByteBuffer;

/**
 * Events of one stream. Calls for one stream never overlap; they come from engine threads, which
 * must not be blocked for long. Inbound events end with exactly one of {@link #onEndOfStream},
 * {@link #onReset}, or {@link #onConnectionClosed}. {@link #onStopSending} concerns the sending
 * side and may come at any time before the end.
 */
public interface StreamHandler {

  /** Bytes of the stream, in order, never more in total than requested. */
  void onData(ByteBuffer data);

  /**
   * The peer finished its sending side (FIN) and every byte before it was delivered. It comes
   * whether or not read credit is outstanding: a FIN after data that used the credit up exactly
   * ends the stream without a further {@link QuicStream#request}. (An engine that learns of a FIN
   * only by reading looks ahead by a byte to do so, and holds that byte until credit comes.) Not
   * before the first {@code request}: a stream whose handler never asks for data is left unread.
   */
  void onEndOfStream();

  /**
   * The peer reset its sending side (RESET_STREAM): no more inbound data.
   * {@code applicationErrorCode} is -1 when the engine does not know the code (the kwik engine
   * knows it on client connections only).
   */
  void onReset(long applicationErrorCode);

  /**
   * The peer asked us to stop sending (STOP_SENDING) and the engine reset our sending side; the
   * receiving side goes on. May come after {@link #onEndOfStream}. The code is -1 when the engine
   * does not tell it (kwik never does; it notices within a few tens of milliseconds).
   */
  void onStopSending(long applicationErrorCode);

  /** The engine accepted {@code bytes} of the queued data (they now count against QUIC flow control). */
  void onWritten(int bytes);

  /** The connection ended while this stream was open. */
  void onConnectionClosed(ConnectionCloseInfo info);
}
