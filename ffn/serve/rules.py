"""What a visitor of the app may ask for, and what this server allows: the page's and the API's rules.

The page (and any script calling its API) speaks a small vocabulary of its own: mapping *choices* ("custom" is a
Gaussian at the σ slider's value, "posenc" the positional encoding whose S suits the resolution), a σ on a log
scale, and "the paper's lr for none/basic". `make_config` turns what was sent into a checked `Config`:

1. the page's vocabulary is translated (`resolve_specs`);
2. `Config` checks every field, so a value it refuses reads the same here as from the command line or a
   notebook ("iters must be at least 1 (got 0).");
3. this server's caps come last: the widgets' ranges (a public server need not train 100 000 steps or 2048-px
   images), the memory a run may take (`FFN_MAX_RUN_GB`) and the time it may take (`FFN_MAX_RUN_SECONDS`).

Everything here is free of gradio: the app only translates `checks.Invalid` into the page's errors, and tests,
notebooks and other front ends can use the same rules.
"""

import dataclasses
import math
import os
import pathlib
import threading

from ffn.core import checks, cost, data, inverse, mappings, phantom
from ffn.core.cost import Speed, duration
from ffn.experiments import sweep
from ffn.serve import env
from ffn.core import config as configs

# The mapping choices of the page: (label, value). "custom" stands for gauss at the σ slider's value and
# "posenc" for posenc:S with the S that suits the resolution (`mappings.posenc_scale`).
CHOICES = (
    ("No mapping", "none"),
    ("Basic", "basic"),
    ("Positional encoding", "posenc"),
    ("Gaussian σ=1", "gauss:1"),
    ("Gaussian σ=10", "gauss:10"),
    ("Gaussian σ=100", "gauss:100"),
    ("Gaussian, custom σ ↓", "custom"),
)
CHOICE_VALUES = tuple(value for _, value in CHOICES)
SIGMA_LOG10 = (-1.0, 2.5)  # the custom-σ slider, log₁₀ scale: σ from 0.1 to about 316
MAX_EXTRA = 400  # characters of "More mappings"

# What the page's widgets offer. An API caller may send other values that `Config` accepts, within the caps.
SIZES = (64, 96, 128, 192, 256, 384, 512)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
WIDTHS = (32, 64, 128, 256, 512)
FEATURES = (16, 32, 64, 128, 256, 512)


@dataclasses.dataclass(frozen=True)
class Caps:
    """This server's limits on one run, beyond what `Config` allows anywhere."""

    size: int = 512  # px per side: the paper's resolution
    iters: int = 5000  # steps
    depth: int = 8  # layers
    width: int = 512  # hidden units
    features: int = 512  # m
    memory_gb: float = env.MAX_RUN_GB  # cost.memory_bytes of one run, at most (FFN_MAX_RUN_GB)
    # Seconds one run may train; a run estimated at more than `TIME_SLACK` times this is refused before it
    # queues, and a run that reaches it stops as if Stop were pressed (with its results). 0 means no limit.
    seconds: float = env.MAX_RUN_SECONDS  # (FFN_MAX_RUN_SECONDS)


TIME_SLACK = 1.5  # a shape's first estimate can be off by half or more (docs/performance.md): refuse only what is clearly too long
CAPS = Caps()


def custom_sigma(sigma_log10: float) -> float:
    """σ from the log-scale slider, to two significant digits (10**0.4 -> 2.5)."""
    return float(f"{10 ** sigma_log10:.2g}")


def check_sigma_log10(value) -> float:
    """The custom-σ slider's value, checked."""
    return checks.real(value, "sigma_log10 (custom σ, log₁₀ scale)", *SIGMA_LOG10)


def _chosen(selected, allowed, example: str) -> list:
    """The ticked mapping choices as a list (None: none; one string: that one), at most as many as `allowed`."""
    if selected is None:
        selected = []
    if isinstance(selected, str):
        selected = [selected]
    if not isinstance(selected, (list, tuple)) or len(selected) > len(allowed):
        raise checks.Invalid(f"selected (the mappings to compare) must be a list of choices such as {example} (got "
                             f"{checks.shown(selected)}).", "selected")
    return list(selected)


def resolve_specs(selected, sigma_log10, extra, size: int) -> tuple[str, ...]:
    """The page's mapping choices (and typed extra specs) as canonical spec strings in `mappings.ordered` order,
    duplicates dropped."""
    selected = _chosen(selected, CHOICE_VALUES, "['none', 'gauss:10']")
    sigma = custom_sigma(check_sigma_log10(sigma_log10))
    specs = []
    for choice in selected:
        if not isinstance(choice, str) or choice not in CHOICE_VALUES:
            raise checks.Invalid(f"selected: {checks.shown(choice)} is not one of {', '.join(CHOICE_VALUES)}; "
                                 "other mappings go in extra, e.g. 'gauss:7 posenc:5'.", "selected")
        specs.append({"custom": f"gauss:{sigma:g}", "posenc": f"posenc:{mappings.posenc_scale(size):g}"}.get(choice, choice))
    return _with_extra(specs, extra)


def _with_extra(specs: list, extra) -> tuple[str, ...]:
    """The chosen specs and the typed extra ones, canonical, in `mappings.ordered` order, duplicates dropped."""
    if extra is not None and not isinstance(extra, str) or len(extra or "") > MAX_EXTRA:
        raise checks.Invalid(f"extra (more mappings) must be text of at most {MAX_EXTRA} characters, e.g. "
                             f"'gauss:7 none@1e-2' (got {checks.shown(extra)}).", "extra")
    specs = specs + (extra or "").replace(",", " ").split()
    if not specs:
        raise checks.Invalid("Choose at least one mapping to train.", "selected")
    try:
        return mappings.ordered(dict.fromkeys(mappings.parse(s).spec for s in specs))
    except ValueError as e:  # the choices are valid specs, so a typed one is wrong
        raise checks.Invalid(str(e), "extra") from None


def _config(param_of_mappings: str, **fields) -> configs.Config:
    """`Config(**fields)`, its refusal marked with the page's parameter (the mappings' is the page's own)."""
    try:
        return configs.Config(**fields)
    except checks.Invalid:
        raise
    except ValueError as e:  # the list of mappings as a whole (too many, posenc with odd m)
        raise checks.Invalid(str(e), param_of_mappings) from None


CAPPED = ("size", "iters", "depth", "width", "features")  # the fields whose range this server narrows


def within_caps(values: dict, caps: Caps) -> None:
    """Refuses a number past this server's cap on its field in the server's words, before `Config` would refuse it
    in its own wider ones (1e9 steps: "this server runs iters up to 5000", not "at most 100000")."""
    for name, value in values.items():
        top = getattr(caps, name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > top:
            raise checks.Invalid(f"This server runs {name} up to {top} (got {checks.shown(value)}); the command "
                                 "line (python -m ffn) has no such limit.", name)


def capped(config: configs.Config, caps: Caps | None = None, speed: "Speed | None" = None,
           problem=None) -> configs.Config:
    """Refuses a valid config that this server will not run: past a widget's range, its memory or its time.

    `caps` defaults to `CAPS`; the time cap needs `speed` (without it, time is not checked). `problem`: the
    inverse problem (`inverse.Problem`) the run trains through, which changes its cost.
    """
    caps = caps or CAPS
    within_caps({name: getattr(config, name) for name in CAPPED}, caps)
    task = problem is not None
    needed = (cost.task_memory_bytes(config, problem.measurement_count(config.size)) if task
              else cost.memory_bytes(config)) / 1e9
    if needed > caps.memory_gb:
        raise checks.Invalid(f"This run would need about {needed:.0f} GB of memory and this server allows "
                             f"{caps.memory_gb:g} GB per run: use fewer mappings, a smaller image, fewer features "
                             "or a smaller network.", "size")
    if caps.seconds and speed is not None:
        seconds = speed.estimate(config, task)
        if seconds > TIME_SLACK * caps.seconds:
            raise checks.Invalid(f"This run would take about {duration(seconds)} here and this server allows "
                                 f"{duration(caps.seconds)} per run: use fewer steps, a smaller image, fewer "
                                 "mappings or a smaller network (or run it with python -m ffn).", "iters")
    return config


def make_config(selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features, seed,
                model="relu", w0=30.0, crop=False, caps: Caps | None = None, speed: "Speed | None" = None) -> configs.Config:
    """A checked, capped Config from the page's values as sent; `checks.Invalid` names the value at fault.

    `crop` (a checkbox) trains on the image's centre window of `size` px at its own resolution (`read_image`)."""
    size = check_size(size)
    crop = checks.flag(crop, "crop (a window at the image's own resolution)", param="crop")
    specs = resolve_specs(selected, sigma_log10, extra, size)
    if checks.flag(paper_lr, "paper_lr (the paper's lr for none/basic)"):
        specs = tuple(f"{s}@0.01" if s in ("none", "basic") else s for s in specs)
    # The dropdowns (and so the API page) offer their numbers as text too: "64" means 64, as typed on the page.
    lr, width, features = (checks.text_number(v.strip()) if isinstance(v, str) else v for v in (lr, width, features))
    within_caps(dict(iters=iters, depth=depth, width=width, features=features), caps or CAPS)
    config = _config("extra", mappings=specs, size=size, iters=iters, lr=lr, depth=depth, width=width,
                     features=features, seed=seed, model=model, w0=w0, crop=crop, every=configs.CPU.every)
    return capped(config, caps, speed)


def replay_span(iters) -> int:
    """The steps a replay of a run asked for with `iters` spans: `iters` itself, checked as the run will check it."""
    return checks.whole(iters, configs.LIMITS["iters"][0], 1, CAPS.iters, param="iters")


def make_sweep_config(sigma_min, sigma_max, n, size, iters, lr, depth, width, features, seed, model="relu",
                      w0=30.0, crop=False, caps: Caps | None = None, speed: "Speed | None" = None) -> configs.Config:
    """A checked, capped Config of a σ sweep from the page's values as sent."""
    base = make_config(["none"], 0, "", size, iters, lr, False, depth, width, features, seed, model, w0, crop,
                       caps=caps)
    try:
        config = sweep.sweep_config(base, sigma_min, sigma_max, n)
    except checks.Invalid:
        raise
    except ValueError as e:  # the range as a whole: σ_min not below σ_max, or too narrow
        raise checks.Invalid(str(e), "sigma_min") from None
    return capped(config, caps, speed)


def page_values(config: configs.Config) -> dict:
    """The page's control values that ask for `config` (the inverse of `make_config`): presets are defined
    once, in `ffn.core.config`, and the page's buttons show them through this."""
    selected, extra, sigma = [], [], None
    paper_lr = any(m.kind in ("none", "basic") and m.lr == 0.01 for m in config.parsed)
    for m in config.parsed:
        plain = dataclasses.replace(m, lr=None)
        if m.lr is not None and not (paper_lr and m.kind in ("none", "basic") and m.lr == 0.01):
            extra.append(m.spec)
        elif plain.spec in CHOICE_VALUES:
            selected.append(plain.spec)
        elif m.kind == "posenc" and m.scale == mappings.posenc_scale(config.size):
            selected.append("posenc")
        elif m.kind == "gauss" and sigma is None and SIGMA_LOG10[0] <= math.log10(m.scale) <= SIGMA_LOG10[1]:
            selected.append("custom")
            sigma = m.scale
        else:
            extra.append(m.spec)
    return dict(selected=selected, sigma_log10=round(math.log10(sigma if sigma is not None else 2.5), 2),
                extra=" ".join(extra), size=config.size, iters=config.iters, lr=config.lr, paper_lr=paper_lr,
                depth=config.depth, width=config.width, features=config.features, seed=config.seed,
                model=config.model, w0=config.w0, crop=config.crop)


# --- Cost and advice, shown before a run --------------------------------------------------------------------------


def what_to_notice(mapping: mappings.Mapping, size: int) -> str:
    """One sentence on what the paper leads one to expect of a mapping at size×size px (the page's plan); what a
    run really did is said after it (`present.text.run_summary`)."""
    good = mappings.suggested_sigma(size)
    if mapping.kind == "none":
        return "expected blurry: fine detail comes very slowly, if at all (spectral bias)."
    if mapping.kind == "basic":
        return "expected a little sharper than no mapping, still smooth: one frequency per axis."
    if mapping.kind == "posenc":
        return "expected sharp, often with faint ripples along the axes (its frequencies are axis-aligned)."
    if mapping.scale > 3 * good:
        return (f"the too-large σ, here on purpose: expect train PSNR to climb past test PSNR, with noise between "
                f"the training pixels (σ around {good:.2g} suits {size} px).")
    if mapping.scale < good / 4:
        return "too small a σ: expected nearly as blurry as no mapping, its frequencies are all low."
    return ("the paper's answer: expected sharp detail that also holds between the training pixels. On some images "
            "positional encoding does as well.")


def plan(config: configs.Config, speed: Speed) -> str:
    """Markdown: what a run of `config` will do, how long it should take here, and what to notice in each mapping."""
    seconds = speed.estimate(config)
    count = len(config.mappings)
    lines = [f"**{count} mapping{'s' * (count != 1)}** × {config.iters} steps at {config.size}×{config.size} px: "
             f"about **{duration(seconds)}** here ({cost.run_flops(config) / 1e12:.1f} TFLOP)."]
    if seconds > 300:
        lines.append("That is long for this machine: try fewer steps, a smaller image or fewer mappings.")
    if config.crop:
        lines.append(f"Trained on the image's centre {config.size}×{config.size} px at its own resolution (its detail "
                     "per pixel kept), not on the whole image scaled.")
    lines += [f"⚠️ {w}" for m in config.parsed if (w := mappings.overfit_warning(m, config.size)) and m.kind != "gauss"]
    notes = [f"- **{m.spec}**: {what_to_notice(m, config.size)}" for m in config.parsed] if config.model == "relu" else []
    return "  \n".join(lines) + ("\n\nWhat the paper leads us to expect (the run says what it did):\n"
                                + "\n".join(notes) if notes else "")


# --- Files a visitor sent ---------------------------------------------------------------------------------------


def uploaded_path(image, upload_folder, examples) -> str:
    """The server path of the visitor's image: a file in `upload_folder` (what the server received) or one of
    `examples` (real paths). Anything else is refused before it is opened, so a caller can neither read the
    server's files nor learn which exist. `image` is a FileData dict or a path."""
    if image is None:
        raise checks.Invalid("Pick an example or upload an image first.", "image_path")
    path = image.get("path") if isinstance(image, dict) else image
    try:
        real = os.path.realpath(path)
        uploads = os.path.realpath(upload_folder)
        if real in examples or os.path.commonpath([real, uploads]) == uploads and real != uploads:
            return real
    except (TypeError, ValueError, OSError):  # not a path at all (a number, a list, a NUL byte)
        pass
    raise checks.Invalid("The image must be a file uploaded to this app (with gradio_client: handle_file(path)); "
                         "paths on the server are not read.", "image_path")


def preview(image, upload_folder, examples, size, crop=False) -> tuple:
    """(picture, size): what a run at `size` px would train on, the centre square of the visitor's image scaled to
    `size`, or with `crop` its centre window of `size` px at its own resolution."""
    size = check_size(size)
    return read_image(uploaded_path(image, upload_folder, examples), size, crop), size


def trained_label(size: int, crop=False) -> str:
    """The caption of the picture `preview` gives: what a run will train on."""
    if checks.flag(crop, "crop", param="crop"):
        return f"What will be trained: the centre {size}×{size} px at the image's own resolution"
    return f"What will be trained: the centre square at {size}×{size} px"


def check_size(size) -> int:
    """A run's resolution as `data.check_size` accepts it, within this server's cap."""
    if isinstance(size, str):  # the API page declares the resolution's choices as text
        size = checks.text_number(size.strip())
    size = data.check_size(size)
    if size > CAPS.size:
        raise checks.Invalid(f"This server runs size up to {CAPS.size} (got {size}); the command line (python -m ffn) "
                             "has no such limit.", "size")
    return size


# Decoding an upload takes a full-resolution copy of it (up to ~0.4 GB for a 50-megapixel image with transparency,
# `ffn.core.data.load_image`): only this many at once, whoever asks (the upload check, the preview, a run).
DECODES = threading.BoundedSemaphore(env.CONCURRENT_DECODES)
DECODE_WAIT = 30.0  # seconds a decode waits for its turn before it is refused


def read_image(path: str | pathlib.Path, size: int, crop=False):
    """The image at an `uploaded_path`, decoded by `ffn.core.data` (whose messages then name no server path): its
    centre square scaled to `size`, or with `crop` its centre window of `size` px at its own resolution
    (`data.windows`); at a checked size, while at most `env.CONCURRENT_DECODES` decodes run on this server."""
    size = check_size(size)
    if not DECODES.acquire(timeout=DECODE_WAIT):
        raise checks.Invalid("This server is decoding other visitors' images right now; try again in a moment.",
                             "image_path")
    try:
        with open(path, "rb") as file:
            return data.windows(file, size)[0].pixels if crop else data.load_image(file, size)
    except FileNotFoundError:
        raise checks.Invalid("The uploaded image is no longer on the server (uploads are kept for a few hours); "
                             "upload it again.", "image_path") from None
    except OSError:
        raise checks.Invalid("The uploaded image could not be read on the server; upload it again.",
                             "image_path") from None
    finally:
        DECODES.release()


def limits_text(caps: Caps, speed: Speed, concurrent: int, queue: int) -> str:
    """Markdown for the page's footer: this server's hardware, measured speed, caps and queue."""
    time_cap = duration(caps.seconds) if caps.seconds else "no limit"
    return (f"**This server**: {env.hardware()}; the trainer runs at about {speed.rate():.0f} GFLOP/s here. "
            f"**Per run**: {time_cap} of training (FFN_MAX_RUN_SECONDS), {caps.memory_gb:g} GB of memory "
            f"(FFN_MAX_RUN_GB), up to {caps.size} px, {caps.iters} steps, depth {caps.depth}, width {caps.width}, "
            f"{caps.features} features. **Queue**: {concurrent} run{'s' * (concurrent != 1)} at a time, {queue} waiting at "
            "most, one run per visitor "
            "(queued or running). The command line (python -m ffn) has none of these limits.")


def api_description() -> str:
    """The /train endpoint's description for the API page: each parameter and the values it takes."""
    names = configs.LIMITS
    return (
        "Trains coordinate MLPs on an image with each chosen input mapping and streams (status, gallery, train "
        "PSNR plot, test PSNR plot, band-error plot, downloads). Every parameter but the image has the page's default. "
        f"selected: a list of {', '.join(repr(v) for v in CHOICE_VALUES)} ('custom' is a Gaussian at "
        f"σ = 10**sigma_log10, 'posenc' the positional encoding whose S suits the resolution); "
        f"sigma_log10: {SIGMA_LOG10[0]:g} to {SIGMA_LOG10[1]:g}; extra: more specs, text of at most {MAX_EXTRA} "
        f"characters ({mappings.USAGE}); size: an even number of pixels, 16 to {CAPS.size}; "
        f"iters: 1 to {CAPS.iters}; lr: above 0, at most 1; paper_lr: true for lr 1e-2 on none and basic; "
        f"depth: {names['depth'][1]} to {CAPS.depth}; width: {names['width'][1]} to {CAPS.width}; "
        f"features: {names['features'][1]} to {CAPS.features} (even with posenc); seed: 0 to {names['seed'][2]}; "
        f"model: {' or '.join(configs.MODELS)}; w0 (SIREN's ω0): {configs.W0_LIMITS[0]:g} to {configs.W0_LIMITS[1]:g}; "
        "crop: true to train on the image's centre size×size pixels at its own resolution (the image must be at "
        "least that large), false (the default) for the whole centre square scaled to size. "
        f"At most {configs.MAX_MAPPINGS} mappings; a run must fit this server's memory and time caps.")


def sweep_plan(config: configs.Config, speed: Speed) -> str:
    """What a σ sweep of `config` (`make_sweep_config`) will train and cost here."""
    sigmas = ", ".join(m.spec.split(":")[1] for m in config.parsed)
    return (f"σ = {sigmas}: {len(config.mappings)} networks × {config.iters} steps at {config.size} px, about "
            f"**{duration(speed.estimate(config))}** here.")


def with_sigma(best, selected) -> tuple[float, list, str]:
    """The page's controls that add a σ sweep's best σ to the next run: (the custom-σ slider's value, the ticked
    mappings with "custom", what to say)."""
    if best is None:
        raise checks.Invalid("Run a σ sweep first.", "best")
    best = checks.real(best, "best σ", 1e-3, 10_000.0, param="best")
    chosen = [c for c in (selected or []) if c in CHOICE_VALUES]
    sigma_log10 = page_values(configs.CPU.replace(mappings=(f"gauss:{best:g}",)))["sigma_log10"]
    said = (f"✔ σ = {custom_sigma(sigma_log10):g} is now on the *Custom σ* slider, and *Gaussian, custom σ* is "
            "ticked: press **Train** to compare it with the other mappings.")
    return sigma_log10, chosen + ["custom"] * ("custom" not in chosen), said


# --- The 1D lab, as the page asks for it --------------------------------------------------------------------------

LAB_TARGETS = (("Sines at chosen frequencies", "sines"), ("Random 1/f^α signal (the paper's)", "powerlaw"),
               ("Square wave", "square"))
LAB_STEPS = 10_000  # this server's cap on a lab run's steps (the command line has none)
LAB_WIDTHS = (64, 128, 256, 512, 1024, 2048, 4096)  # wider is closer to the NTK, slowly
LAB_POINTS = 128  # grid size: 64 training points, frequencies up to 31; a 1000-step run takes seconds


def _words(text, name: str, param: str) -> list:
    """A box of numbers separated by spaces or commas, each read as a number where it reads as one."""
    if text is None:
        return []
    if not isinstance(text, str) or len(text) > 200:
        raise checks.Invalid(f"{name} must be text such as '2 8 24' (got {checks.shown(text)}).", param)
    return [checks.text_number(w) for w in text.replace(",", " ").split()]


def make_lab_config(target="sines", freqs="2 8 24", amps="", alpha=1.0, specs="none gauss:10 power:1",
                    steps=1000, optimizer="gd", width=256):
    """A checked `lab1d.LabConfig` from the page's 1D-lab values as sent, within this server's caps."""
    from ffn.experiments import lab1d  # the lab's JAX programs are built only when the lab is used

    if isinstance(specs, str) and len(specs) > MAX_EXTRA:
        raise checks.Invalid(f"mappings must be text of at most {MAX_EXTRA} characters.", "specs")
    config = lab1d.LabConfig(
        mappings=specs, points=LAB_POINTS, steps=checks.whole(steps, "steps", 1, LAB_STEPS), optimizer=optimizer,
        width=checks.whole(width, "width", 16, max(LAB_WIDTHS)),
        target=lab1d.Target(kind=target, freqs=tuple(_words(freqs, "freqs", "freqs")),
                            amps=tuple(_words(amps, "amps", "amps")), alpha=alpha))
    seconds = lab1d.estimate_seconds(config)
    if CAPS.seconds and seconds > TIME_SLACK * CAPS.seconds:
        raise checks.Invalid(f"This lab run would take about {duration(seconds)} here and this server allows "
                             f"{duration(CAPS.seconds)} per job: use fewer steps, fewer mappings or a narrower "
                             "network (or run it with python -m ffn.lab1d).", "steps")
    return config


def check_job_time(seconds: float, what: str, param: str) -> None:
    """Refuses a job estimated at more than `TIME_SLACK` times this server's limit, before it queues."""
    if CAPS.seconds and seconds > TIME_SLACK * CAPS.seconds:
        raise checks.Invalid(f"{what} would take about {duration(seconds)} here and this server allows "
                             f"{duration(CAPS.seconds)} per job.", param)


# --- Inverse problems (CT and MRI), as the page asks for them -------------------------------------------------------

INVERSE_TASKS = (("CT: 2D parallel-beam projections", "ct"), ("MRI: a share of 2D k-space", "mri"))
# The mapping choices of the inverse page: "posenc" and "gauss" are the notebook's S and σ for the task
# (`inverse.CT_PROTOCOL`, `MRI_PROTOCOL`), "custom" a Gaussian at the σ slider's value.
INVERSE_CHOICES = (
    ("No mapping", "none"),
    ("Basic", "basic"),
    ("Positional encoding (the notebook's S)", "posenc"),
    ("Gaussian (the notebook's σ)", "gauss"),
    ("Gaussian, custom σ ↓", "custom"),
)
INVERSE_CHOICE_VALUES = tuple(value for _, value in INVERSE_CHOICES)
INVERSE_SIZES = (32, 64, 96, 128, 192, 256, 512)
INVERSE_LEARNING_RATES = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2)
ANGLE_RANGE = (1, 180)  # the page's slider; an API caller may ask for up to inverse.MAX_ANGLES
KSPACE_RANGE = (0.02, 0.5)  # the page's slider; an API caller may ask for any share the mask can draw
PHANTOM_SEEDS = (0, 2**31 - 1)


def _protocol(task):
    return {"ct": inverse.CT_PROTOCOL, "mri": inverse.MRI_PROTOCOL}[task]


def notebook_scales(task: str) -> dict[str, float]:
    """The notebook's posenc S and Gaussian σ for a task: {"posenc": S, "gauss": σ}."""
    return {m.kind: m.scale for m in _protocol(task).parsed if m.scale is not None}


def make_problem(task, angles, kspace):
    """A checked `inverse.Problem` from the page's values as sent (the setting of the other task is checked too:
    the page always sends both)."""
    return inverse.Problem(task, angles=angles, kspace=kspace)


def make_inverse_config(task, angles, kspace, selected, sigma_log10, extra, size, iters, lr, notebook_lr, depth,
                        width, features, seed, caps: Caps | None = None, speed: "Speed | None" = None):
    """(a checked `inverse.Problem`, a checked and capped Config) from the inverse page's values as sent;
    `checks.Invalid` names the value at fault.

    `notebook_lr` gives none and basic the CT notebook's lr 1e-2 (its MRI trains every mapping at the run's lr).
    """
    problem = make_problem(task, angles, kspace)
    size = check_size(size)
    selected = _chosen(selected, INVERSE_CHOICE_VALUES, "['none', 'gauss']")
    sigma = custom_sigma(check_sigma_log10(sigma_log10))
    scales = notebook_scales(problem.kind)
    named = {"posenc": f"posenc:{scales['posenc']:g}", "gauss": f"gauss:{scales['gauss']:g}", "custom": f"gauss:{sigma:g}"}
    specs = []
    for choice in selected:
        if not isinstance(choice, str) or choice not in INVERSE_CHOICE_VALUES:
            raise checks.Invalid(f"selected: {checks.shown(choice)} is not one of {', '.join(INVERSE_CHOICE_VALUES)}; "
                                 "other mappings go in extra, e.g. 'gauss:7 posenc:5'.", "selected")
        specs.append(named.get(choice, choice))
    specs = _with_extra(specs, extra)
    if checks.flag(notebook_lr, "notebook_lr (lr 1e-2 for none and basic)"):
        specs = tuple(f"{s}@0.01" if s in ("none", "basic") else s for s in specs)
    if isinstance(lr, str):
        lr = checks.text_number(lr.strip())
    config = _config("extra", mappings=specs, size=size, iters=iters, lr=lr, depth=depth, width=width,
                     features=features, seed=seed, every=configs.CPU.every)
    return problem, capped(config, caps, speed, problem)


def inverse_presets() -> dict[str, object]:
    """The inverse page's presets, by label: a function of the task giving its (Problem, Config)."""
    def quick(task):
        return inverse.Problem(task), _protocol(task).replace(size=64, iters=300, every=configs.CPU.every)

    def notebook(task):
        return inverse.Problem(task), _protocol(task).replace(every=configs.CPU.every)

    return {"Quick look (64 px, 300 steps)": quick, "The notebook's setting": notebook}


def inverse_page_values(problem, config: configs.Config) -> dict:
    """The inverse page's control values that ask for (problem, config) (the inverse of `make_inverse_config`)."""
    scales = notebook_scales(problem.kind)
    notebook_lr = any(m.kind in ("none", "basic") and m.lr == 0.01 for m in config.parsed)
    selected, extra, sigma = [], [], None
    for m in config.parsed:
        plain = dataclasses.replace(m, lr=None)
        if m.lr is not None and not (notebook_lr and m.kind in ("none", "basic") and m.lr == 0.01):
            extra.append(m.spec)
        elif m.kind in ("none", "basic"):
            selected.append(m.kind)
        elif m.scale == scales.get(m.kind):
            selected.append(m.kind)
        elif m.kind == "gauss" and sigma is None and SIGMA_LOG10[0] <= math.log10(m.scale) <= SIGMA_LOG10[1]:
            selected.append("custom")
            sigma = m.scale
        else:
            extra.append(plain.spec)
    return dict(task=problem.kind, angles=problem.angles, kspace=problem.kspace, selected=selected,
                sigma_log10=round(math.log10(sigma if sigma is not None else 8.0), 2), extra=" ".join(extra),
                size=config.size, iters=config.iters, lr=config.lr, notebook_lr=notebook_lr, depth=config.depth,
                width=config.width, features=config.features, seed=config.seed)


def check_object(image, phantom_seed, upload_folder, examples) -> None:
    """Checks the object a visitor asks for without decoding it: the image's place (`uploaded_path`) when there is
    one, else the phantom's seed."""
    if image is None:
        checks.whole(phantom_seed, "phantom_seed", *PHANTOM_SEEDS)
    else:
        uploaded_path(image, upload_folder, examples)


def read_object(image, phantom_seed, size: int, upload_folder, examples):
    """(the grey object (size, size) float32, its name) the visitor asked for: the uploaded or example image
    taken as grey when there is one, else the random Shepp-Logan phantom of `phantom_seed`."""
    if image is None:
        seed = checks.whole(phantom_seed, "phantom_seed", *PHANTOM_SEEDS)
        return inverse.load_object(f"{inverse.PHANTOM}{seed}", size), f"phantom {seed}"
    path = uploaded_path(image, upload_folder, examples)
    return phantom.grey(read_image(path, size)), pathlib.Path(path).stem


def inverse_plan(problem, config: configs.Config, speed: Speed) -> str:
    """Markdown: what an inverse run will train on and cost here, before it starts."""
    seconds = speed.estimate(config, task=True)
    count = len(config.mappings)
    unknowns = config.size**2
    measured = problem.measurement_count(config.size)
    line = (f"**{count} mapping{'s' * (count != 1)}** × {config.iters} steps at {config.size}×{config.size} px "
            f"through {problem.label()}: {measured:,} measured numbers for {unknowns:,} unknown pixels; about "
            f"**{duration(seconds)}** here ({cost.task_run_flops(config) / 1e12:.1f} TFLOP).")
    if seconds > 300:
        line += "  \nThat is long for this machine: try fewer steps, a smaller object or fewer mappings."
    return line


def inverse_api_description() -> str:
    """The /inverse endpoint's description for the API page."""
    names = configs.LIMITS
    return (
        "Trains coordinate MLPs through an inverse problem (CT projections or MRI k-space) of a grey object and "
        "streams (status, measurements, reconstructions, fit plot, reconstruction plot, band-error plot, what to "
        "notice, downloads). The minimal call is the object image alone (taken as grey); every other parameter "
        "has the page's default. image_path: an image, or null for the Shepp-Logan phantom of phantom_seed "
        f"({PHANTOM_SEEDS[0]} to {PHANTOM_SEEDS[1]}); task: {' or '.join(inverse.KINDS)}; angles (CT): 1 to "
        f"{inverse.MAX_ANGLES}; kspace (MRI): above 0, at most {inverse.MAX_KSPACE:g} or 1; selected: a list of "
        f"{', '.join(repr(v) for v in INVERSE_CHOICE_VALUES)} ('posenc' and 'gauss' are the notebook's S and σ for "
        f"the task, 'custom' a Gaussian at σ = 10**sigma_log10); sigma_log10: {SIGMA_LOG10[0]:g} to "
        f"{SIGMA_LOG10[1]:g}; extra: more specs ({mappings.USAGE}); size: an even number of pixels, 16 to "
        f"{CAPS.size}; iters: 1 to {CAPS.iters}; lr: above 0, at most 1; notebook_lr: true for lr 1e-2 on none and "
        f"basic; depth: {names['depth'][1]} to {CAPS.depth}; width: {names['width'][1]} to {CAPS.width}; features: "
        f"{names['features'][1]} to {CAPS.features}; seed: 0 to {names['seed'][2]}. A run must fit this server's "
        "memory and time caps.")
