package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Message and header-list size limits end calls with the right status; gzip works both ways. */
@Timeout(60)
class LimitsAndCompressionTest {
  private static QuicTestServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    server = new QuicTestServer(b -> b.maxInboundMessageSize(64 * 1024)
        .maxInboundMetadataSize(4096));
    channel = server.track(server.channelBuilder().maxInboundMessageSize(32 * 1024)
        .maxInboundMetadataSize(4096).build());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void requestLargerThanServerLimitIsResourceExhausted() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, TestService.ECHO, CallOptions.DEFAULT,
            new byte[64 * 1024 + 1]));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
  }

  @Test
  void responseLargerThanClientLimitIsResourceExhausted() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, TestService.ECHO, CallOptions.DEFAULT,
            new byte[40 * 1024]));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
  }

  @Test
  void messagesAtTheLimitPass() {
    assertEquals(32 * 1024, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT, new byte[32 * 1024]).length);
  }

  @Test
  void requestHeadersOverServerLimitAreResourceExhausted() {
    Metadata big = new Metadata();
    char[] value = new char[5000];
    Arrays.fill(value, 'x');
    big.put(Metadata.Key.of("x-big", Metadata.ASCII_STRING_MARSHALLER), new String(value));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(
            ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(big)),
            TestService.ECHO, CallOptions.DEFAULT, new byte[1]));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
    // The connection survives: the next call works.
    assertEquals(1, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT, new byte[1]).length);
  }

  @Test
  void responseHeadersOverClientLimitAreResourceExhausted() {
    Metadata big = new Metadata();
    char[] value = new char[3000];
    Arrays.fill(value, 'y');
    // Within the server's 4096-byte limit, echoed back into the response headers, where it
    // exceeds this client's 2048.
    big.put(TestService.ECHO_TEXT_KEY, new String(value));
    ManagedChannel strict = server.track(server.channelBuilder().maxInboundMetadataSize(2048)
        .build());
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(
            ClientInterceptors.intercept(strict, MetadataUtils.newAttachHeadersInterceptor(big)),
            TestService.ECHO, CallOptions.DEFAULT, new byte[1]));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
  }

  @Test
  void gzipCompressionBothWays() {
    byte[] request = new byte[20_000];
    new Random(7).nextBytes(request);
    Arrays.fill(request, 0, 10_000, (byte) 'a'); // half compressible
    byte[] response = ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT.withCompression("gzip"), request);
    assertArrayEquals(request, response);
  }
}
