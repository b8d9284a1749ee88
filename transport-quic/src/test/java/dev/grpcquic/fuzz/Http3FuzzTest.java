package dev.grpcquic.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzz tests (Jazzer). Under plain {@code mvn test} each method replays its seed
 * corpus in {@code src/test/resources/dev/grpcquic/fuzz/Http3FuzzTestInputs/<method>/} (regression
 * mode); with {@code JAZZER_FUZZ=1} the selected method is fuzzed for {@code maxDuration}. See
 * docs/operations.md, "Fuzzing".
 */
// Long enough for a fuzzing-mode run (maxDuration plus start-up); a regression run takes seconds.
@Timeout(600)
class Http3FuzzTest {

  @FuzzTest(maxDuration = "3m")
  void requestStreamReader(byte[] input) {
    FuzzTargets.requestStreamReader(input);
  }

  @FuzzTest(maxDuration = "3m")
  void controlStreamReader(byte[] input) {
    FuzzTargets.controlStreamReader(input);
  }

  @FuzzTest(maxDuration = "3m")
  void uniStreams(byte[] input) {
    FuzzTargets.uniStreams(input);
  }

  @FuzzTest(maxDuration = "3m")
  void http3RequestStream(byte[] input) {
    FuzzTargets.http3RequestStream(input);
  }

  @FuzzTest(maxDuration = "3m")
  void qpackDecode(byte[] input) {
    FuzzTargets.qpackDecode(input);
  }

  @FuzzTest(maxDuration = "3m")
  void huffman(byte[] input) {
    FuzzTargets.huffman(input);
  }

  @FuzzTest(maxDuration = "3m")
  void qpackRoundTrip(byte[] input) {
    FuzzTargets.qpackRoundTrip(input);
  }

  @FuzzTest(maxDuration = "3m")
  void headersToMetadata(byte[] input) {
    FuzzTargets.headersToMetadata(input);
  }

  @FuzzTest(maxDuration = "3m")
  void messageDeframer(byte[] input) {
    FuzzTargets.messageDeframer(input);
  }
}
