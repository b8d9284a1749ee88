package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.http3.Http3ErrorCode;
import io.grpc.Status;

/** gRPC over HTTP/3 (proposal G2): which gRPC status an HTTP/3 error code means, and back. */
final class Http3Errors {
  private Http3Errors() {}

  /** The status of a call whose stream the server reset with {@code code} (-1: code unknown). */
  static Status statusForServerReset(long code) {
    if (code < 0) {
      // Code unknown (engine without it): a server resets a call it cancelled.
      return Status.CANCELLED.withDescription("stream reset by server");
    }
    return statusForCode(code).augmentDescription(
        "stream reset by server with " + Http3ErrorCode.name(code));
  }

  /** G2's table: an HTTP/3 error code as a gRPC status. */
  static Status statusForCode(long code) {
    if (code == Http3ErrorCode.H3_NO_ERROR) {
      return Status.INTERNAL;
    } else if (code == Http3ErrorCode.H3_EXCESSIVE_LOAD) {
      return Status.RESOURCE_EXHAUSTED;
    } else if (code == Http3ErrorCode.H3_REQUEST_REJECTED) {
      return Status.UNAVAILABLE;
    } else if (code == Http3ErrorCode.H3_REQUEST_CANCELLED) {
      return Status.CANCELLED;
    }
    return Status.INTERNAL;
  }

  /** The HTTP/3 code with which a server resets a call that ends with {@code status}. */
  static long codeForStatus(Status status) {
    switch (status.getCode()) {
      case RESOURCE_EXHAUSTED:
        return Http3ErrorCode.H3_EXCESSIVE_LOAD;
      case UNAVAILABLE:
        return Http3ErrorCode.H3_REQUEST_REJECTED;
      case INTERNAL:
      case UNKNOWN:
        return Http3ErrorCode.H3_INTERNAL_ERROR;
      default:
        return Http3ErrorCode.H3_REQUEST_CANCELLED;
    }
  }

  /** QUIC's CONNECTION_REFUSED: what our servers answer a new connection while they drain. */
  private static final long CONNECTION_REFUSED = 0x2;

  /** The server refused the connection (CONNECTION_REFUSED): it processed nothing on it. */
  static boolean isRefusal(ConnectionCloseInfo info) {
    return info.byPeer() && info.transportErrorCode() == CONNECTION_REFUSED;
  }

  /** Calls on a connection that ended fail UNAVAILABLE, with the reason. */
  static Status statusForConnectionClose(ConnectionCloseInfo info) {
    if (isRefusal(info)) {
      // Reads like a network fault otherwise; it is the server's shutdown() at work.
      return Status.UNAVAILABLE.withDescription("the server refused the QUIC connection: it is"
          + " shutting down (draining), try another server [" + info + "]");
    }
    return Status.UNAVAILABLE.withDescription("QUIC connection closed: " + info);
  }
}
