package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.StreamHandler;
import java.nio.ByteBuffer;

/**
 * For a stream that was refused: whatever still arrives on it is dropped. Tests extend it to
 * watch one event.
 */
class DiscardingStreamHandler implements StreamHandler {
  @Override
  public void onData(ByteBuffer data) {}

  @Override
  public void onEndOfStream() {}

  @Override
  public void onReset(long applicationErrorCode) {}

  @Override
  public void onStopSending(long applicationErrorCode) {}

  @Override
  public void onWritten(int bytes) {}

  @Override
  public void onConnectionClosed(ConnectionCloseInfo info) {}
}
