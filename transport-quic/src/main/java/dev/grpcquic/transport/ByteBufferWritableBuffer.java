package dev.grpcquic.transport;

import io.grpc.internal.WritableBuffer;
import io.grpc.internal.WritableBufferAllocator;
import java.nio.ByteBuffer;

/** grpc-core's framer writes messages into these; the transport hands them to the engine as is. */
final class ByteBufferWritableBuffer implements WritableBuffer {
  /** Large enough to frame a typical message in one piece, small enough not to waste memory. */
  static final WritableBufferAllocator ALLOCATOR = capacityHint ->
      new ByteBufferWritableBuffer(Math.min(1024 * 1024, Math.max(4096, capacityHint)));

  private final ByteBuffer buffer;

  private ByteBufferWritableBuffer(int capacity) {
    this.buffer = ByteBuffer.allocate(capacity);
  }

  @Override
  public void write(byte[] src, int srcIndex, int length) {
    buffer.put(src, srcIndex, length);
  }

  @Override
  public void write(byte b) {
    buffer.put(b);
  }

  @Override
  public int writableBytes() {
    return buffer.remaining();
  }

  @Override
  public int readableBytes() {
    return buffer.position();
  }

  @Override
  public void release() {}

  /** The written bytes, ready to read; the buffer must not be written afterwards. */
  ByteBuffer flip() {
    return buffer.flip();
  }
}
