package dev.grpcquic.engine;

import dev.grpcquic.engine.QuicStream;
import java.nio.ByteBuffer;

/**
 * A stream handler for bulk transfers: reads everything (re-requesting what it got) and can send a
 * pattern of {@code total} bytes, keeping at most 1 MiB queued (topped up from onWritten), with FIN
 * after the last byte. As the server side: a stream whose only byte is 'D' asks for a download of
 * {@link #downloadSize} bytes; any other stream is an upload, answered with a bare FIN.
 */
public class BulkPeer extends EngineTestSupport.Recorder {

  public static final int CHUNK = 64 * 1024;
  private static final long MAX_QUEUED = 1 << 20;

  private final boolean serverSide;
  private final long downloadSize;
  private long total = -1;
  private long offset;
  private boolean sawDownloadRequest;

  public BulkPeer(boolean serverSide, long downloadSize) {
    super(null, true);
    this.serverSide = serverSide;
    this.downloadSize = downloadSize;
  }

  public BulkPeer bind(QuicStream stream) {
    this.stream = stream;
    stream.request(256 * 1024);
    return this;
  }

  /** Starts sending {@code bytes} pattern bytes then FIN. */
  public synchronized void send(long bytes) {
    total = bytes;
    fill();
  }

  private synchronized void fill() {
    while (total >= 0 && offset < total && stream.queuedBytes() < MAX_QUEUED) {
      int n = (int) Math.min(CHUNK, total - offset);
      ByteBuffer chunk = EngineTestSupport.pattern((int) offset, n);
      offset += n;
      stream.write(chunk, offset == total);
    }
    if (total == 0 && offset == 0) {
      offset = -1;
      stream.write(ByteBuffer.allocate(0), true);
    }
  }

  @Override
  public void onData(ByteBuffer buffer) {
    if (serverSide && received.get() == 0 && buffer.remaining() == 1 && buffer.get(buffer.position()) == 'D') {
      sawDownloadRequest = true;
    }
    super.onData(buffer);
  }

  @Override
  public void onEndOfStream() {
    super.onEndOfStream();
    if (serverSide) {
      send(sawDownloadRequest && received.get() == 1 ? downloadSize : 0);
    }
  }

  @Override
  public void onWritten(int bytes) {
    super.onWritten(bytes);
    fill();
  }
}
