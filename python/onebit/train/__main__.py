"""python3 -m onebit.train: the OneBit method end to end (docs/quality.md).

  corpus   collect the standard library's sources into corpus.npz
  run      train the teacher (or load one), measure the baselines, distil
           the student; writes results.json, the states and quality.png
  export   write the student as ONNX in onebit's convention
  plot     draw quality.png from results.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


def cmd_corpus(a):
    from .corpus import build
    c = build(a.root, a.heldout_fraction)
    c.save(a.output)
    print(f"{a.output}: {len(c.train)} train bytes ({len(c.train_files)} files), "
          f"{len(c.heldout)} held-out bytes ({len(c.heldout_files)} files) from {c.source}")


def _log(msg):
    print(msg, flush=True)


def cmd_run(a):
    import numpy as np
    import torch

    from . import corpus as corpus_mod
    from . import distill, export, nn
    from ..models import make_config

    torch.manual_seed(a.seed)
    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    corpus = corpus_mod.Corpus.load(a.corpus)
    config = make_config("llama", vocab_size=256, d_model=a.d_model, n_layers=a.layers,
                         n_heads=a.heads, ffn=a.ffn, seq_len=a.seq_len)
    os.makedirs(a.out, exist_ok=True)
    export.save_config(config, os.path.join(a.out, "config.json"))
    heldout = corpus_mod.eval_windows(corpus.heldout, a.seq_len, a.eval_windows)
    results = dict(command=" ".join(sys.argv), seed=a.seed, device=device,
                   device_name=torch.cuda.get_device_name() if device == "cuda" else "cpu",
                   torch=torch.__version__, corpus=corpus.source,
                   train_bytes=int(len(corpus.train)), heldout_bytes=int(len(corpus.heldout)),
                   heldout_scored_bytes=int(heldout.shape[0] * a.seq_len),
                   unigram_bpb=corpus.unigram_bits_per_byte(), alpha=a.alpha,
                   init=a.init, bpb={}, curves={})

    def bpb(model):
        return distill.bits_per_byte(model, heldout, device)

    def base(steps, lr, betas):
        return distill.TrainConfig(steps=steps, batch=a.batch, seq_len=a.seq_len, lr=lr,
                                   betas=betas, warmup=min(100, max(1, steps // 10)),
                                   eval_every=a.eval_every)

    if a.teacher:
        teacher = nn.Llama(config)
        nn.load_state_dict_numpy(teacher, export.load_state(a.teacher))
        teacher.to(device)
        _log(f"teacher loaded from {a.teacher}")
    else:
        _log(f"== teacher: {a.teacher_steps} steps")
        teacher, curve = distill.train_teacher(config, base(a.teacher_steps, a.teacher_lr,
                                                            (0.9, 0.95)),
                                               corpus, device, a.seed, _log)
        results["curves"]["teacher"] = curve.to_json()
        export.save_state(nn.state_dict_numpy(teacher), os.path.join(a.out, "teacher"),
                          dtype=np.float16)
    results["bpb"]["teacher"] = bpb(teacher)
    _log(f"teacher: {results['bpb']['teacher']:.4f} bits/byte")

    baselines = {"sign-absmean": lambda: distill.absmean_baseline(teacher),
                 "svid-dense": lambda: distill.svid_dense_baseline(teacher, a.init),
                 "svid": lambda: distill.student_from_teacher(teacher, a.init),
                 "svid-svd": lambda: distill.student_from_teacher(teacher, "svd")}
    for name, make in baselines.items():
        results["bpb"][name] = bpb(make())
        _log(f"{name} (no training): {results['bpb'][name]:.4f} bits/byte")

    _log(f"== student: SVID ({a.init}) + KD, {a.student_steps} steps, alpha {a.alpha}")
    student = distill.student_from_teacher(teacher, a.init)
    curve = distill.distill(teacher, student, base(a.student_steps, a.student_lr, (0.9, 0.98)),
                            corpus, device, a.seed, a.alpha, _log)
    results["curves"]["student"] = curve.to_json()
    results["bpb"]["svid+kd"] = bpb(student)
    _log(f"svid+kd: {results['bpb']['svid+kd']:.4f} bits/byte")
    export.save_state(nn.state_dict_numpy(student), os.path.join(a.out, "student"))
    results.update(quality_summary(results))
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    _log(json.dumps({k: results[k] for k in ("bpb", "retained")}, indent=1))
    try:
        plot(results, os.path.join(a.out, "quality.png"))
    except ImportError:
        _log("matplotlib is not installed: no quality.png (python3 -m onebit.train plot)")


def quality_summary(results):
    """How much of the teacher's quality each model keeps: the share of the
    teacher's gain over a context-free (unigram) model, in bits per byte."""
    uni, teacher = results["unigram_bpb"], results["bpb"]["teacher"]
    return {"retained": {name: (uni - v) / (uni - teacher)
                         for name, v in results["bpb"].items() if name != "teacher"}}


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, curve in results["curves"].items():
        steps = [e[0] for e in curve["heldout_bpb"]]
        left.plot(steps, [e[1] for e in curve["heldout_bpb"]], marker=".", label=name)
        right.plot([e[0] for e in curve["loss"]], [e[1] for e in curve["loss"]], label=name)
    for name in ("teacher", "sign-absmean", "svid", "svid-dense"):
        if name in results["bpb"] and results["bpb"][name] < 8:
            left.axhline(results["bpb"][name], ls=":", lw=1, color="gray")
            left.text(0.99, results["bpb"][name], name, transform=left.get_yaxis_transform(),
                      ha="right", va="bottom", fontsize=7, color="gray")
    left.set(xlabel="step", ylabel="held-out bits per byte", title="held-out bits per byte",
             ylim=(0, 8))
    right.set(xlabel="step", ylabel="loss", title="training loss (teacher: CE, "
              "student: KL + α·MSE)", yscale="log")
    left.legend()
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def cmd_export(a):
    from . import export
    config = export.load_config(a.config, seq_len=a.seq_len, batch=a.batch)
    max_len = (a.max_len or config.seq_len) if a.decode else None
    built = export.export_student(export.load_state(a.state), config, a.output, a.dtype,
                                  a.opset, decode_max_len=max_len)
    shape = (f"one token, key/value cache of {max_len}" if a.decode
             else f"input_ids [{config.batch}, {config.seq_len}]")
    print(f"{a.output}: {len(built.encodings)} 1-bit layers, {shape}, "
          f"{os.path.getsize(a.output)} bytes")


def cmd_plot(a):
    with open(a.results) as f:
        plot(json.load(f), a.output)


def parser():
    p = argparse.ArgumentParser(prog="python3 -m onebit.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpus", help="collect the standard library's .py files")
    c.add_argument("-o", "--output", default="corpus.npz")
    c.add_argument("--root", help="standard library directory (default: this Python's)")
    c.add_argument("--heldout-fraction", type=float, default=0.05)
    c.set_defaults(fn=cmd_corpus)

    r = sub.add_parser("run", help="teacher, baselines, SVID + KD student")
    r.add_argument("--corpus", default="corpus.npz")
    r.add_argument("--out", required=True, help="directory for results and states")
    r.add_argument("--teacher", help="state prefix of a trained teacher (skips its training)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    r.add_argument("--d-model", type=int, default=384)
    r.add_argument("--layers", type=int, default=6)
    r.add_argument("--heads", type=int, default=6)
    r.add_argument("--ffn", type=int, default=1024)
    r.add_argument("--seq-len", type=int, default=256)
    r.add_argument("--batch", type=int, default=64)
    r.add_argument("--teacher-steps", type=int, default=3000)
    r.add_argument("--teacher-lr", type=float, default=2e-3)
    r.add_argument("--student-steps", type=int, default=2000)
    r.add_argument("--student-lr", type=float, default=1e-3)
    r.add_argument("--alpha", type=float, default=1.0, help="weight of the hidden-state MSE")
    r.add_argument("--init", choices=("nmf", "svd"), default="nmf", help="SVID's rank-1 fit")
    r.add_argument("--eval-every", type=int, default=250)
    r.add_argument("--eval-windows", type=int, default=None,
                   help="held-out windows scored at the end (default: all)")
    r.set_defaults(fn=cmd_run)

    e = sub.add_parser("export", help="student state -> ONNX (onebit's convention)")
    e.add_argument("--state", required=True, help="state prefix (student-*.npz)")
    e.add_argument("--config", required=True, help="config.json written by run")
    e.add_argument("-o", "--output", required=True)
    e.add_argument("--seq-len", type=int, help="input length of the exported graph")
    e.add_argument("--batch", type=int, default=1)
    e.add_argument("--decode", action="store_true",
                   help="write one decoding step with a key/value cache (onebit.decode)")
    e.add_argument("--max-len", type=int,
                   help="--decode: positions in the cache (default: the training context)")
    e.add_argument("--dtype", default="float32", choices=("float32", "float16"))
    e.add_argument("--opset", type=int, default=18)
    e.set_defaults(fn=cmd_export)

    pl = sub.add_parser("plot", help="draw the curves of results.json")
    pl.add_argument("results")
    pl.add_argument("-o", "--output", default="quality.png")
    pl.set_defaults(fn=cmd_plot)
    return p


def main(argv=None):
    a = parser().parse_args(argv)
    start = time.time()
    a.fn(a)
    if a.command == "run":
        _log(f"done in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
