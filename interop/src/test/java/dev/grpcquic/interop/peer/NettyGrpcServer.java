package dev.grpcquic.interop.peer;

import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3Headers;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicException;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import java.io.File;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC server written on Netty's HTTP/3 codec (quiche), framing by hand, serving
 * grpc.testing.SimpleService for our QUIC client. The request header {@code x-peer-mode} picks
 * a behaviour for UnaryRpc:
 *
 * <ul>
 *   <li>(none): echo, with request headers named x-echo-* returned in headers and trailers;
 *   <li>{@code status}: headers, no message, trailers with grpc-status from x-peer-status and
 *       grpc-message = the request's request_message, percent-encoded;
 *   <li>{@code trailers-only}: at once, one HEADERS block with :status 200, grpc-status from
 *       x-peer-status, grpc-message from x-peer-message (already encoded), and FIN;
 *   <li>{@code http}: at once, :status from x-peer-status, text/plain, no grpc-status, FIN;
 *   <li>{@code sleep}: never answers.
 * </ul>
 * ClientStreamingRpc answers "count=N" at FIN; ServerStreamingRpc sends N responses for
 * request_message N; BidiStreamingRpc echoes each message and ends at FIN.
 */
final class NettyGrpcServer implements AutoCloseable {
  private final EventLoopGroup group;
  private final Channel udp;
  /** Every call the server got, in order of arrival of its headers. */
  final BlockingQueue<ServerCall> calls = new LinkedBlockingQueue<>();
  private final java.util.Set<String> resetTokens = java.util.concurrent.ConcurrentHashMap.newKeySet();

  NettyGrpcServer(File certChain, File key) throws Exception {
    this(certChain, key, null);
  }

  /** With {@code clientCa} set, the server requires a client certificate issued by it. */
  NettyGrpcServer(File certChain, File key, File clientCa) throws Exception {
    QuicSslContextBuilder tls = QuicSslContextBuilder.forServer(key, null, certChain)
        .applicationProtocols(Http3.supportedApplicationProtocols());
    if (clientCa != null) {
      tls.trustManager(clientCa).clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE);
    }
    QuicSslContext ssl = tls.build();
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    var codec = Http3.newQuicServerCodecBuilder()
        .sslContext(ssl)
        .maxIdleTimeout(30, TimeUnit.SECONDS)
        .initialMaxData(64L << 20)
        .initialMaxStreamDataBidirectionalLocal(16L << 20)
        .initialMaxStreamDataBidirectionalRemote(16L << 20)
        .initialMaxStreamsBidirectional(100)
        .handler(new ChannelInitializer<QuicChannel>() {
          @Override
          protected void initChannel(QuicChannel ch) {
            ch.pipeline().addLast(new Http3ServerConnectionHandler(
                new ChannelInitializer<QuicStreamChannel>() {
                  @Override
                  protected void initChannel(QuicStreamChannel stream) {
                    stream.pipeline().addLast(new ServerCall(stream).handler);
                  }
                }));
          }
        })
        .build();
    udp = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }

  int port() {
    return ((InetSocketAddress) udp.localAddress()).getPort();
  }

  @Override
  public void close() {
    try {
      udp.close().await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }

  private static byte[] response(String text) {
    return SimpleResponse.newBuilder().setResponseMessage(text).build().toByteArray();
  }

  /** One request stream as the peer server saw it. */
  final class ServerCall {
    final QuicStreamChannel stream;
    final CompletableFuture<Http3Headers> requestHeaders = new CompletableFuture<>();
    /** The code of the client's RESET_STREAM. */
    final CompletableFuture<Long> reset = new CompletableFuture<>();
    /** The client's FIN. */
    final CompletableFuture<Void> requestEnded = new CompletableFuture<>();
    final BlockingQueue<byte[]> messages = new LinkedBlockingQueue<>();
    private final GrpcWire.Deframer deframer = new GrpcWire.Deframer();
    private int received;
    private boolean responded;
    private boolean rejected;

    ServerCall(QuicStreamChannel stream) {
      this.stream = stream;
    }

    String path() {
      return String.valueOf(requestHeaders.getNow(new DefaultHttp3Headers()).path());
    }

    private String mode() {
      CharSequence m = requestHeaders.getNow(new DefaultHttp3Headers()).get("x-peer-mode");
      return m == null ? "" : m.toString();
    }

    private String header(String name) {
      CharSequence v = requestHeaders.getNow(new DefaultHttp3Headers()).get(name);
      return v == null ? null : v.toString();
    }

    final Http3RequestStreamInboundHandler handler = new Http3RequestStreamInboundHandler() {
      @Override
      protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
        if (requestHeaders.isDone()) {
          return; // request trailers: nothing in them for gRPC
        }
        requestHeaders.complete(frame.headers());
        calls.add(ServerCall.this);
        if (path().endsWith("/UnaryRpc")) {
          switch (mode()) {
            case "trailers-only": {
              Http3Headers h = new DefaultHttp3Headers();
              h.status("200");
              h.set("content-type", "application/grpc");
              h.set("grpc-status", header("x-peer-status"));
              if (header("x-peer-message") != null) {
                h.set("grpc-message", header("x-peer-message"));
              }
              finish(stream.writeAndFlush(new DefaultHttp3HeadersFrame(h)));
              break;
            }
            case "reset-first": {
              // The first call carrying this token is reset (both directions) with the code in
              // x-peer-status; a retry of it is answered as usual.
              if (resetTokens.add(header("x-peer-message"))) {
                rejected = true;
                stream.shutdown(Integer.decode(header("x-peer-status")));
              }
              break;
            }
            case "http": {
              Http3Headers h = new DefaultHttp3Headers();
              h.status(header("x-peer-status"));
              h.set("content-type", "text/plain");
              finish(stream.writeAndFlush(new DefaultHttp3HeadersFrame(h)));
              break;
            }
            default:
              break;
          }
        }
      }

      @Override
      protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
        try {
          for (byte[] message : deframer.add(frame.content())) {
            received++;
            messages.add(message);
            if (path().endsWith("/BidiStreamingRpc")) {
              sendHeadersOnce();
              stream.writeAndFlush(data(response(
                  SimpleRequest.parseFrom(message).getRequestMessage())));
            }
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        } finally {
          frame.release();
        }
      }

      @Override
      protected void channelInputClosed(ChannelHandlerContext ctx) throws Exception {
        requestEnded.complete(null);
        if (rejected) {
          return;
        }
        String path = path();
        if (path.endsWith("/UnaryRpc")) {
          byte[] message = messages.peek();
          String text = message == null ? "" : SimpleRequest.parseFrom(message).getRequestMessage();
          switch (mode()) {
            case "status":
              sendHeadersOnce();
              trailers(header("x-peer-status"), GrpcWire.percentEncode(text));
              return;
            case "":
            case "reset-first":
              sendHeadersOnce();
              stream.write(data(response(text)));
              trailers("0", null);
              return;
            default:
              return; // answered at the headers, or sleeping
          }
        } else if (path.endsWith("/ClientStreamingRpc")) {
          sendHeadersOnce();
          stream.write(data(response("count=" + received)));
          trailers("0", null);
        } else if (path.endsWith("/ServerStreamingRpc")) {
          int n = Integer.parseInt(
              SimpleRequest.parseFrom(messages.peek()).getRequestMessage());
          sendHeadersOnce();
          for (int i = 0; i < n; i++) {
            stream.write(data(response("r" + i)));
          }
          trailers("0", null);
        } else if (path.endsWith("/BidiStreamingRpc")) {
          sendHeadersOnce();
          trailers("0", null);
        } else {
          Http3Headers h = new DefaultHttp3Headers();
          h.status("200");
          h.set("content-type", "application/grpc");
          h.set("grpc-status", "12");
          finish(stream.writeAndFlush(new DefaultHttp3HeadersFrame(h)));
        }
      }

      @Override
      protected void handleQuicException(ChannelHandlerContext ctx, QuicException exception) {
        if (exception instanceof QuicStreamResetException) {
          reset.complete(((QuicStreamResetException) exception).applicationProtocolCode());
        }
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof QuicStreamResetException) {
          reset.complete(((QuicStreamResetException) cause).applicationProtocolCode());
          return;
        }
        super.exceptionCaught(ctx, cause);
      }
    };

    private DefaultHttp3DataFrame data(byte[] message) {
      return new DefaultHttp3DataFrame(GrpcWire.frame(stream.alloc(), message));
    }

    private void sendHeadersOnce() {
      if (responded) {
        return;
      }
      responded = true;
      Http3Headers h = new DefaultHttp3Headers();
      h.status("200");
      h.set("content-type", "application/grpc");
      for (Map.Entry<CharSequence, CharSequence> e : requestHeaders.getNow(null)) {
        if (e.getKey().toString().startsWith("x-echo-")) {
          h.add(e.getKey(), e.getValue());
        }
      }
      stream.write(new DefaultHttp3HeadersFrame(h));
    }

    private void trailers(String status, String encodedMessage) {
      Http3Headers t = new DefaultHttp3Headers();
      t.set("grpc-status", status);
      if (encodedMessage != null) {
        t.set("grpc-message", encodedMessage);
      }
      for (Map.Entry<CharSequence, CharSequence> e : requestHeaders.getNow(null)) {
        if (e.getKey().toString().startsWith("x-echo-")) {
          t.add(e.getKey(), e.getValue());
        }
      }
      finish(stream.writeAndFlush(new DefaultHttp3HeadersFrame(t)));
    }

    /** The FIN goes after the last frame, never before (shutdownOutput bypasses the codec). */
    private void finish(ChannelFuture last) {
      responded = true;
      last.addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    }
  }
}
