package dev.grpcquic.bench;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * The benchmark service, with byte[] messages (no protobuf):
 * <ul>
 *   <li>{@code Unary}: answers every request with {@link #UNARY_SIZE} bytes.</li>
 *   <li>{@code Download} (server streaming): the request holds the total byte count (long) and
 *       the message size (int); the server sends messages only while the call {@code isReady()}.</li>
 *   <li>{@code Upload} (client streaming): answers with the number of bytes received (long).</li>
 *   <li>{@code Hold} (server streaming): sends nothing and never ends; the call stays open until
 *       the client cancels it. {@link #HELD} counts the open ones.</li>
 * </ul>
 */
final class BenchService {
  static final String SERVICE = "grpcquic.bench.Bench";
  static final int UNARY_SIZE = 1024;

  static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new KnownLengthStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  static final MethodDescriptor<byte[], byte[]> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<byte[], byte[]> DOWNLOAD =
      method("Download", MethodDescriptor.MethodType.SERVER_STREAMING);
  static final MethodDescriptor<byte[], byte[]> UPLOAD =
      method("Upload", MethodDescriptor.MethodType.CLIENT_STREAMING);

  static final MethodDescriptor<byte[], byte[]> HOLD =
      method("Hold", MethodDescriptor.MethodType.SERVER_STREAMING);
  /** Hold calls the server has started and not yet seen cancelled. */
  static final java.util.concurrent.atomic.AtomicInteger HELD =
      new java.util.concurrent.atomic.AtomicInteger();

  private BenchService() {}

  private static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }

  static byte[] downloadRequest(long totalBytes, int messageSize) {
    return ByteBuffer.allocate(12).putLong(totalBytes).putInt(messageSize).array();
  }

  static ServerServiceDefinition definition() {
    byte[] unaryResponse = payload(UNARY_SIZE);
    return ServerServiceDefinition.builder(SERVICE)
        .addMethod(UNARY, ServerCalls.asyncUnaryCall((request, responses) -> {
          responses.onNext(unaryResponse);
          responses.onCompleted();
        }))
        .addMethod(DOWNLOAD, ServerCalls.asyncServerStreamingCall(BenchService::download))
        .addMethod(UPLOAD, ServerCalls.asyncClientStreamingCall(BenchService::upload))
        .addMethod(HOLD, ServerCalls.asyncServerStreamingCall((request, observer) -> {
          ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) observer;
          call.setOnCancelHandler(HELD::decrementAndGet);
          HELD.incrementAndGet();
        }))
        .build();
  }

  private static StreamObserver<byte[]> upload(StreamObserver<byte[]> responses) {
    return new StreamObserver<byte[]>() {
          long received;

          @Override
          public void onNext(byte[] message) {
            received += message.length;
          }

          @Override
          public void onError(Throwable t) {
          }

          @Override
          public void onCompleted() {
            responses.onNext(ByteBuffer.allocate(8).putLong(received).array());
            responses.onCompleted();
          }
        };
  }

  /** Sends while the call is ready; the on-ready handler resumes. Both run serialized by grpc. */
  private static void download(byte[] request, StreamObserver<byte[]> observer) {
    ByteBuffer parsed = ByteBuffer.wrap(request);
    long total = parsed.getLong();
    int size = parsed.getInt();
    byte[] message = payload(size);
    ServerCallStreamObserver<byte[]> responses = (ServerCallStreamObserver<byte[]>) observer;
    Runnable drain = new Runnable() {
      long sent;
      boolean done;

      @Override
      public void run() {
        while (!done && sent < total && responses.isReady()) {
          int n = (int) Math.min(size, total - sent);
          responses.onNext(n == size ? message : java.util.Arrays.copyOf(message, n));
          sent += n;
        }
        if (!done && sent >= total) {
          done = true;
          responses.onCompleted();
        }
      }
    };
    responses.setOnCancelHandler(() -> { });
    responses.setOnReadyHandler(drain);
    drain.run();
  }

  static byte[] payload(int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (i * 31 + 7);
    }
    return bytes;
  }

  /** Lets grpc size the message without copying it through a buffer first. */
  private static final class KnownLengthStream extends ByteArrayInputStream implements KnownLength {
    KnownLengthStream(byte[] bytes) {
      super(bytes);
    }
  }
}
