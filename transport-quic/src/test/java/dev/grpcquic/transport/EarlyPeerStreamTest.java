package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hand-over of a server stream that came before the client had its connection: the engine's
 * thread keeps delivering while another thread replays what waited, and the handler must still
 * see one event at a time, in order. The events are ordered by latches, not timing: the engine
 * delivers its next bytes while the replay is inside the handler.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EarlyPeerStreamTest {

  @Test
  void bytesThatComeDuringTheReplayFollowIt() throws Exception {
    EarlyPeerStream early = new EarlyPeerStream(null);
    early.onData(bytes(1)); // before the transport had its connection
    CountDownLatch replayInHandler = new CountDownLatch(1);
    CountDownLatch engineDelivered = new CountDownLatch(1);
    RecordingHandler handler = new RecordingHandler(replayInHandler, engineDelivered);

    CompletableFuture<Void> handOver = CompletableFuture.runAsync(() -> early.attach(handler));
    assertTrue(replayInHandler.await(10, TimeUnit.SECONDS), "the replay reached the handler");
    early.onData(bytes(2)); // the engine's next read, while the replay is still in the handler
    engineDelivered.countDown();
    handOver.get(10, TimeUnit.SECONDS);
    early.onData(bytes(3)); // after the hand-over: straight to the handler

    assertEquals(List.of(1, 2, 3), handler.seen, "events in the order they came");
    assertEquals(1, handler.mostAtOnce.get(), "the handler ran on one thread at a time");
  }

  private static ByteBuffer bytes(int value) {
    return ByteBuffer.wrap(new byte[] {(byte) value});
  }

  /** Records each byte; its first event waits until the engine has delivered again. */
  private static final class RecordingHandler extends DiscardingStreamHandler {
    final List<Integer> seen = new CopyOnWriteArrayList<>();
    final AtomicInteger inside = new AtomicInteger();
    final AtomicInteger mostAtOnce = new AtomicInteger();
    private final CountDownLatch replayInHandler;
    private final CountDownLatch engineDelivered;

    RecordingHandler(CountDownLatch replayInHandler, CountDownLatch engineDelivered) {
      this.replayInHandler = replayInHandler;
      this.engineDelivered = engineDelivered;
    }

    @Override
    public void onData(ByteBuffer data) {
      mostAtOnce.accumulateAndGet(inside.incrementAndGet(), Math::max);
      try {
        seen.add((int) data.get());
        if (seen.size() == 1) {
          replayInHandler.countDown();
          // The engine's delivery of byte 2 either queues (and this returns once it has) or
          // enters this handler beside this thread, which the counter above records.
          engineDelivered.await(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        inside.decrementAndGet();
      }
    }
  }
}
