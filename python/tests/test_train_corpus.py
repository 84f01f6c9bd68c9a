"""The training corpus (numpy only): files, split, windows, unigram entropy."""
import numpy as np
import pytest

from onebit.train import corpus


def write_tree(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text)


def test_python_files_skip_tests_and_third_party_packages(tmp_path):
    write_tree(tmp_path, {"a.py": b"a", "pkg/b.py": b"b", "pkg/notes.txt": b"x",
                          "test/c.py": b"c", "pkg/tests/d.py": b"d", "test_e.py": b"e",
                          "site-packages/f.py": b"f", "idlelib/idle_test/g.py": b"g",
                          "pkg/test_h/i.py": b"i"})
    assert corpus.python_files(str(tmp_path)) == ["a.py", "pkg/b.py"]


def test_split_is_by_file_and_stable(tmp_path):
    files = {f"m{i}.py": bytes([65 + i % 26]) * (10 + i) for i in range(200)}
    write_tree(tmp_path, files)
    c = corpus.build(str(tmp_path), heldout_fraction=0.2)
    assert sorted(c.train_files + c.heldout_files) == sorted(files)
    assert 10 < len(c.heldout_files) < 70
    assert all(corpus.is_heldout(f, 0.2) for f in c.heldout_files)
    assert not any(corpus.is_heldout(f, 0.2) for f in c.train_files)
    assert bytes(c.train) == b"".join(files[f] for f in c.train_files)
    assert bytes(c.heldout) == b"".join(files[f] for f in c.heldout_files)
    again = corpus.build(str(tmp_path), heldout_fraction=0.2)
    assert again.heldout_files == c.heldout_files


def test_save_and_load_round_trip(tmp_path):
    write_tree(tmp_path / "lib", {f"m{i}.py": b"print(%d)\n" % i for i in range(100)})
    c = corpus.build(str(tmp_path / "lib"), 0.3)
    c.save(str(tmp_path / "c.npz"))
    back = corpus.Corpus.load(str(tmp_path / "c.npz"))
    assert np.array_equal(back.train, c.train) and np.array_equal(back.heldout, c.heldout)
    assert back.train_files == c.train_files and back.source == c.source


def test_build_rejects_a_directory_without_both_splits(tmp_path):
    write_tree(tmp_path, {"only.py": b"x"})
    with pytest.raises(ValueError, match="not enough"):
        corpus.build(str(tmp_path), 0.5)
    with pytest.raises(ValueError, match="heldout_fraction"):
        corpus.build(str(tmp_path), 1.5)


def test_windows():
    data = np.arange(100, dtype=np.uint8)
    w = corpus.random_windows(data, 5, 9, np.random.default_rng(0))
    assert w.shape == (5, 10) and w.dtype == np.int64
    assert np.all(np.diff(w, axis=1) == 1)  # consecutive bytes
    e = corpus.eval_windows(data, 9)
    assert e.shape == (11, 10)
    assert np.array_equal(e[1], np.arange(9, 19))  # each window scores 9 new bytes
    assert corpus.eval_windows(data, 9, max_windows=3).shape == (3, 10)
    with pytest.raises(ValueError):
        corpus.random_windows(data[:5], 1, 9, np.random.default_rng(0))


def test_unigram_bits_per_byte():
    c = corpus.Corpus(np.zeros(1000, np.uint8), np.zeros(10, np.uint8), [], [], "")
    # add-one smoothing: p(0) = 1001 / 1256
    assert c.unigram_bits_per_byte() == pytest.approx(-np.log2(1001 / 1256))


def test_state_shards_need_to_exist(tmp_path):
    from onebit.train import export
    with pytest.raises(FileNotFoundError, match="no state shards"):
        export.load_state(str(tmp_path / "missing"))
