import numpy as np
import pytest

from onebit.packing import (ONEBIT_PACKING, ONEBIT_PACKING_INT8, SignPacking, pack_bits,
                            pack_signs, packed_width, random_packed_signs, unpack_bits,
                            unpack_signs)


def rand_signs(rng, n, k):
    return np.where(rng.random((n, k)) < 0.5, -1, 1).astype(np.int8)


def test_worked_example_matches_dialect_doc():
    s = np.array([[1, -1, -1, 1, 1, 1, 1, -1, -1, 1]])
    assert pack_signs(s).tolist() == [[0x86, 0x01]]


@pytest.mark.parametrize("k", [1, 7, 8, 9, 13, 16, 31, 32, 33, 64, 100])
def test_onebit_round_trip(rng, k):
    s = rand_signs(rng, 5, k)
    p = pack_signs(s)
    assert p.dtype == np.uint8 and p.shape == (5, packed_width(k))
    assert np.array_equal(unpack_signs(p, k), s)


@pytest.mark.parametrize("k", [3, 8, 21, 32, 40])
def test_int8_storage_same_bits(rng, k):
    s = rand_signs(rng, 4, k)
    u = pack_signs(s, ONEBIT_PACKING)
    i = pack_signs(s, ONEBIT_PACKING_INT8)
    assert i.dtype == np.int8
    assert np.array_equal(i.view(np.uint8), u)
    assert np.array_equal(unpack_signs(i, k, ONEBIT_PACKING_INT8), s)


@pytest.mark.parametrize("word", [8, 16, 32, 64])
@pytest.mark.parametrize("order", ["lsb_first", "msb_first"])
@pytest.mark.parametrize("negative", [0, 1])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("k", [5, 32, 45, 96])
def test_word_sizes_round_trip(rng, word, order, negative, signed, k):
    pk = SignPacking(word=word, order=order, negative=negative, signed=signed)
    s = rand_signs(rng, 6, k)
    p = pack_signs(s, pk)
    assert p.dtype == pk.dtype and p.shape == (6, packed_width(k, word))
    assert np.array_equal(unpack_signs(p, k, pk), s)


def test_bit_positions_lsb_first():
    # only input 0 negative -> bit 0; only input 9 -> bit 1 of the second byte
    for word in (8, 16, 32):
        s = np.ones((1, 40))
        s[0, 0] = -1
        assert pack_signs(s, SignPacking(word=word))[0, 0] == 1
        s = np.ones((1, 40))
        s[0, 9] = -1
        p = pack_signs(s, SignPacking(word=word))
        assert p.reshape(-1).view(np.uint8)[1] == 2  # little-endian words
    s = np.ones((1, 8))
    s[0, 0] = -1
    assert pack_signs(s, SignPacking(order="msb_first"))[0, 0] == 0x80


def test_pad_bits_zero_and_ignored(rng):
    s = rand_signs(rng, 3, 13)
    p = pack_signs(s)
    assert np.all(p[:, -1] >> 5 == 0)  # bits 5..7 of the last byte are padding
    dirty = p.copy()
    dirty[:, -1] |= 0xE0
    assert np.array_equal(unpack_signs(dirty, 13), s)


def test_zero_and_nan_pack_as_plus_one():
    w = np.array([[0.0, -0.0, np.nan, -1e-30, 2.0]])
    assert unpack_signs(pack_signs(w), 5).tolist() == [[1, 1, 1, -1, 1]]


@pytest.mark.parametrize("r", [2, 4])
def test_interleave(rng, r):
    s = rand_signs(rng, 8, 20)
    pk = SignPacking(word=16, interleave=r)
    p = pack_signs(s, pk)
    assert p.shape == (8 // r, 2, r)
    flat = pack_signs(s, SignPacking(word=16))
    assert p[1, 0, 1] == flat[1 * r + 1, 0]
    assert np.array_equal(unpack_signs(p, 20, pk), s)


def test_bits_round_trip_and_errors(rng):
    b = (rng.random((3, 4, 19)) < 0.5).astype(np.uint8)
    assert np.array_equal(unpack_bits(pack_bits(b, 32), 19, 32), b)
    with pytest.raises(ValueError):
        unpack_bits(pack_bits(b, 8), 40)
    with pytest.raises(ValueError):
        SignPacking(word=12)


def test_random_packed_signs_pad_clear(rng):
    p = random_packed_signs(rng, 50, 13)
    assert p.shape == (50, 2) and np.all(p[:, -1] < 32)
