import json

import numpy as np
import pytest

from onebit import cli


@pytest.mark.parametrize("cmd", [[], ["export"], ["inspect"], ["quantize"]])
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(cmd + ["--help"])
    assert e.value.code == 0
    assert "usage" in capsys.readouterr().out


def test_export_inspect(tmp_path, capsys):
    out = str(tmp_path / "m.onnx")
    assert cli.main(["export", "--arch", "llama", "--layers", "1", "--encoding",
                     "packed,folded,merged,custom,packed_int8,packed,packed", "--dtype",
                     "float16", "--opset", "21", "-o", out, "--check", "--verify"]) == 0
    text = capsys.readouterr().out
    assert "onnx.checker: ok" in text and "7 one-bit layers" in text
    assert cli.main(["inspect", out]) == 0
    text = capsys.readouterr().out
    assert "model.layers.0.mlp.down_proj" in text and "7 one-bit layers" in text
    assert cli.main(["inspect", out, "--json"]) == 0
    layers = json.loads(capsys.readouterr().out)
    assert [l["encoding"] for l in layers] == ["packed", "folded", "merged", "custom",
                                               "packed_int8", "packed", "packed"]
    assert cli.main(["inspect", out, "--metadata", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 7


def test_export_mlp_external(tmp_path, capsys):
    out = str(tmp_path / "mlp.onnx")
    assert cli.main(["export", "--arch", "mlp", "--sizes", "16,24,8", "--no-layer-norm",
                     "--bias", "no", "--external-data", "-o", out, "--opset", "13"]) == 0
    assert (tmp_path / "mlp.onnx.data").exists()
    capsys.readouterr()
    assert cli.main(["inspect", out, "--json"]) == 0
    layers = json.loads(capsys.readouterr().out)
    assert [(l["out_features"], l["in_features"], l["layer_norm"], l["bias"]) for l in layers] == [
        (24, 16, False, False), (8, 24, False, False)]


def test_quantize_cli(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = str(tmp_path / "w.npz")
    np.savez(path, **{"layers.0.weight": rng.standard_normal((20, 16)),
                      "layers.0.bias": rng.standard_normal(20),
                      "layers.1.weight": rng.standard_normal((4, 20))})
    out = str(tmp_path / "q.onnx")
    assert cli.main(["quantize", path, "-o", out, "--method", "svd", "--encoding", "merged",
                     "-v", "--check"]) == 0
    text = capsys.readouterr().out
    assert "SVID (svd) relative error over 2 layers" in text and "layers.1:" in text


def test_bad_encoding():
    with pytest.raises(SystemExit):
        cli.main(["export", "--arch", "mlp", "--encoding", "nope", "-o", "x.onnx"])
