"""Fourier feature networks (Tancik et al., NeurIPS 2020) as a small, tested library.

The modules, one concept each: `config` (settings and presets), `data` (images, coordinates, splits),
`mappings` (input encodings), `model` (the coordinate MLP and SIREN), `train` (the streaming trainer),
`metrics`, `cost` (FLOPs and time estimates), `plots`, `images`, `video`, `report` (what a run writes),
`analysis` and `views` (kernels, NTK, spectra, slices, zoom), `sweep`, `paper` (Table 1), `bench`
(`python -m ffn.bench`) and `cli` (`python -m ffn`).
"""

__version__ = "0.1.0"
