package dev.grpcquic.bench;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.ServerEndpointOptions;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.tls.PemFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The same unary and server-streaming exchanges on bare QUIC streams through this project's engine
 * seam ({@code dev.grpcquic.engine}) on one {@link RawEngine} (kwik or quiche), with no HTTP/3
 * framing, QPACK or gRPC. The difference to the gRPC transport on the same engine ({@link
 * RawEngine#floorOf}) is what the gRPC and HTTP/3 layers cost. Both engines get the same options:
 * 1 MiB per stream, 16 MiB client and 100 MiB server connection window, as kwik's raw figures
 * always had (the gRPC transport sizes its connection windows from its call limit, see
 * ConnectionWindows; one stream at a time is held by its 1 MiB stream window either way).
 *
 * <p>Protocol: the client opens a bidirectional stream per exchange and sends its request with FIN.
 * A request of {@value #DOWNLOAD_REQUEST_SIZE} bytes (total bytes as long, chunk size as int) asks
 * for a download; anything else is a unary request, answered with {@link BenchService#UNARY_SIZE}
 * bytes and FIN. The server writes a download while fewer than {@value #SERVER_QUEUE_LIMIT} bytes
 * wait in the adapter's queue, topping up on {@code onWritten}.
 */
final class RawEngineBench implements AutoCloseable {
  static final int DOWNLOAD_REQUEST_SIZE = 12;
  static final int SERVER_QUEUE_LIMIT = 1024 * 1024;
  private static final int STREAM_WINDOW = 1024 * 1024;
  private static final byte[] UNARY_REQUEST = BenchService.payload(BenchService.UNARY_SIZE);
  private static final byte[] UNARY_RESPONSE = BenchService.payload(BenchService.UNARY_SIZE);

  final RawEngine engine;
  private final Server server;
  private final QuicConnection connection;
  final double connectMicros;

  private RawEngineBench(RawEngine engine, Server server,
      QuicConnection connection, double connectMicros) {
    this.engine = engine;
    this.server = server;
    this.connection = connection;
    this.connectMicros = connectMicros;
  }

  /** Server and connection on 127.0.0.1, in this JVM. */
  static RawEngineBench start(RawEngine engine, TlsFiles tls) throws Exception {
    Server server = Server.start(engine, tls, new InetSocketAddress("127.0.0.1", 0));
    try {
      return connect(engine, tls, "127.0.0.1", server.port(), server);
    } catch (Exception e) {
      server.close();
      throw e;
    }
  }

  /** The server side: an engine endpoint answering the exchanges described above. */
  static final class Server implements AutoCloseable {
    private final QuicServerEndpoint endpoint;

    private Server(QuicServerEndpoint endpoint) {
      this.endpoint = endpoint;
    }

    static Server start(RawEngine engine, TlsFiles tls, InetSocketAddress bind) throws Exception {
      char[] password = "bench".toCharArray();
      ServerEndpointOptions serverOptions = new ServerEndpointOptions(bind, "h3",
          PemFiles.keyStore(tls.serverChainPem, tls.serverKeyPem, "bench", password),
          "bench", password, Duration.ofSeconds(30), STREAM_WINDOW, 100L * STREAM_WINDOW, 100, 3);
      QuicServerEndpoint endpoint = engine.serverEngine().bind(serverOptions,
          accepted -> new ConnectionHandler() {
            @Override
            public StreamHandler onPeerStream(QuicStream stream) {
              return new ServerStream(stream);
            }

            @Override
            public void onClosed(ConnectionCloseInfo info) {
            }
          });
      return new Server(endpoint);
    }

    int port() {
      return endpoint.localAddress().getPort();
    }

    @Override
    public void close() {
      endpoint.close();
    }
  }

  /** A connection to {@code host:port}; {@code server} (null when remote) is closed with it. */
  static RawEngineBench connect(RawEngine engine, TlsFiles tls, String host, int port,
      Server server) throws Exception {
    ClientConnectionOptions clientOptions = new ClientConnectionOptions(host, port,
        "localhost", "h3", PemFiles.trustManager(tls.caPem),
        Duration.ofSeconds(10), Duration.ofSeconds(30), STREAM_WINDOW, 16L * STREAM_WINDOW, 3, 0);
    long t0 = System.nanoTime();
    QuicConnection connection = engine.clientEngine().connect(clientOptions,
        new ConnectionHandler() {
          @Override
          public StreamHandler onPeerStream(QuicStream stream) {
            stream.reset(0);
            return new ClientStream();
          }

          @Override
          public void onClosed(ConnectionCloseInfo info) {
          }
        }).get(30, TimeUnit.SECONDS);
    double connectMicros = (System.nanoTime() - t0) / 1e3;
    return new RawEngineBench(engine, server, connection, connectMicros);
  }

  /** One 1 KiB request, 1 KiB response exchange on a new stream. */
  void unary() throws Exception {
    ClientStream handler = new ClientStream();
    connection.openStream(true, handler).thenAccept(stream -> {
      handler.stream = stream;
      stream.request(2 * BenchService.UNARY_SIZE);
      stream.write(ByteBuffer.wrap(UNARY_REQUEST), true);
    }).exceptionally(e -> {
      handler.done.completeExceptionally(e);
      return null;
    });
    handler.done.get(30, TimeUnit.SECONDS);
    if (handler.received.get() != BenchService.UNARY_SIZE) {
      throw new IllegalStateException("response of " + handler.received.get() + " bytes");
    }
  }

  LatencyStats unaryLatency(Plan plan) throws Exception {
    return LatencyLoop.run(engine.shortLabel(), plan, this::unary);
  }

  BulkResult download(Plan plan) {
    return GrpcBench.bulk(engine.shortLabel() + " server-streaming", plan,
        (bytes, cap) -> downloadOnce(bytes, plan.bulkMessageSize(), cap, plan.bulkPartial()));
  }

  private GrpcBench.Transferred downloadOnce(long total, int chunk, Duration cap, boolean partial)
      throws Exception {
    ClientStream handler = new ClientStream();
    handler.keepReading = true;
    long start = System.nanoTime();
    connection.openStream(true, handler).thenAccept(stream -> {
      handler.stream = stream;
      stream.request(STREAM_WINDOW + 1);
      stream.write(ByteBuffer.allocate(DOWNLOAD_REQUEST_SIZE).putLong(total).putInt(chunk).flip(),
          true);
    }).exceptionally(e -> {
      handler.done.completeExceptionally(e);
      return null;
    });
    if (GrpcBench.await(handler.done, handler.received, total, cap, "received", partial) == null
        && !handler.done.isDone()) {
      long nanos = System.nanoTime() - start;
      long bytes = handler.received.get();
      handler.stream.stopSending(0x10c); // cut at the cap: stop the server's writes
      return new GrpcBench.Transferred(bytes, nanos, false);
    }
    if (handler.received.get() != total) {
      throw new IllegalStateException("received " + handler.received.get() + " of " + total);
    }
    return new GrpcBench.Transferred(total, handler.endNanos - start, true);
  }

  @Override
  public void close() {
    connection.close(0, "done");
    if (server != null) {
      server.close();
    }
  }

  /** Client side of one exchange: counts what arrives until FIN. */
  private static final class ClientStream implements StreamHandler {
    final CompletableFuture<Void> done = new CompletableFuture<>();
    final AtomicLong received = new AtomicLong();
    volatile QuicStream stream;
    volatile boolean keepReading;
    volatile long endNanos;

    @Override
    public void onData(ByteBuffer data) {
      int n = data.remaining();
      received.addAndGet(n);
      if (keepReading) {
        stream.request(n);
      }
    }

    @Override
    public void onEndOfStream() {
      endNanos = System.nanoTime();
      done.complete(null);
    }

    @Override
    public void onReset(long applicationErrorCode) {
      done.completeExceptionally(new IOException("stream reset by server"));
    }

    @Override
    public void onStopSending(long applicationErrorCode) {
    }

    @Override
    public void onWritten(int bytes) {
    }

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {
      done.completeExceptionally(new IOException("connection closed: " + info));
    }
  }

  /** Server side of one exchange. Calls for one stream never overlap (engine guarantee). */
  private static final class ServerStream implements StreamHandler {
    private final QuicStream stream;
    private final ByteBuffer request = ByteBuffer.allocate(4 * BenchService.UNARY_SIZE);
    private long total = -1;
    private int chunk;
    private byte[] message;
    private long sent;
    private boolean finished;

    ServerStream(QuicStream stream) {
      this.stream = stream;
      stream.request(request.capacity());
    }

    @Override
    public void onData(ByteBuffer data) {
      if (data.remaining() <= request.remaining()) {
        request.put(data);
      } else {
        stream.reset(1);
      }
    }

    @Override
    public void onEndOfStream() {
      if (request.position() == DOWNLOAD_REQUEST_SIZE) {
        request.flip();
        total = request.getLong();
        chunk = request.getInt();
        message = BenchService.payload(chunk);
        pump();
      } else {
        finished = true;
        stream.write(ByteBuffer.wrap(UNARY_RESPONSE), true);
      }
    }

    private void pump() {
      while (!finished && sent < total && stream.queuedBytes() < SERVER_QUEUE_LIMIT) {
        int n = (int) Math.min(chunk, total - sent);
        stream.write(ByteBuffer.wrap(message, 0, n), false);
        sent += n;
      }
      if (!finished && sent >= total) {
        finished = true;
        stream.write(ByteBuffer.allocate(0), true);
      }
    }

    @Override
    public void onReset(long applicationErrorCode) {
    }

    @Override
    public void onStopSending(long applicationErrorCode) {
      finished = true;
    }

    @Override
    public void onWritten(int bytes) {
      if (total >= 0) {
        pump();
      }
    }

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {
    }
  }
}
