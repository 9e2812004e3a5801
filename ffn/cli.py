"""`python -m ffn IMAGE ...`: the paper's image-regression experiment without a browser.

Trains every mapping on one image, shows a progress bar, prints a table of final PSNRs and writes
metrics.json, metrics.csv, a PNG per mapping, ground_truth.png, comparison.png, psnr.html, training.mp4,
spectra.html (radial power spectra) and spectra.png (log spectra); with --sweep also sweep.json and sweep.html;
with --theory also ntk_SPEC.png and ntk_SPEC_ITERS_steps.png (the infinite-width network's kernel regression,
and its picture after as many gradient-descent steps as the run) and their PSNRs in metrics.json. With --seeds
each seed's run writes all of that into seed-SEED/, and seeds.json holds every mapping's mean ± std over the seeds.
With --crop the networks train on the image's centre window of --size px at its own resolution, not on the whole
image scaled to --size.

and its picture after as many gradient-descent steps as the run) and their PSNRs in metrics.json.

With --task ct or --task mri the networks never see the image: they are trained through the paper's CT
projections or undersampled MRI k-space of it, taken as grey (IMAGE may be phantom:SEED, the paper's random
Shepp-Logan phantom), and the same files are written with the reconstruction's PSNR against the object as
the test PSNR and the measurements' fit as the train PSNR, plus the measurements as pictures (sinogram.png;
kspace_mask.png and kspace.png) and the task's settings in metrics.json. Mappings, size, steps and learning
rate then default to the authors' notebook for that task (`ffn.core.inverse.CT_PROTOCOL`, `MRI_PROTOCOL`).
"""

import argparse
import math
import pathlib
import sys

from ffn import command
from ffn.core.checks import text_number
from ffn.core.config import MODELS, PAPER, Config
from ffn.core.inverse import CT_PROTOCOL, KINDS, MRI_PROTOCOL
from ffn.core.operators import CT_ANGLES, MRI_FRACTION

PROG = "python -m ffn"


def parse_args(argv=None) -> argparse.Namespace:
    p = command.Parser(PROG, __doc__.split("\n\n")[0])
    p.add_argument("image", help="an image file (PNG, JPEG, ...); with --task also phantom:SEED")
    p.add_argument("--mappings", nargs="+", default=None, metavar="SPEC",
                   help="mappings to compare: none, basic, posenc:S, gauss:SIGMA, each optionally @LR (default: "
                        f"{' '.join(PAPER.mappings)}, or the task's protocol with --task)")
    p.add_argument("--size", type=text_number, default=None,
                   help=f"image side in pixels, even (default: {PAPER.size}, or the task's protocol with --task)")
    p.add_argument("--iters", type=text_number, default=None,
                   help=f"Adam steps (default: {PAPER.iters}, or the task's protocol with --task)")
    p.add_argument("--lr", type=text_number, default=None, help="learning rate; a spec's @LR overrides it "
                   f"(default: {PAPER.lr:g}, or the task's protocol with --task)")
    command.add_network(p)
    p.add_argument("--every", type=text_number, default=PAPER.every, help="steps between snapshots")
    p.add_argument("--seeds", nargs="+", type=text_number, default=None, metavar="SEED",
                   help="train every mapping once per seed (B and weights drawn per seed) and report mean ± std; "
                        "replaces --seed")
    p.add_argument("--crop", action="store_true",
                   help="train on the centre window of --size px cut at the image's own resolution (its detail per "
                        "pixel kept) instead of the whole image scaled to --size")
    p.add_argument("--model", default=PAPER.model, help=f"network: {' or '.join(MODELS)} (the paper's ReLU MLP or SIREN)")
    p.add_argument("--w0", type=text_number, default=PAPER.w0, help="SIREN's frequency factor ω0")
    p.add_argument("--sweep", nargs=3, type=text_number, default=None, metavar=("SIGMA_MIN", "SIGMA_MAX", "N"),
                   help="train N log-spaced gauss:SIGMA from SIGMA_MIN to SIGMA_MAX instead of --mappings, and "
                        "write sweep.json and sweep.html")
    p.add_argument("--out", type=pathlib.Path, default=None,
                   help="output folder (default: runs/IMAGE-SIZEpx; with --task runs/IMAGE-TASK-SIZEpx)")
    p.add_argument("--no-video", action="store_true", help="skip training.mp4")
    p.add_argument("--task", choices=KINDS, default=None,
                   help="train through an inverse problem instead: ct (parallel-beam projections) or mri (a share "
                        "of k-space); the image is taken as grey")
    p.add_argument("--angles", type=text_number, default=None,
                   help=f"with --task ct: projections, equally spaced in [0, 180°) (default: {CT_ANGLES})")
    p.add_argument("--kspace", type=text_number, default=None,
                   help=f"with --task mri: the share of k-space sampled (default: {MRI_FRACTION:g})")
    p.add_argument("--mask-seed", type=text_number, default=None, help="with --task mri: draws the k-space mask (default: 0)")
    p.add_argument("--dims", type=text_number, default=None,
                   help="with --task mri: 3 for a volume, whose IMAGE is phantom:SEED, the 3D Shepp-Logan phantom, "
                        "and whose pictures show its middle slice (default: 2)")
    p.add_argument("--theory", action="store_true",
                   help="also write, per mapping, what the infinite-width network (NTK) predicts: ntk_SPEC.png where "
                        "gradient descent converges (kernel regression) and ntk_SPEC_ITERS_steps.png after the run's "
                        "number of steps, with their PSNRs in metrics.json (up to 128 px; with --task, kernel "
                        "regression on the measurements, up to 64 px)")
    return p.parse_args(argv)


def table(snapshot, headings: tuple[str, str] = ("train PSNR", "test PSNR")) -> str:
    """The final train/test PSNR of every mapping as an aligned text table, under `headings`."""
    width = max(len("mapping"), *(len(s) for s in snapshot.test_psnr))
    columns = [max(10, len(h)) for h in headings]
    fmt = lambda v, w: f"{v:{w}.2f}" if math.isfinite(v) else f"{'diverged':>{w}}"  # noqa: E731
    lines = [f"{'mapping':<{width}}  {headings[0]:>{columns[0]}}  {headings[1]:>{columns[1]}}"]
    lines += [f"{s:<{width}}  {fmt(snapshot.train_psnr[s], columns[0])}  {fmt(snapshot.test_psnr[s], columns[1])}"
              for s in snapshot.test_psnr]
    return "\n".join(lines)


def seeds_table(summary: dict) -> str:
    """Every mapping's final train and test PSNR over the seeds, mean ± std, as an aligned text table."""
    rows = summary["mappings"]
    width = max(len("mapping"), *(len(s) for s in rows))
    cell = lambda m: f"{m['mean']:6.2f} ± {m['std']:4.2f}" if m["mean"] is not None else "diverged"  # noqa: E731
    lines = [f"{'mapping':<{width}}  {'train PSNR':>13}  {'test PSNR':>13}"]
    lines += [f"{s:<{width}}  {cell(r['train']):>13}  {cell(r['test']):>13}" for s, r in rows.items()]
    seeds = ", ".join(map(str, summary["seeds"]))
    return "\n".join(lines) + f"\nmean ± {summary['std']}: seeds {seeds}"


TASK_HEADINGS = ("measurement fit (dB)", "reconstruction (dB)")


def _problem(args):
    """The inverse problem the arguments ask for, or None; a task's setting without its task is refused."""
    given = {"--angles": args.angles, "--kspace": args.kspace, "--mask-seed": args.mask_seed, "--dims": args.dims}
    own = {"ct": ("--angles",), "mri": ("--kspace", "--mask-seed", "--dims")}
    stray = [name for name, value in given.items() if value is not None and name not in own.get(args.task, ())]
    if stray:
        owner = "ct" if stray[0] == "--angles" else "mri"
        raise ValueError(f"{stray[0]} is a setting of --task {owner}.")
    if args.task is None:
        return None
    if args.crop:
        raise ValueError("--crop is for image regression: with --task the object is the image taken as grey.")
    from ffn.core import inverse

    settings = {"angles": args.angles, "kspace": args.kspace, "mask_seed": args.mask_seed, "dims": args.dims}
    return inverse.Problem(args.task, **{k: v for k, v in settings.items() if v is not None})


def train_and_write(image, config: Config, name: str, out: pathlib.Path, args, command: str, problem=None,
                    task=None) -> tuple:
    """One run of `config` on `image` (or through `problem`'s operator on the object `image`, whose measurements
    are `task`) with a progress bar, its table printed and its files written into `out`; returns (history,
    {file name: path})."""
    from tqdm import tqdm

    from ffn.experiments import runs, sweep
    from ffn.present import outputs

    bar = tqdm(total=config.iters, unit="step", desc="compiling", dynamic_ncols=True)
    records = (runs.record(image, config, name, args.image) if problem is None else
               runs.record_task(problem, image, config, name))
    for history, snap in records:
        bar.update(snap.step - bar.n)
        best = max(snap.test_psnr, key=lambda s: snap.test_psnr[s] if math.isfinite(snap.test_psnr[s]) else -1)
        bar.set_description("training")
        bar.set_postfix_str(f"best test {best} {snap.test_psnr[best]:.2f} dB")
    bar.close()
    last = history.last
    if problem is None:
        print(table(last))
    else:
        where = f"{config.size}³ voxels (pictures: the middle slice)" if problem.dims == 3 else f"{config.size} px"
        print(f"{problem.label()}, {where}:\n" + table(last, TASK_HEADINGS))
    print(f"compile {last.compile_seconds:.1f} s, train {last.train_seconds:.1f} s, "
          f"{last.step / last.train_seconds:.2f} steps/s ({len(config.mappings)} mappings per step)")
    paths = outputs.write_outputs(out, history, video_file=not args.no_video, command=command)
    paths.update(outputs.write_spectra(out, history))
    if problem is not None:
        from ffn.present import measurements

        paths.update(measurements.write(out, task))
    if args.theory:
        paths.update(outputs.write_theory(out, image, config, None if problem is None else task))
    if args.sweep is not None:
        summary = sweep.summarise_sweep(last)
        paths.update(outputs.write_sweep(out, summary, config, args.image, command))
        best = summary["best_sigma"]
        print(f"best σ {best:g}" if best is not None else "best σ: none (every network diverged)")
    return history, paths


def main(argv=None) -> int:
    args = parse_args(argv)
    # the imports below take a second or two: after the arguments are known to parse
    from ffn.core import data, mappings, provenance
    from ffn.experiments import seeds as seeding
    from ffn.experiments import sweep
    from ffn.present import outputs

    task = None
    try:
        problem = _problem(args)
        base = PAPER if problem is None else {"ct": CT_PROTOCOL, "mri": MRI_PROTOCOL}[problem.kind]
        given = lambda value, default: default if value is None else value  # noqa: E731
        specs = tuple(given(args.mappings, base.mappings)) if args.sweep is None else ("none",)  # a sweep replaces them
        seeds = seeding.check_seeds(args.seeds) if args.seeds is not None else None
        config = Config(mappings=specs, size=given(args.size, base.size), iters=given(args.iters, base.iters),
                        lr=given(args.lr, base.lr), depth=args.depth, width=args.width, features=args.features,
                        every=args.every, seed=seeds[0] if seeds else args.seed, model=args.model, w0=args.w0,
                        crop=args.crop)
        if args.sweep is not None:
            config = sweep.sweep_config(config, *args.sweep)
        if problem is not None:
            from ffn.core import inverse

            if problem.dims == 3 and args.theory:
                raise ValueError("--theory is for 2D problems: the kernel of a volume would hold every voxel "
                                 "against every voxel.")
            image = inverse.load_object(args.image, config.size, problem.dims)  # (R, R) grey, or (R, R, R)
            task = problem.task(image)
        elif config.crop:
            window = data.windows(args.image, config.size)[0]
            image = window.pixels
        else:
            image = data.load_image(args.image, config.size)
    except ValueError as e:  # ImageError is a ValueError too
        return command.fail(PROG, e)
    name = pathlib.Path(args.image).stem if not args.image.startswith("phantom:") else args.image.replace(":", "-")
    suffix = "" if problem is None else f"-{problem.kind}"
    out = args.out or pathlib.Path("runs") / f"{name}{suffix}-{config.size}px{'-crop' * config.crop}"
    said = provenance.command_line(PROG, argv)
    for m in config.parsed if problem is None else ():  # the σ that suits a photo says nothing of an inverse problem
        if warning := mappings.overfit_warning(m, config.size):
            print(f"note: {warning}", file=sys.stderr)
    if config.crop:
        left, top, right, bottom = window.box
        print(f"training on the centre window ({left}, {top})-({right}, {bottom}) of {args.image} at its own "
              "resolution")

    if seeds is None:
        _, paths = train_and_write(image, config, name, out, args, said, problem, task)
        print(f"wrote {len(paths)} files to {out}/")
        return 0
    finals, count = {}, 0
    for seed in seeds:
        print(f"seed {seed}:")
        history, paths = train_and_write(image, config.replace(seed=seed), name, out / f"seed-{seed}", args, said,
                                         problem, task)
        finals[seed], count = history.last, count + len(paths)
    summary = seeding.summarise(finals)
    print(seeds_table(summary))
    outputs.write_seeds(out, summary, config, seeds, args.image, said)
    print(f"wrote seeds.json to {out}/ and {count} files to {out}/seed-SEED/ for seeds {', '.join(map(str, seeds))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
