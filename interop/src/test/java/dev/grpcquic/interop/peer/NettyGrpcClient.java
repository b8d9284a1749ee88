package dev.grpcquic.interop.peer;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3Headers;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionCloseEvent;
import io.netty.handler.codec.quic.QuicException;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.File;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC client written on Netty's HTTP/3 codec (quiche: its own QUIC, TLS and QPACK). gRPC
 * framing is done by hand: this peer shares no code with grpc-java or with our transport.
 */
final class NettyGrpcClient implements AutoCloseable {
  static final long H3_REQUEST_CANCELLED = 0x10c;

  private final EventLoopGroup group;
  private final Channel udp;
  private final QuicChannel quic;
  final CompletableFuture<QuicConnectionCloseEvent> connectionClosed = new CompletableFuture<>();

  private NettyGrpcClient(EventLoopGroup group, Channel udp, QuicChannel quic) {
    this.group = group;
    this.udp = udp;
    this.quic = quic;
  }

  /** Connects to {@code address}, verifying the server's certificate for {@code host} (SNI too). */
  static NettyGrpcClient connect(InetSocketAddress address, String host, File caPem)
      throws Exception {
    QuicSslContext ssl = QuicSslContextBuilder.forClient()
        .trustManager(caPem)
        .applicationProtocols(Http3.supportedApplicationProtocols())
        .build();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      var codec = Http3.newQuicClientCodecBuilder()
          .sslEngineProvider(q -> ssl.newEngine(q.alloc(), host, address.getPort()))
          .maxIdleTimeout(30, TimeUnit.SECONDS)
          .initialMaxData(64L << 20)
          .initialMaxStreamDataBidirectionalLocal(16L << 20)
          .initialMaxStreamDataBidirectionalRemote(16L << 20)
          .initialMaxStreamsBidirectional(100)
          .initialMaxStreamDataUnidirectional(1 << 20)
          .initialMaxStreamsUnidirectional(100)
          .build();
      Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class)
          .handler(codec).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
      CompletableFuture<QuicConnectionCloseEvent> closed = new CompletableFuture<>();
      QuicChannel quic = QuicChannel.newBootstrap(udp)
          .handler(new Http3ClientConnectionHandler())
          .streamHandler(new ChannelInboundHandlerAdapter())
          .remoteAddress(address)
          .connect().get(10, TimeUnit.SECONDS);
      quic.pipeline().addLast(new ChannelInboundHandlerAdapter() {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
          if (evt instanceof QuicConnectionCloseEvent) {
            closed.complete((QuicConnectionCloseEvent) evt);
          }
          ctx.fireUserEventTriggered(evt);
        }
      });
      NettyGrpcClient client = new NettyGrpcClient(group, udp, quic);
      closed.whenComplete((e, t) -> client.connectionClosed.complete(e));
      return client;
    } catch (Exception e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  QuicChannel quic() {
    return quic;
  }

  /** Request headers of a gRPC call to {@code path} (content-type application/grpc, te trailers). */
  static Http3Headers grpcRequest(String path) {
    Http3Headers h = new DefaultHttp3Headers();
    h.method("POST").scheme("https").authority("localhost").path(path);
    h.set("content-type", "application/grpc");
    h.set("te", "trailers");
    h.set("user-agent", "netty-http3-peer");
    return h;
  }

  /** Opens a request stream and sends {@code headers}; the call then sends and receives. */
  Call start(Http3Headers headers) throws Exception {
    return start(headers, false);
  }

  /** Opens a request stream and sends {@code headers}, with the FIN if {@code fin}. */
  Call start(Http3Headers headers, boolean fin) throws Exception {
    Call call = new Call();
    QuicStreamChannel stream = Http3.newRequestStreamBootstrap(quic, call.handler)
        .type(QuicStreamType.BIDIRECTIONAL).create().get(10, TimeUnit.SECONDS);
    call.stream = stream;
    var written = stream.writeAndFlush(new DefaultHttp3HeadersFrame(headers));
    if (fin) {
      written.addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    }
    written.sync();
    return call;
  }

  @Override
  public void close() {
    try {
      quic.close().await(5, TimeUnit.SECONDS);
      udp.close().await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }

  /** One call: what it sent, and everything the server sent back. */
  static final class Call {
    QuicStreamChannel stream;
    /** The first HEADERS (may be Trailers-Only: then it holds grpc-status). */
    final CompletableFuture<Http3Headers> headers = new CompletableFuture<>();
    /** The trailers, or the Trailers-Only headers. */
    final CompletableFuture<Http3Headers> trailers = new CompletableFuture<>();
    final BlockingQueue<byte[]> messages = new LinkedBlockingQueue<>();
    /** The code of the server's RESET_STREAM, if it sent one. */
    final CompletableFuture<Long> reset = new CompletableFuture<>();
    /** Completed when the response ended: FIN, reset, or the stream closed. The value says which. */
    final CompletableFuture<String> ended = new CompletableFuture<>();
    final List<Throwable> errors = new ArrayList<>();
    private final GrpcWire.Deframer deframer = new GrpcWire.Deframer();
    volatile int truncatedBytes;

    final Http3RequestStreamInboundHandler handler = new Http3RequestStreamInboundHandler() {
      @Override
      protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
        if (!headers.isDone()) {
          headers.complete(frame.headers());
          if (frame.headers().contains("grpc-status")) {
            trailers.complete(frame.headers());
          }
        } else {
          trailers.complete(frame.headers());
        }
      }

      @Override
      protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
        try {
          messages.addAll(deframer.add(frame.content()));
        } finally {
          frame.release();
        }
      }

      @Override
      protected void channelInputClosed(ChannelHandlerContext ctx) {
        truncatedBytes = deframer.pendingBytes();
        ended.complete("fin");
      }

      @Override
      protected void handleQuicException(ChannelHandlerContext ctx, QuicException exception) {
        if (exception instanceof QuicStreamResetException) {
          reset.complete(((QuicStreamResetException) exception).applicationProtocolCode());
          ended.complete("reset");
        } else {
          synchronized (errors) {
            errors.add(exception);
          }
        }
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof QuicStreamResetException) {
          reset.complete(((QuicStreamResetException) cause).applicationProtocolCode());
          ended.complete("reset");
          return;
        }
        synchronized (errors) {
          errors.add(cause);
        }
        super.exceptionCaught(ctx, cause);
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        ended.complete("closed");
        super.channelInactive(ctx);
      }
    };

    /** Sends one message. */
    void send(byte[] message) {
      stream.writeAndFlush(new DefaultHttp3DataFrame(GrpcWire.frame(stream.alloc(), message)))
          .addListener(this::recordFailure);
    }

    /**
     * Writes are not waited for: once the server sent STOP_SENDING (an early response), quiche
     * completes neither the write's future nor a FIN's; waiting would hang the test.
     */
    private void recordFailure(io.netty.util.concurrent.Future<?> f) {
      if (!f.isSuccess()) {
        synchronized (errors) {
          errors.add(f.cause());
        }
      }
    }

    /** Sends one message split into DATA frames of at most {@code piece} bytes. */
    void sendInPieces(byte[] message, int piece) {
      var framed = GrpcWire.frame(stream.alloc(), message);
      io.netty.channel.ChannelFuture last = null;
      try {
        while (framed.isReadable()) {
          int n = Math.min(piece, framed.readableBytes());
          last = stream.write(new DefaultHttp3DataFrame(framed.readRetainedSlice(n)));
        }
        stream.flush();
      } finally {
        framed.release();
      }
      last.addListener(this::recordFailure);
    }

    /** Ends the request (FIN), after whatever was written before. */
    void halfClose() {
      // Chained on an empty write so the FIN cannot overtake DATA still held by the codec.
      stream.writeAndFlush(new DefaultHttp3DataFrame(io.netty.buffer.Unpooled.EMPTY_BUFFER))
          .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    }

    /** Sends one message and the FIN. */
    void sendAndHalfClose(byte[] message) {
      stream.writeAndFlush(new DefaultHttp3DataFrame(GrpcWire.frame(stream.alloc(), message)))
          .addListener(this::recordFailure).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    }

    /** Cancels: RESET_STREAM and STOP_SENDING with {@code code}. */
    void cancel(long code) throws InterruptedException {
      stream.shutdown((int) code).sync();
    }

    @Override
    public String toString() {
      return "Call[headers=" + headers.getNow(null) + ", trailers=" + trailers.getNow(null)
          + ", messages=" + messages.size() + ", reset=" + reset.getNow(null) + ", ended="
          + ended.getNow(null) + ", errors=" + errors + "]";
    }

    byte[] nextMessage(long seconds) throws InterruptedException {
      return messages.poll(seconds, TimeUnit.SECONDS);
    }

    /** The trailers' grpc-status, waiting for them. */
    int status(long seconds) throws Exception {
      Http3Headers t = trailers.get(seconds, TimeUnit.SECONDS);
      CharSequence s = t.get("grpc-status");
      if (s == null) {
        throw new AssertionError("trailers without grpc-status: " + t);
      }
      return Integer.parseInt(s.toString());
    }

    /** The decoded grpc-message of the trailers, or null. */
    String message(long seconds) throws Exception {
      CharSequence m = trailers.get(seconds, TimeUnit.SECONDS).get("grpc-message");
      return m == null ? null : GrpcWire.percentDecode(m);
    }
  }
}
