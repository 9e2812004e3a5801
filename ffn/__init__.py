"""Fourier feature networks (Tancik et al., NeurIPS 2020) as a small, tested library.

The modules, one concept each, along a run: `data` (images, coordinates, splits), `mappings` (input encodings),
`model` (the coordinate MLP and SIREN), `train` (the streaming trainer), `report` (a run's history and files),
`bands` (error per frequency band), `plots`, `images`, `video`; and beside them `checks` (every value check),
`config` (settings and presets), `service` (what the app's visitors may ask for), `metrics`, `cost` (FLOPs, time
and memory estimates), `analysis` (kernels, empirical NTK, spectra, slices, zoom), `ntk` (the infinite-width
NTK and kernel regression), `lab1d` (the 1D lab, `python -m ffn.lab1d`), `sweep`, `paper` (Table 1),
`table1` (`python -m ffn.table1`), `bench` (`python -m ffn.bench`) and `cli` (`python -m ffn`).
"""

import jax

__version__ = "0.2.0"

# The paper's arithmetic is float32. JAX computes float32 matrix products on NVIDIA GPUs in TF32 (10 mantissa
# bits) unless asked otherwise: ask for float32, for every program of the package (on a CPU this changes nothing).
jax.config.update("jax_default_matmul_precision", "float32")
