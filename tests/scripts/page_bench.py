"""Times runs through the served page as a visitor meets them (not a test: `python tests/scripts/page_bench.py`).

Starts the app on loopback, then for each preset (the page's default, the CPU quick look, and the class demo)
sends its values to /train with gradio_client, as the page's Train button does, and reports: the time to the
first update, to the first trained snapshot, the median and largest interval between updates, the total time,
and the page's own estimate beside it (how far off it was). The presets' programs are compiled first, as
`python app.py` does at start-up; `--repeat` runs each preset again, after the page has measured its speed. Prints a table and JSON, and names the machine.
"""

import argparse
import json
import pathlib
import platform
import statistics
import sys
import time

sys.path[:0] = [str(pathlib.Path(__file__).resolve().parents[i]) for i in (2, 1)]  # the app, and tests/
from conftest import ROOT, free_port  # noqa: E402

import app  # noqa: E402
from ffn import bench  # noqa: E402
from ffn.core import config, train  # noqa: E402
from ffn.pages import common  # noqa: E402
from ffn.serve import rules  # noqa: E402

PRESETS = {"class demo": config.CLASS, "default (CPU quick look)": config.CPU}


def time_run(client, values: dict, image: str) -> dict:
    from gradio_client import handle_file

    estimate = common.SPEED.estimate(rules.make_config(**values))
    start = time.perf_counter()
    stamps, statuses = [], []
    for update in client.submit(handle_file(image), *values.values(), api_name="/train"):
        stamps.append(time.perf_counter() - start)
        statuses.append(update[0])
    trained = [t for t, s in zip(stamps, statuses) if "step 0 /" not in s and "Starting" not in s]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    total = stamps[-1]
    return {"first_update_s": round(stamps[0], 2), "first_trained_snapshot_s": round(trained[0], 2) if trained else None,
            "median_update_interval_s": round(statistics.median(gaps), 2) if gaps else None,
            "longest_update_interval_s": round(max(gaps), 2) if gaps else None, "total_s": round(total, 1),
            "estimate_s": round(estimate, 1), "estimate_off_by": f"{100 * (estimate - total) / total:+.0f}%",
            "updates": len(stamps), "done": "Done" in statuses[-1]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--image", default=str(ROOT / "assets" / "cat.png"))
    p.add_argument("--repeat", type=int, default=2, help="runs of each preset (the first compiles)")
    p.add_argument("--json", type=pathlib.Path, default=None, help="also write the results here")
    args = p.parse_args()
    from gradio_client import Client

    port = free_port()
    for preset in PRESETS.values():  # as `python app.py` does at start-up, before anyone clicks
        train.warm_up(preset)
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.LAUNCH)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
    m = bench.machine()
    machine = f"{m['cpu']} ({'AVX-512' if m['avx512'] else 'no AVX-512'}), {m['cores']} cores, {platform.machine()}"
    print(f"machine: {machine}", flush=True)
    results = {}
    for name, preset in PRESETS.items():
        values = rules.page_values(preset)
        for i in range(args.repeat):
            row = time_run(client, values, args.image)
            results[f"{name} #{i + 1}"] = row
            print(f"{name} #{i + 1}: {row}", flush=True)
    app.demo.close()
    print()
    print(f"| run ({machine}) | first update | first trained snapshot | update interval (median / longest) "
          "| total | page's estimate |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['first_update_s']} s | {r['first_trained_snapshot_s']} s | "
              f"{r['median_update_interval_s']} / {r['longest_update_interval_s']} s | {r['total_s']} s | "
              f"{r['estimate_s']} s ({r['estimate_off_by']}) |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "runs": results}, indent=1))


if __name__ == "__main__":
    main()
