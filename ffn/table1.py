"""`python -m ffn.table1 [IMAGES...] --dataset natural|text|ct|mri`: the paper's Table 1 over a set of images.

The command line of `ffn.experiments.table1` (the protocol, the σ search, shards and their merge), which
says what it writes. With --dataset ct or mri the networks are trained through the inverse problem of each
object (random Shepp-Logan phantoms by default), after a grid search for σ and S on tuning phantoms.
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
                   help="image files or folders (default: the bundled set of --dataset); for ct and mri also "
                        f"phantom:SEED, and by default the {table1.PHANTOMS} test phantoms (seeds "
                        f"{table1.PHANTOMS} to {2 * table1.PHANTOMS - 1})")
    p.add_argument("--dataset", choices=paper.DATASETS + paper.INVERSE_DATASETS, default=None,
                   help="whose protocol to run and whose paper numbers to compare with (needed but for --merge)")
    p.add_argument("--size", type=number, default=None,
                   help="image side in px (default 512; for mri the notebook's 96); for images σ and S are scaled "
                        "from 512, for ct and mri they are tuned at this size")
    p.add_argument("--iters", type=number, default=None, help="Adam steps per image (default 2000; 1000 for ct and mri)")
    command.add_network(p)
    p.add_argument("--seeds", nargs="+", type=number, default=None, metavar="SEED",
                   help="train every mapping once per seed on every image (B and weights drawn per seed); the table "
                        "is over every run; replaces --seed (σ tuning uses the first)")
    p.add_argument("--crop", action="store_true",
                   help="the cropped protocol: train on windows of --size px cut at each image's own resolution, "
                        "not on the image scaled to --size")
    p.add_argument("--windows", type=number, default=1,
                   help="with --crop, windows per image: centred in the cells of a grid over it (1: its centre)")
    p.add_argument("--sigma", type=number, default=None,
                   help="the Gaussian mapping's σ at --size (default: the paper's, scaled; for ct and mri the best "
                        "on the tuning phantoms at --size); e.g. a tuned one")
    p.add_argument("--scale", type=number, default=None,
                   help="ct and mri: the positional encoding's S (default: the best on the tuning phantoms at --size)")
    p.add_argument("--tune", nargs="+", default=None, metavar="IMAGE",
                   help="choose σ first: the best mean test PSNR on these images over --sigmas (ct and mri: the "
                        f"objects of the grid search, default the first {table1.PHANTOMS} phantoms, seeds 0 to "
                        f"{table1.PHANTOMS - 1})")
    p.add_argument("--sigmas", nargs="+", type=number, default=None, metavar="SIGMA",
                   help="the σ grid of --tune, in cycles per image side at --size (ct and mri: default the "
                        "notebook's, 2 to 10 for ct, 2 to 6 for mri)")
    p.add_argument("--scales", nargs="+", type=number, default=None, metavar="S",
                   help="ct and mri: the posenc S grid of the search (default the notebook's, 1 to 7 for ct, 1 to 5 for mri)")
    p.add_argument("--phantoms", type=number, default=None,
                   help=f"ct and mri: how many phantoms to tune on and, without IMAGES, to test on (default "
                        f"{table1.PHANTOMS}: seeds 0 to N-1 tune, N to 2N-1 test)")
    p.add_argument("--angles", type=number, default=None, help="ct: projections in [0, 180°) (default 20)")
    p.add_argument("--kspace", type=number, default=None, help="mri: the share of k-space sampled (default 0.125)")
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
        raise ValueError(f"--dataset is needed: {', '.join(paper.DATASETS + paper.INVERSE_DATASETS)}, whose "
                         "protocol to run.")
    own = [f"--{name}" for name in ("scale", "scales", "phantoms", "angles", "kspace") if getattr(args, name) is not None]
    if own:
        raise ValueError(f"{own[0]} is a setting of --dataset ct or mri.")
    args.size = 512 if args.size is None else args.size
    args.iters = 2000 if args.iters is None else args.iters
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


def _check_inverse_args(args) -> dict:
    """The edge of --dataset ct|mri: every argument checked before any training; what the run needs."""
    from ffn.core import inverse

    dataset = args.dataset
    if args.angles is not None and dataset != "ct":
        raise ValueError("--angles is a setting of --dataset ct.")
    if args.kspace is not None and dataset != "mri":
        raise ValueError("--kspace is a setting of --dataset mri.")
    if args.sigma is not None and args.sigmas is not None:
        raise ValueError("Give either --sigma or a grid to search with --sigmas, not both.")
    if args.scale is not None and args.scales is not None:
        raise ValueError("Give either --scale or a grid to search with --scales, not both.")
    settings = {k: v for k, v in (("angles", args.angles), ("kspace", args.kspace)) if v is not None}
    problem = inverse.Problem(dataset, **settings)
    count = checks.whole(args.phantoms, "phantoms", 1, 1000) if args.phantoms is not None else table1.PHANTOMS
    sigma = None if args.sigma is None else checks.real(args.sigma, "sigma (the Gaussian mapping's σ)", *table1.SIGMA_LIMITS)
    scale = None if args.scale is None else checks.real(args.scale, "scale (the positional encoding's S)", *table1.SCALE_LIMITS)
    config = table1.inverse_protocol(dataset, args.size, args.iters, args.depth, args.width, args.features, args.seed,
                                     sigma, scale)
    objects = table1.expand_objects(args.images) if args.images else sorted(table1.test_phantoms(count), key=table1.image_name)
    shard_of = table1.parse_shard(args.shard) if args.shard is not None else None
    if shard_of is not None:
        objects = table1.shard(objects, *shard_of)
        if not objects:
            raise ValueError(f"Shard {shard_of[0]}/{shard_of[1]} is empty: there are fewer objects than shards.")
    default_sigmas, default_scales = table1.INVERSE_GRIDS[dataset]
    sigmas = None if sigma is not None else table1.check_sigmas(args.sigmas or default_sigmas)
    scales = None if scale is not None else table1.check_scales(args.scales or default_scales)
    tune = []
    if sigmas is not None or scales is not None:
        tune = table1.expand_objects(args.tune) if args.tune else table1.tuning_phantoms(count)
    elif args.tune:
        raise ValueError("--tune has nothing to search: --sigma and --scale are both given.")
    return dict(problem=problem, config=config, objects=objects, tune=tune, sigmas=sigmas, scales=scales,
                shard_of=shard_of)


def _shown(item) -> str:
    """An object as the progress bar names it: a phantom's name, a file's name."""
    return item if isinstance(item, str) else pathlib.Path(item).name


def _inverse_main(args, argv=None) -> int:
    """`python -m ffn.table1 --dataset ct|mri`: the grid search on tuning objects, then the table on the objects."""
    from tqdm import tqdm

    try:
        run = _check_inverse_args(args)
        config, problem = run["config"], run["problem"]
        # Every object is read before the first step, so a bad one is refused now and not hours in.
        objects = table1.load_objects(run["objects"], config.size)
        tune_objects = table1.load_objects(run["tune"], config.size)
        for obj in objects[:1]:
            problem.task(obj)  # the operator at this size (an MRI mask that cannot be drawn is refused here)
    except (ValueError, OSError) as e:
        return command.fail(PROG, e)
    out = args.out or pathlib.Path("runs") / f"table1-{args.dataset}-{config.size}px"
    start = time.perf_counter()
    bar = tqdm(total=(len(tune_objects) + len(objects)) * config.iters, unit="step", desc="compiling", dynamic_ncols=True)
    done = 0

    def progress(label: str, names: Sequence):
        def update(i: int, step: int):
            bar.update(done + i * config.iters + step - bar.n)
            bar.set_description(f"{label} {i + 1}/{len(names)} {_shown(names[i])}")
        return update

    tuning = None
    if tune_objects:
        try:
            result = table1.tune_inverse(tune_objects, problem, config, run["sigmas"], run["scales"],
                                         progress("tuning σ and S", run["tune"]))
        except ValueError as e:
            bar.close()
            return command.fail(PROG, e)
        done += len(tune_objects) * config.iters
        tuning = {"images": [table1.image_name(o) for o in run["tune"]], **result}
        scales = {m.kind: m.scale for m in config.parsed}
        sigma = result["chosen"] if result["chosen"] is not None else scales["gauss"]
        scale = result["chosen_scale"] if result["chosen_scale"] is not None else scales["posenc"]
        config = table1.inverse_protocol(args.dataset, config.size, config.iters, config.depth, config.width,
                                         config.features, config.seed, sigma, scale)
        tqdm.write(f"σ = {sigma:g}, S = {scale:g} (the best mean reconstruction PSNR on {len(tune_objects)} tuning "
                   f"object{'s' * (len(tune_objects) != 1)} at {config.size} px)")
    per_image = table1.train_images(objects, config, progress(args.dataset, run["objects"]), table1.task_runner(problem))
    bar.close()
    names = [table1.image_name(o) for o in run["objects"]]
    doc = table1.document(args.dataset, config, names, per_image, tuning, run["shard_of"],
                          time.perf_counter() - start, problem=problem)
    files = [o for o in run["objects"] if not str(o).startswith("phantom:")]  # phantoms are drawn, not read
    from ffn.core import provenance

    written = outputs.write_table1(out, doc, files, provenance.command_line(PROG, argv))
    print(text.table_markdown(doc))
    print(f"{len(names)} objects in {doc['seconds']:.0f} s; wrote {', '.join(written)} to {out}/")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    from tqdm import tqdm  # the imports below take a second or two: after the arguments are known to parse

    from ffn.core import provenance

    if args.merge is None and args.dataset in paper.INVERSE_DATASETS:
        return _inverse_main(args, argv)
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
