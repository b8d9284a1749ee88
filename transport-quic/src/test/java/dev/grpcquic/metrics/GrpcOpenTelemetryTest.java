package dev.grpcquic.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.opentelemetry.GrpcOpenTelemetry;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * grpc-java's own OpenTelemetry module on QUIC channels and servers, unchanged: its per-call
 * instruments (started counts, attempt and call durations, message sizes) are recorded for a
 * unary, a failing unary and a server-streaming call, with the method and status attributes.
 */
@Timeout(120)
class GrpcOpenTelemetryTest {
  private static final AttributeKey<String> METHOD = AttributeKey.stringKey("grpc.method");
  private static final AttributeKey<String> STATUS = AttributeKey.stringKey("grpc.status");
  private static final AttributeKey<String> TARGET = AttributeKey.stringKey("grpc.target");

  // grpc-opentelemetry records a method's name only for methods of generated code (sampled to
  // local tracing); others count as "other".
  private static final MethodDescriptor<byte[], byte[]> UNARY =
      TestService.ECHO.toBuilder().setFullMethodName("otel.Test/Unary")
          .setSampledToLocalTracing(true).build();
  private static final MethodDescriptor<byte[], byte[]> STREAM =
      TestService.DOWNLOAD.toBuilder().setFullMethodName("otel.Test/Stream")
          .setSampledToLocalTracing(true).build();
  private static final int REQUEST_BYTES = 100;
  private static final int STREAM_MESSAGES = 3;
  private static final int STREAM_MESSAGE_BYTES = 1000;

  @Test
  void perCallInstrumentsAreRecordedOverQuic() throws Exception {
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
        .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
        .build();
    GrpcOpenTelemetry otel = GrpcOpenTelemetry.newBuilder().sdk(sdk).build();
    try (QuicTestServer server = new QuicTestServer(b -> {
      otel.configureServerBuilder(b);
      return b.addService(service());
    })) {
      io.grpc.ManagedChannelBuilder<?> builder = server.channelBuilder();
      otel.configureChannelBuilder(builder);
      ManagedChannel channel = server.track(builder.build());

      byte[] reply = ClientCalls.blockingUnaryCall(channel, UNARY, options(),
          new byte[REQUEST_BYTES]);
      assertArrayEquals(new byte[REQUEST_BYTES], reply);
      StatusRuntimeException failed = assertThrows(StatusRuntimeException.class,
          () -> ClientCalls.blockingUnaryCall(channel, UNARY, options(), new byte[0]));
      assertEquals(Status.Code.INVALID_ARGUMENT, failed.getStatus().getCode());
      Iterator<byte[]> messages = ClientCalls.blockingServerStreamingCall(channel, STREAM,
          options(), new byte[] {STREAM_MESSAGES});
      int received = 0;
      while (messages.hasNext()) {
        assertEquals(STREAM_MESSAGE_BYTES, messages.next().length);
        received++;
      }
      assertEquals(STREAM_MESSAGES, received);

      // The server records a call when its stream closes, which may come just after the client
      // saw the trailers: wait for the three calls (bounded by the test's timeout).
      Collection<MetricData> metrics = reader.collectAllMetrics();
      while (histogramCount(metrics, "grpc.server.call.duration") < 3) {
        if (Thread.interrupted()) {
          throw new AssertionError("the server recorded fewer than 3 calls");
        }
        java.util.concurrent.locks.LockSupport.parkNanos(5_000_000); // polls, sparing the CPU
        metrics = reader.collectAllMetrics();
      }

      String unary = UNARY.getFullMethodName();
      String stream = STREAM.getFullMethodName();
      // Client side.
      assertEquals(2, counter(metrics, "grpc.client.attempt.started", Attributes.of(METHOD, unary,
          TARGET, targetOf(metrics))));
      assertEquals(1, counter(metrics, "grpc.client.attempt.started", Attributes.of(METHOD, stream,
          TARGET, targetOf(metrics))));
      HistogramPointData attempt = histogram(metrics, "grpc.client.attempt.duration",
          unary, "OK");
      assertEquals(1, attempt.getCount());
      assertEquals(1, histogram(metrics, "grpc.client.attempt.duration", unary,
          "INVALID_ARGUMENT").getCount());
      assertEquals(1, histogram(metrics, "grpc.client.attempt.duration", stream, "OK").getCount());
      assertEquals(1, histogram(metrics, "grpc.client.call.duration", unary, "OK").getCount());
      assertEquals(REQUEST_BYTES, histogram(metrics,
          "grpc.client.attempt.sent_total_compressed_message_size", unary, "OK").getSum());
      assertEquals(REQUEST_BYTES, histogram(metrics,
          "grpc.client.attempt.rcvd_total_compressed_message_size", unary, "OK").getSum());
      assertEquals(STREAM_MESSAGES * STREAM_MESSAGE_BYTES, histogram(metrics,
          "grpc.client.attempt.rcvd_total_compressed_message_size", stream, "OK").getSum());
      // Server side.
      assertEquals(2, counter(metrics, "grpc.server.call.started", Attributes.of(METHOD, unary)));
      assertEquals(1, counter(metrics, "grpc.server.call.started", Attributes.of(METHOD, stream)));
      assertEquals(1, histogram(metrics, "grpc.server.call.duration", unary, "OK").getCount());
      assertEquals(1, histogram(metrics, "grpc.server.call.duration", unary,
          "INVALID_ARGUMENT").getCount());
      assertEquals(1, histogram(metrics, "grpc.server.call.duration", stream, "OK").getCount());
      assertEquals(REQUEST_BYTES, histogram(metrics,
          "grpc.server.call.rcvd_total_compressed_message_size", unary, "OK").getSum());
      assertEquals(STREAM_MESSAGES * STREAM_MESSAGE_BYTES, histogram(metrics,
          "grpc.server.call.sent_total_compressed_message_size", stream, "OK").getSum());
      // The client's attempt spans the server's call: its duration cannot be shorter.
      assertEquals(true, attempt.getSum() >= histogram(metrics, "grpc.server.call.duration",
          unary, "OK").getSum());
    } finally {
      sdk.close();
    }
  }

  private static CallOptions options() {
    return CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** Unary: echoes a non-empty request, fails an empty one. Stream: n messages of 1000 bytes. */
  private static ServerServiceDefinition service() {
    return ServerServiceDefinition.builder("otel.Test")
        .addMethod(UNARY, ServerCalls.asyncUnaryCall((request, response) -> {
          if (request.length == 0) {
            response.onError(Status.INVALID_ARGUMENT.withDescription("empty").asRuntimeException());
            return;
          }
          response.onNext(request);
          response.onCompleted();
        }))
        .addMethod(STREAM, ServerCalls.asyncServerStreamingCall((request, response) -> {
          for (int i = 0; i < request[0]; i++) {
            response.onNext(new byte[STREAM_MESSAGE_BYTES]);
          }
          response.onCompleted();
        }))
        .build();
  }

  private static String targetOf(Collection<MetricData> metrics) {
    for (MetricData m : metrics) {
      if (m.getName().equals("grpc.client.attempt.started")) {
        for (LongPointData p : m.getLongSumData().getPoints()) {
          String target = p.getAttributes().get(TARGET);
          assertNotNull(target, "no grpc.target on " + p);
          return target;
        }
      }
    }
    throw new AssertionError("no grpc.client.attempt.started in " + names(metrics));
  }

  private static long counter(Collection<MetricData> metrics, String name, Attributes attributes) {
    for (MetricData m : metrics) {
      if (m.getName().equals(name)) {
        for (LongPointData p : m.getLongSumData().getPoints()) {
          if (p.getAttributes().equals(attributes)) {
            return p.getValue();
          }
        }
        throw new AssertionError(name + " has no point " + attributes + ": "
            + m.getLongSumData().getPoints());
      }
    }
    throw new AssertionError("no " + name + " in " + names(metrics));
  }

  private static HistogramPointData histogram(Collection<MetricData> metrics, String name,
      String method, String status) {
    for (MetricData m : metrics) {
      if (m.getName().equals(name)) {
        for (HistogramPointData p : m.getHistogramData().getPoints()) {
          if (method.equals(p.getAttributes().get(METHOD))
              && status.equals(p.getAttributes().get(STATUS))) {
            return p;
          }
        }
        throw new AssertionError(name + " has no point for " + method + " " + status + ": "
            + m.getHistogramData().getPoints());
      }
    }
    throw new AssertionError("no " + name + " in " + names(metrics));
  }

  private static long histogramCount(Collection<MetricData> metrics, String name) {
    long count = 0;
    for (MetricData m : metrics) {
      if (m.getName().equals(name)) {
        for (HistogramPointData p : m.getHistogramData().getPoints()) {
          count += p.getCount();
        }
      }
    }
    return count;
  }

  private static List<String> names(Collection<MetricData> metrics) {
    List<String> names = new ArrayList<>();
    for (MetricData m : metrics) {
      names.add(m.getName());
    }
    return names;
  }
}
