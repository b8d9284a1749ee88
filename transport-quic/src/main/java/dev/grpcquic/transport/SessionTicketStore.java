package dev.grpcquic.transport;

/**
 * Where a client transport takes the session ticket it resumes with and puts the tickets its
 * server sends, by authority. The channel builder adapts the application's
 * {@code QuicSessionTicketStore} to it. Called from transport and engine threads.
 */
public interface SessionTicketStore {

  /** Keeps a ticket the server of {@code authority} sent. */
  void put(String authority, byte[] ticket);

  /** Removes and returns a ticket for {@code authority}, the newest first; null when none. */
  byte[] take(String authority);
}
