package org.sat2diffusers.transforms.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;

/**
 * The recomputed sincos table against SAT's own: testdata/positions/sat_sincos.json holds what SAT's
 * numpy functions (copied into make_sincos.py) and torch's casts give for three geometries, the 2B
 * fixture's, an uneven one, and CogVideoX-2B's real one (some rows). Every float32 element within 1
 * ulp (the count of exact ones is asserted too), the fp16 and bf16 casts equal.
 */
class SincosPositionTableTest {
  @Test
  void isSatsTableWithinOneUlpOfFloat32AndExactInHalfPrecision() {
    JsonNode all = Fixtures.readTree(Fixtures.testdata().resolve("positions/sat_sincos.json"));
    assertEquals(3, all.size());
    long elements = 0;
    long exact = 0;
    for (JsonNode g : all) {
      SincosPositionTable.Geometry geometry = new SincosPositionTable.Geometry(g.get("hidden").asInt(),
          g.get("height").asInt(), g.get("width").asInt(), g.get("frames").asInt(), g.get("text_length").asInt(),
          g.get("height_interpolation").asDouble(), g.get("width_interpolation").asDouble(),
          g.get("time_interpolation").asDouble());
      assertEquals(g.get("rows").asLong(), geometry.rows());
      float[] table = SincosPositionTable.compute(geometry);
      int hidden = geometry.hidden();
      ByteBuffer f32 = little(g.get("f32").asText());
      ByteBuffer f16 = little(g.get("f16").asText());
      ByteBuffer bf16 = little(g.get("bf16").asText());
      int kept = 0;
      for (JsonNode row : g.get("kept_rows")) {
        for (int c = 0; c < hidden; c++) {
          float mine = table[row.asInt() * hidden + c];
          int at = kept * hidden + c;
          float sat = f32.getFloat(at * 4);
          long ulps = Math.abs((long) Float.floatToIntBits(mine) - Float.floatToIntBits(sat));
          assertTrue(ulps <= 1 || mine == sat, "row " + row + " column " + c + ": " + mine + " vs SAT's " + sat);
          exact += mine == sat ? 1 : 0;
          elements++;
          float[] one = {mine};
          ByteBuffer cast = ByteBuffer.allocate(2);
          DtypeConversions.encode(Dtype.F16, one, 1, cast);
          assertEquals(f16.getShort(at * 2), cast.order(ByteOrder.LITTLE_ENDIAN).getShort(0), "fp16 row " + row);
          cast.clear();
          DtypeConversions.encode(Dtype.BF16, one, 1, cast);
          assertEquals(bf16.getShort(at * 2), cast.order(ByteOrder.LITTLE_ENDIAN).getShort(0), "bf16 row " + row);
        }
        kept++;
      }
    }
    assertEquals(11 * 16 + 67 * 64 + 6 * 1920, elements);
    // measured: every element equal; should a libm differ in a last bit, the 1-ulp bound above still holds
    assertEquals(elements, exact, "elements equal to SAT's float32");
  }

  @Test
  void refusesAWidthSatCannotSplitIntoTimeHeightAndWidth() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new SincosPositionTable.Geometry(24, 2, 2, 2, 3, 1.875, 1.875, 1.0));
    assertTrue(e.getMessage().contains("a multiple of 16"), e.getMessage());
  }

  private static ByteBuffer little(String hex) {
    return ByteBuffer.wrap(HexFormat.of().parseHex(hex)).order(ByteOrder.LITTLE_ENDIAN);
  }
}
