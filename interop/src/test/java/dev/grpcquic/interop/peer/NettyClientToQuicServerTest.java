package dev.grpcquic.interop.peer;

import static dev.grpcquic.interop.peer.NettyGrpcClient.H3_REQUEST_CANCELLED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.netty.handler.codec.http3.Http3Headers;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Netty's HTTP/3 codec (quiche) as a hand-framed gRPC client against our QUIC server: the
 * cross-language interop cases, G2 reset codes (which kwik cannot show us, quiche can), and bad
 * requests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NettyClientToQuicServerTest {
  private static final String SERVICE = "/grpc.testing.SimpleService/";
  private static final long WAIT = 10;
  /** Large transfers: slow and very variable between quiche and kwik here (see PEER-NOTES.md). */
  private static final long BIG_WAIT = 90;

  private OurServer server;
  private NettyGrpcClient client;

  @BeforeAll
  void startServer() throws Exception {
    server = new OurServer();
  }

  @AfterAll
  void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  /** A connection per test: a test that breaks its connection cannot fail the others. */
  @BeforeEach
  void connect() throws Exception {
    client = NettyGrpcClient.connect(server.address(), "localhost", PeerCerts.ca());
  }

  @AfterEach
  void disconnect() {
    if (client != null) {
      client.close();
    }
  }

  private static byte[] request(String text) {
    return SimpleRequest.newBuilder().setRequestMessage(text).build().toByteArray();
  }

  private static String text(byte[] response) throws Exception {
    assertNotNull(response, "no response message");
    return SimpleResponse.parseFrom(response).getResponseMessage();
  }

  private NettyGrpcClient.Call unary(Http3Headers headers, String text) throws Exception {
    NettyGrpcClient.Call call = client.start(headers);
    call.sendAndHalfClose(request(text));
    return call;
  }

  private static void assertGrpcResponseHeaders(NettyGrpcClient.Call call) throws Exception {
    Http3Headers h = call.headers.get(BIG_WAIT, TimeUnit.SECONDS);
    assertEquals("200", String.valueOf(h.status()), "headers " + h);
    assertTrue(String.valueOf(h.get("content-type")).startsWith("application/grpc"), "headers " + h);
  }

  private static void assertOkAndFin(NettyGrpcClient.Call call) throws Exception {
    assertEquals(0, call.status(WAIT), "trailers " + call.trailers.get());
    assertEquals("fin", call.ended.get(WAIT, TimeUnit.SECONDS));
    assertEquals(0, call.truncatedBytes);
  }

  /** After a bad request: a good call on the same connection still works. */
  private void assertStillServes() throws Exception {
    NettyGrpcClient.Call call = unary(NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc"), "still");
    assertEquals("still", text(call.nextMessage(WAIT)));
    assertOkAndFin(call);
  }

  @Test
  void emptyUnary() throws Exception {
    NettyGrpcClient.Call call = client.start(NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc"));
    call.sendAndHalfClose(new byte[0]);
    assertGrpcResponseHeaders(call);
    assertEquals("", text(call.nextMessage(WAIT)));
    assertOkAndFin(call);
  }

  @Test
  void unarySmall() throws Exception {
    NettyGrpcClient.Call call = unary(NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc"), "hello");
    assertGrpcResponseHeaders(call);
    assertEquals("hello", text(call.nextMessage(WAIT)));
    assertOkAndFin(call);
    assertTrue(call.messages.isEmpty());
  }

  @Test
  void unaryLargeInSmallDataFrames() throws Exception {
    String big = "x".repeat(1 << 20);
    NettyGrpcClient.Call call = client.start(NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc"));
    call.sendInPieces(request(big), 7_001); // DATA boundaries unrelated to the message
    call.halfClose();
    assertGrpcResponseHeaders(call);
    assertEquals(big, text(call.nextMessage(BIG_WAIT)));
    assertOkAndFin(call);
  }

  @Test
  void veryLargeUploadOnly() throws Exception {
    long t0 = System.nanoTime();
    NettyGrpcClient.Call call =
        client.start(NettyGrpcClient.grpcRequest(SERVICE + "ClientStreamingRpc"));
    call.send(request("u".repeat(4 * 1024 * 1024 - 64)));
    call.halfClose();
    assertEquals("count=1 bytes=" + (4 * 1024 * 1024 - 64), text(call.nextMessage(BIG_WAIT)));
    assertOkAndFin(call);
    System.out.println("4 MB upload: " + (System.nanoTime() - t0) / 1_000_000 + " ms");
  }

  @Test
  void veryLargeDownloadOnly() throws Exception {
    long t0 = System.nanoTime();
    NettyGrpcClient.Call call =
        unary(NettyGrpcClient.grpcRequest(SERVICE + "ServerStreamingRpc"), "big:4194240");
    assertEquals(4194240, text(call.nextMessage(BIG_WAIT)).length());
    assertOkAndFin(call);
    System.out.println("4 MB download: " + (System.nanoTime() - t0) / 1_000_000 + " ms");
  }

  @Test
  void veryLargeRequest() throws Exception {
    String huge = "y".repeat(4 * 1024 * 1024 - 64);
    NettyGrpcClient.Call call =
        unary(NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc"), huge);
    assertEquals(huge, text(call.nextMessage(BIG_WAIT)));
    assertOkAndFin(call);
  }

  @Test
  void clientStreaming() throws Exception {
    NettyGrpcClient.Call call =
        client.start(NettyGrpcClient.grpcRequest(SERVICE + "ClientStreamingRpc"));
    int[] sizes = {27182, 8, 1828, 45904};
    for (int size : sizes) {
      call.send(request("z".repeat(size)));
    }
    call.halfClose();
    assertEquals("count=4 bytes=" + Arrays.stream(sizes).sum(), text(call.nextMessage(WAIT)));
    assertOkAndFin(call);
  }

  @Test
  void serverStreaming() throws Exception {
    NettyGrpcClient.Call call =
        unary(NettyGrpcClient.grpcRequest(SERVICE + "ServerStreamingRpc"), "5");
    assertOkAndFin(call);
    for (int i = 0; i < 5; i++) {
      assertEquals("r" + i, text(call.messages.poll()));
    }
    assertNull(call.messages.poll());
  }

  @Test
  void pingPong() throws Exception {
    NettyGrpcClient.Call call =
        client.start(NettyGrpcClient.grpcRequest(SERVICE + "BidiStreamingRpc"));
    for (int i = 0; i < 4; i++) {
      call.send(request("ping " + i));
      assertEquals("ping " + i, text(call.nextMessage(WAIT)));
    }
    call.halfClose();
    assertOkAndFin(call);
  }

  @Test
  void emptyStream() throws Exception {
    NettyGrpcClient.Call call =
        client.start(NettyGrpcClient.grpcRequest(SERVICE + "BidiStreamingRpc"));
    call.halfClose();
    assertOkAndFin(call);
    assertTrue(call.messages.isEmpty());
  }

  @Test
  void customMetadataTextAndBin() throws Exception {
    byte[] trailing = {(byte) 0xab, (byte) 0xab, (byte) 0xab, 0, (byte) 0xff};
    for (boolean padded : new boolean[] {false, true}) {
      Http3Headers h = NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc");
      h.set("x-grpc-test-echo-initial", "test_initial_metadata_value");
      String b64 = GrpcWire.base64(trailing);
      h.set("x-grpc-test-echo-trailing-bin", padded ? b64 + "===".substring(b64.length() % 4 == 0 ? 3 : b64.length() % 4) : b64);
      NettyGrpcClient.Call call = unary(h, "meta");
      assertEquals("test_initial_metadata_value",
          String.valueOf(call.headers.get(WAIT, TimeUnit.SECONDS).get("x-grpc-test-echo-initial")));
      assertEquals("meta", text(call.nextMessage(WAIT)));
      assertOkAndFin(call);
      CharSequence bin = call.trailers.get().get("x-grpc-test-echo-trailing-bin");
      assertNotNull(bin, "trailers " + call.trailers.get());
      assertArrayEquals(trailing, GrpcWire.unbase64(bin), "padded request: " + padded);
    }
  }

  @Test
  void statusCodeAndMessage() throws Exception {
    NettyGrpcClient.Call call = unary(NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc"),
        "status:2:test status message");
    assertEquals(2, call.status(WAIT));
    assertEquals("test status message", call.message(WAIT));
    assertEquals("fin", call.ended.get(WAIT, TimeUnit.SECONDS));
  }

  @Test
  void specialStatusMessage() throws Exception {
    String special = "\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP \uD83D\uDE08"
        + " 100% done %41 \t\n";
    NettyGrpcClient.Call call =
        unary(NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc"), "status:9:" + special);
    assertEquals(9, call.status(WAIT));
    CharSequence raw = call.trailers.get().get("grpc-message");
    assertTrue(GrpcWire.isWellFormedGrpcMessage(raw), "raw grpc-message " + raw);
    assertEquals(GrpcWire.percentEncode(special), raw.toString());
    assertEquals(special, call.message(WAIT));
  }

  @Test
  void unimplementedMethod() throws Exception {
    NettyGrpcClient.Call call =
        unary(NettyGrpcClient.grpcRequest(SERVICE + "NoSuchMethod"), "x");
    call.ended.get(WAIT, TimeUnit.SECONDS);
    System.out.println("unimplemented method: " + call);
    assertEquals(12, call.status(WAIT));
    call.ended.get(WAIT, TimeUnit.SECONDS);
    assertStillServes();
  }

  @Test
  void unimplementedService() throws Exception {
    NettyGrpcClient.Call call =
        unary(NettyGrpcClient.grpcRequest("/grpc.testing.NoSuchService/UnaryRpc"), "x");
    assertEquals(12, call.status(WAIT));
    call.ended.get(WAIT, TimeUnit.SECONDS);
    assertStillServes();
  }

  @Test
  void cancelAfterBegin() throws Exception {
    server.started.clear();
    server.cancelled.clear();
    NettyGrpcClient.Call call =
        client.start(NettyGrpcClient.grpcRequest(SERVICE + "ClientStreamingRpc"));
    assertEquals("ClientStreamingRpc", server.started.poll(WAIT, TimeUnit.SECONDS));
    call.cancel(H3_REQUEST_CANCELLED);
    assertEquals("ClientStreamingRpc CANCELLED", server.cancelled.poll(WAIT, TimeUnit.SECONDS));
    assertStillServes();
  }

  @Test
  void cancelAfterFirstResponse() throws Exception {
    server.cancelled.clear();
    NettyGrpcClient.Call call =
        client.start(NettyGrpcClient.grpcRequest(SERVICE + "BidiStreamingRpc"));
    call.send(request("first"));
    assertEquals("first", text(call.nextMessage(WAIT)));
    call.cancel(H3_REQUEST_CANCELLED);
    assertEquals("BidiStreamingRpc CANCELLED", server.cancelled.poll(WAIT, TimeUnit.SECONDS));
    assertStillServes();
  }

  @Test
  void timeoutOnSleepingServer() throws Exception {
    server.cancelled.clear();
    Http3Headers h = NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc");
    h.set("grpc-timeout", "300m");
    NettyGrpcClient.Call call = unary(h, "sleep");
    String how = call.ended.get(WAIT, TimeUnit.SECONDS);
    Http3Headers trailers = call.trailers.getNow(null);
    Long reset = call.reset.getNow(null);
    System.out.println("timeout_on_sleeping_server: peer saw end=" + how + " trailers=" + trailers
        + " reset=" + (reset == null ? "none" : "0x" + Long.toHexString(reset)));
    assertEquals("UnaryRpc DEADLINE_EXCEEDED", server.cancelled.poll(WAIT, TimeUnit.SECONDS));
    if (reset != null) {
      assertEquals(H3_REQUEST_CANCELLED, reset.longValue(), "G2: reset with H3_REQUEST_CANCELLED");
    }
    if (trailers != null) {
      assertEquals("4", String.valueOf(trailers.get("grpc-status")), "trailers " + trailers);
    }
    if (reset == null && trailers == null) {
      fail("the call ended (" + how + ") with neither trailers nor a reset");
    }
    assertStillServes();
  }

  @Test
  void nonGrpcContentTypeGets415WithGrpcStatus() throws Exception {
    Http3Headers h = NettyGrpcClient.grpcRequest(SERVICE + "UnaryRpc");
    h.set("content-type", "text/plain");
    NettyGrpcClient.Call call = unary(h, "x");
    Http3Headers response = call.headers.get(WAIT, TimeUnit.SECONDS);
    assertEquals("415", String.valueOf(response.status()), "headers " + response);
    assertNotNull(response.get("grpc-status"), "headers " + response);
    call.ended.get(WAIT, TimeUnit.SECONDS);
    assertStillServes();
  }

  @Test
  void getGetsHttpErrorNotHang() throws Exception {
    Http3Headers h = new io.netty.handler.codec.http3.DefaultHttp3Headers();
    h.method("GET").scheme("https").authority("localhost").path("/");
    NettyGrpcClient.Call call = client.start(h, true);
    Http3Headers response = call.headers.get(WAIT, TimeUnit.SECONDS);
    int status = Integer.parseInt(String.valueOf(response.status()));
    assertTrue(status >= 400 && status < 600, "headers " + response);
    call.ended.get(WAIT, TimeUnit.SECONDS);
    System.out.println("GET / -> " + response);
    assertStillServes();
  }
}
