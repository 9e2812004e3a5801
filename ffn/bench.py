"""`python -m ffn.bench`: ffn's trainer next to the original notebook's loop and the usual PyTorch loop, on identical work.

All train the same mappings on the same image with the same network for the same steps and evaluate every
`every` steps, repeats interleaved (the machine may be shared: compare side by side, read the medians).
Prints a table and the same figures as JSON:

- steps/s of each (one iteration = every mapping advanced by one step) and ffn's ratio to each;
- achieved GFLOP/s (`ffn.core.cost`: the MLP's forward, weight and input gradients per step, one forward pass
  over the full grid per evaluation; the same count for all) and the fraction of this machine's GEMM
  ceiling: the best float32 rate of one product at the trainer's own shapes over its whole pixel axis
  (forward and weight-gradient forms), through XLA and through NumPy's BLAS, measured in the same run;
- time to the first streamed snapshot: cold (first run in the process, compiling), warm (same shapes
  again: compiled programs reused) and in a fresh process with a warm persistent compilation cache;
- peak resident memory of a run at the paper's setting (512 px), measured in a subprocess of its own.

The PyTorch loop is optional: it is measured, in a process of its own, only where `import torch` works
(torch is no dependency of ffn: `--torch-path DIR` or PYTHONPATH can point at a separate install); otherwise
its column is skipped and the table says why. It is written as a PyTorch user would: an `nn.Sequential` of
Linear and ReLU layers, the encodings precomputed as tensors, `torch.optim.Adam`, one step of every
mapping per iteration, eager on the CPU with every core.

The final PSNRs are printed as a check that the work is the same. They agree early on and stay close, but
not to the last digit: the loops sum the gradient in different orders, Adam turns float rounding into
slightly different trajectories, and an overfitting network's train PSNR (gauss:100) swings by dB from
step to step, so its value at the last step differs by a few dB between any two summation orders.

    python -m ffn.bench                       # 5 mappings at 256 px, 200 steps, 3 repeats (about 20 min)
    python -m ffn.bench --torch-path DIR      # with torch installed in DIR (pip install --target DIR torch)
    python -m ffn.bench --paper --iters 50    # 512 px
    python -m ffn.bench --smoke --json out.json
"""

import argparse
import ctypes
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import psutil

from ffn import command
from ffn.core import cost, data, mappings, provenance, train
from ffn.core.config import Config
from ffn.core.model import make_model

DEMO_MAPPINGS = ("none", "basic", "gauss:1", "gauss:10", "gauss:100")  # the original demo's five
ASSET = pathlib.Path(__file__).resolve().parents[1] / "assets" / "cat.png"
MEMORY_ITERS = 10  # steps of the memory measurement: its peak is reached by the first chunk and snapshot


def parse_args(argv=None) -> argparse.Namespace:
    p = command.Parser("python -m ffn.bench", __doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=256, help="image side in pixels")
    p.add_argument("--mappings", nargs="+", default=list(DEMO_MAPPINGS), metavar="SPEC", help="mappings to train")
    p.add_argument("--iters", type=int, default=argparse.SUPPRESS, help="Adam steps of every mapping (200; 2000 with --paper)")
    p.add_argument("--every", type=int, default=25, help="steps between evaluations (snapshots)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs of each trainer (medians are reported)")
    p.add_argument("--width", type=int, default=256, help="hidden units per layer")
    p.add_argument("--depth", type=int, default=4, help="Dense layers")
    p.add_argument("--features", type=int, default=256, help="mapping size m (Fourier features give 2m inputs)")
    p.add_argument("--image", default=argparse.SUPPRESS, help="the image both trainers fit (the bundled assets/cat.png)")
    p.add_argument("--matmul-n", type=int, default=2048, help="side of the square matmul that measures the machine")
    p.add_argument("--paper", action="store_true", help="the paper's setting: 512 px, 2000 steps")
    p.add_argument("--smoke", action="store_true", help="a tiny, fast run (for the test suite)")
    p.add_argument("--json", type=pathlib.Path, default=None, help="also write the figures to this file")
    p.add_argument("--torch-path", default=None, metavar="DIR",
                   help="a folder holding torch, put first on the PyTorch loop's import path (else PYTHONPATH and site-packages)")
    p.add_argument("--no-torch", action="store_true", help="leave the PyTorch loop out")
    p.add_argument("--child", choices=("first-snapshot", "memory", "torch"), default=None, help=argparse.SUPPRESS)
    p.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.iters = getattr(args, "iters", 2000 if args.paper else 200)
    args.image = getattr(args, "image", str(ASSET))
    if args.paper:
        args.size = 512
    if args.smoke:
        args.size, args.mappings, args.iters, args.every = 32, ["none", "gauss:2"], 10, 5
        args.width, args.depth, args.features, args.repeats, args.matmul_n = 32, 3, 16, 2, 256
    return args


def make_config(args) -> Config:
    return Config(mappings=tuple(args.mappings), size=args.size, iters=args.iters, every=args.every,
                  width=args.width, depth=args.depth, features=args.features)


def config_flags(config: Config) -> list[str]:
    """Command-line flags that rebuild `config` in a child process."""
    return ["--size", str(config.size), "--iters", str(config.iters), "--every", str(config.every),
            "--width", str(config.width), "--depth", str(config.depth), "--features", str(config.features),
            "--mappings", *config.mappings]


def machine() -> dict:
    """What the numbers were measured on (`ffn.core.provenance.cpu`: model, cores, instruction set), and how busy
    it was (load averages over 1, 5 and 15 minutes)."""
    return {**provenance.cpu(), "python": platform.python_version(), "jax": jax.__version__,
            "devices": [str(d) for d in jax.devices()], "load": list(os.getloadavg()),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}


def numpy_blas() -> dict:
    """The BLAS behind NumPy's float32 `a @ b`: its name and version, and the kernel OpenBLAS picked for this CPU.

    The kernel comes from threadpoolctl where it is installed, else from OpenBLAS itself; OPENBLAS_CORETYPE,
    if set, overrides OpenBLAS's own choice.
    """
    info = {"OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info.update(name=blas.get("name"), version=blas.get("version"))
    except Exception:  # noqa: BLE001 (older NumPy: no dicts; the name is a nicety)
        pass
    try:
        import threadpoolctl

        pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            info.update(kernel=pools[0].get("architecture"), threads=pools[0].get("num_threads"),
                        library=pools[0].get("internal_api"))
            return info
    except ImportError:
        pass
    maps = pathlib.Path("/proc/self/maps")  # Linux: the OpenBLAS that NumPy loaded, asked for its kernel
    paths = sorted({line.split()[-1] for line in maps.read_text().splitlines() if "openblas" in line.lower()}) if maps.exists() else []
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", "_64", ""):
                corename = getattr(lib, f"{prefix}get_corename{suffix}", None)
                threads = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                if corename is not None:
                    corename.restype = ctypes.c_char_p
                    info.update(kernel=corename().decode(), library="openblas")
                    if threads is not None:
                        info["threads"] = threads()
                    return info
    return info


# ---------------------------------------------------------------------------------------------------------
# The baseline: the original notebook's loop


class Reference:
    """The original notebook's training loop, one mapping after another, on ffn's network and data.

    Per step a jitted gradient (`jax.jit(jax.grad(loss))`, the encoding computed inside the loss as the
    notebook does) and a jitted Adam update (optax.adam with a Python-float learning rate); every `every`
    steps separately jitted train and test PSNRs and a prediction on the full grid, left on the device
    like the notebook's lists. Its jitted functions are built once, so repeats do not recompile.
    """

    def __init__(self, image, config: Config):
        self.config = config
        model = make_model(config)
        coords = data.coordinates(config.size)
        flat = lambda a: jnp.asarray(np.asarray(a).reshape(-1, a.shape[-1]))  # noqa: E731
        self.train_data = flat(data.train_pixels(coords)), flat(data.train_pixels(image))
        self.test_data = flat(data.test_pixels(coords)), flat(data.test_pixels(image))
        self.grid = flat(coords)
        key_b, key_init = jax.random.split(jax.random.key(config.seed))
        gauss = mappings.gaussian_basis(key_b, config.features)

        def loss(params, x, y, b):
            return 0.5 * jnp.mean((model.apply(params, mappings.encode(x, b)) - y) ** 2)

        self.predict = jax.jit(lambda params, x, b: model.apply(params, mappings.encode(x, b)))
        self.grad = jax.jit(jax.grad(loss))
        self.psnr = jax.jit(lambda params, x, y, b: -10 * jnp.log10(2 * loss(params, x, y, b)))
        self.runs = []
        for m, lr in zip(config.parsed, config.learning_rates()):
            opt = optax.adam(lr)
            update = jax.jit(lambda grads, opt_state, params, opt=opt: _apply(opt, grads, opt_state, params))
            b = mappings.basis(m, config.features, gauss)
            params = model.init(key_init, jnp.zeros((1, m.width(config.features)), jnp.float32))
            self.runs.append((m.spec, None if b is None else jnp.asarray(b), params, opt, update))

    def train(self, iters: int) -> dict:
        """Trains every mapping for `iters` steps; returns {spec: (train PSNR, test PSNR)} at the end."""
        final = {}
        for spec, b, params, opt, update in self.runs:
            opt_state = opt.init(params)
            history = []
            for i in range(iters + 1):
                if i % self.config.every == 0 or i == iters:
                    history.append((self.psnr(params, *self.train_data, b), self.psnr(params, *self.test_data, b),
                                    self.predict(params, self.grid, b)))
                if i == iters:
                    break
                params, opt_state = update(self.grad(params, *self.train_data, b), opt_state, params)
            jax.block_until_ready(history)
            final[spec] = (float(history[-1][0]), float(history[-1][1]))
        return final


def _apply(opt, grads, opt_state, params):
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


# ---------------------------------------------------------------------------------------------------------
# The second baseline: the usual PyTorch loop


def torch_run(image, config: Config, threads: int) -> dict:
    """A PyTorch user's loop on the same work: eager, on the CPU, every mapping one Adam step per iteration.

    nn.Sequential of Linear and ReLU layers (a Sigmoid last) of ffn's shapes, initialised by the same scheme
    (Glorot-normal weights, N(0, 0.01²) biases) and then given ffn's very initial values, so the final PSNRs
    can be compared; the same B; the encodings of the training pixels and of the full grid precomputed as
    tensors; full-batch torch.optim.Adam; every `every` steps a prediction on the full grid and its train and
    test PSNRs. Returns the seconds of the run (encodings included, like ffn's) and the final PSNRs.
    """
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    size = config.size
    key_b, key_init = jax.random.split(jax.random.key(config.seed))
    gauss = mappings.gaussian_basis(key_b, config.features)
    flax_model = make_model(config)
    initial = {w: flax_model.init(key_init, jnp.zeros((1, w), jnp.float32))["params"]
               for w in {m.width(config.features) for m in config.parsed}}  # ffn's starting weights per input width

    def encode(x, b):  # (N, 2) -> (N, 2·rows(B)), as ffn.core.mappings.encode
        if b is None:
            return x
        proj = (2 * torch.pi * x) @ b.T
        return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)

    def network(width_in):
        dims = [width_in] + [config.width] * (config.depth - 1) + [3]
        layers = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            layers += [nn.Linear(a, b), nn.ReLU() if i < len(dims) - 2 else nn.Sigmoid()]
        net = nn.Sequential(*layers)
        with torch.no_grad():
            for i, layer in enumerate(net[::2]):
                nn.init.xavier_normal_(layer.weight)
                nn.init.normal_(layer.bias, std=0.01)
                layer.weight.copy_(torch.tensor(np.array(initial[width_in][f"Dense_{i}"]["kernel"]).T))
                layer.bias.copy_(torch.tensor(np.array(initial[width_in][f"Dense_{i}"]["bias"])))
        return net

    def psnr(mse):
        return float(-10 * torch.log10(mse))

    t0 = time.perf_counter()
    coords = torch.from_numpy(data.coordinates(size))  # (R, R, 2)
    pixels = torch.tensor(np.asarray(image, np.float32))  # (R, R, 3)
    x_train, y_train = data.train_pixels(coords).reshape(-1, 2), data.train_pixels(pixels).reshape(-1, 3)
    runs = []
    for m, lr in zip(config.parsed, config.learning_rates()):
        b = mappings.basis(m, config.features, gauss)
        b = None if b is None else torch.from_numpy(b)
        net = network(m.width(config.features))
        runs.append((m.spec, net, torch.optim.Adam(net.parameters(), lr=lr), encode(x_train, b), encode(coords.reshape(-1, 2), b)))
    final = {}
    for i in range(config.iters + 1):
        for spec, net, opt, x, grid in runs:
            if i % config.every == 0 or i == config.iters:
                with torch.no_grad():
                    err = (net(grid).reshape(size, size, 3) - pixels) ** 2
                final[spec] = (psnr(data.train_pixels(err).mean()), psnr(data.test_pixels(err).mean()))
            if i < config.iters:
                opt.zero_grad()
                loss = 0.5 * ((net(x) - y_train) ** 2).mean()
                loss.backward()
                opt.step()
    return {"seconds": time.perf_counter() - t0, "psnr": final}


def torch_child(args) -> dict:
    """The PyTorch loop's measurement in a process of its own (so torch's threads and jax's never share one),
    or why it was skipped."""
    if args.torch_path:
        sys.path.insert(0, args.torch_path)
    try:
        import torch
    except Exception as err:  # noqa: BLE001 (a broken install is as much a reason to skip as none)
        where = f"in {args.torch_path} or " if args.torch_path else ""
        return {"skipped": f"import torch failed ({type(err).__name__}: {err}); install torch (its CPU build) {where}on the "
                           f"import path, e.g. pip install --target DIR torch, and pass --torch-path DIR"}
    config = make_config(args)
    image = data.load_image(args.image, config.size)
    threads = os.cpu_count()
    torch_run(image, config.replace(iters=1, every=1), threads)  # first calls: allocations and kernel selection
    out = torch_run(image, config, threads)
    return {**out, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "mkl": torch.backends.mkl.is_available()}


# ---------------------------------------------------------------------------------------------------------
# The GEMM ceiling


def _rate(f, flops: int, repeats: int) -> float:
    """GFLOP/s of `f()` (returns an array), median of `repeats` samples of about 20 ms each, as `cost.gemm_gflops`."""
    jax.block_until_ready(f())
    t0 = time.perf_counter()
    jax.block_until_ready(f())
    calls = max(1, min(1000, int(0.02 / max(time.perf_counter() - t0, 1e-6))))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            out = f()
        jax.block_until_ready(out)
        times.append((time.perf_counter() - t0) / calls)
    return flops / statistics.median(times) / 1e9


def ceiling_rates(config: Config, repeats: int) -> dict:
    """Float32 rates of single products at the trainer's first-layer shapes over the whole pixel axis P.

    Forward W·x: (width, C) @ (C, P); weight gradient x·gᵀ: (C, P) @ (P, width), contracting the pixels. Each
    through XLA (`cost.gemm_gflops` for the forward) and through NumPy's BLAS (`a @ b`, as NumPy is set up).
    """
    width, pixels = config.width, (config.size // 2) ** 2
    c = max(m.width(config.features) for m in config.parsed)
    rng = np.random.default_rng(0)
    x, w, g = (rng.standard_normal(shape, np.float32) for shape in ((c, pixels), (width, c), (width, pixels)))
    flops = 2 * width * c * pixels
    xla_grad = jax.jit(lambda x, g: jax.lax.dot_general(x, g, (((1,), (1,)), ((), ()))))
    xj, gj = jnp.asarray(x), jnp.asarray(g)
    forward, grad = f"{width}x{c} @ {c}x{pixels}", f"{c}x{pixels} @ ({width}x{pixels})T"
    return {f"XLA {forward}": cost.gemm_gflops(width, c, pixels, repeats=repeats),
            f"XLA {grad}": _rate(lambda: xla_grad(xj, gj), flops, repeats),
            f"NumPy {forward}": _rate(lambda: w @ x, flops, repeats),
            f"NumPy {grad}": _rate(lambda: x @ g.T, flops, repeats)}


# ---------------------------------------------------------------------------------------------------------
# ffn's trainer


def time_run(image, config: Config, close_after: int | None = None) -> dict:
    """One `ffn.core.train.run`: seconds to the first snapshot and in all, compile seconds, final PSNRs."""
    t0 = time.perf_counter()
    run = train.run(image, config)
    last = next(run)
    t_first, first_at = time.perf_counter() - t0, time.time()
    for i, last in enumerate(run, 1):
        if close_after is not None and i >= close_after:
            run.close()
            break
    seconds = time.perf_counter() - t0
    return {"first_snapshot_s": t_first, "seconds": seconds, "compile_s": last.compile_seconds,
            "train_s": seconds - last.compile_seconds, "steps": last.step, "first_snapshot_at": first_at,
            "psnr": {s: (last.train_psnr[s], last.test_psnr[s]) for s in config.mappings}}


def child(args) -> dict:
    """A fresh process's measurement, printed as one JSON line: first snapshot with a persistent cache, memory,
    or the PyTorch loop."""
    if args.child == "torch":
        return torch_child(args)
    if args.cache_dir:
        train.enable_compilation_cache(args.cache_dir)
    config = make_config(args)
    image = data.load_image(args.image, config.size)
    result = time_run(image, config, close_after=1 if args.child == "first-snapshot" else None)
    out = {"first_snapshot_s": result["first_snapshot_s"], "compile_s": result["compile_s"],
           "steps": result["steps"], "process_s": result["first_snapshot_at"] - psutil.Process().create_time()}
    if args.child == "memory":
        import resource  # Unix only, like the RSS figure

        out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return out


def run_child(kind: str, config: Config, args, cache_dir=None) -> dict:
    command = [sys.executable, "-m", "ffn.bench", "--child", kind, "--image", args.image, *config_flags(config)]
    if cache_dir:
        command += ["--cache-dir", str(cache_dir)]
    if args.torch_path:
        command += ["--torch-path", args.torch_path]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_torch(config: Config, args) -> dict:
    """One timed run of the PyTorch loop in a process of its own, or {"skipped": why}."""
    if args.no_torch:
        return {"skipped": "left out (--no-torch)"}
    try:
        return run_child("torch", config, args)
    except RuntimeError as err:  # torch imported but its loop failed: say so and go on with the rest
        return {"skipped": f"the PyTorch loop failed: {str(err).strip().splitlines()[-1]}"}


# ---------------------------------------------------------------------------------------------------------


def measure(args) -> dict:
    config = make_config(args)
    image = data.load_image(args.image, config.size)
    evals = 1 + -(-config.iters // config.every)
    work = config.iters * cost.iteration_flops(config) + evals * cost.snapshot_flops(config)
    result = {"machine": machine(), "config": config.to_dict(), "repeats": args.repeats,
              "flops": {"iteration": cost.iteration_flops(config), "snapshot": cost.snapshot_flops(config),
                        "run": work, "evaluations": evals}}
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

    log("ffn, cold (compiling) ...")
    cold = time_run(image, config, close_after=1)  # the first snapshot, then one chunk to compile its program
    reference = Reference(image, config)
    log("reference, compiling ...")
    reference.train(1)
    block = train.block_size((config.size // 2) ** 2)
    widest = max(m.width(config.features) for m in config.parsed)
    shapes = {f"{config.width}x{widest} @ {widest}x{block}": (config.width, widest, block),  # the first layer's product
              f"{config.width}x{config.width} @ {config.width}x{block}": (config.width, config.width, block)}  # a hidden one
    samples = 10 if args.smoke else 50  # of about 20-40 ms each: a rate sustained over a second or two, as the runs are
    runs = {"ffn": [], "reference": [], "torch": []}
    matmul, trainer_matmul, ceiling = [], {name: [] for name in shapes}, {}
    torch_skipped = None
    for r in range(args.repeats):  # interleaved, who goes first rotating: all see the same machine
        order = ("ffn", "reference", "torch")[r % 3:] + ("ffn", "reference", "torch")[:r % 3]
        for who in order:
            if who == "torch" and torch_skipped:
                continue
            log(f"repeat {r + 1}/{args.repeats}: {who} ...")
            if who == "ffn":
                runs["ffn"].append(time_run(image, config))
            elif who == "reference":
                t0 = time.perf_counter()
                psnr = reference.train(config.iters)
                runs["reference"].append({"seconds": time.perf_counter() - t0, "psnr": psnr})
            else:
                out = run_torch(config, args)
                if "skipped" in out:
                    torch_skipped = out["skipped"]
                    log(f"PyTorch loop skipped: {torch_skipped}")
                else:
                    runs["torch"].append(out)
        matmul.append(cost.matmul_gflops(args.matmul_n, repeats=samples))
        for name, shape in shapes.items():
            trainer_matmul[name].append(cost.gemm_gflops(*shape, repeats=samples))
        for name, rate in ceiling_rates(config, repeats=samples // 5).items():  # the products take 50-100 ms each
            ceiling.setdefault(name, []).append(rate)
    trainer_matmul = {name: statistics.median(rates) for name, rates in trainer_matmul.items()}
    matmul_rate = statistics.median(matmul)
    ceiling = {name: statistics.median(rates) for name, rates in ceiling.items()}
    best = max(ceiling, key=ceiling.get)
    result["ceiling"] = {"gflops": ceiling[best], "of": best, "rates": ceiling, "numpy_blas": numpy_blas()}

    seconds = {"ffn": [r["train_s"] for r in runs["ffn"]], "reference": [r["seconds"] for r in runs["reference"]],
               "torch": [r["seconds"] for r in runs["torch"]]}
    for who, times in seconds.items():
        if times:
            median = statistics.median(times)
            result[who] = {"steps_per_s": config.iters / median, "gflops": work / median / 1e9, "seconds": times,
                           "psnr": runs[who][-1]["psnr"]}
    if torch_skipped:
        result["torch"] = {"skipped": torch_skipped}
    else:
        result["torch"].update({k: runs["torch"][-1][k] for k in ("torch", "threads", "cpu_capability", "mkl")})
    ffn_s = statistics.median(seconds["ffn"])
    result["ffn"].update(compile_s_cold=cold["compile_s"], compile_s_warm=max(r["compile_s"] for r in runs["ffn"]))
    result["speedup"] = statistics.median(seconds["reference"]) / ffn_s
    if not torch_skipped:
        result["speedup_over_torch"] = statistics.median(seconds["torch"]) / ffn_s
    measured = [who for who in ("reference", "torch", "ffn") if "gflops" in result[who]]
    result["fraction_of_ceiling"] = {who: result[who]["gflops"] / ceiling[best] for who in measured}
    result["matmul"] = {"n": args.matmul_n, "gflops": matmul_rate, "samples": matmul, "trainer_shapes_gflops": trainer_matmul}
    result["fraction_of_matmul"] = {**{who: result[who]["gflops"] / matmul_rate for who in measured},
                                    "ffn_of_trainer_shapes": result["ffn"]["gflops"] / statistics.median(trainer_matmul.values())}
    result["first_snapshot_s"] = {"cold": cold["first_snapshot_s"],
                                  "warm": statistics.median(r["first_snapshot_s"] for r in runs["ffn"])}

    log("fresh processes with a persistent compilation cache ...")
    with tempfile.TemporaryDirectory(prefix="ffn-bench-cache-") as cache:
        fill = run_child("first-snapshot", config, args, cache)
        again = run_child("first-snapshot", config, args, cache)
    result["first_snapshot_s"]["persistent_cache_empty"] = fill["first_snapshot_s"]
    result["first_snapshot_s"]["persistent_cache_warm"] = again["first_snapshot_s"]
    result["first_snapshot_s"]["persistent_cache_warm_process"] = again["process_s"]  # from the interpreter's start
    result["first_snapshot_s"]["persistent_cache_compile_s"] = {"empty": fill["compile_s"], "warm": again["compile_s"]}

    paper = config if args.smoke else config.replace(size=512, mappings=DEMO_MAPPINGS, width=256, depth=4, features=256)
    paper = paper.replace(iters=min(MEMORY_ITERS, paper.iters), every=min(paper.every, 5))
    log(f"peak memory at {paper.size} px, {len(paper.mappings)} mappings ({paper.iters} steps) ...")
    memory = run_child("memory", paper, args)
    result["memory"] = {"config": paper.to_dict(), "steps": memory["steps"], "peak_rss_bytes": memory["peak_rss_bytes"]}
    result["machine"]["load_after"] = list(os.getloadavg())
    return result


def table(r: dict) -> str:
    c, ffn, mm, first, ceil, m = r["config"], r["ffn"], r["matmul"], r["first_snapshot_s"], r["ceiling"], r["machine"]
    who = ("reference", "torch", "ffn")
    col = lambda get, fmt: "".join(f"{format(get(r[w]), fmt) if 'gflops' in r[w] else '-':>16s}" for w in who)  # noqa: E731
    frac = lambda d: "".join(f"{format(d[w], '.0%') if w in d else '-':>16s}" for w in who)  # noqa: E731
    blas = ceil["numpy_blas"]
    blas_text = ", ".join(str(x) for x in (blas.get("name"), blas.get("version"), blas.get("kernel") and f"{blas['kernel']} kernel",
                                          blas.get("threads") and f"{blas['threads']} threads") if x)
    if blas.get("OPENBLAS_CORETYPE"):
        blas_text += f", OPENBLAS_CORETYPE={blas['OPENBLAS_CORETYPE']}"
    speedups = f"{r['speedup']:.2f}x the reference loop"
    if "speedup_over_torch" in r:
        speedups += f", {r['speedup_over_torch']:.2f}x the PyTorch loop"
    lines = [f"{m['cpu']}, {m['cores']} cores, {m['isa']}{'' if m['avx512'] else ' (no AVX-512)'}, jax {m['jax']}, {m['date']}, "
             f"load {m['load'][0]:.1f} before, {m.get('load_after', m['load'])[0]:.1f} after",
             f"{len(c['mappings'])} mappings ({' '.join(c['mappings'])}) at {c['size']} px, width {c['width']}, depth "
             f"{c['depth']}, m {c['features']}, {c['iters']} steps, evaluation every {c['every']}; medians of {r['repeats']}",
             "",
             f"{'':34s}{'reference loop':>16s}{'PyTorch loop':>16s}{'ffn':>16s}",
             f"{'steps/s (all mappings)':34s}{col(lambda x: x['steps_per_s'], '.3f')}",
             f"{'ms per step (all mappings)':34s}{col(lambda x: 1000 / x['steps_per_s'], '.0f')}",
             f"{'GFLOP/s achieved':34s}{col(lambda x: x['gflops'], '.1f')}",
             f"{'fraction of the GEMM ceiling':34s}{frac(r['fraction_of_ceiling'])}",
             f"{'ffn is':34s}{speedups}",
             ""]
    if "skipped" in r["torch"]:
        lines += [f"PyTorch loop skipped: {r['torch']['skipped']}", ""]
    else:
        t = r["torch"]
        lines += [f"PyTorch loop: torch {t['torch']}, {t['threads']} threads, {t['cpu_capability']} kernels{', MKL' if t['mkl'] else ''}", ""]
    lines += [f"GEMM ceiling: {ceil['gflops']:.1f} GFLOP/s, float32, the best single product at the trainer's shapes ({ceil['of']})"]
    lines += [f"  {k}: {v:.1f} GFLOP/s" for k, v in ceil["rates"].items()]
    lines += [f"  NumPy's BLAS: {blas_text or 'unknown'}",
              f"matmul rate, float32, n = {mm['n']}: {mm['gflops']:.1f} GFLOP/s (samples {', '.join(f'{g:.0f}' for g in mm['samples'])})"]
    lines += [f"matmul rate at the trainer's block shape {k}: {v:.1f} GFLOP/s" for k, v in mm["trainer_shapes_gflops"].items()]
    lines += ["",
              f"time to first snapshot: cold {first['cold']:.2f} s (compile {ffn['compile_s_cold']:.2f} s), warm {first['warm']:.2f} s, "
              f"fresh process with a warm persistent cache {first['persistent_cache_warm']:.2f} s "
              f"({first['persistent_cache_warm_process']:.2f} s from the interpreter's start; "
              f"empty cache {first['persistent_cache_empty']:.2f} s)",
              f"peak RSS at {r['memory']['config']['size']} px, {len(r['memory']['config']['mappings'])} mappings: "
              f"{r['memory']['peak_rss_bytes'] / 1e9:.2f} GB",
              "",
              f"{'final PSNR train/test (dB)':34s}{'reference loop':>16s}{'PyTorch loop':>16s}{'ffn':>16s}"]
    cell = lambda w, s: f"{r[w]['psnr'][s][0]:8.2f}/{r[w]['psnr'][s][1]:<7.2f}" if "psnr" in r[w] else f"{'-':>16s}"  # noqa: E731
    lines += [f"{s:34s}" + "".join(cell(w, s) for w in who) for s in c["mappings"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    result = measure(args)
    print(table(result))
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
