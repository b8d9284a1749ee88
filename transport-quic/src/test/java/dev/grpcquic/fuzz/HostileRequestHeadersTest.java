package dev.grpcquic.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.grpcquic.http3.Frames;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.QpackEncoder;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.RawHttp3Client;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request headers that decode and validate as HTTP/3 but that grpc-core cannot take: the request
 * stream is reset (H3_MESSAGE_ERROR) instead of an exception escaping into the engine's thread and
 * leaving the stream, and the server's count of calls in flight, hanging.
 */
@Timeout(60)
class HostileRequestHeadersTest {
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
  void serverStillServes() {
    byte[] response = ClientCalls.blockingUnaryCall(goodChannel, TestService.ECHO,
        CallOptions.DEFAULT, new byte[] {1, 2, 3});
    assertEquals(3, response.length);
  }

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
      List<Header> fields = new ArrayList<>();
      fields.add(new Header(":method", "POST"));
      fields.add(new Header(":scheme", "https"));
      fields.add(new Header(":authority", "localhost"));
      fields.add(new Header(":path", "/" + TestService.ECHO.getFullMethodName()));
      fields.add(new Header("content-type", "application/grpc"));
      fields.add(new Header("te", "trailers"));
      fields.add(bad);
      RawHttp3Client.Response response =
          client.send(true, Frames.headers(new QpackEncoder().encode(fields)), false);
      // kwik does not expose the reset code; that the reset arrives at all is the point.
      assertNotNull(response.reset.get(20, TimeUnit.SECONDS));
    }
  }
}
