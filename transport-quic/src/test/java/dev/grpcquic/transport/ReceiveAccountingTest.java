package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.fuzz.FuzzTargets;
import dev.grpcquic.http3.Frames;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3Exception;
import dev.grpcquic.http3.QpackEncoder;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The count of received, unconsumed DATA that the memory budget and
 * {@code QuicAttributes.RECEIVE_BUFFERED_BYTES} rely on: a call that ended holds nothing, also when
 * its request's DATA arrives after the end (a call cancelled by STOP_SENDING while its message was
 * still on the way; under load this left bytes counted for good).
 */
@Timeout(10)
class ReceiveAccountingTest {
  private static final byte[] MESSAGE = {0, 0, 0, 0, 1, 7}; // a gRPC message of one byte

  @Test
  void dataThatArrivesAfterTheCallEndedIsNotHeld() throws Exception {
    AtomicLong connection = new AtomicLong();
    Http3RequestStream stream = new Http3RequestStream(new Ignoring(), e -> { }, 8192, 65536,
        connection);
    stream.attach(new FuzzTargets.FakeStream(0));
    stream.onData(Frames.headers(new QpackEncoder().encode(List.of(
        new Header(":method", "POST"), new Header(":scheme", "https"),
        new Header(":path", "/test.Service/Method"), new Header(":authority", "localhost"),
        new Header("content-type", "application/grpc"), new Header("te", "trailers")))));
    stream.onData(dataFrame(MESSAGE));
    assertEquals(MESSAGE.length, connection.get(), "the first message is held until consumed");

    stream.release();
    assertEquals(0, connection.get(), "an ended call holds nothing");

    stream.onData(dataFrame(MESSAGE));
    assertEquals(0, connection.get(), "DATA after the end is not held for anyone");
  }

  private static ByteBuffer dataFrame(byte[] payload) {
    ByteBuffer header = Frames.dataFrameHeader(payload.length);
    ByteBuffer frame = ByteBuffer.allocate(header.remaining() + payload.length);
    frame.put(header).put(payload).flip();
    return frame;
  }

  /** A call above that takes nothing from the stream (as a cancelled one). */
  private static final class Ignoring implements Http3RequestStream.Listener {
    @Override
    public void onHeaders(List<Header> fields) throws Http3Exception {}

    @Override
    public void onData(ByteBuffer payload) {}

    @Override
    public void onEndOfStream() {}

    @Override
    public void onReset(long code) {}

    @Override
    public void onStopSending(long code) {}

    @Override
    public void onProtocolError(Http3Exception error) {
      throw new AssertionError("unexpected protocol error", error);
    }

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {}

    @Override
    public void onPayloadWritten(int bytes) {}
  }
}
