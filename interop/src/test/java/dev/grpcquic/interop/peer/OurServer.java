package dev.grpcquic.interop.peer;

import dev.grpcquic.QuicServerBuilder;
import io.grpc.Context;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Our QUIC gRPC server (QuicServerBuilder, real TLS on 127.0.0.1:0) with grpc.testing.SimpleService,
 * for the Netty peer client. Requests choose the behaviour:
 *
 * <ul>
 *   <li>UnaryRpc: echoes request_message; "status:CODE:MESSAGE" fails with that status; "sleep"
 *       never answers (for deadlines and cancellation).
 *   <li>ClientStreamingRpc: answers "count=N bytes=B" after the client's FIN.
 *   <li>ServerStreamingRpc: request_message N: N responses "r0".."rN-1".
 *   <li>BidiStreamingRpc: echoes each request; ends after the client's FIN.
 *   <li>Metadata: x-grpc-test-echo-initial is echoed in the headers, x-grpc-test-echo-trailing-bin
 *       in the trailers (as in gRPC's interop test server).
 *   <li>x-grpc-test-headers-first (any value): the response headers go out before the handler
 *       runs, so a call that fails without a message ends in HEADERS followed by trailing HEADERS
 *       (no DATA between them) rather than Trailers-Only.
 * </ul>
 */
final class OurServer implements AutoCloseable {
  static final Metadata.Key<String> ECHO_INITIAL =
      Metadata.Key.of("x-grpc-test-echo-initial", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<byte[]> ECHO_TRAILING_BIN =
      Metadata.Key.of("x-grpc-test-echo-trailing-bin", Metadata.BINARY_BYTE_MARSHALLER);
  static final Metadata.Key<String> HEADERS_FIRST =
      Metadata.Key.of("x-grpc-test-headers-first", Metadata.ASCII_STRING_MARSHALLER);

  final Server server;
  /** For every call the server saw cancelled: its method and the cancellation status. */
  final BlockingQueue<String> cancelled = new LinkedBlockingQueue<>();
  /** The method of every call the server started. */
  final BlockingQueue<String> started = new LinkedBlockingQueue<>();

  OurServer() throws Exception {
    server = QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .engine(TestEngines.ours())
        .useTransportSecurity(PeerCerts.serverChain(), PeerCerts.serverKey())
        .maxInboundMessageSize(16 << 20)
        .addService(ServerInterceptors.intercept(new Service(), new EchoMetadata()))
        .build()
        .start();
  }

  InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1",
        ((InetSocketAddress) server.getListenSockets().get(0)).getPort());
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }

  private final class EchoMetadata implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
        Metadata requestHeaders, ServerCallHandler<ReqT, RespT> next) {
      String method = call.getMethodDescriptor().getBareMethodName();
      started.add(method);
      ServerCall<ReqT, RespT> echoing = new SimpleForwardingServerCall<>(call) {
        boolean headersSent;

        @Override
        public void sendHeaders(Metadata headers) {
          // The stub sends headers with its first message: after headers-first, drop that second
          // call (grpc-core refuses a second sendHeaders).
          if (headersSent) {
            return;
          }
          headersSent = true;
          String initial = requestHeaders.get(ECHO_INITIAL);
          if (initial != null) {
            headers.put(ECHO_INITIAL, initial);
          }
          super.sendHeaders(headers);
        }

        @Override
        public void close(Status status, Metadata trailers) {
          byte[] trailing = requestHeaders.get(ECHO_TRAILING_BIN);
          if (trailing != null) {
            trailers.put(ECHO_TRAILING_BIN, trailing);
          }
          super.close(status, trailers);
        }
      };
      if (requestHeaders.containsKey(HEADERS_FIRST)) {
        echoing.sendHeaders(new Metadata());
      }
      return new SimpleForwardingServerCallListener<>(next.startCall(echoing, requestHeaders)) {
        @Override
        public void onCancel() {
          // grpc-core cancels the call's Context on another serializing executor than the one
          // that runs onCancel (ServerImpl.closedInternal: ContextCloser on cancelExecutor, Closed
          // on callExecutor), so the Context may not be cancelled yet here: record its status
          // once it is.
          Context.current().addListener(context -> {
            Status status = io.grpc.Contexts.statusFromCancelled(context);
            cancelled.add(method + " " + (status == null ? "(not cancelled)" : status.getCode()));
          }, Runnable::run);
          super.onCancel();
        }
      };
    }
  }

  private static SimpleResponse response(String text) {
    return SimpleResponse.newBuilder().setResponseMessage(text).build();
  }

  private static final class Service extends SimpleServiceGrpc.SimpleServiceImplBase {
    @Override
    public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
      String text = request.getRequestMessage();
      if (text.equals("sleep")) {
        return; // never answers
      }
      if (text.startsWith("status:")) {
        String[] parts = text.split(":", 3);
        out.onError(Status.fromCodeValue(Integer.parseInt(parts[1]))
            .withDescription(parts[2]).asRuntimeException());
        return;
      }
      out.onNext(response(text));
      out.onCompleted();
    }

    @Override
    public StreamObserver<SimpleRequest> clientStreamingRpc(StreamObserver<SimpleResponse> out) {
      return new StreamObserver<>() {
        int count;
        long bytes;

        @Override
        public void onNext(SimpleRequest value) {
          count++;
          bytes += value.getRequestMessage().length();
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onNext(response("count=" + count + " bytes=" + bytes));
          out.onCompleted();
        }
      };
    }

    @Override
    public void serverStreamingRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
      if (request.getRequestMessage().startsWith("big:")) {
        out.onNext(response("d".repeat(Integer.parseInt(request.getRequestMessage().substring(4)))));
        out.onCompleted();
        return;
      }
      int n = Integer.parseInt(request.getRequestMessage());
      for (int i = 0; i < n; i++) {
        out.onNext(response("r" + i));
      }
      out.onCompleted();
    }

    @Override
    public StreamObserver<SimpleRequest> bidiStreamingRpc(StreamObserver<SimpleResponse> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(SimpleRequest value) {
          out.onNext(response(value.getRequestMessage()));
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }
  }
}
