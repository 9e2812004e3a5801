"""One frozen configuration with the paper's defaults; presets derive from it.

Every entry point (command line, app, API, tests) builds a `Config`, and `Config` checks its own fields
(with `ffn.core.checks`), so a wrong value is refused in one place with the same sentence wherever it came from.
"""

import dataclasses

from ffn.core import checks, mappings

PAPER_MAPPINGS = ("none", "basic", "posenc:6", "gauss:1", "gauss:10", "gauss:100")

LIMITS = {  # name: (what it is called in a message, smallest, largest allowed)
    "iters": ("iters", 1, 100_000),
    "depth": ("depth", 2, 16),
    "width": ("width", 4, 2048),
    "features": ("features (mapping size m)", 1, 2048),
    "every": ("every", 1, 10_000),
    "seed": ("seed", 0, 2**31 - 1),
}
MAX_MAPPINGS = 24
MODELS = ("relu", "siren")  # network families (see ffn.core.model)
LR_LIMITS = (0.0, 1.0)  # Adam's learning rate lies above 0 and at most 1
W0_LIMITS = (1.0, 100.0)  # SIREN's ω0; the SIREN paper uses 30


@dataclasses.dataclass(frozen=True)
class Config:
    mappings: tuple[str, ...] = PAPER_MAPPINGS  # specs to compare (see ffn.core.mappings); trained together
    size: int = 512  # image side in pixels, even; the paper's images are 512×512
    iters: int = 2000  # Adam steps for every mapping; the paper trains 2000
    lr: float = 1e-3  # Adam learning rate of every mapping that has no '@LR' of its own
    depth: int = 4  # Dense layers: depth-1 ReLU layers of `width`, then Dense(3) + sigmoid
    width: int = 256  # hidden units per layer
    features: int = 256  # m, rows of B: Fourier mappings give 2m inputs (posenc needs m even)
    every: int = 25  # steps between snapshots; each chunk of `every` steps is one compiled program
    seed: int = 0  # draws B and the initial weights; a run is a function of its config and image
    model: str = "relu"  # "relu": the paper's ReLU MLP; "siren": sine activations (Sitzmann et al. 2020)
    w0: float = 30.0  # SIREN only: ω0, the frequency factor of its sine layers (30 in the SIREN paper)
    # The cropped protocol: train on `size`-px windows cut from the image at its own resolution (ffn.core.data.windows:
    # one run, the centre), not on its centre square scaled to `size`; the trainer itself does not read it.
    crop: bool = False

    def __post_init__(self):
        from ffn.core.data import check_size  # data imports nothing from here; deferred to keep import order free

        specs = self.mappings
        if isinstance(specs, str):
            specs = tuple(s for s in specs.replace(",", " ").split() if s)
        if not isinstance(specs, (tuple, list)) or not specs:
            raise ValueError("Choose at least one mapping.")
        if len(specs) > MAX_MAPPINGS:
            raise ValueError(f"At most {MAX_MAPPINGS} mappings can be trained at once (got {len(specs)}).")
        canonical = tuple(mappings.parse(s).spec for s in specs)
        for spec in canonical:
            if canonical.count(spec) > 1:
                raise ValueError(f"Mapping '{spec}' is listed twice.")
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        set_("mappings", canonical)
        set_("size", check_size(self.size))
        for name, (label, low, high) in LIMITS.items():
            set_(name, checks.whole(getattr(self, name), label, low, high, param=name))
        set_("lr", checks.real(self.lr, "lr (learning rate)", *LR_LIMITS, param="lr", above=True))
        model = self.model.strip().lower() if isinstance(self.model, str) else self.model
        set_("model", checks.one_of(model, "model", MODELS, param="model"))
        set_("w0", checks.real(self.w0, "w0 (SIREN's ω₀)", *W0_LIMITS, param="w0"))
        set_("crop", checks.flag(self.crop, "crop", param="crop"))
        if self.features % 2 and any(mappings.parse(s).kind == "posenc" for s in canonical):
            raise ValueError(f"Positional encoding needs an even number of features (got {self.features}).")

    def replace(self, **changes) -> "Config":
        """A copy with some fields changed (and checked again)."""
        return dataclasses.replace(self, **changes)

    @property
    def parsed(self) -> tuple["mappings.Mapping", ...]:
        return tuple(mappings.parse(s) for s in self.mappings)

    def learning_rates(self) -> tuple[float, ...]:
        """Each mapping's learning rate: its own '@LR' or the run's."""
        return tuple(m.lr if m.lr is not None else self.lr for m in self.parsed)

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "mappings": list(self.mappings)}


PAPER = Config()
# The paper's Table 1 protocol (512 px, 2000 steps, m = 256, depth 4, width 256; its numbers are in
# ffn.experiments.paper). Settings per dataset from the authors' released 2D image-regression notebook
# (fourier-feature-networks, Experiments/2d_image_regression.ipynb, its `params` dict):
# natural images train `none` and `basic` at lr 1e-2, posenc S=6, Gaussian σ=10, the rest at 1e-3;
# text images train every mapping at lr 1e-3, posenc S=5, Gaussian σ=14.
PAPER_PROTOCOL_NATURAL = PAPER.replace(mappings=("none@0.01", "basic@0.01", "posenc:6", "gauss:10"))
PAPER_PROTOCOL_TEXT = PAPER.replace(mappings=("none", "basic", "posenc:5", "gauss:14"))
# Small enough for tests: compiles and trains in seconds.
TINY = PAPER.replace(mappings=("none", "gauss:2"), size=16, iters=20, width=32, features=8, every=5)
# A quick look on a 2-core CPU (well under a minute): at 128 px the right σ is about 2.5, not 10
# (mappings.suggested_sigma), and posenc:4 plays the part of the paper's posenc:6; gauss:10 shows over-fitting.
CPU = PAPER.replace(mappings=("none", "basic", "posenc:4", "gauss:2.5", "gauss:10"), size=128, iters=500,
                    width=128, features=128)
# A class demo: the same story as CPU in under 30 s on a 2-core CPU without AVX-512, with a 4×64 network and 64
# features for 300 steps (docs/performance.md, "Measured through the page", has the measured time and PSNRs: none < basic < posenc ≈ gauss:2.5,
# and gauss:10 over-fits).
CLASS = CPU.replace(width=64, features=64, iters=300)
