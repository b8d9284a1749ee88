package dev.grpcquic.fallback;

import io.grpc.Attributes;
import io.grpc.Compressor;
import io.grpc.Decompressor;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.internal.ServerStream;
import io.grpc.internal.ServerStreamListener;
import io.grpc.internal.StatsTraceContext;
import java.io.InputStream;

/**
 * A server stream of the HTTP/2 side that adds {@code alt-svc} to its response headers, or to its
 * trailers when the response is trailers-only (they are then the response's only HEADERS frame).
 * It sits under grpc-core's server call, so every response carries it whatever the application's
 * interceptors do, and the QUIC side's responses never do.
 */
final class AltSvcServerStream implements ServerStream {
  private final ServerStream delegate;
  private final String altSvc;
  private volatile boolean headersSent;

  AltSvcServerStream(ServerStream delegate, String altSvc) {
    this.delegate = delegate;
    this.altSvc = altSvc;
  }

  @Override
  public void writeHeaders(Metadata headers, boolean flush) {
    headersSent = true;
    add(headers);
    delegate.writeHeaders(headers, flush);
  }

  @Override
  public void close(Status status, Metadata trailers) {
    if (!headersSent) {
      add(trailers);
    }
    delegate.close(status, trailers);
  }

  private void add(Metadata headers) {
    if (!headers.containsKey(AltSvc.HEADER)) {
      headers.put(AltSvc.HEADER, altSvc);
    }
  }

  @Override
  public void cancel(Status status) {
    delegate.cancel(status);
  }

  @Override
  public void setDecompressor(Decompressor decompressor) {
    delegate.setDecompressor(decompressor);
  }

  @Override
  public Attributes getAttributes() {
    return delegate.getAttributes();
  }

  @Override
  public String getAuthority() {
    return delegate.getAuthority();
  }

  @Override
  public void setListener(ServerStreamListener listener) {
    delegate.setListener(listener);
  }

  @Override
  public void triggerEvent(Object event) {
    delegate.triggerEvent(event);
  }

  @Override
  public StatsTraceContext statsTraceContext() {
    return delegate.statsTraceContext();
  }

  @Override
  public int streamId() {
    return delegate.streamId();
  }

  @Override
  public void setOnReadyThreshold(int numBytes) {
    delegate.setOnReadyThreshold(numBytes);
  }

  @Override
  public void request(int numMessages) {
    delegate.request(numMessages);
  }

  @Override
  public void writeMessage(InputStream message) {
    delegate.writeMessage(message);
  }

  @Override
  public void flush() {
    delegate.flush();
  }

  @Override
  public boolean isReady() {
    return delegate.isReady();
  }

  @Override
  public void optimizeForDirectExecutor() {
    delegate.optimizeForDirectExecutor();
  }

  @Override
  public void setCompressor(Compressor compressor) {
    delegate.setCompressor(compressor);
  }

  @Override
  public void setMessageCompression(boolean enable) {
    delegate.setMessageCompression(enable);
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
