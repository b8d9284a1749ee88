package dev.grpcquic.engine.kwik;

import java.io.InputStream;
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
 * <p>Reads kwik's private fields and calls a package-private method ({@link KwikPrivateAccess});
 * without them it does nothing, and abandoned streams shrink the window as before.
 */
final class AbandonedInputCredit {
  private static final Logger LOG = Logger.getLogger(AbandonedInputCredit.class.getName());
  private static final boolean ACTIVE = KwikPrivateAccess.ABANDONED_INPUT_CREDIT.active();

  private AbandonedInputCredit() {}

  /** Call right after kwik's {@code abortReading} on {@code in}, once per stream. */
  static void give(InputStream in) {
    if (!ACTIVE) {
      return;
    }
    try {
      if (KwikPrivateAccess.INPUT_RESET.getBoolean(in)) {
        return; // the peer's reset came first, and kwik credited the rest then
      }
      long finalSize = KwikPrivateAccess.INPUT_FINAL_SIZE.getLong(in);
      long limit = finalSize >= 0 ? finalSize : KwikPrivateAccess.INPUT_MAX_DATA_SENT.getLong(in);
      long read = ((ReceiveBuffer) KwikPrivateAccess.INPUT_RECEIVE_BUFFER.get(in)).readOffset();
      long credit = limit - read;
      if (credit > 0) {
        KwikPrivateAccess.STREAM_CREDIT_CONNECTION.invoke(
            KwikPrivateAccess.INPUT_STREAM.get(in), (int) Math.min(Integer.MAX_VALUE, credit));
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "could not credit an abandoned stream's bytes to the connection", e);
    }
  }
}
