package dev.grpcquic.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicSessionTicketStore;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Session tickets in memory, counted as they are stored; a test can wait for the n-th. */
public final class CountingTicketStore implements QuicSessionTicketStore {
  public final QuicSessionTicketStore delegate = QuicSessionTicketStore.inMemory(4);
  public final AtomicInteger puts = new AtomicInteger();
  private final Semaphore arrived = new Semaphore(0);

  @Override
  public void put(String authority, byte[] ticket) {
    delegate.put(authority, ticket);
    puts.incrementAndGet();
    arrived.release();
  }

  @Override
  public byte[] take(String authority) {
    return delegate.take(authority);
  }

  /** Waits until {@code count} tickets were stored in all. */
  public void awaitPuts(int count) throws InterruptedException {
    while (puts.get() < count) {
      assertTrue(arrived.tryAcquire(20, TimeUnit.SECONDS), "no session ticket arrived");
    }
  }
}
