package dev.grpcquic.engine;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A bidirectional stream whose first bytes are known before the connection exists, so that a
 * resumed connection can send them as 0-RTT data (RFC 9001 §4.6). The engine sends them early when
 * it has a session ticket that allows it and they fit the limits the server remembered in the
 * ticket; otherwise it opens the stream once the handshake is done and writes them as ordinary
 * data. Either way the caller sees one stream with these bytes already written (reported to the
 * handler through {@code onWritten}), and writes the rest on it.
 */
public final class EarlyStream {
  private final ByteBuffer data;
  private final boolean fin;
  private final StreamHandler handler;
  private final CompletableFuture<QuicStream> opened = new CompletableFuture<>();

  /**
   * @param data the stream's first bytes (the HTTP/3 HEADERS frame and what follows)
   * @param fin whether they end the sending side
   * @param handler receives the stream's events once it exists
   */
  public EarlyStream(ByteBuffer data, boolean fin, StreamHandler handler) {
    this.data = data.asReadOnlyBuffer();
    this.fin = fin;
    this.handler = handler;
  }

  public ByteBuffer data() {
    return data.duplicate();
  }

  public boolean fin() {
    return fin;
  }

  public StreamHandler handler() {
    return handler;
  }

  /**
   * Completes with the stream once the handshake is done (with the data written on it), or
   * exceptionally when the connection could not be made or the stream not opened.
   */
  public CompletableFuture<QuicStream> opened() {
    return opened;
  }
}
