package dev.grpcquic.transport;

import static dev.grpcquic.testing.RawHttp3Client.concat;
import static dev.grpcquic.testing.RawHttp3Client.get;
import static dev.grpcquic.testing.RawHttp3Client.grpcRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.grpcquic.http3.Frames;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.QpackEncoder;
import dev.grpcquic.http3.SettingId;
import dev.grpcquic.http3.StreamType;
import dev.grpcquic.http3.VarInt;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.RawHttp3Client;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A peer that sends what it should not gets the right HTTP/3 stream or connection error, and the
 * server goes on serving a well-behaved client on another connection.
 */
@Timeout(60)
class BadInputTest {
  private static QuicTestServer server;
  private static ManagedChannel goodChannel;

  @BeforeAll
  static void start() throws Exception {
    server = new QuicTestServer();
    goodChannel = server.channel();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @AfterEach
  void serverStillServesOthers() {
    byte[] response = ClientCalls.blockingUnaryCall(goodChannel, TestService.ECHO,
        CallOptions.DEFAULT, new byte[] {1, 2, 3});
    assertEquals(3, response.length);
  }

  @Test
  void dataBeforeHeadersClosesConnectionWithFrameUnexpected() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      client.send(true, concat(Frames.dataFrameHeader(3), ByteBuffer.wrap(new byte[3])), true);
      assertEquals(Http3ErrorCode.H3_FRAME_UNEXPECTED, client.closeCode());
    }
  }

  @Test
  void undecodableFieldSectionClosesConnectionWithQpackError() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      // Required Insert Count 5: a dynamic-table reference, which we never allowed.
      client.send(true, Frames.headers(new byte[] {0x05, 0x00, (byte) 0x80}), true);
      assertEquals(Http3ErrorCode.QPACK_DECOMPRESSION_FAILED, client.closeCode());
    }
  }

  @Test
  void truncatedFrameClosesConnectionWithFrameError() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      // A HEADERS frame announcing 100 bytes, then FIN after 10: a frame cut short.
      ByteBuffer bytes = ByteBuffer.allocate(16);
      VarInt.write(bytes, 0x01);
      VarInt.write(bytes, 100);
      bytes.put(new byte[10]).flip();
      client.send(true, bytes, true);
      assertEquals(Http3ErrorCode.H3_FRAME_ERROR, client.closeCode());
    }
  }

  @Test
  void settingsOnRequestStreamClosesConnectionWithFrameUnexpected() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      client.send(true, Frames.settings(Map.of()), true);
      assertEquals(Http3ErrorCode.H3_FRAME_UNEXPECTED, client.closeCode());
    }
  }

  @Test
  void secondControlStreamClosesConnectionWithStreamCreationError() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      client.send(false, Frames.controlStreamPreface(Map.of(SettingId.QPACK_MAX_TABLE_CAPACITY, 0L)),
          false);
      client.send(false, Frames.controlStreamPreface(Map.of(SettingId.QPACK_MAX_TABLE_CAPACITY, 0L)),
          false);
      assertEquals(Http3ErrorCode.H3_STREAM_CREATION_ERROR, client.closeCode());
    }
  }

  @Test
  void controlStreamNotStartingWithSettingsClosesConnection() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      client.send(false, concat(ByteBuffer.wrap(VarInt.encode(StreamType.CONTROL)),
          Frames.goaway(0)), false);
      assertEquals(Http3ErrorCode.H3_MISSING_SETTINGS, client.closeCode());
    }
  }

  @Test
  void oversizedHeadersGetResourceExhaustedResponse() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      List<Header> fields = grpcRequest("/" + TestService.ECHO.getFullMethodName(),
          "application/grpc");
      fields.add(new Header("x-huge", "h".repeat(20_000)));
      RawHttp3Client.Response response = client.send(true,
          Frames.headers(new QpackEncoder().encode(fields)), true);
      List<Header> headers = response.headerBlocks().get(0);
      assertEquals("431", get(headers, ":status"));
      assertEquals("8", get(headers, "grpc-status")); // RESOURCE_EXHAUSTED
    }
  }

  @Test
  void getRequestIsRefusedWith405() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      List<Header> fields = new ArrayList<>();
      fields.add(new Header(":method", "GET"));
      fields.add(new Header(":scheme", "https"));
      fields.add(new Header(":authority", "localhost"));
      fields.add(new Header(":path", "/"));
      RawHttp3Client.Response response = client.send(true,
          Frames.headers(new QpackEncoder().encode(fields)), true);
      List<Header> headers = response.headerBlocks().get(0);
      assertEquals("405", get(headers, ":status"));
      assertNotNull(get(headers, "grpc-status"));
    }
  }

  @Test
  void nonGrpcContentTypeIsRefusedWith415() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      RawHttp3Client.Response response = client.send(true, Frames.headers(new QpackEncoder()
          .encode(grpcRequest("/" + TestService.ECHO.getFullMethodName(), "text/plain"))), true);
      List<Header> headers = response.headerBlocks().get(0);
      assertEquals("415", get(headers, ":status"));
      assertEquals("13", get(headers, "grpc-status")); // INTERNAL, as grpc-java answers
    }
  }

  @Test
  void unknownFramesAndStreamTypesAreIgnored() throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      // A reserved (grease) stream type 0x21 and a grease frame type 0x21 inside the request.
      client.send(false, concat(ByteBuffer.wrap(VarInt.encode(0x21)), ByteBuffer.wrap(new byte[5])),
          false);
      byte[] message = {0, 0, 0, 0, 2, 7, 9}; // uncompressed, length 2, payload {7, 9}
      ByteBuffer grease = Frames.frame(0x21, new byte[] {1, 2, 3});
      ByteBuffer request = concat(grease,
          Frames.headers(new QpackEncoder().encode(
              grpcRequest("/" + TestService.ECHO.getFullMethodName(), "application/grpc"))),
          Frames.dataFrameHeader(message.length), ByteBuffer.wrap(message),
          Frames.frame(0x21 + 0x1f, new byte[0]));
      RawHttp3Client.Response response = client.send(true, request, true);
      List<List<Header>> blocks = response.headerBlocks();
      assertEquals("200", get(blocks.get(0), ":status"));
      assertEquals("0", get(blocks.get(blocks.size() - 1), "grpc-status"));
    }
  }

  /*
   * Headers that decode and validate as HTTP/3 but that grpc-core cannot take: the request stream
   * is reset (H3_MESSAGE_ERROR) instead of an exception escaping into the engine's thread and
   * leaving the stream, and the server's count of calls in flight, hanging.
   */

  @Test
  void malformedGrpcTimeoutResetsTheStream() throws Exception {
    assertStreamReset(new Header("grpc-timeout", "soon"));
  }

  @Test
  void binaryHeaderThatIsNotBase64ResetsTheStream() throws Exception {
    assertStreamReset(new Header("x-trace-bin", "%%%"));
  }

  private static void assertStreamReset(Header bad) throws Exception {
    try (RawHttp3Client client = new RawHttp3Client(server.port())) {
      List<Header> fields = grpcRequest("/" + TestService.ECHO.getFullMethodName(),
          "application/grpc");
      fields.add(bad);
      RawHttp3Client.Response response =
          client.send(true, Frames.headers(new QpackEncoder().encode(fields)), false);
      // kwik does not expose the reset code; that the reset arrives at all is the point.
      assertNotNull(response.reset.get(20, TimeUnit.SECONDS));
    }
  }
}
