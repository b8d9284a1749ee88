package dev.grpcquic.engine;

import java.nio.ByteBuffer;

/**
 * One QUIC stream. Inbound data is pulled: the engine delivers at most as many bytes as were
 * {@link #request requested}, so the peer is held back by QUIC flow control exactly as far as the
 * application lags behind. Outbound data is queued without blocking; {@link
 * StreamHandler#onWritten} reports what the engine accepted.
 */
public interface QuicStream {

  long id();

  boolean isBidirectional();

  /** Allows the engine to deliver {@code bytes} more bytes to {@link StreamHandler#onData}. */
  void request(int bytes);

  /**
   * Queues bytes for sending, the final ones when {@code fin} is set. Never blocks. The buffer is
   * owned by the engine from this call on. Writing after FIN or after a reset is ignored.
   */
  void write(ByteBuffer data, boolean fin);

  /**
   * Queues bytes like {@code write(data, false)}, but they may wait for the stream's next {@link
   * #write} (grpc-core's unflushed writes: a response's headers wait for its message), so that
   * both leave together. The caller must write again, or reset the stream.
   */
  default void writeLater(ByteBuffer data) {
    write(data, false);
  }

  /** Bytes queued by {@link #write} that the engine has not yet accepted. */
  long queuedBytes();

  /**
   * Abandons the stream: RESET_STREAM with this code (unless FIN was already handed to the engine);
   * queued data is dropped. Unless the receiving side already ended, it is abandoned too
   * (STOP_SENDING with the same code, no further inbound events): an engine such as kwik frees the
   * stream's MAX_STREAMS slot only once both directions are finished.
   */
  void reset(long applicationErrorCode);

  /**
   * Abandons only the sending side: RESET_STREAM with this code (unless FIN was already handed to
   * the engine). The receiving side stays as it is, unread, and with it the stream's MAX_STREAMS
   * slot (kwik and quiche give a peer's stream slot back only once both directions are finished),
   * until {@link #reset} or {@link #stopSending} ends it: how a server withholds stream credit.
   * Returns false when the engine cannot keep the receiving side; it then abandons both, as
   * {@link #reset} does.
   */
  default boolean resetSending(long applicationErrorCode) {
    reset(applicationErrorCode);
    return false;
  }

  /**
   * After {@link #resetSending}: whether the stream still holds its MAX_STREAMS slot. False once
   * the receiving side ended (the peer reset it, on an engine that then frees the stream, such as
   * kwik; quiche frees it only when the application reads the reset) or was abandoned.
   */
  default boolean holdsSlot() {
    return false;
  }

  /** Abandons the receiving side: STOP_SENDING with this code; no further data is delivered. */
  void stopSending(long applicationErrorCode);
}
