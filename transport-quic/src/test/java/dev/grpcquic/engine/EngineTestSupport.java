package dev.grpcquic.engine;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.ConnectionAcceptor;
import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.ServerEndpointOptions;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import dev.grpcquic.engine.kwik.KwikClientEngine;
import dev.grpcquic.engine.kwik.KwikServerEndpoint;
import dev.grpcquic.engine.quiche.QuicheClientEngine;
import dev.grpcquic.engine.quiche.QuicheServerEngine;
import dev.grpcquic.engine.quiche.QuicheSettings;
import dev.grpcquic.testing.TestEngine;

/**
 * Shared pieces of the engine tests: options, recording handlers, echo/sink/source peers, and
 * the engine under test ({@link TestEngine}: kwik or quiche).
 */
public final class EngineTestSupport {

  private EngineTestSupport() {}

  /** Polls a condition until a deadline (the engine has no event for these states). */
  public static boolean eventually(java.util.function.BooleanSupplier condition, long millis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    return condition.getAsBoolean();
  }

  /** The client side of the engine under test. */
  public static QuicClientEngine clientEngine() {
    return TestEngine.isKwik() ? new KwikClientEngine()
        : new QuicheClientEngine(QuicheSettings.DEFAULT);
  }

  /** Binds a server endpoint of the engine under test. */
  public static QuicServerEndpoint bind(ServerEndpointOptions options, ConnectionAcceptor acceptor)
      throws java.io.IOException {
    return TestEngine.isKwik() ? KwikServerEndpoint.start(options, acceptor)
        : new QuicheServerEngine(QuicheSettings.DEFAULT).bind(options, acceptor);
  }

  public static ServerEndpointOptions serverOptions(int maxBidi, Duration idle, long streamWindow) {
    TestTls tls = TestTls.get();
    return new ServerEndpointOptions(new InetSocketAddress("127.0.0.1", 0), "h3",
        tls.serverKeyStore(), tls.keyAlias(), tls.keyPassword(), idle, streamWindow,
        streamWindow * 10, maxBidi, 3);
  }

  public static ServerEndpointOptions serverOptions() {
    return serverOptions(100, Duration.ofSeconds(30), 1 << 20);
  }

  public static ClientConnectionOptions clientOptions(InetSocketAddress server, Duration idle,
      long streamWindow) {
    return new ClientConnectionOptions("127.0.0.1", server.getPort(), "localhost", "h3",
        TestTls.get().trustManager(), Duration.ofSeconds(10), idle, streamWindow,
        streamWindow * 10, 3, 0);
  }

  public static ClientConnectionOptions clientOptions(InetSocketAddress server) {
    return clientOptions(server, Duration.ofSeconds(30), 1 << 20);
  }

  public static QuicConnection connect(InetSocketAddress server, ConnectionHandler handler)
      throws Exception {
    return connect(clientEngine(), server, handler);
  }

  /** A connection made by {@code engine} (tests of one engine's own behaviour). */
  public static QuicConnection connect(QuicClientEngine engine, InetSocketAddress server,
      ConnectionHandler handler) throws Exception {
    return engine.connect(clientOptions(server), handler).get(15, TimeUnit.SECONDS);
  }

  /** Acceptor whose connections give every peer stream the handler made by {@code perStream}. */
  public static ConnectionAcceptor acceptor(Function<QuicStream, StreamHandler> perStream,
      CompletableFuture<ConnectionCloseInfo> closed) {
    return connection -> new ConnectionHandler() {
      @Override
      public StreamHandler onPeerStream(QuicStream stream) {
        return perStream.apply(stream);
      }

      @Override
      public void onClosed(ConnectionCloseInfo info) {
        if (closed != null) {
          closed.complete(info);
        }
      }
    };
  }

  public static ConnectionAcceptor acceptor(Function<QuicStream, StreamHandler> perStream) {
    return acceptor(perStream, null);
  }

  /** Client connection handler that records onClosed and refuses nothing. */
  public static final class ClientHandler implements ConnectionHandler {
    public final CompletableFuture<ConnectionCloseInfo> closed = new CompletableFuture<>();

    @Override
    public StreamHandler onPeerStream(QuicStream stream) {
      Recorder recorder = new Recorder(stream, false);
      stream.request(1 << 20);
      return recorder;
    }

    @Override
    public void onClosed(ConnectionCloseInfo info) {
      closed.complete(info);
    }
  }

  /** Echoes every byte back and FIN after the peer's FIN. Keeps a 256 KiB credit outstanding. */
  public static StreamHandler echo(QuicStream stream) {
    stream.request(256 * 1024);
    return new StreamHandler() {
      @Override
      public void onData(ByteBuffer data) {
        int n = data.remaining();
        stream.write(data, false);
        stream.request(n);
      }

      @Override
      public void onEndOfStream() {
        stream.write(ByteBuffer.allocate(0), true);
      }

      @Override
      public void onReset(long code) {
        stream.reset(0x10c);
      }

      @Override
      public void onStopSending(long code) {
        stream.reset(0x10c);
      }

      @Override
      public void onWritten(int bytes) {
      }

      @Override
      public void onConnectionClosed(ConnectionCloseInfo info) {
      }
    };
  }

  /**
   * Records what a stream receives. With {@code keepReading} it re-requests what it got (bulk
   * transfers); otherwise it keeps the bytes for inspection.
   */
  public static class Recorder implements StreamHandler {
    public volatile QuicStream stream;
    public final boolean keepReading;
    public final ByteArrayOutputStream data = new ByteArrayOutputStream();
    public final AtomicLong received = new AtomicLong();
    public final AtomicLong checksum = new AtomicLong();
    public final AtomicLong written = new AtomicLong();
    public final AtomicInteger overlaps = new AtomicInteger();
    public final AtomicInteger inside = new AtomicInteger();
    public final CompletableFuture<Void> endOfStream = new CompletableFuture<>();
    public final CompletableFuture<Long> reset = new CompletableFuture<>();
    public final CompletableFuture<Long> stopSending = new CompletableFuture<>();
    public final CompletableFuture<ConnectionCloseInfo> connectionClosed = new CompletableFuture<>();

    public Recorder(QuicStream stream, boolean keepReading) {
      this.stream = stream;
      this.keepReading = keepReading;
    }

    private void enter() {
      if (inside.incrementAndGet() != 1) {
        overlaps.incrementAndGet();
      }
    }

    private void leave() {
      inside.decrementAndGet();
    }

    @Override
    public void onData(ByteBuffer buffer) {
      enter();
      try {
        int n = buffer.remaining();
        long sum = checksum.get();
        for (int i = buffer.position(); i < buffer.limit(); i++) {
          sum = sum * 31 + buffer.get(i);
        }
        checksum.set(sum);
        if (keepReading) {
          stream.request(n);
        } else {
          synchronized (data) {
            data.write(buffer.array(), buffer.arrayOffset() + buffer.position(), n);
          }
        }
        received.addAndGet(n);
      } finally {
        leave();
      }
    }

    public byte[] bytes() {
      synchronized (data) {
        return data.toByteArray();
      }
    }

    @Override
    public void onEndOfStream() {
      enter();
      endOfStream.complete(null);
      leave();
    }

    @Override
    public void onReset(long applicationErrorCode) {
      enter();
      reset.complete(applicationErrorCode);
      leave();
    }

    @Override
    public void onStopSending(long applicationErrorCode) {
      enter();
      stopSending.complete(applicationErrorCode);
      leave();
    }

    @Override
    public void onWritten(int bytes) {
      enter();
      written.addAndGet(bytes);
      leave();
    }

    @Override
    public void onConnectionClosed(ConnectionCloseInfo info) {
      enter();
      connectionClosed.complete(info);
      leave();
    }
  }

  /** A pattern that makes misordered or lost bytes visible in the checksum. */
  public static ByteBuffer pattern(int offset, int length) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) ((offset + i) * 7 + ((offset + i) >>> 11));
    }
    return ByteBuffer.wrap(bytes);
  }

  public static long checksumOf(long total, int chunk) {
    long sum = 0;
    for (long off = 0; off < total; off += chunk) {
      ByteBuffer b = pattern((int) off, (int) Math.min(chunk, total - off));
      for (int i = 0; i < b.limit(); i++) {
        sum = sum * 31 + b.get(i);
      }
    }
    return sum;
  }
}
