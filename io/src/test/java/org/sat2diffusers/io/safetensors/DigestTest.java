package org.sat2diffusers.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DigestTest {
  private static final byte[] CHECK = "123456789".getBytes(StandardCharsets.US_ASCII);

  @Test
  void knownCheckValues() {
    assertEquals("e3069283", Digest.CRC32C.of(CHECK)); // RFC 3720's CRC-32C check value
    assertEquals("15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225", Digest.SHA256.of(CHECK));
    assertEquals("00000000", Digest.CRC32C.of(new byte[0]), "leading zeros are kept");
  }

  @Test
  void runningOverPiecesEqualsAtOnce() {
    for (Digest d : Digest.values()) {
      Digest.Running running = d.start();
      running.update(CHECK, 0, 4);
      running.update(CHECK, 4, 5);
      assertEquals(d.of(CHECK), running.hex(), d.label());
    }
  }

  @Test
  void namesRoundTripAndUnknownNamesAreRefused() {
    for (Digest d : Digest.values()) {
      assertEquals(d, Digest.of(d.label()));
    }
    assertEquals(Digest.SHA256, Digest.of("SHA256"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Digest.of("md5"));
    assertTrue(e.getMessage().contains("crc32c or sha256"), e.getMessage());
  }
}
