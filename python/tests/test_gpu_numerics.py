"""numpy models of the arithmetic of the tensor-core kernel's sign decodings
(lib/Codegen/GPU/SignMma.h): the identities by which bit classes (f16) and
byte classes (s8 digits) recover sum(±x), and the bounds that keep them
exact, checked against float64 on the CPU. The kernels themselves run in
scripts/cuda_device_check.py on a GPU; these say whether the schedules'
arithmetic is right, whatever registers the kernel puts it in."""

import numpy as np
import pytest

# SignMma.h: digits per activation and the largest staged magnitude.
ACTIVATION_DIGITS = 3
DIGIT_SCALE = (1 << 22) - 64


def class_value(p):
    """The f16 whose only set bit is p (< 15), as a float: 2^(p - 24)
    (subnormal) below 10, else 2^(2^(p - 10) - 15)."""
    return float(np.array([1 << p], dtype=np.uint16).view(np.float16)[0])


def bit_classes_sum(x, bits, classes):
    """sum(s_i x_i), s_i = -1 where bit i is 1, as the BitClasses schedule
    computes it: half-word bit b is shifted by (15 - b) // C * C into class
    position p (16 - C .. 15); position 15 is the f16 sign bit (±1 times x,
    summed directly), a lower p the f16 c_p or 0, whose f32 products with x
    are summed per class and divided by c_p; with S the sum of the inputs
    of the masked classes, sum(±x) = signed + S - 2 sum_p acc_p / c_p."""
    x16 = x.astype(np.float16)
    acc = np.zeros(16, dtype=np.float32)
    signed = np.float32(0)
    masked_inputs = np.float32(0)
    for i, (value, bit) in enumerate(zip(x16, bits)):
        b = i % 16
        p = b + (15 - b) // classes * classes
        assert 16 - classes <= p <= 15
        if p == 15:
            signed += np.float32(-value if bit else value)
            continue
        masked_inputs += np.float32(value)
        if bit:  # an exact product: c_p is a power of two
            acc[p] += np.float32(value) * np.float32(class_value(p))
    recovered = sum(np.float32(acc[p]) / np.float32(class_value(p)) for p in range(15))
    return float(signed + masked_inputs - 2 * np.float32(recovered))


@pytest.mark.parametrize("classes", [2, 4, 8, 16])
@pytest.mark.parametrize("scale", [1.0, 1e-3, 300.0])
def test_bit_classes_recover_the_signed_sum(classes, scale):
    rng = np.random.default_rng(classes)
    x = (rng.standard_normal(4096) * scale).astype(np.float16)
    bits = rng.integers(0, 2, 4096)
    want = float(np.sum(np.where(bits == 1, -1.0, 1.0) * x.astype(np.float64)))
    got = bit_classes_sum(x, bits, classes)
    # f32 accumulation of exact terms: a few ulps of the sum of |x|.
    assert abs(got - want) <= 1e-5 * float(np.abs(x.astype(np.float64)).sum())


def test_class_products_are_exact_in_f32():
    """c_p * x for every class and every finite f16 x is exact in f32, so
    acc_p / c_p loses nothing but the accumulation's rounding."""
    every_f16 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    finite = every_f16[np.isfinite(every_f16)].astype(np.float64)
    for p in range(15):
        product = finite * class_value(p)
        assert np.array_equal(product.astype(np.float32).astype(np.float64), product), p


def digits(v, inverse):
    """ByteClasses' staging of a row: v * inverse rounded by the f32 fma
    with 1.5 * 2^23 (round to nearest even), then split into 3 signed
    base-256 digits, most significant first, through the bias 0x808080."""
    rounder = float.fromhex("0x1.8p23")
    # The fma's one rounding (the f32 product is exact in float64).
    fused = (v.astype(np.float32).astype(np.float64) * float(np.float32(inverse))
             + rounder).astype(np.float32)
    integer = fused.astype(np.float64) - rounder
    biased = integer.astype(np.int64) + 0x808080
    return np.stack([((biased >> (8 * j)) & 0xFF) - 128
                     for j in reversed(range(ACTIVATION_DIGITS))], axis=-1)


def byte_classes_sum(v, bits):
    """sum(s_i v_i) as the ByteClasses schedule computes it: per digit
    column d and bit q, the s8 mma sums 2^q (-128 for q = 7) times the
    digits of the inputs whose byte has bit q (exact in i32); the
    column's signed sum is S_d - 2 sum_q acc_q / w_q; the columns combine
    as 256^2 d0 + 256 d1 + d2, divided by the row's scale."""
    largest = float(np.abs(v.astype(np.float32)).max())
    inverse = np.float32(DIGIT_SCALE) / np.float32(largest)
    d = digits(v, inverse)
    weights = [1 << q for q in range(7)] + [-128]
    total = 0
    for column in range(ACTIVATION_DIGITS):
        acc = [0] * 8
        for i, bit in enumerate(bits):
            if bit:  # input i sits at bit q = i % 8 of its byte
                acc[i % 8] += weights[i % 8] * int(d[i, column])
        assert all(abs(a) < 2 ** 31 for a in acc)
        set_sum = sum(a // w for a, w in zip(acc, weights))
        signed = int(d[:, column].sum()) - 2 * set_sum
        total += signed * 256 ** (ACTIVATION_DIGITS - 1 - column)
    return total / float(inverse), inverse


@pytest.mark.parametrize("scale", [1.0, 1e-4, 5e3])
def test_byte_classes_recover_the_signed_sum(scale):
    rng = np.random.default_rng(7)
    v = (rng.standard_normal(8192) * scale).astype(np.float16)
    bits = rng.integers(0, 2, 8192)
    want = float(np.sum(np.where(bits == 1, -1.0, 1.0) * v.astype(np.float64)))
    got, inverse = byte_classes_sum(v, bits)
    # Only the rounding to integers: half a unit of 1 / inverse per input.
    assert abs(got - want) <= 0.5 * len(v) / float(inverse)


def test_digits_cover_the_staged_range():
    """Every integer of magnitude up to DIGIT_SCALE splits into 3 digits of
    -128..127 and back; the largest staged value rounds to DIGIT_SCALE."""
    values = np.array([-DIGIT_SCALE, -DIGIT_SCALE + 1, -1, 0, 1, 255, 256, -257,
                       DIGIT_SCALE - 1, DIGIT_SCALE], dtype=np.float32)
    d = digits(values, 1.0)
    assert d.min() >= -128 and d.max() <= 127
    back = sum(d[:, j].astype(np.int64) * 256 ** (ACTIVATION_DIGITS - 1 - j)
               for j in range(ACTIVATION_DIGITS))
    assert np.array_equal(back, values.astype(np.int64))
