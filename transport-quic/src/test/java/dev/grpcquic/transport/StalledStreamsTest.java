package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.ClientCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Calls whose readers all stop: each holds at most its window, and they neither wedge the
 * connection nor slow the calls that do read.
 */
class StalledStreamsTest {
  private static final int WINDOW = 64 * 1024;

  @Test
  @Timeout(180)
  void thousandStalledStreamsHoldAWindowEachAndLeaveTheConnectionUsable() throws Exception {
    int stalledCalls = Integer.getInteger("stalled", 1000);
    try (QuicTestServer server = new QuicTestServer(
        b -> b.maxConcurrentCallsPerConnection(stalledCalls + 10))) {
      ManagedChannel channel = server.track(server.channelBuilder().flowControlWindow(WINDOW)
          .maxConcurrentCallsPerConnection(stalledCalls + 10).build());
      CompletableFuture<LongSupplier> buffered = new CompletableFuture<>();
      List<ClientCall<byte[], byte[]>> calls = new ArrayList<>();
      for (int i = 0; i < stalledCalls; i++) {
        ClientCall<byte[], byte[]> call = channel.newCall(TestService.DOWNLOAD, CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {
          @Override
          public void onHeaders(Metadata headers) {
            buffered.complete(call.getAttributes().get(QuicAttributes.RECEIVE_BUFFERED_BYTES));
          }
        }, new Metadata());
        // No call.request(): the application never reads a message.
        call.sendMessage(TestService.downloadRequest(100, 16 * 1024));
        call.halfClose();
        calls.add(call);
      }
      // Each server call posts an event whenever flow control stops it; wait for all of them,
      // then (bytes may still be in flight on a loaded machine) until the client holds at least
      // half a window per call, checking the bound all along.
      for (int i = 0; i < stalledCalls; i++) {
        assertNotNull(server.service.downloadBlockedAt.poll(60, TimeUnit.SECONDS),
            "only " + i + " server calls were held back");
      }
      LongSupplier bufferedBytes = buffered.get(10, TimeUnit.SECONDS);
      long held = bufferedBytes.getAsLong();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (held <= stalledCalls * (WINDOW / 2L) && System.nanoTime() < until) {
        assertTrue(held <= (long) stalledCalls * WINDOW, "buffered " + held + " bytes");
        server.service.downloadBlockedAt.poll(100, TimeUnit.MILLISECONDS);
        held = bufferedBytes.getAsLong();
      }
      assertTrue(held > stalledCalls * (WINDOW / 2L), "buffered only " + held + " bytes");
      assertTrue(held <= (long) stalledCalls * WINDOW, "buffered " + held + " bytes");
      // Neither the connection window nor the stream limit is used up: a new call completes, and
      // a download on the same connection runs to its end.
      assertEquals(7, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[7]).length);
      long bytes = 0;
      var it = ClientCalls.blockingServerStreamingCall(channel, TestService.DOWNLOAD,
          CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
          TestService.downloadRequest(64, 64 * 1024));
      while (it.hasNext()) {
        bytes += it.next().length;
      }
      assertEquals(64L * 64 * 1024, bytes);
      for (ClientCall<byte[], byte[]> call : calls) {
        call.cancel("done", null);
      }
    }
  }
}
