"""Fourier feature networks (Tancik et al., NeurIPS 2020) as a small, tested library, in layers.

An import never points up (tests/test_layers.py checks it):

- `ffn.core`: the maths. checks, config (settings and presets), data (images, coordinates, splits), mappings,
  model (the coordinate MLP and SIREN), train (the streaming trainer), metrics, cost (FLOPs, time, memory), bands
  (error per frequency band), ntk (the infinite-width kernel), analysis (kernels, spectra, zoom), phantom,
  operators (CT and MRI) and inverse (training through an operator).
- `ffn.experiments`: runs (an image run's record), sweep, lab1d (the 1D lab), table1 (the protocol over sets),
  paper (Table 1's numbers).
- `ffn.present`: plots, images (labelled grids), grids, text (Markdown), outputs (the files a run writes), video.
- `ffn.serve`: the server's rules without Gradio: rules (what a visitor may ask for), env (every FFN_* variable),
  admission (one job per visitor), stream (the one streaming loop), views (the current run and its views), disk,
  uploads.
- the interfaces: `ffn.pages` (the only part that imports Gradio; `app.py` assembles it) and the commands
  `python -m ffn` (cli), `ffn.table1`, `ffn.lab1d`, `ffn.bench`, built alike with `ffn.command`.
"""

import jax

__version__ = "0.2.0"

# The paper's arithmetic is float32. JAX computes float32 matrix products on NVIDIA GPUs in TF32 (10 mantissa
# bits) unless asked otherwise: ask for float32, for every program of the package (on a CPU this changes nothing).
jax.config.update("jax_default_matmul_precision", "float32")
