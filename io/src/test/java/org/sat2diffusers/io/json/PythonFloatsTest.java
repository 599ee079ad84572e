package org.sat2diffusers.io.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** repr(float) against CPython's own output (float_reprs.txt, made by make_python_json_cases.py). */
class PythonFloatsTest {

  @Test
  void matchesPythonReprForEdgeCasesPowersAndRandomDoubles() throws IOException {
    List<String> mismatches = new ArrayList<>();
    int count = 0;
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(
        PythonFloatsTest.class.getResourceAsStream("float_reprs.txt"), StandardCharsets.US_ASCII))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        String[] parts = line.split(" ");
        double value = Double.longBitsToDouble(Long.parseUnsignedLong(parts[0], 16));
        String actual = PythonFloats.repr(value);
        if (!actual.equals(parts[1])) {
          mismatches.add(parts[0] + ": " + actual + " != python " + parts[1]);
        }
        count++;
      }
    }
    assertTrue(count > 6000, "only " + count + " vectors");
    assertEquals(List.of(), mismatches.subList(0, Math.min(10, mismatches.size())), mismatches.size() + " mismatches");
  }

  @Test
  void writesTheFormsConfigsUse() {
    assertEquals("1e-05", PythonFloats.repr(1e-5));
    assertEquals("0.7", PythonFloats.repr(0.7));
    assertEquals("1.0", PythonFloats.repr(1.0));
    assertEquals("1.15258426", PythonFloats.repr(1.15258426));
    assertEquals("1e+20", PythonFloats.repr(1e20));
    assertEquals("-0.0", PythonFloats.repr(-0.0));
    assertEquals("inf", PythonFloats.repr(Double.POSITIVE_INFINITY));
    assertEquals("nan", PythonFloats.repr(Double.NaN));
  }
}
