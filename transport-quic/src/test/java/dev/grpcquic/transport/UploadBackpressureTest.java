package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Backpressure with the roles of LoadAndFlowControlTest swapped: the client sends and the server
 * stops reading. The client's sender is held within the server's windows plus its own queues,
 * other calls of the connection keep going, and the held sender resumes when the server reads.
 */
class UploadBackpressureTest {
  private static final int MIB = 1024 * 1024;
  private static final int MESSAGE = 64 * 1024;
  /** The server's stream window (its default). */
  private static final long WINDOW = MIB;
  /**
   * What a client can get ahead of a server that stopped reading: the server transport's read
   * credit and kwik's window (one stream window each), the client's onReady threshold (32 KiB),
   * the message that crossed it, and kwik's 50 KiB send buffer.
   */
  private static final long SENDER_BOUND = 2 * WINDOW + 32 * 1024 + MESSAGE + 50 * 1024
      // quiche doubles a stream's window while its reader keeps pace (docs/flow-control.md).
      + (dev.grpcquic.testing.TestEngine.isKwik() ? 0 : 3L * WINDOW);

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

  /** A client-streaming call that sends messages only while isReady(), up to {@code count}. */
  static final class Uploader extends ClientCall.Listener<byte[]> {
    final ClientCall<byte[], byte[]> call;
    final int count;
    final AtomicLong sentBytes = new AtomicLong();
    /** Bytes sent each time isReady() turned false. */
    final LinkedBlockingQueue<Long> heldAt = new LinkedBlockingQueue<>();
    final CompletableFuture<Status> closed = new CompletableFuture<>();
    final CompletableFuture<Long> serverTotal = new CompletableFuture<>();
    private int sent;
    private boolean halfClosed;

    Uploader(ManagedChannel channel, io.grpc.MethodDescriptor<byte[], byte[]> method, int count) {
      this.call = channel.newCall(method, CallOptions.DEFAULT);
      this.count = count;
      call.start(this, new Metadata());
      call.request(1);
      onReady();
    }

    @Override
    public synchronized void onReady() {
      byte[] message = new byte[MESSAGE];
      while (call.isReady() && sent < count) {
        call.sendMessage(message);
        sent++;
        sentBytes.addAndGet(MESSAGE);
      }
      if (sent == count && !halfClosed) {
        halfClosed = true;
        call.halfClose();
      } else if (sent < count && sent > 0) {
        heldAt.add(sentBytes.get());
      }
    }

    @Override
    public void onMessage(byte[] message) {
      serverTotal.complete(ByteBuffer.wrap(message).getLong());
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      closed.complete(status);
    }

    /** Waits until isReady() turned false and no onReady let the sender go on for 2 s. */
    long awaitHeld() throws InterruptedException {
      Long first = heldAt.poll(60, TimeUnit.SECONDS);
      assertNotNull(first, "the sender was never held");
      long held = first;
      for (Long next; (next = heldAt.poll(2, TimeUnit.SECONDS)) != null; ) {
        held = Math.max(held, next);
      }
      return held;
    }
  }

  @Test
  @Timeout(180)
  void stalledServerReaderDoesNotSlowAnotherUpload() throws Exception {
    server.service.sinkCalls.clear();
    // Call A: 1000 x 64 KiB to a server method that reads nothing.
    Uploader stalled = new Uploader(channel, TestService.SINK, 1000);
    ServerCall<byte[], byte[]> sink = server.service.sinkCalls.poll(30, TimeUnit.SECONDS);
    assertNotNull(sink);
    // Call B on the same connection uploads 50 MiB meanwhile.
    Uploader busy = new Uploader(channel, TestService.UPLOAD, 50 * MIB / MESSAGE);
    assertEquals(Status.Code.OK, busy.closed.get(150, TimeUnit.SECONDS).getCode());
    assertEquals(50L * MIB, busy.serverTotal.get(1, TimeUnit.SECONDS));

    long held = stalled.awaitHeld();
    assertFalse(stalled.call.isReady());
    assertTrue(held >= WINDOW, "the sender was held before it filled a window: " + held);
    assertTrue(held <= SENDER_BOUND, "client sent " + held + " bytes to a server that reads nothing");
    assertFalse(stalled.closed.isDone(), "call A is still open, held by flow control");
    long buffered = sink.getAttributes().get(QuicAttributes.RECEIVE_BUFFERED_BYTES).getAsLong();
    assertTrue(buffered <= WINDOW, "server holds " + buffered + " unread bytes");
    stalled.call.cancel("done", null);
    assertEquals(Status.Code.CANCELLED, stalled.closed.get(10, TimeUnit.SECONDS).getCode());
    // The server call reads nothing, yet hears the cancel (on quiche through the STOP_SENDING
    // that comes with it: Netty shows a RESET_STREAM only to a pending read).
    assertSame(sink, server.service.sinkCancelled.poll(10, TimeUnit.SECONDS));
  }

  /**
   * grpc-java's serverStreamingShouldBeFlowControlled, the other way round: isReady() goes false
   * once the server stops reading, stays false, and onReady fires again once the server reads.
   */
  @Test
  @Timeout(120)
  void clientSenderIsHeldAndResumesWhenTheServerReads() throws Exception {
    server.service.sinkCalls.clear();
    int count = 64; // 4 MiB: more than the server's windows and the queues between
    Uploader uploader = new Uploader(channel, TestService.SINK, count);
    ServerCall<byte[], byte[]> sink = server.service.sinkCalls.poll(30, TimeUnit.SECONDS);
    assertNotNull(sink);
    long held = uploader.awaitHeld();
    assertFalse(uploader.call.isReady());
    assertTrue(held < (long) count * MESSAGE, "the sender was not held: sent " + held);
    assertTrue(held >= WINDOW, "the sender was held before it filled a window: " + held);
    assertTrue(held <= SENDER_BOUND, "client sent " + held + " bytes");

    sink.request(1); // the server reads again: every message follows
    assertEquals(Status.Code.OK, uploader.closed.get(60, TimeUnit.SECONDS).getCode());
    assertEquals((long) count * MESSAGE, uploader.serverTotal.get(1, TimeUnit.SECONDS));
  }
}
