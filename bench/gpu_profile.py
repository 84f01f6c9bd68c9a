#!/usr/bin/env python3
"""GPU time per kernel name of one forward of a compiled CUDA model: a CUDA
torch.profiler around `Model.run`, after three warm-up forwards, with the
inputs of bench/model.py. Needs torch with CUDA (the GPU machine).

    python3 bench/gpu_profile.py MODEL.so
"""
import argparse
import collections
import importlib.util
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    args = parser.parse_args()
    import torch
    from torch.profiler import ProfilerActivity, profile

    from onebit.runtime import Model, _numpy_dtype
    spec = importlib.util.spec_from_file_location(
        "model_bench", os.path.join(ROOT, "bench", "model.py"))
    model_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model_bench)

    model = Model(args.library)
    feeds = model_bench.feeds_for(
        {i.name: (list(i.shape), _numpy_dtype(i.dtype)) for i in model.inputs})
    for _ in range(3):
        model.run(feeds)
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        model.run(feeds)
        torch.cuda.synchronize()
    by_name = collections.defaultdict(list)
    for event in prof.events():
        if event.device_time > 0 and not event.name.startswith("Memcpy"):
            by_name[event.name].append(event.device_time)
    times = np.concatenate([np.array(v) for v in by_name.values()])
    print(f"kernels {len(times)}, total {times.sum():.0f} us")
    for low, high in [(0, 2), (2, 3), (3, 5), (5, 10), (10, 20), (20, 50), (50, np.inf)]:
        chosen = times[(times >= low) & (times < high)]
        print(f"  [{low}, {high}) us: {len(chosen)} kernels, {chosen.sum():.0f} us")
    for name, values in sorted(by_name.items(), key=lambda item: -sum(item[1])):
        print(f"  {name}: {len(values)} kernels, {sum(values):.0f} us, "
              f"median {np.median(values):.1f} us")


if __name__ == "__main__":
    main()
