package dev.grpcquic.interop.peer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicChannelBuilder;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Our QUIC client (QuicChannelBuilder, generated stubs) against a gRPC server hand-written on
 * Netty's HTTP/3 codec (quiche): call kinds, status and message decoding, metadata, cancellation
 * and deadline as the foreign server sees them (reset codes, grpc-timeout), Trailers-Only, and
 * status derived from :status.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QuicClientToNettyServerTest {
  private static final long WAIT = 10;
  private static final Metadata.Key<String> MODE =
      Metadata.Key.of("x-peer-mode", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> STATUS =
      Metadata.Key.of("x-peer-status", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> MESSAGE =
      Metadata.Key.of("x-peer-message", Metadata.ASCII_STRING_MARSHALLER);

  private NettyGrpcServer server;
  private ManagedChannel channel;

  @BeforeAll
  void start() throws Exception {
    server = new NettyGrpcServer(PeerCerts.serverChain(), PeerCerts.serverKey());
    channel = QuicChannelBuilder.forAddress("127.0.0.1", server.port())
        .engine(TestEngines.ours())
        .overrideAuthority("localhost")
        .trustCertificates(PeerCerts.ca())
        .build();
  }

  @AfterAll
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  private static SimpleRequest request(String text) {
    return SimpleRequest.newBuilder().setRequestMessage(text).build();
  }

  private SimpleServiceGrpc.SimpleServiceBlockingStub blocking(Metadata headers) {
    return SimpleServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(WAIT, TimeUnit.SECONDS);
  }

  private static Metadata mode(String mode, String status, String message) {
    Metadata m = new Metadata();
    m.put(MODE, mode);
    if (status != null) {
      m.put(STATUS, status);
    }
    if (message != null) {
      m.put(MESSAGE, message);
    }
    return m;
  }

  private NettyGrpcServer.ServerCall nextServerCall(String method) throws InterruptedException {
    NettyGrpcServer.ServerCall call;
    do {
      call = server.calls.poll(WAIT, TimeUnit.SECONDS);
      if (call == null) {
        throw new AssertionError("the peer server saw no " + method + " call");
      }
    } while (!call.path().endsWith("/" + method));
    return call;
  }

  private static <T> StreamObserver<T> collect(List<T> into, CompletableFuture<Status> done) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        synchronized (into) {
          into.add(value);
        }
      }

      @Override
      public void onError(Throwable t) {
        done.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        done.complete(Status.OK);
      }
    };
  }

  @Test
  void handshakeWithFreshChannel() throws Exception {
    for (int i = 0; i < 3; i++) {
      ManagedChannel fresh = QuicChannelBuilder.forAddress("127.0.0.1", server.port())
          .engine(TestEngines.ours())
          .overrideAuthority("localhost")
          .trustCertificates(PeerCerts.ca())
          .build();
      try {
        long t0 = System.nanoTime();
        SimpleServiceGrpc.newBlockingStub(fresh).withDeadlineAfter(WAIT, TimeUnit.SECONDS)
            .unaryRpc(request("first"));
        System.out.println("fresh channel, first call: " + (System.nanoTime() - t0) / 1_000_000
            + " ms");
      } finally {
        fresh.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void unary() {
    SimpleResponse r = blocking(new Metadata()).unaryRpc(request("hello peer"));
    assertEquals("hello peer", r.getResponseMessage());
  }

  @Test
  void unaryLarge() {
    String big = "L".repeat(1 << 20);
    assertEquals(big, blocking(new Metadata()).withDeadlineAfter(90, TimeUnit.SECONDS)
        .unaryRpc(request(big)).getResponseMessage());
  }

  @Test
  void clientStreaming() throws Exception {
    CompletableFuture<Status> done = new CompletableFuture<>();
    List<SimpleResponse> responses = new ArrayList<>();
    StreamObserver<SimpleRequest> requests = SimpleServiceGrpc.newStub(channel)
        .clientStreamingRpc(collect(responses, done));
    for (int i = 0; i < 7; i++) {
      requests.onNext(request("part " + i));
    }
    requests.onCompleted();
    assertEquals(Status.Code.OK, done.get(WAIT, TimeUnit.SECONDS).getCode());
    assertEquals("count=7", responses.get(0).getResponseMessage());
  }

  @Test
  void serverStreaming() {
    Iterator<SimpleResponse> it = blocking(new Metadata()).serverStreamingRpc(request("6"));
    for (int i = 0; i < 6; i++) {
      assertEquals("r" + i, it.next().getResponseMessage());
    }
    assertTrue(!it.hasNext());
  }

  @Test
  void bidiPingPong() throws Exception {
    BlockingQueue<SimpleResponse> responses = new LinkedBlockingQueue<>();
    CompletableFuture<Status> done = new CompletableFuture<>();
    StreamObserver<SimpleRequest> requests = SimpleServiceGrpc.newStub(channel)
        .bidiStreamingRpc(new StreamObserver<>() {
          @Override
          public void onNext(SimpleResponse value) {
            responses.add(value);
          }

          @Override
          public void onError(Throwable t) {
            done.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            done.complete(Status.OK);
          }
        });
    for (int i = 0; i < 5; i++) {
      requests.onNext(request("ping " + i));
      SimpleResponse r = responses.poll(WAIT, TimeUnit.SECONDS);
      assertEquals("ping " + i, r == null ? null : r.getResponseMessage());
    }
    requests.onCompleted();
    assertEquals(Status.Code.OK, done.get(WAIT, TimeUnit.SECONDS).getCode());
  }

  @Test
  void statusAndSpecialMessage() {
    String special = "\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP \uD83D\uDE08"
        + " 100% done %41 \t\n";
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> blocking(mode("status", "9", null)).unaryRpc(request(special)));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertEquals(special, e.getStatus().getDescription());
  }

  /**
   * A server's reset code decides what the call becomes: H3_REQUEST_REJECTED (the request was not
   * processed) is retried at once by grpc-core and the retry succeeds; H3_REQUEST_CANCELLED ends
   * the call CANCELLED without a retry.
   */
  @Test
  void resetCodesOfTheServerAreHonoured() throws Exception {
    server.calls.clear();
    SimpleResponse r = blocking(mode("reset-first", "0x10b", "rejected once"))
        .unaryRpc(request("after a retry"));
    assertEquals("after a retry", r.getResponseMessage());
    nextServerCall("UnaryRpc");
    nextServerCall("UnaryRpc"); // the transparent retry

    server.calls.clear();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> blocking(mode("reset-first", "0x10c", "cancelled once")).unaryRpc(request("x")));
    assertEquals(Status.Code.CANCELLED, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(e.getStatus().getDescription().contains("H3_REQUEST_CANCELLED"), e.toString());
    nextServerCall("UnaryRpc");
    assertEquals(0, server.calls.size(), "a cancelled call was retried");
  }

  @Test
  void malformedPercentEncodingIsNotAnError() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> blocking(mode("trailers-only", "3", "bad %zz and %4")).unaryRpc(request("x")));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals("bad %zz and %4", e.getStatus().getDescription());
  }

  @Test
  void metadataTextAndBinInHeadersAndTrailers() {
    Metadata.Key<String> text = Metadata.Key.of("x-echo-text", Metadata.ASCII_STRING_MARSHALLER);
    Metadata.Key<byte[]> bin = Metadata.Key.of("x-echo-bin", Metadata.BINARY_BYTE_MARSHALLER);
    byte[] binValue = {0, 1, 2, (byte) 0xfe, (byte) 0xff};
    Metadata sent = new Metadata();
    sent.put(text, "text value");
    sent.put(bin, binValue);
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    SimpleResponse r = blocking(sent)
        .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
        .unaryRpc(request("meta"));
    assertEquals("meta", r.getResponseMessage());
    assertEquals("text value", headers.get().get(text));
    assertArrayEquals(binValue, headers.get().get(bin));
    assertEquals("text value", trailers.get().get(text));
    assertArrayEquals(binValue, trailers.get().get(bin));
    // What our client put on the wire, as the foreign server decoded it.
  }

  @Test
  void binMetadataOnTheWireIsBase64() throws Exception {
    Metadata.Key<byte[]> bin = Metadata.Key.of("x-wire-bin", Metadata.BINARY_BYTE_MARSHALLER);
    byte[] value = {(byte) 0xfb, (byte) 0xff, 0x10};
    server.calls.clear();
    Metadata sent = new Metadata();
    sent.put(bin, value);
    blocking(sent).unaryRpc(request("wire"));
    NettyGrpcServer.ServerCall call = nextServerCall("UnaryRpc");
    CharSequence onWire = call.requestHeaders.get().get("x-wire-bin");
    assertArrayEquals(value, GrpcWire.unbase64(onWire), "on the wire: " + onWire);
    assertEquals("application/grpc", String.valueOf(call.requestHeaders.get().get("content-type")));
    assertEquals("trailers", String.valueOf(call.requestHeaders.get().get("te")));
    assertEquals("POST", String.valueOf(call.requestHeaders.get().method()));
    assertEquals("https", String.valueOf(call.requestHeaders.get().scheme()));
    assertEquals("localhost", String.valueOf(call.requestHeaders.get().authority()));
  }

  @Test
  void trailersOnly() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> blocking(mode("trailers-only", "7", "no%20way")).unaryRpc(request("x")));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    assertEquals("no way", e.getStatus().getDescription());
  }

  @Test
  void trailersOnlyOk() {
    // Trailers-Only with OK and no message: a unary call must fail (no response), not hang.
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> blocking(mode("trailers-only", "0", null)).unaryRpc(request("x")));
    assertEquals(Status.Code.INTERNAL, e.getStatus().getCode(), e.getStatus().toString());
  }

  @Test
  void unimplementedFromPeer() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> io.grpc.stub.ClientCalls.blockingUnaryCall(channel,
            SimpleServiceGrpc.getUnaryRpcMethod().toBuilder()
                .setFullMethodName("grpc.testing.SimpleService/Missing").build(),
            io.grpc.CallOptions.DEFAULT.withDeadlineAfter(WAIT, TimeUnit.SECONDS), request("x")));
    assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
  }

  @Test
  void statusFromHttpStatusWithoutGrpcStatus() {
    int[][] cases = {{404, Status.Code.UNIMPLEMENTED.value()}, {503, Status.Code.UNAVAILABLE.value()},
        {400, Status.Code.INTERNAL.value()}, {401, Status.Code.UNAUTHENTICATED.value()},
        {403, Status.Code.PERMISSION_DENIED.value()}, {429, Status.Code.UNAVAILABLE.value()},
        {418, Status.Code.UNKNOWN.value()}};
    for (int[] c : cases) {
      long t0 = System.nanoTime();
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> blocking(mode("http", String.valueOf(c[0]), null)).unaryRpc(request("x")));
      assertEquals(Status.fromCodeValue(c[1]).getCode(), e.getStatus().getCode(),
          ":status " + c[0] + " -> " + e.getStatus());
      System.out.println(":status " + c[0] + " -> " + e.getStatus() + " in "
          + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }
  }

  @Test
  void cancellationResetsWithRequestCancelled() throws Exception {
    server.calls.clear();
    BlockingQueue<SimpleResponse> responses = new LinkedBlockingQueue<>();
    CompletableFuture<Status> done = new CompletableFuture<>();
    io.grpc.ClientCall<SimpleRequest, SimpleResponse> call =
        channel.newCall(SimpleServiceGrpc.getBidiStreamingRpcMethod(), io.grpc.CallOptions.DEFAULT);
    call.start(new io.grpc.ClientCall.Listener<>() {
      @Override
      public void onMessage(SimpleResponse message) {
        responses.add(message);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        done.complete(status);
      }
    }, new Metadata());
    call.request(10);
    call.sendMessage(request("one"));
    SimpleResponse first = responses.poll(WAIT, TimeUnit.SECONDS);
    assertEquals("one", first == null ? null : first.getResponseMessage());
    NettyGrpcServer.ServerCall seen = nextServerCall("BidiStreamingRpc");
    call.cancel("test cancels", null);
    assertEquals(Status.Code.CANCELLED, done.get(WAIT, TimeUnit.SECONDS).getCode());
    long code = seen.reset.get(WAIT, TimeUnit.SECONDS);
    assertEquals(NettyGrpcClient.H3_REQUEST_CANCELLED, code,
        "RESET_STREAM code 0x" + Long.toHexString(code));
  }

  @Test
  void deadlineSendsGrpcTimeoutAndFailsDeadlineExceeded() throws Exception {
    server.calls.clear();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> blocking(mode("sleep", null, null)).withDeadlineAfter(500, TimeUnit.MILLISECONDS)
            .unaryRpc(request("zzz")));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    NettyGrpcServer.ServerCall seen = nextServerCall("UnaryRpc");
    String timeout = String.valueOf(seen.requestHeaders.get().get("grpc-timeout"));
    assertTrue(timeout.matches("[0-9]{1,8}[HMSmun]"), "grpc-timeout " + timeout);
    long nanos = parseTimeout(timeout);
    assertTrue(nanos > 0 && nanos <= TimeUnit.MILLISECONDS.toNanos(500), "grpc-timeout " + timeout);
  }

  @Test
  void deadlineOnOpenStreamResetsWithRequestCancelled() throws Exception {
    server.calls.clear();
    CompletableFuture<Status> done = new CompletableFuture<>();
    io.grpc.ClientCall<SimpleRequest, SimpleResponse> call = channel.newCall(
        SimpleServiceGrpc.getBidiStreamingRpcMethod(),
        io.grpc.CallOptions.DEFAULT.withDeadlineAfter(500, TimeUnit.MILLISECONDS));
    call.start(new io.grpc.ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        done.complete(status);
      }
    }, new Metadata());
    NettyGrpcServer.ServerCall seen = nextServerCall("BidiStreamingRpc");
    assertEquals(Status.Code.DEADLINE_EXCEEDED, done.get(WAIT, TimeUnit.SECONDS).getCode());
    long code = seen.reset.get(WAIT, TimeUnit.SECONDS);
    assertEquals(NettyGrpcClient.H3_REQUEST_CANCELLED, code,
        "RESET_STREAM code 0x" + Long.toHexString(code));
  }

  private static long parseTimeout(String t) {
    long v = Long.parseLong(t.substring(0, t.length() - 1));
    switch (t.charAt(t.length() - 1)) {
      case 'H': return TimeUnit.HOURS.toNanos(v);
      case 'M': return TimeUnit.MINUTES.toNanos(v);
      case 'S': return TimeUnit.SECONDS.toNanos(v);
      case 'm': return TimeUnit.MILLISECONDS.toNanos(v);
      case 'u': return TimeUnit.MICROSECONDS.toNanos(v);
      default: return v;
    }
  }
}
