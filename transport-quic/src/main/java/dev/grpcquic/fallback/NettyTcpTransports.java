package dev.grpcquic.fallback;

import io.grpc.TlsChannelCredentials;
import io.grpc.internal.ClientTransportFactory;
import io.grpc.netty.InternalNettyChannelBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * grpc-netty's HTTP/2 client transports, with the QUIC channel's trust settings and limits. Always
 * TLS: a "QUIC preferred" channel never falls back to plaintext.
 */
public final class NettyTcpTransports {
  private NettyTcpTransports() {}

  /**
   * @param trustManager checks server certificates; null accepts any (the channel's insecure mode)
   * @param clientKeyManager the client certificate; null for none
   * @param keepAliveTime HTTP/2 PING interval; zero for none
   */
  public static ClientTransportFactory create(X509TrustManager trustManager,
      X509ExtendedKeyManager clientKeyManager, int maxInboundMessageSize,
      int maxInboundMetadataSize, Duration connectTimeout, Duration keepAliveTime) {
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder()
        .trustManager(trustManager != null ? trustManager : TrustEverything.INSTANCE);
    if (clientKeyManager != null) {
      tls.keyManager(clientKeyManager);
    }
    // The target is never resolved: grpc-core hands the factory resolved addresses.
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget("grpc-quic-tcp-fallback", tls.build())
        .maxInboundMessageSize(maxInboundMessageSize)
        .maxInboundMetadataSize(maxInboundMetadataSize)
        .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS,
            (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    if (!keepAliveTime.isZero()) {
      builder.keepAliveTime(keepAliveTime.toNanos(), TimeUnit.NANOSECONDS);
    }
    return InternalNettyChannelBuilder.buildTransportFactory(builder);
  }
}
