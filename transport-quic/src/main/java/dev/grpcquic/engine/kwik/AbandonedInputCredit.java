package dev.grpcquic.engine.kwik;

import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.stream.ReceiveBuffer;

/**
 * Gives the connection's receive window back what a stream's input that we abort will never
 * deliver. kwik 0.10.8's {@code abortReading} discards the stream's unread bytes and ignores later
 * ones, but credits neither to connection flow control (a peer's RESET_STREAM does credit them).
 * The peer counts them as sent, so every stream abandoned with data in flight shrinks the
 * connection window for good, and the connection stalls once it is used up:
 * {@code KwikEngineBehaviourTest} stalls a connection whose window is ten stream windows with ten
 * streams abandoned full.
 *
 * <p>The credit is the stream's whole remaining allowance: the limit last sent to the peer (or
 * the final size, when known) less what was read (reads were credited already). The peer can
 * count no more than that for the stream. What it does not send raises the connection window,
 * which lets nothing more be buffered than the stream windows allow anyway.
 *
 * <p>Reads kwik's private fields and calls a package-private method by reflection (resolved
 * once); without them it does nothing, and abandoned streams shrink the window as before.
 */
final class AbandonedInputCredit {
  private static final Logger LOG = Logger.getLogger(AbandonedInputCredit.class.getName());
  private static final Field QUIC_STREAM;
  private static final Field RECEIVE_BUFFER;
  private static final Field ADVERTISED_LIMIT;
  private static final Field FINAL_SIZE;
  private static final Field RESET;
  private static final Method CREDIT_CONNECTION;

  static {
    Field quicStream = null;
    Field receiveBuffer = null;
    Field limit = null;
    Field finalSize = null;
    Field reset = null;
    Method credit = null;
    try {
      Class<?> input = Class.forName("tech.kwik.core.stream.StreamInputStreamImpl");
      quicStream = accessible(input.getDeclaredField("quicStream"));
      receiveBuffer = accessible(input.getDeclaredField("receiveBuffer"));
      limit = accessible(input.getDeclaredField("lastCommunicatedMaxData"));
      finalSize = accessible(input.getDeclaredField("finalSize"));
      reset = accessible(input.getDeclaredField("reset"));
      credit = Class.forName("tech.kwik.core.stream.QuicStreamImpl")
          .getDeclaredMethod("updateConnectionFlowControl", int.class);
      credit.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.WARNING, "kwik's stream flow control is not reachable: streams abandoned with"
          + " data in flight will shrink the connection's receive window", e);
      quicStream = receiveBuffer = limit = finalSize = reset = null;
      credit = null;
    }
    QUIC_STREAM = quicStream;
    RECEIVE_BUFFER = receiveBuffer;
    ADVERTISED_LIMIT = limit;
    FINAL_SIZE = finalSize;
    RESET = reset;
    CREDIT_CONNECTION = credit;
  }

  private AbandonedInputCredit() {}

  private static Field accessible(Field f) {
    f.setAccessible(true);
    return f;
  }

  /** Call right after kwik's {@code abortReading} on {@code in}, once per stream. */
  static void give(InputStream in) {
    if (CREDIT_CONNECTION == null) {
      return;
    }
    try {
      if (RESET.getBoolean(in)) {
        return; // the peer's reset came first, and kwik credited the rest then
      }
      long finalSize = FINAL_SIZE.getLong(in);
      long limit = finalSize >= 0 ? finalSize : ADVERTISED_LIMIT.getLong(in);
      long read = ((ReceiveBuffer) RECEIVE_BUFFER.get(in)).readOffset();
      long credit = limit - read;
      if (credit > 0) {
        CREDIT_CONNECTION.invoke(QUIC_STREAM.get(in), (int) Math.min(Integer.MAX_VALUE, credit));
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "could not credit an abandoned stream's bytes to the connection", e);
    }
  }
}
