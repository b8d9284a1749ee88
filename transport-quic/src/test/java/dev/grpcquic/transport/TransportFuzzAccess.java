package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3Exception;
import io.grpc.Metadata;
import java.nio.ByteBuffer;
import java.util.List;

/** Test-only door to the package-private parts of {@code dev.grpcquic.transport} for the fuzz targets. */
public final class TransportFuzzAccess {

  private TransportFuzzAccess() {}

  public static Metadata toMetadata(List<Header> fields, boolean keepPseudoHeaders)
      throws Http3Exception {
    return HeaderBlocks.toMetadata(fields, keepPseudoHeaders);
  }

  public static boolean isValidName(String name) {
    return HeaderBlocks.isValidName(name);
  }

  public static boolean isValidValue(String value) {
    return HeaderBlocks.isValidValue(value);
  }

  /** What a request stream reports upward; the fuzz harness records it. */
  public interface Events {
    /** Headers as the transport hands them to a gRPC stream (which turns them into Metadata). */
    void onHeaders(List<Header> fields) throws Http3Exception;

    void onData(ByteBuffer payload);

    void onEndOfStream();

    void onProtocolError(Http3Exception error);

    void onConnectionError(Http3Exception error);
  }

  /**
   * An {@link Http3RequestStream} attached to {@code stream}, reporting to {@code events}. The
   * returned handler is what the engine would call.
   */
  public static StreamHandler requestStream(QuicStream stream, Events events, long maxHeaderListSize,
      int receiveWindow) {
    Http3RequestStream.Listener listener = new Http3RequestStream.Listener() {
      @Override
      public void onHeaders(List<Header> fields) throws Http3Exception {
        events.onHeaders(fields);
      }

      @Override
      public void onData(ByteBuffer payload) {
        events.onData(payload);
      }

      @Override
      public void onEndOfStream() {
        events.onEndOfStream();
      }

      @Override
      public void onReset(long code) {}

      @Override
      public void onStopSending(long code) {}

      @Override
      public void onProtocolError(Http3Exception error) {
        events.onProtocolError(error);
      }

      @Override
      public void onConnectionClosed(ConnectionCloseInfo info) {}

      @Override
      public void onPayloadWritten(int bytes) {}
    };
    Http3RequestStream http3 =
        new Http3RequestStream(listener, events::onConnectionError, maxHeaderListSize, receiveWindow,
            new java.util.concurrent.atomic.AtomicLong());
    http3.attach(stream);
    return http3;
  }


  /**
   * The uni-stream side of an {@link Http3Control} on {@code connection}: each call of the returned
   * function is one peer unidirectional stream. SETTINGS and GOAWAY go to the two consumers.
   */
  public static java.util.function.Function<QuicStream, StreamHandler> http3Control(
      dev.grpcquic.engine.QuicConnection connection,
      java.util.function.Consumer<java.util.Map<Long, Long>> settings,
      java.util.function.LongConsumer goaway) {
    Http3Control control = new Http3Control(connection, 8192, new Http3Control.Listener() {
      @Override
      public void onGoaway(long id) {
        goaway.accept(id);
      }

      @Override
      public void onSettings(java.util.Map<Long, Long> s) {
        settings.accept(s);
      }
    });
    return control::onPeerUnidirectionalStream;
  }
}
