package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.stats.QuicConnectionStats;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.stub.ClientCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 1000 calls on one connection whose readers all stop, on either side: what the receiving side
 * then holds (read into the transport plus unread inside kwik) stays within its
 * connectionMemoryBudget, and the connection still serves other calls.
 */
class MemoryBudgetTest {
  private static final int CALLS = 1000;
  /** 2 · W · N with N = CALLS + 10 gives W = 20 KiB: above the 16 KiB floor. */
  private static final long BUDGET = 2L * 20 * 1024 * (CALLS + 10);

  /** Transport-held plus engine-held bytes on the side these attributes belong to. */
  private static long held(Attributes attributes) {
    LongSupplier transport = attributes.get(QuicAttributes.RECEIVE_BUFFERED_BYTES);
    QuicConnectionStats stats = attributes.get(QuicAttributes.CONNECTION_STATS).get();
    return transport.getAsLong() + stats.streamBytesUnread();
  }

  private static long window(Attributes attributes) {
    return attributes.get(QuicAttributes.CONNECTION_STATS).get().streamReceiveWindow();
  }

  /**
   * Polls until the side holds at least half of what its windows allow (bytes may still be in
   * flight on a loaded machine), checking the budget at every look.
   */
  private static long awaitHeldWithinBudget(Attributes attributes, long windowBytes)
      throws InterruptedException {
    long floor = CALLS * windowBytes;  // half of 2 · W per call
    long held = held(attributes);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (held < floor && System.nanoTime() < until) {
      assertTrue(held <= BUDGET, "holds " + held + " bytes, budget " + BUDGET);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // next look; the deadline bounds it
      held = held(attributes);
    }
    assertTrue(held >= floor, "holds only " + held + " bytes after 90 s");
    assertTrue(held <= BUDGET, "holds " + held + " bytes, budget " + BUDGET);
    return held;
  }

  @Test
  @Timeout(240)
  void thousandStalledDownloadsStayWithinTheClientsBudget() throws Exception {
    try (QuicTestServer server = new QuicTestServer(
        b -> b.maxConcurrentCallsPerConnection(CALLS + 10))) {
      ManagedChannel channel = server.track(server.channelBuilder()
          .maxConcurrentCallsPerConnection(CALLS + 10).connectionMemoryBudget(BUDGET).build());
      CompletableFuture<Attributes> attributes = new CompletableFuture<>();
      List<ClientCall<byte[], byte[]>> calls = new ArrayList<>();
      for (int i = 0; i < CALLS; i++) {
        ClientCall<byte[], byte[]> call = channel.newCall(TestService.DOWNLOAD, CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {
          @Override
          public void onHeaders(Metadata headers) {
            attributes.complete(call.getAttributes());
          }
        }, new Metadata());
        // No call.request(): the application never reads a message.
        call.sendMessage(TestService.downloadRequest(100, 16 * 1024));
        call.halfClose();
        calls.add(call);
      }
      for (int i = 0; i < CALLS; i++) {
        assertNotNull(server.service.downloadBlockedAt.poll(90, TimeUnit.SECONDS),
            "only " + i + " server calls were held back");
      }
      Attributes attrs = attributes.get(30, TimeUnit.SECONDS);
      long window = window(attrs);
      assertTrue(window <= BUDGET / (2 * (CALLS + 10)), "stream window " + window);
      awaitHeldWithinBudget(attrs, window);
      try {
        assertEquals(7, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
            CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[7]).length);
      } catch (io.grpc.StatusRuntimeException e) {
        throw new AssertionError("a call beside the stalled ones failed; client holds "
            + attrs.get(QuicAttributes.RECEIVE_BUFFERED_BYTES).getAsLong() + " in the transport, "
            + attrs.get(QuicAttributes.CONNECTION_STATS).get(), e);
      }
      for (ClientCall<byte[], byte[]> call : calls) {
        call.cancel("done", null);
      }
    }
  }

  @Test
  @Timeout(240)
  void thousandStalledUploadsStayWithinTheServersBudget() throws Exception {
    try (QuicTestServer server = new QuicTestServer(b -> b.maxConcurrentCallsPerConnection(CALLS + 10)
        .connectionMemoryBudget(BUDGET))) {
      ManagedChannel channel = server.track(server.channelBuilder()
          .maxConcurrentCallsPerConnection(CALLS + 10).build());
      List<UploadBackpressureTest.Uploader> uploads = new ArrayList<>();
      for (int i = 0; i < CALLS; i++) {
        uploads.add(new UploadBackpressureTest.Uploader(channel, TestService.SINK, 100));
      }
      List<ServerCall<byte[], byte[]>> sinks = new ArrayList<>();
      for (int i = 0; i < CALLS; i++) {
        ServerCall<byte[], byte[]> sink = server.service.sinkCalls.poll(90, TimeUnit.SECONDS);
        assertNotNull(sink, "only " + i + " calls reached the server");
        sinks.add(sink);
      }
      for (UploadBackpressureTest.Uploader upload : uploads) {
        assertNotNull(upload.heldAt.poll(90, TimeUnit.SECONDS), "a client sender was never held");
      }
      Attributes attrs = sinks.get(0).getAttributes();
      long window = window(attrs);
      assertTrue(window <= BUDGET / (2 * (CALLS + 10)), "stream window " + window);
      awaitHeldWithinBudget(attrs, window);
      assertEquals(7, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[7]).length);
      for (UploadBackpressureTest.Uploader upload : uploads) {
        upload.call.cancel("done", null);
      }
    }
  }
}
