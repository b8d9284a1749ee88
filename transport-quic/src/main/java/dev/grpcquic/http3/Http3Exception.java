package dev.grpcquic.http3;

/**
 * An HTTP/3 protocol error with its code and its scope: a stream error resets one stream
 * (RESET_STREAM/STOP_SENDING), a connection error closes the whole connection (CONNECTION_CLOSE).
 */
public final class Http3Exception extends Exception {

  private static final long serialVersionUID = 1L;

  private final long errorCode;
  private final boolean connectionError;

  private Http3Exception(long errorCode, boolean connectionError, String message) {
    super(Http3ErrorCode.name(errorCode) + ": " + message);
    this.errorCode = errorCode;
    this.connectionError = connectionError;
  }

  public static Http3Exception stream(long errorCode, String message) {
    return new Http3Exception(errorCode, false, message);
  }

  public static Http3Exception connection(long errorCode, String message) {
    return new Http3Exception(errorCode, true, message);
  }

  public long errorCode() {
    return errorCode;
  }

  public boolean isConnectionError() {
    return connectionError;
  }
}
