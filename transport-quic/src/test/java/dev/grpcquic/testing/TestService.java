package dev.grpcquic.testing;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ForwardingServerCall;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A service for transport tests, on raw bytes (no generated code): one method per call kind and
 * a few that misbehave on purpose. Server-side observations (cancellations, bytes received) are
 * exposed for assertions.
 */
public final class TestService {
  public static final String SERVICE = "grpcquic.test.TestService";

  /** Messages are their own bytes. */
  public static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw Status.INTERNAL.withCause(e).asRuntimeException();
      }
    }
  };

  public static final MethodDescriptor<byte[], byte[]> ECHO = method("Echo",
      MethodDescriptor.MethodType.UNARY);
  /** Request: int count, int size. Response: count messages of size bytes. */
  public static final MethodDescriptor<byte[], byte[]> DOWNLOAD = method("Download",
      MethodDescriptor.MethodType.SERVER_STREAMING);
  /** Request: int count, int interval in ms. Response: count 8-byte messages, one per interval. */
  public static final MethodDescriptor<byte[], byte[]> TICKS = method("Ticks",
      MethodDescriptor.MethodType.SERVER_STREAMING);
  /** Requests of any size; response: 8-byte total of bytes received. */
  public static final MethodDescriptor<byte[], byte[]> UPLOAD = method("Upload",
      MethodDescriptor.MethodType.CLIENT_STREAMING);
  /** Echoes every message. */
  public static final MethodDescriptor<byte[], byte[]> PING_PONG = method("PingPong",
      MethodDescriptor.MethodType.BIDI_STREAMING);
  /**
   * Client streaming; the server asks for no message until a test does ({@link #sinkCalls}), then
   * answers with the 8-byte total it received when the client half-closes.
   */
  public static final MethodDescriptor<byte[], byte[]> SINK = method("Sink",
      MethodDescriptor.MethodType.CLIENT_STREAMING);
  /** Never answers; records the server's view of the call's end. */
  public static final MethodDescriptor<byte[], byte[]> HANG = method("Hang",
      MethodDescriptor.MethodType.UNARY);
  /** Request: 1 byte status code, then UTF-8 message. Fails with that status. */
  public static final MethodDescriptor<byte[], byte[]> FAIL = method("Fail",
      MethodDescriptor.MethodType.UNARY);

  /** Keys the Echo method copies from request headers into response headers and trailers. */
  public static final Metadata.Key<String> ECHO_TEXT_KEY =
      Metadata.Key.of("x-echo-text", Metadata.ASCII_STRING_MARSHALLER);
  public static final Metadata.Key<byte[]> ECHO_BIN_KEY =
      Metadata.Key.of("x-echo-bin", Metadata.BINARY_BYTE_MARSHALLER);

  /** Cancellation causes of HANG calls, as the server saw them. */
  public final LinkedBlockingQueue<Status> hangEnded = new LinkedBlockingQueue<>();
  /** Counts down when a HANG call arrives. */
  public volatile CountDownLatch hangStarted = new CountDownLatch(1);
  public final AtomicLong uploadedBytes = new AtomicLong();
  /** SINK calls as they arrive: a test decides when (and whether) the server reads. */
  public final LinkedBlockingQueue<ServerCall<byte[], byte[]>> sinkCalls =
      new LinkedBlockingQueue<>();
  /** SINK calls whose cancellation the server saw. */
  public final LinkedBlockingQueue<ServerCall<byte[], byte[]>> sinkCancelled =
      new LinkedBlockingQueue<>();
  /** How many messages a DOWNLOAD had sent each time the transport stopped it (isReady false). */
  public final LinkedBlockingQueue<Integer> downloadBlockedAt = new LinkedBlockingQueue<>();

  public ServerServiceDefinition definition() {
    return ServerInterceptors.intercept(methods(), new EchoMetadata());
  }

  /** Copies the x-echo-* request headers into the response headers and the trailers. */
  private static final class EchoMetadata implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
        Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      Metadata echo = new Metadata();
      if (headers.containsKey(ECHO_TEXT_KEY)) {
        echo.put(ECHO_TEXT_KEY, headers.get(ECHO_TEXT_KEY));
      }
      if (headers.containsKey(ECHO_BIN_KEY)) {
        for (byte[] value : headers.getAll(ECHO_BIN_KEY)) {
          echo.put(ECHO_BIN_KEY, value);
        }
      }
      return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
        @Override
        public void sendHeaders(Metadata responseHeaders) {
          responseHeaders.merge(echo);
          super.sendHeaders(responseHeaders);
        }

        @Override
        public void close(Status status, Metadata trailers) {
          trailers.merge(echo);
          super.close(status, trailers);
        }
      }, headers);
    }
  }

  private ServerServiceDefinition methods() {
    return ServerServiceDefinition.builder(SERVICE)
        .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, obs) -> {
          obs.onNext(req);
          obs.onCompleted();
        }))
        .addMethod(DOWNLOAD, ServerCalls.asyncServerStreamingCall(this::download))
        .addMethod(UPLOAD, ServerCalls.asyncClientStreamingCall(this::upload))
        .addMethod(TICKS, ServerCalls.asyncServerStreamingCall(this::ticks))
        .addMethod(SINK, this::sink)
        .addMethod(PING_PONG, ServerCalls.<byte[], byte[]>asyncBidiStreamingCall(obs -> new StreamObserver<byte[]>() {
          @Override
          public void onNext(byte[] value) {
            obs.onNext(value);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            obs.onCompleted();
          }
        }))
        .addMethod(HANG, ServerCalls.asyncUnaryCall((req, obs) -> {
          Context context = Context.current();
          context.addListener(c -> hangEnded.add(Contexts.statusFromCancelled(c)),
              Runnable::run);
          hangStarted.countDown();
        }))
        .addMethod(FAIL, ServerCalls.asyncUnaryCall((req, obs) -> {
          Status status = Status.fromCodeValue(req[0])
              .withDescription(new String(req, 1, req.length - 1, StandardCharsets.UTF_8));
          obs.onError(status.asRuntimeException());
        }))
        .build();
  }

  /** The server half of DOWNLOAD, flow controlled: it sends only while the client can take more. */
  private void download(byte[] request, StreamObserver<byte[]> observer) {
    ByteBuffer args = ByteBuffer.wrap(request);
    int count = args.getInt();
    int size = args.getInt();
    ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) observer;
    byte[] message = new byte[size];
    int[] sent = {0};
    call.setOnReadyHandler(() -> {
      while (call.isReady() && sent[0] < count && !call.isCancelled()) {
        message[0] = (byte) sent[0];
        call.onNext(message);
        sent[0]++;
      }
      if (!call.isReady() && sent[0] < count) {
        downloadBlockedAt.add(sent[0]);
      }
      if (sent[0] == count && !call.isCancelled()) {
        sent[0]++;
        call.onCompleted();
      }
    });
  }

  /** The server half of SINK: no request(n) here, so nothing is read until a test asks. */
  private ServerCall.Listener<byte[]> sink(ServerCall<byte[], byte[]> call, Metadata headers) {
    long[] total = {0};
    sinkCalls.add(call);
    return new ServerCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        total[0] += message.length;
        call.request(1);
      }

      @Override
      public void onCancel() {
        sinkCancelled.add(call);
      }

      @Override
      public void onHalfClose() {
        call.sendHeaders(new Metadata());
        call.sendMessage(ByteBuffer.allocate(8).putLong(total[0]).array());
        call.close(Status.OK, new Metadata());
      }
    };
  }

  private static final java.util.concurrent.ScheduledExecutorService TICKER =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "test-service-ticker");
        thread.setDaemon(true);
        return thread;
      });

  /** The server half of TICKS: message i carries i; sent on a fixed-rate timer. */
  private void ticks(byte[] request, StreamObserver<byte[]> observer) {
    ByteBuffer args = ByteBuffer.wrap(request);
    int count = args.getInt();
    int intervalMillis = args.getInt();
    ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) observer;
    long[] sent = {0};
    java.util.concurrent.ScheduledFuture<?>[] task = {null};
    Runnable tick = () -> {
      synchronized (sent) {
        if (call.isCancelled() || sent[0] > count) {
          task[0].cancel(false);
          return;
        }
        if (sent[0] == count) {
          sent[0]++;
          call.onCompleted();
          task[0].cancel(false);
          return;
        }
        call.onNext(ByteBuffer.allocate(8).putLong(sent[0]++).array());
      }
    };
    synchronized (sent) {
      task[0] = TICKER.scheduleAtFixedRate(tick, 0, intervalMillis,
          java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }

  public static byte[] ticksRequest(int count, int intervalMillis) {
    return ByteBuffer.allocate(8).putInt(count).putInt(intervalMillis).array();
  }

  private StreamObserver<byte[]> upload(StreamObserver<byte[]> observer) {
    return new StreamObserver<>() {
      long total;

      @Override
      public void onNext(byte[] value) {
        total += value.length;
        uploadedBytes.addAndGet(value.length);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        observer.onNext(ByteBuffer.allocate(8).putLong(total).array());
        observer.onCompleted();
      }
    };
  }

  /**
   * Starts a HANG call (request sent, half-closed) in the current Context; the future completes
   * with the status the client sees when the call ends.
   */
  public static CompletableFuture<Status> startHang(Channel channel, Metadata headers) {
    CompletableFuture<Status> closed = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(HANG, CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, headers);
    call.request(1);
    call.sendMessage(new byte[0]);
    call.halfClose();
    return closed;
  }

  public static byte[] downloadRequest(int count, int size) {
    return ByteBuffer.allocate(8).putInt(count).putInt(size).array();
  }

  public static byte[] failRequest(Status.Code code, String message) {
    byte[] text = message.getBytes(StandardCharsets.UTF_8);
    byte[] request = new byte[text.length + 1];
    request[0] = (byte) code.value();
    System.arraycopy(text, 0, request, 1, text.length);
    return request;
  }

  private static MethodDescriptor<byte[], byte[]> method(String name,
      MethodDescriptor.MethodType type) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }


}
