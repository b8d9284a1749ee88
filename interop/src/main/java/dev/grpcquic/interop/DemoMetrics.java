package dev.grpcquic.interop;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicServerBuilder;
import io.grpc.opentelemetry.GrpcOpenTelemetry;
import io.opentelemetry.exporter.prometheus.PrometheusHttpServer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * The demo's metrics: an OpenTelemetry SDK whose only reader is a Prometheus scrape endpoint on
 * 127.0.0.1, fed by the QUIC transport's instruments ({@code openTelemetry(...)} on both builders)
 * and by grpc-java's per-call instruments ({@link GrpcOpenTelemetry}). Printing at exit is one
 * scrape of that endpoint.
 */
final class DemoMetrics implements AutoCloseable {
  private final PrometheusHttpServer prometheus;
  private final OpenTelemetrySdk sdk;
  private final GrpcOpenTelemetry grpc;
  private final int port;

  /** Serves /metrics on 127.0.0.1:port (0 picks a free port). */
  DemoMetrics(int port) throws IOException {
    if (port == 0) {
      // The exporter does not tell the port it bound: pick a free one first.
      try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1,
          java.net.InetAddress.getLoopbackAddress())) {
        port = probe.getLocalPort();
      }
    }
    this.port = port;
    prometheus = PrometheusHttpServer.builder().setHost("127.0.0.1").setPort(port).build();
    sdk = OpenTelemetrySdk.builder()
        .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(prometheus).build())
        .build();
    grpc = GrpcOpenTelemetry.newBuilder().sdk(sdk).build();
  }

  QuicServerBuilder configure(QuicServerBuilder builder) {
    grpc.configureServerBuilder(builder);
    return builder.openTelemetry(sdk);
  }

  QuicChannelBuilder configure(QuicChannelBuilder builder) {
    grpc.configureChannelBuilder(builder);
    return builder.openTelemetry(sdk);
  }

  String url() {
    return "http://127.0.0.1:" + port + "/metrics";
  }

  /** One scrape, as Prometheus would see it. */
  String scrape() throws IOException, InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    return http.send(HttpRequest.newBuilder(URI.create(url())).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Override
  public void close() {
    sdk.close(); // closes the meter provider and with it the HTTP server
  }
}
