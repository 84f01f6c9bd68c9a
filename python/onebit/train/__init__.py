"""The OneBit method end to end at small scale (arXiv 2402.11295).

A byte-level LLaMA-style teacher is trained on the Python standard library's
sources; a 1-bit student of the same shape is initialised from it by SVID
and distilled (KL on logits + MSE on normalised hidden states); baselines
(sign with per-row absmean scale, SVID without training) are measured on the
same held-out bytes; the student is exported in onebit's ONNX convention.

``corpus`` and ``export`` need only numpy (and onnx to write the model);
``nn``, ``distill`` and the ``teacher``/``student`` commands need torch,
an optional dependency. See docs/quality.md.
"""
