"""Fourier feature networks (Tancik et al., NeurIPS 2020) as a small, tested library.

The modules, one concept each: `data` (images, coordinates, splits), `mappings` (input encodings),
`model` (the coordinate MLP), `train` (the streaming trainer), `metrics`, `plots`, `images`, `video`,
`report` (what a run writes) and `cli` (`python -m ffn`).
"""

__version__ = "0.1.0"
