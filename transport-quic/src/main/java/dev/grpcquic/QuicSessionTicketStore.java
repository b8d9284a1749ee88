package dev.grpcquic;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Where a channel keeps the TLS session tickets its servers send, by authority ({@code host:port}
 * as the channel dials it), so that the next connection to that authority resumes the session and
 * can send safe calls as 0-RTT early data.
 *
 * <p>Tickets are single use: a connection {@link #take takes} one and the server usually sends a
 * fresh one on every connection. A ticket is a secret (whoever holds it can resume the session);
 * a store that persists tickets must protect them like keys. Share a store only between channels
 * with the same trust settings: a resumed handshake does not check the server's certificate again.
 *
 * <p>Calls come from transport and engine threads and must not block for long.
 */
public interface QuicSessionTicketStore {

  /** Keeps a ticket the server of {@code authority} sent. */
  void put(String authority, byte[] ticket);

  /** Removes and returns a ticket for {@code authority}, the newest first; null when none. */
  byte[] take(String authority);

  /** A store in memory, keeping the {@code perAuthority} newest tickets of each authority. */
  static QuicSessionTicketStore inMemory(int perAuthority) {
    if (perAuthority < 1) {
      throw new IllegalArgumentException("perAuthority must be at least 1");
    }
    return new QuicSessionTicketStore() {
      private final Map<String, Deque<byte[]>> tickets = new HashMap<>();

      @Override
      public synchronized void put(String authority, byte[] ticket) {
        Deque<byte[]> queue = tickets.computeIfAbsent(authority, a -> new ArrayDeque<>());
        queue.addFirst(ticket.clone());
        while (queue.size() > perAuthority) {
          queue.removeLast();
        }
      }

      @Override
      public synchronized byte[] take(String authority) {
        Deque<byte[]> queue = tickets.get(authority);
        if (queue == null) {
          return null;
        }
        byte[] ticket = queue.pollFirst();
        if (queue.isEmpty()) {
          tickets.remove(authority);
        }
        return ticket;
      }
    };
  }
}
