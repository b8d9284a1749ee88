package dev.grpcquic.fallback;

import dev.grpcquic.transport.TransportKeys;
import io.grpc.Attributes;
import io.grpc.Compressor;
import io.grpc.Deadline;
import io.grpc.DecompressorRegistry;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.internal.ClientStream;
import io.grpc.internal.ClientStreamListener;
import io.grpc.internal.InsightBuilder;
import java.io.InputStream;
import java.util.function.Consumer;

/**
 * A call's stream on a "QUIC preferred" channel: tells the call which protocol carries it
 * ({@link TransportKeys#TRANSPORT_PROTOCOL}) and, on HTTP/2, hands each {@code alt-svc} response
 * header to the transport.
 */
final class ProtocolClientStream implements ClientStream {
  private final ClientStream delegate;
  private final WireProtocol protocol;
  private final Consumer<String> altSvcListener;

  /** @param altSvcListener told of each {@code alt-svc} value received; null to ignore them */
  ProtocolClientStream(ClientStream delegate, WireProtocol protocol,
      Consumer<String> altSvcListener) {
    this.delegate = delegate;
    this.protocol = protocol;
    this.altSvcListener = altSvcListener;
  }

  @Override
  public Attributes getAttributes() {
    return delegate.getAttributes().toBuilder()
        .set(TransportKeys.TRANSPORT_PROTOCOL, protocol.alpn)
        .build();
  }

  @Override
  public void start(ClientStreamListener listener) {
    if (altSvcListener == null) {
      delegate.start(listener);
      return;
    }
    delegate.start(new ClientStreamListener() {
      @Override
      public void headersRead(Metadata headers) {
        observe(headers);
        listener.headersRead(headers);
      }

      @Override
      public void closed(Status status, RpcProgress rpcProgress, Metadata trailers) {
        observe(trailers); // a trailers-only response carries it here
        listener.closed(status, rpcProgress, trailers);
      }

      @Override
      public void messagesAvailable(MessageProducer producer) {
        listener.messagesAvailable(producer);
      }

      @Override
      public void onReady() {
        listener.onReady();
      }
    });
  }

  private void observe(Metadata headers) {
    if (headers == null) {
      return;
    }
    String value = headers.get(AltSvc.HEADER);
    if (value != null) {
      altSvcListener.accept(value);
    }
  }

  @Override
  public void cancel(Status reason) {
    delegate.cancel(reason);
  }

  @Override
  public void halfClose() {
    delegate.halfClose();
  }

  @Override
  public void setAuthority(String authority) {
    delegate.setAuthority(authority);
  }

  @Override
  public void setFullStreamDecompression(boolean fullStreamDecompression) {
    delegate.setFullStreamDecompression(fullStreamDecompression);
  }

  @Override
  public void setDecompressorRegistry(DecompressorRegistry decompressorRegistry) {
    delegate.setDecompressorRegistry(decompressorRegistry);
  }

  @Override
  public void setMaxInboundMessageSize(int maxSize) {
    delegate.setMaxInboundMessageSize(maxSize);
  }

  @Override
  public void setMaxOutboundMessageSize(int maxSize) {
    delegate.setMaxOutboundMessageSize(maxSize);
  }

  @Override
  public void setDeadline(Deadline deadline) {
    delegate.setDeadline(deadline);
  }

  @Override
  public void appendTimeoutInsight(InsightBuilder insight) {
    insight.appendKeyValue("protocol", protocol.alpn);
    delegate.appendTimeoutInsight(insight);
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
    return protocol.alpn + ":" + delegate;
  }
}
