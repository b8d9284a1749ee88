package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Many calls at once, big messages, long streams, and a stalled reader beside a busy one. */
class LoadAndFlowControlTest {
  private static final int MIB = 1024 * 1024;
  private static QuicTestServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    server = new QuicTestServer(b -> b.maxConcurrentCallsPerConnection(100)
        .maxInboundMessageSize(32 * MIB));
    channel = server.track(server.channelBuilder().maxInboundMessageSize(32 * MIB).build());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  @Timeout(120)
  void thousandConcurrentCallsBeyondTheStreamLimitAllSucceed() throws Exception {
    List<CompletableFuture<byte[]>> results = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      CompletableFuture<byte[]> result = new CompletableFuture<>();
      byte[] request = ByteBuffer.allocate(4).putInt(i).array();
      ClientCalls.asyncUnaryCall(channel.newCall(TestService.ECHO, CallOptions.DEFAULT), request,
          CallKindsTest.observer(result));
      results.add(result);
    }
    for (int i = 0; i < 1000; i++) {
      byte[] response = results.get(i).get(100, TimeUnit.SECONDS);
      assertEquals(i, ByteBuffer.wrap(response).getInt());
    }
  }

  @Test
  @Timeout(120)
  void sixteenMebibyteMessageBothWays() {
    byte[] request = new byte[16 * MIB];
    new Random(16).nextBytes(request);
    byte[] response = ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT, request);
    assertArrayEquals(request, response);
  }

  @Test
  @Timeout(300)
  void hundredMebibyteDownloadsWithoutStall() {
    for (int round = 0; round < 2; round++) {
      long bytes = 0;
      var it = ClientCalls.blockingServerStreamingCall(channel, TestService.DOWNLOAD,
          CallOptions.DEFAULT, TestService.downloadRequest(100, MIB));
      while (it.hasNext()) {
        bytes += it.next().length;
      }
      assertEquals(100L * MIB, bytes);
    }
  }

  @Test
  @Timeout(300)
  void hundredMebibyteUploadsWithoutStall() throws Exception {
    for (int round = 0; round < 2; round++) {
      CompletableFuture<byte[]> result = new CompletableFuture<>();
      byte[] chunk = new byte[MIB];
      AtomicInteger sent = new AtomicInteger();
      ClientCalls.asyncClientStreamingCall(
          channel.newCall(TestService.UPLOAD, CallOptions.DEFAULT),
          new ClientResponseObserver<byte[], byte[]>() {
            byte[] last;

            @Override
            public void beforeStart(ClientCallStreamObserver<byte[]> requests) {
              // Send only while the transport is ready: outbound flow control end to end.
              requests.setOnReadyHandler(() -> {
                while (requests.isReady() && sent.get() < 100) {
                  requests.onNext(chunk);
                  if (sent.incrementAndGet() == 100) {
                    requests.onCompleted();
                  }
                }
              });
            }

            @Override
            public void onNext(byte[] value) {
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
          });
      assertEquals(100L * MIB, ByteBuffer.wrap(result.get(240, TimeUnit.SECONDS)).getLong());
    }
  }

  @Test
  @Timeout(120)
  void stalledReaderDoesNotSlowAnotherStream() throws Exception {
    // Stream A: a download whose reader never asks for more than one message.
    ClientCall<byte[], byte[]> stalled = channel.newCall(TestService.DOWNLOAD, CallOptions.DEFAULT);
    AtomicInteger stalledReceived = new AtomicInteger();
    CompletableFuture<Status> stalledClosed = new CompletableFuture<>();
    stalled.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        stalledReceived.incrementAndGet();
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        stalledClosed.complete(status);
      }
    }, new Metadata());
    stalled.request(1);
    stalled.sendMessage(TestService.downloadRequest(1000, 64 * 1024));
    stalled.halfClose();

    // Stream B on the same connection moves 50 MiB meanwhile.
    long bytes = 0;
    var it = ClientCalls.blockingServerStreamingCall(channel, TestService.DOWNLOAD,
        CallOptions.DEFAULT, TestService.downloadRequest(50, MIB));
    while (it.hasNext()) {
      bytes += it.next().length;
    }
    assertEquals(50L * MIB, bytes);
    assertEquals(1, stalledReceived.get(), "the stalled reader got only what it asked for");
    assertTrue(!stalledClosed.isDone(), "the stalled call is still open, held by flow control");
    stalled.cancel("done", null);
    assertEquals(Status.Code.CANCELLED, stalledClosed.get(10, TimeUnit.SECONDS).getCode());
  }

  @Test
  @Timeout(60)
  void serverSenderIsHeldByFlowControlWhenClientStopsReading() throws Exception {
    server.service.downloadBlockedAt.clear();
    // Ask for one message of a 1000 x 64 KiB stream. The server sends only while isReady(); once
    // the client's windows and the queues between are full, isReady() turns false for good.
    ClientCall<byte[], byte[]> call = channel.newCall(TestService.DOWNLOAD, CallOptions.DEFAULT);
    CompletableFuture<byte[]> first = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        first.complete(message);
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(TestService.downloadRequest(1000, 64 * 1024));
    call.halfClose();
    assertEquals(64 * 1024, first.get(10, TimeUnit.SECONDS).length);
    Integer sentWhenHeld = server.service.downloadBlockedAt.poll(20, TimeUnit.SECONDS);
    assertTrue(sentWhenHeld != null, "server never stopped sending");
    // Each onReady that lets the server go on ends in a new block event; when none comes for two
    // seconds, the sender is held.
    for (Integer next; (next = server.service.downloadBlockedAt.poll(2, TimeUnit.SECONDS)) != null; ) {
      sentWhenHeld = Math.max(sentWhenHeld, next);
    }
    // Bound: the client's gRPC credit and QUIC window (1 MiB each by default), the message the
    // client consumed (its credit went back to the server), the server's onReady threshold
    // (32 KiB), one message in the making, and kwik's 50 KiB send buffer.
    long bound = 2L * MIB + 64 * 1024 + 32 * 1024 + 64 * 1024 + 50 * 1024;
    if (!dev.grpcquic.testing.TestEngine.isKwik()) {
      // quiche tunes a stream's window up (doubling, to 16 MiB at most) while its reader keeps
      // pace, as this one did before it stopped: allow two doublings (docs/flow-control.md).
      bound += 3L * MIB;
    }
    assertTrue(sentWhenHeld * 64L * 1024 <= bound,
        "server sent " + sentWhenHeld + " messages before being held");
    // The connection is not blocked: another call goes through.
    assertEquals(5, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT, new byte[5]).length);
    call.cancel("done", null);
  }
}
