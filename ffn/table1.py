"""`python -m ffn.table1 IMAGES... --dataset natural|text`: the paper's Table 1 over a set of images.

The command line of `ffn.experiments.table1` (the protocol, the σ search, shards and their merge), which
says what it writes.
"""

import argparse
import pathlib
import sys
import time
from collections.abc import Sequence

from ffn import command
from ffn.core import checks
from ffn.core.config import Config
from ffn.experiments import paper, seeds, table1
from ffn.present import outputs, text

PROG = "python -m ffn.table1"


def parse_args(argv=None) -> argparse.Namespace:
    number = checks.text_number  # the checks below, not argparse, say what is wrong with a number
    p = command.Parser(PROG, table1.__doc__.split("\n\n")[0])
    p.add_argument("images", nargs="*", metavar="IMAGES",
                   help="image files or folders (default: the bundled set of --dataset)")
    p.add_argument("--dataset", choices=paper.DATASETS, default=None,
                   help="whose protocol to run and whose paper numbers to compare with (needed but for --merge)")
    p.add_argument("--size", type=number, default=512, help="image side in px; σ and S are scaled from 512")
    p.add_argument("--iters", type=number, default=2000, help="Adam steps per image")
    p.add_argument("--depth", type=number, default=4, help="Dense layers")
    p.add_argument("--width", type=number, default=256, help="hidden units per layer")
    p.add_argument("--features", type=number, default=256, help="mapping size m")
    p.add_argument("--seed", type=number, default=0, help="random seed (B and initial weights)")
    p.add_argument("--seeds", nargs="+", type=number, default=None, metavar="SEED",
                   help="train every mapping once per seed on every image (B and weights drawn per seed); the table "
                        "is over every run; replaces --seed (σ tuning uses the first)")
    p.add_argument("--crop", action="store_true",
                   help="the cropped protocol: train on windows of --size px cut at each image's own resolution, "
                        "not on the image scaled to --size")
    p.add_argument("--windows", type=number, default=1,
                   help="with --crop, windows per image: centred in the cells of a grid over it (1: its centre)")
    p.add_argument("--sigma", type=number, default=None,
                   help="the Gaussian mapping's σ at --size (default: the paper's, scaled); e.g. a tuned one")
    p.add_argument("--tune", nargs="+", default=None, metavar="IMAGE",
                   help="choose σ first: the best mean test PSNR on these images over --sigmas")
    p.add_argument("--sigmas", nargs="+", type=number, default=None, metavar="SIGMA",
                   help="the σ grid of --tune, in cycles per image side at --size")
    p.add_argument("--shard", default=None, metavar="I/N", help="run only the I-th of N slices of the sorted images")
    p.add_argument("--merge", nargs="+", default=None, metavar="DIR",
                   help="instead of training, merge the table1.json of these shard folders")
    p.add_argument("--out", type=pathlib.Path, default=None, help="output folder (default: runs/table1-DATASET-SIZEpx)")
    return p.parse_args(argv)


def _check_args(args) -> tuple[Config, list[pathlib.Path], list[pathlib.Path], tuple | None, tuple[int, int] | None]:
    """The edge: every argument checked (with the sentence of ffn.core.checks or Config) before any training."""
    if args.merge is not None:
        if args.images or args.tune or args.shard:
            raise ValueError("--merge combines finished runs: give it no images, --tune or --shard.")
        return None, [], [], None, None
    if args.dataset is None:
        raise ValueError(f"--dataset is needed: {' or '.join(paper.DATASETS)}, whose protocol to run.")
    if (args.tune is None) != (args.sigmas is None):
        raise ValueError("--tune and --sigmas go together: the tuning images and the σ grid to search.")
    if args.tune is not None and args.sigma is not None:
        raise ValueError("Give either --sigma or --tune with --sigmas, not both.")
    sigma = None if args.sigma is None else checks.real(args.sigma, "sigma (the Gaussian mapping's σ)", *table1.SIGMA_LIMITS)
    args.seeds = seeds.check_seeds(args.seeds) if args.seeds is not None else None  # checked in place: main uses them
    seed = args.seeds[0] if args.seeds else args.seed
    config = table1.protocol(args.dataset, args.size, args.iters, args.depth, args.width, args.features, seed, sigma)
    config = config.replace(crop=args.crop)
    images = table1.expand_images(args.images) if args.images else table1.bundled_images(args.dataset)
    images = sorted(images, key=table1.image_name)  # the order of the names every machine writes, which merge keeps
    shard_of = table1.parse_shard(args.shard) if args.shard is not None else None
    if shard_of is not None:
        images = table1.shard(images, *shard_of)
        if not images:
            raise ValueError(f"Shard {shard_of[0]}/{shard_of[1]} is empty: there are fewer images than shards.")
    tune = table1.expand_images(args.tune) if args.tune is not None else []
    sigmas = table1.check_sigmas(args.sigmas) if args.sigmas is not None else None
    return config, images, tune, sigmas, shard_of


def main(argv=None) -> int:
    args = parse_args(argv)
    from tqdm import tqdm  # the imports below take a second or two: after the arguments are known to parse

    from ffn.core import provenance

    try:
        config, paths, tune_paths, sigmas, shard_of = _check_args(args)
        if args.merge is not None:
            docs = [table1.read(d) for d in args.merge]
            doc = table1.merge(docs)
            if args.dataset not in (None, doc["dataset"]):
                raise ValueError(f"These are {doc['dataset']} tables, not {args.dataset} ones.")
            out = args.out or pathlib.Path("runs") / f"table1-{doc['dataset']}-{doc['config']['size']}px"
            said = provenance.command_line(PROG, argv)
            written = outputs.write_table1(out, doc, [pathlib.Path(d) / "table1.json" for d in args.merge], said)
            print(text.table_markdown(doc))
            print(f"merged {len(docs)} shards; wrote {', '.join(written)} to {out}/")
            return 0
        # Every image is opened before the first step, so a bad one is refused now and not hours in.
        pictures = table1.load_pictures(paths, config.size, config.crop, args.windows)
        tune_images = [p.pixels for p in table1.load_pictures(tune_paths, config.size, config.crop, args.windows)]
    except (ValueError, OSError) as e:  # checks.Invalid and data.ImageError are ValueErrors
        return command.fail(PROG, e)
    out = args.out or pathlib.Path("runs") / f"table1-{args.dataset}-{config.size}px{'-crop' * config.crop}"
    start = time.perf_counter()
    run_seeds = args.seeds or (config.seed,)
    labels = [f"{p.name}" + (f" window ({p.window[0]}, {p.window[1]})" if p.window else "") +
              (f" seed {s}" if args.seeds else "") for p in pictures for s in run_seeds]
    total = (len(tune_images) * (sigmas is not None) + len(labels)) * config.iters
    # One bar over the whole set (tuning included), so its time left is the set's; the first snapshot of a
    # run waits for compilation, which the bar's rate absorbs after the first image.
    bar = tqdm(total=total, unit="step", desc="compiling", dynamic_ncols=True)
    done = 0

    def progress(label: str, names: Sequence[pathlib.Path | str]):
        def update(i: int, step: int):
            bar.update(done + i * config.iters + step - bar.n)
            bar.set_description(f"{label} {i + 1}/{len(names)} {getattr(names[i], 'name', names[i])}")
        return update

    tuning = None
    if sigmas is not None:
        sigma, means = table1.tune_sigma(tune_images, config, sigmas, progress("tuning σ", tune_paths))
        done += len(tune_images) * config.iters
        tuning = {"images": [table1.image_name(p) for p in tune_paths], "sigmas": list(sigmas), "mean_test_psnr": means, "chosen": sigma}
        config = table1.protocol(args.dataset, config.size, config.iters, config.depth, config.width, config.features,
                          config.seed, sigma).replace(crop=config.crop)
        tqdm.write(f"σ = {sigma:g} (best mean test PSNR {means[f'{sigma:g}']:.2f} dB on {len(tune_images)} images)")
    runs, per_run = table1.train_pictures(pictures, config, run_seeds, progress(args.dataset, labels))
    bar.close()
    doc = table1.document(args.dataset, config, [table1.image_name(p) for p in paths], per_run, tuning, shard_of,
                   time.perf_counter() - start, runs, run_seeds, args.windows if config.crop else None)
    written = outputs.write_table1(out, doc, list(dict.fromkeys([*paths, *tune_paths])), provenance.command_line(PROG, argv))
    print(text.table_markdown(doc))
    print(f"{len(paths)} images, {len(runs)} runs in {doc['seconds']:.0f} s; wrote {', '.join(written)} to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
