package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.QuicChannelCredentials;
import dev.grpcquic.stats.QuicConnectionStats;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every call kind, metadata and status over a real kwik connection on 127.0.0.1. */
@Timeout(60)
class CallKindsTest {
  private static QuicTestServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    server = new QuicTestServer();
    channel = server.channel();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void unary() {
    byte[] request = "hello over h3".getBytes(StandardCharsets.UTF_8);
    byte[] response = ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT, request);
    assertArrayEquals(request, response);
  }

  @Test
  void emptyUnary() {
    byte[] response = ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT, new byte[0]);
    assertEquals(0, response.length);
  }

  @Test
  void serverStreaming() {
    Iterator<byte[]> responses = ClientCalls.blockingServerStreamingCall(channel,
        TestService.DOWNLOAD, CallOptions.DEFAULT, TestService.downloadRequest(50, 1000));
    int count = 0;
    while (responses.hasNext()) {
      byte[] message = responses.next();
      assertEquals(1000, message.length);
      assertEquals((byte) count, message[0]);
      count++;
    }
    assertEquals(50, count);
  }

  @Test
  void clientStreaming() throws Exception {
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    StreamObserver<byte[]> requests = ClientCalls.asyncClientStreamingCall(
        channel.newCall(TestService.UPLOAD, CallOptions.DEFAULT), observer(result));
    for (int i = 0; i < 20; i++) {
      requests.onNext(new byte[1000 + i]);
    }
    requests.onCompleted();
    long expected = 0;
    for (int i = 0; i < 20; i++) {
      expected += 1000 + i;
    }
    assertEquals(expected, ByteBuffer.wrap(result.get(30, TimeUnit.SECONDS)).getLong());
  }

  @Test
  void bidiPingPong() throws Exception {
    LinkedBlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<byte[]> requests = ClientCalls.asyncBidiStreamingCall(
        channel.newCall(TestService.PING_PONG, CallOptions.DEFAULT), new StreamObserver<>() {
          @Override
          public void onNext(byte[] value) {
            received.add(value);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            done.complete(null);
          }
        });
    for (int i = 0; i < 10; i++) {
      byte[] ping = ("ping " + i).getBytes(StandardCharsets.UTF_8);
      requests.onNext(ping);
      // Strictly alternating: the answer must arrive before the next ping leaves.
      assertArrayEquals(ping, received.poll(10, TimeUnit.SECONDS));
    }
    requests.onCompleted();
    done.get(10, TimeUnit.SECONDS);
  }

  @Test
  void metadataRoundTripsInHeadersAndTrailers() {
    byte[] binary = new byte[256];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) i;
    }
    byte[] utf8 = "grüße, 世界".getBytes(StandardCharsets.UTF_8);
    Metadata request = new Metadata();
    request.put(TestService.ECHO_TEXT_KEY, "plain ascii value");
    request.put(TestService.ECHO_BIN_KEY, binary);
    request.put(TestService.ECHO_BIN_KEY, utf8);
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    Channel intercepted = ClientInterceptors.intercept(channel,
        MetadataUtils.newAttachHeadersInterceptor(request),
        MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
    ClientCalls.blockingUnaryCall(intercepted, TestService.ECHO, CallOptions.DEFAULT, new byte[1]);
    for (Metadata received : List.of(headers.get(), trailers.get())) {
      assertEquals("plain ascii value", received.get(TestService.ECHO_TEXT_KEY));
      List<byte[]> values = new ArrayList<>();
      received.getAll(TestService.ECHO_BIN_KEY).forEach(values::add);
      assertEquals(2, values.size());
      assertArrayEquals(binary, values.get(0));
      assertArrayEquals(utf8, values.get(1));
    }
  }

  @Test
  void statusAndPercentEncodedMessage() {
    String message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n 100%";
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, TestService.FAIL, CallOptions.DEFAULT,
            TestService.failRequest(Status.Code.FAILED_PRECONDITION, message)));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertEquals(message, e.getStatus().getDescription());
  }

  @Test
  void unknownMethodIsUnimplemented() {
    MethodDescriptor<byte[], byte[]> missing = TestService.ECHO.toBuilder()
        .setFullMethodName("grpcquic.test.TestService/Missing").build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, missing, CallOptions.DEFAULT, new byte[0]));
    assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
  }

  @Test
  void credentialsSelectQuicThroughProviders() throws Exception {
    ManagedChannel viaCredentials = server.track(Grpc.newChannelBuilder(
        "127.0.0.1:" + server.port(), QuicChannelCredentials.create(TestTls.get().trustManager()))
        .overrideAuthority("localhost")
        .build());
    byte[] response = ClientCalls.blockingUnaryCall(viaCredentials, TestService.ECHO,
        CallOptions.DEFAULT, new byte[] {42});
    assertArrayEquals(new byte[] {42}, response);
  }

  @Test
  void callAttributesExposeConnectionStats() {
    AtomicReference<QuicConnectionStats> stats = new AtomicReference<>();
    ClientInterceptor capture = new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
          MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<RespT> listener, Metadata headers) {
            ClientCall<ReqT, RespT> call = this;
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                listener) {
              @Override
              public void onHeaders(Metadata responseHeaders) {
                // Once the response started, the call is bound to its transport.
                stats.set(call.getAttributes().get(QuicAttributes.CONNECTION_STATS).get());
                super.onHeaders(responseHeaders);
              }
            }, headers);
          }
        };
      }
    };
    ClientCalls.blockingUnaryCall(ClientInterceptors.intercept(channel, capture),
        TestService.ECHO, CallOptions.DEFAULT, new byte[10]);
    assertTrue(stats.get().packetsSent() > 0, stats.get().toString());
  }

  static <T> StreamObserver<T> observer(CompletableFuture<T> result) {
    return new StreamObserver<>() {
      T last;

      @Override
      public void onNext(T value) {
        last = value;
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        result.complete(last);
      }
    };
  }
}
