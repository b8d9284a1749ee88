package dev.grpcquic.transport;

import static dev.grpcquic.testing.RawHttp3Client.concat;
import static dev.grpcquic.testing.RawHttp3Client.grpcMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.EngineTestSupport;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.http3.Frames;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.QpackEncoder;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client connection is ready when its handshake ends, not a round trip later at the server's
 * SETTINGS (RFC 9114 §6.2.1 lets requests go first); a server that never sends SETTINGS is given
 * up at the connect timeout. The peer here is a bare HTTP/3 responder on the engine under test
 * that opens no control stream at all.
 */
@Timeout(60)
class ReadyBeforeSettingsTest {

  @Test
  void callCompletesOnAServerThatHasSentNoSettings() throws Exception {
    try (QuicServerEndpoint server = EngineTestSupport.bind(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(peerStream(ReadyBeforeSettingsTest::answerWithSeven)))) {
      ManagedChannel channel = QuicTestServer.channelBuilder(port(server)).build();
      try {
        // With readiness at SETTINGS this call would wait for the 20 s connect timeout.
        byte[] reply = ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1});
        assertArrayEquals(new byte[] {7}, reply);
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void connectionWithoutSettingsFailsItsCallsAtTheConnectTimeout() throws Exception {
    try (QuicServerEndpoint server = EngineTestSupport.bind(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(peerStream(ReadyBeforeSettingsTest::neverAnswer)))) {
      ManagedChannel channel = QuicTestServer.channelBuilder(port(server))
          .connectTimeout(1, TimeUnit.SECONDS)
          .build();
      try {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[] {1}));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
        assertTrue(String.valueOf(e.getStatus().getDescription()).contains("SETTINGS"),
            e.toString());
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  private static int port(QuicServerEndpoint server) {
    return server.localAddress().getPort();
  }

  /** Request streams get {@code requests}; the client's unidirectional streams are read away. */
  private static Function<QuicStream, StreamHandler> peerStream(
      Function<QuicStream, StreamHandler> requests) {
    return stream -> stream.isBidirectional() ? requests.apply(stream) : discard(stream, null);
  }

  /** Reads the request to its end, then answers a gRPC response carrying the message {7}. */
  private static StreamHandler answerWithSeven(QuicStream stream) {
    return discard(stream, () -> {
      QpackEncoder qpack = new QpackEncoder();
      stream.write(concat(
          Frames.headers(qpack.encode(List.of(new Header(":status", "200"),
              new Header("content-type", "application/grpc")))),
          grpcMessage(new byte[] {7}),
          Frames.headers(qpack.encode(List.of(new Header("grpc-status", "0"))))), true);
    });
  }

  private static StreamHandler neverAnswer(QuicStream stream) {
    return discard(stream, null);
  }

  private static StreamHandler discard(QuicStream stream, Runnable atEnd) {
    stream.request(64 * 1024);
    return new StreamHandler() {
      @Override
      public void onData(ByteBuffer data) {
        int n = data.remaining();
        data.position(data.limit());
        stream.request(n);
      }

      @Override
      public void onEndOfStream() {
        if (atEnd != null) {
          atEnd.run();
        }
      }

      @Override
      public void onReset(long code) {
      }

      @Override
      public void onStopSending(long code) {
      }

      @Override
      public void onWritten(int bytes) {
      }

      @Override
      public void onConnectionClosed(ConnectionCloseInfo info) {
      }
    };
  }
}
