#!/usr/bin/python3
# How Python writes numbers, for selu's tests: tests/testthat/fixtures/python-format.tsv.
# keras's CSVLogger writes each float of the logs with str() (repr(): the
# shortest digits that read back), and ModelCheckpoint fills its file name
# template with str.format(): "{val_loss:.2f}", "{epoch:02d}".
#
# Run from the package root with any Python 3 (the standard library only):
#
#     python3 tests/testthat/scripts/make-python-format.py
#
# Each line: the type of the value ("float" or "int"), the value (a float as
# float.hex(), which R reads exactly; an int in decimal), the format spec
# ("" for str()) and what format(value, spec) gives. The floats: edge cases,
# every power of two from 2^-1074 to 2^1023 and their negatives (the shortest
# decimal of a power of two is not always the nearest one of its length),
# values that R's own reader (as.numeric()) reads wrong at 16 or 17 digits,
# and random ones of every magnitude. The ints: epochs and batches.
import math
import random

random.seed(20230706)
floats = [0.0, -0.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1.0, 2.5, -1.5, 100.0, 1e15, 1e16, 1.5e16,
          9999999999999998.0, 1e-4, 1e-5, 0.0001234, 123456789012345678.0, 1e22, 1e23,
          5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.6931471824645996,
          float("nan"), float("inf"), float("-inf"),
          float.fromhex("0x1.5ec18f5d83p+12"), float.fromhex("0x1.4171eea209aaap-23"),
          float.fromhex("0x1.26e3fe29bc16p-56"), float.fromhex("0x1.b435c17e22ecp-2"),
          float.fromhex("0x1.fd11c898584b5p-3"), float.fromhex("0x1.12485c62afbeep-1"),
          float.fromhex("-0x1.8cda6b7a93531p-2")]
floats += [math.ldexp(1.0, e) for e in range(-1074, 1024)]
floats += [-math.ldexp(1.0, e) for e in range(-1074, 1024, 5)]
floats += [random.random() * 10 ** random.randint(-30, 30) for _ in range(600)]
floats += [random.gauss(0, 1) for _ in range(300)]
ints = [0, 1, 3, 9, 10, 12, 99, 100, 123, 1000, 123456]

float_specs = ["", ".2f", ".4f", "f", ".0f", "e", ".3e", "E", "g", ".3g", "G", "10.2f", "010.2f",
               "012.4e", "5", "020"]
int_specs = ["", "d", "02d", "03d", "5d", "05d", "03", ".2f", "e", "g"]

with open("tests/testthat/fixtures/python-format.tsv", "w") as out:
    for x in floats:
        value = x.hex() if math.isfinite(x) else repr(x)
        # the specs beyond str() for some floats of moderate size only
        moderate = not math.isfinite(x) or x == 0 or 1e-12 < abs(x) < 1e20
        specs = float_specs if moderate and random.random() < 0.15 else [""]
        for spec in specs:
            out.write("float\t%s\t%s\t%s\n" % (value, spec, format(x, spec)))
    for i in ints:
        for spec in int_specs:
            out.write("int\t%d\t%s\t%s\n" % (i, spec, format(i, spec)))
