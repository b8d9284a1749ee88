package dev.grpcquic.testing;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.engine.kwik.KwikClientEngine;
import dev.grpcquic.http3.Frames;
import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3Exception;
import dev.grpcquic.http3.QpackDecoder;
import dev.grpcquic.http3.QpackEncoder;
import dev.grpcquic.http3.RequestStreamReader;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A hand-driven HTTP/3 client on the same QUIC engine, for sending what a well-behaved client never
 * would: raw bytes on request, control and other unidirectional streams.
 */
public final class RawHttp3Client implements AutoCloseable {
  public final CompletableFuture<ConnectionCloseInfo> closed = new CompletableFuture<>();
  private final QuicConnection connection;

  public RawHttp3Client(int port) throws Exception {
    ClientConnectionOptions options = new ClientConnectionOptions("127.0.0.1", port, "localhost",
        "h3", TestTls.get().trustManager(), Duration.ofSeconds(10), Duration.ofSeconds(30),
        1 << 20, 16 << 20, 3, 0);
    connection = new KwikClientEngine().connect(options, new ConnectionHandler() {
      @Override
      public StreamHandler onPeerStream(QuicStream stream) {
        stream.request(1 << 20); // the server's control and QPACK streams: read and drop
        return new Response();
      }

      @Override
      public void onClosed(ConnectionCloseInfo info) {
        closed.complete(info);
      }
    }).get(15, TimeUnit.SECONDS);
  }

  /** Opens a stream, sends {@code bytes} (with FIN if asked), and collects what comes back. */
  public Response send(boolean bidirectional, ByteBuffer bytes, boolean fin) throws Exception {
    Response response = new Response();
    QuicStream stream = connection.openStream(bidirectional, response).get(10, TimeUnit.SECONDS);
    response.stream = stream;
    if (bidirectional) {
      stream.request(1 << 20);
    }
    stream.write(bytes, fin);
    return response;
  }

  /** Opens a stream without writing; the caller drives it through {@link Response#stream()}. */
  public CompletableFuture<Response> open(boolean bidirectional) {
    Response response = new Response();
    return connection.openStream(bidirectional, response).thenApply(stream -> {
      response.stream = stream;
      if (bidirectional) {
        stream.request(1 << 20);
      }
      return response;
    });
  }

  /** The header fields of a gRPC request for {@code path}. */
  public static List<Header> grpcRequest(String path, String contentType) {
    List<Header> fields = new ArrayList<>();
    fields.add(new Header(":method", "POST"));
    fields.add(new Header(":scheme", "https"));
    fields.add(new Header(":authority", "localhost"));
    fields.add(new Header(":path", path));
    fields.add(new Header("content-type", contentType));
    fields.add(new Header("te", "trailers"));
    return fields;
  }

  /** A HEADERS frame opening a gRPC call of {@code method}. */
  public static ByteBuffer grpcHeaders(MethodDescriptor<?, ?> method) {
    return Frames.headers(new QpackEncoder().encode(
        grpcRequest("/" + method.getFullMethodName(), "application/grpc")));
  }

  /** A DATA frame carrying one uncompressed gRPC message. */
  public static ByteBuffer grpcMessage(byte[] message) {
    ByteBuffer payload = ByteBuffer.allocate(5 + message.length);
    payload.put((byte) 0).putInt(message.length).put(message).flip();
    return concat(Frames.dataFrameHeader(payload.remaining()), payload);
  }

  /** The remaining bytes of {@code parts}, one after the other. */
  public static ByteBuffer concat(ByteBuffer... parts) {
    int length = 0;
    for (ByteBuffer part : parts) {
      length += part.remaining();
    }
    ByteBuffer all = ByteBuffer.allocate(length);
    for (ByteBuffer part : parts) {
      all.put(part);
    }
    return all.flip();
  }

  /** The value of the first field called {@code name}, or null. */
  public static String get(List<Header> fields, String name) {
    for (Header field : fields) {
      if (field.name().equals(name)) {
        return field.value();
      }
    }
    return null;
  }

  /** The server's application close code, waiting at most 10 s; -1 when closed otherwise. */
  public long closeCode() throws Exception {
    ConnectionCloseInfo info = closed.get(10, TimeUnit.SECONDS);
    return info.byPeer() ? info.applicationErrorCode() : -1;
  }

  @Override
  public void close() {
    connection.close(0x100, "done");
  }

  /** What came back on one stream. */
  public static final class Response implements StreamHandler {
    public final CompletableFuture<Void> ended = new CompletableFuture<>();
    public final CompletableFuture<Long> reset = new CompletableFuture<>();
    public final CompletableFuture<Long> stopSending = new CompletableFuture<>();
    /** Completes once the engine has accepted any bytes of this stream. */
    public final CompletableFuture<Void> written = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    volatile QuicStream stream;

    /** The QUIC stream, once open. */
    public QuicStream stream() {
      return stream;
    }

    /** The grpc-status of the last header block (the trailers), waiting for the stream's end. */
    public String grpcStatus() throws Exception {
      List<List<Header>> blocks = headerBlocks();
      return blocks.isEmpty() ? null : get(blocks.get(blocks.size() - 1), "grpc-status");
    }

    @Override
    public synchronized void onData(ByteBuffer data) {
      byte[] copy = new byte[data.remaining()];
      data.get(copy);
      bytes.write(copy, 0, copy.length);
    }

    @Override
    public void onEndOfStream() {
      ended.complete(null);
    }

    @Override
    public void onReset(long code) {
      reset.complete(code);
      ended.complete(null);
    }

    @Override
    public void onStopSending(long code) {
      stopSending.complete(code);
    }

    @Override
    public void onWritten(int n) {
      written.complete(null);
    }

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {
      ended.complete(null);
    }

    /** The header field sections received, decoded; waits for the stream's end. */
    public List<List<Header>> headerBlocks() throws Exception {
      ended.get(10, TimeUnit.SECONDS);
      List<List<Header>> blocks = new ArrayList<>();
      RequestStreamReader reader = new RequestStreamReader(new RequestStreamReader.Listener() {
        @Override
        public void onHeaders(byte[] fieldSection) throws Http3Exception {
          blocks.add(new QpackDecoder().decode(fieldSection));
        }

        @Override
        public void onData(ByteBuffer payload) {}
      }, 1 << 20);
      synchronized (this) {
        reader.feed(ByteBuffer.wrap(bytes.toByteArray()));
      }
      return blocks;
    }
  }
}
