"""`python -m ffn.bench`: ffn's trainer next to the original notebook's training loop, on identical work.

Both train the same mappings on the same image with the same network for the same steps and evaluate every
`every` steps, in one process, repeats interleaved (the machine may be shared: compare side by side, read
the medians). Prints a table and the same figures as JSON:

- steps/s of each (one iteration = every mapping advanced by one step) and their ratio;
- achieved GFLOP/s (`ffn.cost`: the MLP's forward, weight and input gradients per step, one forward pass
  over the full grid per evaluation; the same count for both) and the fraction of this machine's float32
  matmul rate, measured in the same run (n = 2048, and at the trainer's own product shapes);
- time to the first streamed snapshot: cold (first run in the process, compiling), warm (same shapes
  again: compiled programs reused) and in a fresh process with a warm persistent compilation cache;
- peak resident memory of a run at the paper's setting (512 px), measured in a subprocess of its own.

The final PSNRs of the two are printed as a check that the work is the same. They agree early on and stay
close, but not to the last digit: the two sum the gradient in different orders, Adam turns float rounding
into slightly different trajectories, and an overfitting network's train PSNR (gauss:100) swings by dB
from step to step, so its value at the last step differs by a few dB between any two summation orders.

    python -m ffn.bench                       # 5 mappings at 256 px, 200 steps, 3 repeats (about 15 min)
    python -m ffn.bench --paper --iters 50    # 512 px
    python -m ffn.bench --smoke --json out.json
"""

import argparse
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

from ffn import cost, data, mappings, train
from ffn.config import Config
from ffn.model import make_model

DEMO_MAPPINGS = ("none", "basic", "gauss:1", "gauss:10", "gauss:100")  # the original demo's five
ASSET = pathlib.Path(__file__).resolve().parents[1] / "assets" / "cat.png"
MEMORY_ITERS = 10  # steps of the memory measurement: its peak is reached by the first chunk and snapshot


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m ffn.bench", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
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
    p.add_argument("--child", choices=("first-snapshot", "memory"), default=None, help=argparse.SUPPRESS)
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
    """What the numbers were measured on."""
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    field = lambda name: next((l.split(":", 1)[1].strip() for l in lines if l.startswith(name)), "")  # noqa: E731,E741
    return {"cpu": field("model name") or platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "avx512": "avx512f" in field("flags").split(), "python": platform.python_version(), "jax": jax.__version__,
            "devices": [str(d) for d in jax.devices()], "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}


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
# ffn's trainer


def time_run(image, config: Config, close_after: int | None = None) -> dict:
    """One `ffn.train.run`: seconds to the first snapshot and in all, compile seconds, final PSNRs."""
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
    """A fresh process's measurement, printed as one JSON line: first snapshot with a persistent cache, or memory."""
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
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    ffn_runs, ref_runs, matmul, trainer_matmul = [], [], [], {name: [] for name in shapes}
    for r in range(args.repeats):  # interleaved, alternating who goes first: both see the same machine
        for who in (("ffn", "reference") if r % 2 == 0 else ("reference", "ffn")):
            log(f"repeat {r + 1}/{args.repeats}: {who} ...")
            if who == "ffn":
                ffn_runs.append(time_run(image, config))
            else:
                t0 = time.perf_counter()
                psnr = reference.train(config.iters)
                ref_runs.append({"seconds": time.perf_counter() - t0, "psnr": psnr})
        matmul.append(cost.matmul_gflops(args.matmul_n, repeats=samples))
        for name, shape in shapes.items():
            trainer_matmul[name].append(cost.gemm_gflops(*shape, repeats=samples))
    trainer_matmul = {name: statistics.median(rates) for name, rates in trainer_matmul.items()}
    matmul_rate = statistics.median(matmul)

    ffn_s = statistics.median(r["train_s"] for r in ffn_runs)
    ref_s = statistics.median(r["seconds"] for r in ref_runs)
    result["reference"] = {"steps_per_s": config.iters / ref_s, "gflops": work / ref_s / 1e9, "seconds": [r["seconds"] for r in ref_runs],
                           "psnr": ref_runs[-1]["psnr"]}
    result["ffn"] = {"steps_per_s": config.iters / ffn_s, "gflops": work / ffn_s / 1e9, "seconds": [r["train_s"] for r in ffn_runs],
                     "compile_s_cold": cold["compile_s"], "compile_s_warm": max(r["compile_s"] for r in ffn_runs),
                     "psnr": ffn_runs[-1]["psnr"]}
    result["speedup"] = ref_s / ffn_s
    result["matmul"] = {"n": args.matmul_n, "gflops": matmul_rate, "samples": matmul, "trainer_shapes_gflops": trainer_matmul}
    result["fraction_of_matmul"] = {"ffn": work / ffn_s / 1e9 / matmul_rate, "reference": work / ref_s / 1e9 / matmul_rate,
                                    "ffn_of_trainer_shapes": work / ffn_s / 1e9 / statistics.median(trainer_matmul.values())}
    result["first_snapshot_s"] = {"cold": cold["first_snapshot_s"],
                                  "warm": statistics.median(r["first_snapshot_s"] for r in ffn_runs)}

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
    return result


def table(r: dict) -> str:
    c, ref, ffn, mm, first = r["config"], r["reference"], r["ffn"], r["matmul"], r["first_snapshot_s"]
    lines = [f"{r['machine']['cpu']}, {r['machine']['cores']} cores, jax {r['machine']['jax']}, {r['machine']['date']}",
             f"{len(c['mappings'])} mappings ({' '.join(c['mappings'])}) at {c['size']} px, width {c['width']}, depth "
             f"{c['depth']}, m {c['features']}, {c['iters']} steps, evaluation every {c['every']}; medians of {r['repeats']}",
             "",
             f"{'':34s}{'reference loop':>16s}{'ffn':>12s}",
             f"{'steps/s (all mappings)':34s}{ref['steps_per_s']:16.3f}{ffn['steps_per_s']:12.3f}",
             f"{'GFLOP/s achieved':34s}{ref['gflops']:16.1f}{ffn['gflops']:12.1f}",
             f"{'fraction of matmul rate':34s}{r['fraction_of_matmul']['reference']:16.0%}{r['fraction_of_matmul']['ffn']:12.0%}",
             f"{'speedup':34s}{'':16s}{r['speedup']:11.2f}x",
             "",
             f"matmul rate, float32, n = {mm['n']}: {mm['gflops']:.1f} GFLOP/s (samples {', '.join(f'{g:.0f}' for g in mm['samples'])})"]
    lines += [f"matmul rate at the trainer's shape {k}: {v:.1f} GFLOP/s" for k, v in mm["trainer_shapes_gflops"].items()]
    lines += [f"ffn at {r['fraction_of_matmul']['ffn_of_trainer_shapes']:.0%} of the trainer-shape matmul rate",
              "",
              f"time to first snapshot: cold {first['cold']:.2f} s (compile {ffn['compile_s_cold']:.2f} s), warm {first['warm']:.2f} s, "
              f"fresh process with a warm persistent cache {first['persistent_cache_warm']:.2f} s "
              f"({first['persistent_cache_warm_process']:.2f} s from the interpreter's start; "
              f"empty cache {first['persistent_cache_empty']:.2f} s)",
              f"peak RSS at {r['memory']['config']['size']} px, {len(r['memory']['config']['mappings'])} mappings: "
              f"{r['memory']['peak_rss_bytes'] / 1e9:.2f} GB",
              "",
              f"{'final PSNR train/test (dB)':34s}{'reference loop':>16s}{'ffn':>16s}"]
    lines += [f"{s:34s}{ref['psnr'][s][0]:8.2f}/{ref['psnr'][s][1]:<7.2f}{ffn['psnr'][s][0]:8.2f}/{ffn['psnr'][s][1]:<7.2f}" for s in c["mappings"]]
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
