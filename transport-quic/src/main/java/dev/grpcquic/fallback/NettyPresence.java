package dev.grpcquic.fallback;

/** grpc-netty is an optional dependency: the TCP options check for it before anything uses it. */
public final class NettyPresence {
  private NettyPresence() {}

  /** Throws a message that says what to add when grpc-netty is missing. */
  public static void require(String option) {
    try {
      Class.forName("io.grpc.netty.NettyServerBuilder", false, NettyPresence.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(option + " runs HTTP/2 over TCP on grpc-java's Netty"
          + " transport: add io.grpc:grpc-netty (the grpc-java version in use) to the class path",
          e);
    }
  }
}
