"""`python -m ffn.lab1d`: the 1D lab without a browser; writes lab1d.json and lab1d.html.

The command line of `ffn.experiments.lab1d`: wide networks trained on a 1D target, each frequency's residual
measured beside what the network's neural tangent kernel predicts.
"""

import argparse
import math
import pathlib
import sys

from ffn import command
from ffn.core import checks, provenance
from ffn.experiments import lab1d
from ffn.present import outputs

PROG = "python -m ffn.lab1d"


def parse_args(argv=None) -> argparse.Namespace:
    d, t = lab1d.LabConfig(), lab1d.Target()
    word = checks.text_number  # the checks, not argparse, judge the values: the same sentences everywhere
    p = command.Parser(PROG, "The 1D lab: train coordinate MLPs with several input "
                "mappings on a 1D target by gradient descent, and compare the residual they keep at each frequency "
                "with what their neural tangent kernel predicts. Writes lab1d.json and lab1d.html.")
    p.add_argument("--mappings", nargs="+", default=list(d.mappings), metavar="SPEC",
                   help="mappings to compare: none, basic, posenc:S, gauss:SIGMA, power:P (P may be inf)")
    p.add_argument("--target", default=t.kind, help=f"what to fit: one of {', '.join(lab1d.TARGETS)}")
    p.add_argument("--freqs", nargs="+", type=word, default=None, metavar="F",
                   help=f"the sines' frequencies in cycles per unit (default {' '.join(map(str, t.freqs))}); for the "
                        "other targets the frequencies to track (square: default its first odd harmonics)")
    p.add_argument("--amps", nargs="+", type=word, default=[], metavar="A",
                   help="sines: one amplitude per frequency (default 1 each)")
    p.add_argument("--alpha", type=word, default=t.alpha, help="powerlaw: the amplitude spectrum falls as 1/f^alpha")
    p.add_argument("--square-freq", type=word, default=t.square_freq, help="square: cycles per unit")
    p.add_argument("--points", type=word, default=d.points, help=f"grid size N, one of {', '.join(map(str, lab1d.POINTS))}")
    p.add_argument("--steps", type=word, default=d.steps, help="optimiser steps")
    p.add_argument("--every", type=word, default=d.every, help="steps between snapshots")
    p.add_argument("--depth", type=word, default=d.depth, help="Dense layers")
    p.add_argument("--width", type=word, default=d.width, help="hidden units per layer")
    p.add_argument("--features", type=word, default=d.features, help="frequencies m of posenc and gauss (0: N/4)")
    p.add_argument("--optimizer", default=d.optimizer, help="gd (gradient descent, where the theory holds) or adam")
    p.add_argument("--step-fraction", type=word, default=d.step_fraction,
                   help="gd: the step as a fraction of the stability limit 2M/lambda_max")
    p.add_argument("--adam-lr", type=word, default=d.adam_lr, help="adam: the learning rate")
    p.add_argument("--seed", type=word, default=d.seed, help="random seed (weights, gauss draw, powerlaw signal)")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("runs") / "lab1d", help="output folder")
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> lab1d.LabConfig:
    """The lab1d.LabConfig the command line asks for; raises checks.Invalid with a sentence."""
    kind = checks.one_of(args.target, "target", lab1d.TARGETS)
    freqs = args.freqs if args.freqs is not None else (() if kind == "square" else lab1d.Target().freqs)
    target = lab1d.Target(kind, tuple(freqs), tuple(args.amps), args.alpha, args.square_freq, args.seed)
    return lab1d.LabConfig(mappings=tuple(args.mappings), target=target, points=args.points, steps=args.steps,
                     every=args.every, depth=args.depth, width=args.width, features=args.features,
                     optimizer=args.optimizer, step_fraction=args.step_fraction, adam_lr=args.adam_lr, seed=args.seed)


def table(snap: lab1d.LabSnapshot) -> str:
    """Final train/test MSE and, per tracked frequency, the measured (and predicted) residual left."""
    width = max(len("mapping"), *(len(s) for s in snap.specs))
    head = [f"{'mapping':<{width}}", f"{'train MSE':>10}", f"{'test MSE':>10}"]
    head += [f"{f'f={f} left':>16}" for f in snap.freqs]
    lines = ["  ".join(head)]
    fmt = lambda v: f"{v:10.3g}" if math.isfinite(v) else f"{'diverged':>10}"  # noqa: E731
    for s in snap.specs:
        row = [f"{s:<{width}}", fmt(snap.train_mse[s][-1]), fmt(snap.test_mse[s][-1])]
        for i in range(len(snap.freqs)):
            meas = snap.measured[s][-1, i]
            cell = f"{meas:.2g}" if snap.predicted is None else f"{meas:.2g} ({snap.predicted[s][-1, i]:.2g})"
            row.append(f"{cell:>16}")
        lines.append("  ".join(row))
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        config = config_from_args(args)
    except checks.Invalid as e:
        return command.fail(PROG, e)
    print("compiling…", file=sys.stderr, flush=True)
    last = None
    for last in lab1d.run(config):
        pass
    print(table(last))
    if last.theory_applies:
        print(f"residual left at the last step, measured (NTK prediction); η = {last.eta:.4g}")
        print(lab1d.rate_text(last))
    else:
        print("residual left at the last step, measured (no NTK prediction: Adam)")
    print(f"compile {last.compile_seconds:.1f} s, train {last.train_seconds:.1f} s for {config.steps} steps of "
          f"{len(config.mappings)} mappings")
    paths = outputs.write_lab(args.out, last, config=config, command=provenance.command_line(PROG, argv))
    print(f"wrote {', '.join(paths)} to {args.out}/")
    return 0

if __name__ == "__main__":
    sys.exit(main())
