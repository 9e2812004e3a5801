"""The benchmark's report, and what the trainer's speed rests on: compiled programs (in process, warmed up, or on
disk) are reused. (The fast step equals the reference step: test_train.py.) Nothing here asserts a time."""

import json
import math
import os
import subprocess
import sys
import warnings

import jax
import numpy as np
import pytest

from ffn import bench
from ffn.core import train
from ffn.core.config import TINY

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.mark.slow  # python -m pytest -m slow
def test_bench_smoke_reports_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "ffn.bench", "--smoke", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "GFLOP/s" in done.stdout and "the reference loop" in done.stdout  # the table
    r = json.loads(out.read_text())
    assert r["machine"]["cpu"] and r["machine"]["cores"] >= 1 and r["machine"]["jax"] == jax.__version__ and r["machine"]["date"]
    assert r["machine"]["isa"] in done.stdout.splitlines()[0]  # the instruction set heads the table
    assert r["machine"]["isa"] != "AVX-512" or r["machine"]["avx512"]
    measured = ["reference", "ffn"] + ([] if "skipped" in r["torch"] else ["torch"])
    for who in measured:
        assert positive(r[who]["steps_per_s"]) and positive(r[who]["gflops"]), who
        assert len(r[who]["seconds"]) == r["repeats"] and all(positive(s) for s in r[who]["seconds"])
        assert r["fraction_of_ceiling"][who] == pytest.approx(r[who]["gflops"] / r["ceiling"]["gflops"])
    assert r["speedup"] == pytest.approx(r["ffn"]["steps_per_s"] / r["reference"]["steps_per_s"])
    # The PyTorch loop is measured where torch imports, else skipped with the reason in the table.
    if "skipped" in r["torch"]:
        assert "import torch" in r["torch"]["skipped"] or "failed" in r["torch"]["skipped"]
        assert f"PyTorch loop skipped: {r['torch']['skipped']}" in done.stdout
        assert "speedup_over_torch" not in r
    else:
        assert r["speedup_over_torch"] == pytest.approx(r["ffn"]["steps_per_s"] / r["torch"]["steps_per_s"])
        assert r["torch"]["threads"] == r["machine"]["cores"] and f"torch {r['torch']['torch']}" in done.stdout
        for spec in r["config"]["mappings"]:  # the same work, from the same initial weights
            assert r["torch"]["psnr"][spec] == pytest.approx(r["ffn"]["psnr"][spec], abs=0.1), spec
    # The GEMM ceiling: the best of XLA's and NumPy's rates at the trainer's shapes, named in the table.
    ceiling = r["ceiling"]
    assert {name.split()[0] for name in ceiling["rates"]} == {"XLA", "NumPy"} and all(positive(g) for g in ceiling["rates"].values())
    assert ceiling["gflops"] == max(ceiling["rates"].values()) == ceiling["rates"][ceiling["of"]]
    assert f"GEMM ceiling: {ceiling['gflops']:.1f} GFLOP/s" in done.stdout and ceiling["of"] in done.stdout
    assert "NumPy's BLAS: " in done.stdout and "OPENBLAS_CORETYPE" in ceiling["numpy_blas"]
    assert positive(r["matmul"]["gflops"]) and all(positive(g) for g in r["matmul"]["trainer_shapes_gflops"].values())
    assert all(positive(f) for f in r["fraction_of_matmul"].values())
    first = r["first_snapshot_s"]
    for key in ("cold", "warm", "persistent_cache_empty", "persistent_cache_warm", "persistent_cache_warm_process"):
        assert positive(first[key]), key
    assert r["ffn"]["compile_s_warm"] == 0  # the timed runs reused the cold run's programs
    assert 50e6 < r["memory"]["peak_rss_bytes"] < 50e9
    assert r["flops"]["run"] == r["config"]["iters"] * r["flops"]["iteration"] + r["flops"]["evaluations"] * r["flops"]["snapshot"]
    # Identical work: the two trainers end at the same PSNRs, up to float rounding.
    for spec in r["config"]["mappings"]:
        assert r["ffn"]["psnr"][spec] == pytest.approx(r["reference"]["psnr"][spec], abs=0.1), spec
    # The table of a run whose PyTorch loop was skipped says why, and leaves its cells empty.
    skipped = {**r, "torch": {"skipped": "import torch failed (no torch)"}, "fraction_of_ceiling": {
        k: v for k, v in r["fraction_of_ceiling"].items() if k != "torch"}}
    skipped.pop("speedup_over_torch", None)
    text = bench.table(skipped)
    assert "PyTorch loop skipped: import torch failed (no torch)" in text and "PyTorch loop" in text.splitlines()[3]


def test_the_pytorch_loop_is_skipped_with_its_reason_where_torch_does_not_import(tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('this torch is broken on purpose')\n")
    args = bench.parse_args(["--smoke", "--torch-path", str(tmp_path)])
    out = bench.run_torch(bench.make_config(args), args)
    assert "this torch is broken on purpose" in out["skipped"] and "--torch-path" in out["skipped"]
    args = bench.parse_args(["--smoke", "--no-torch"])
    assert bench.run_torch(bench.make_config(args), args) == {"skipped": "left out (--no-torch)"}


def test_a_second_run_of_the_same_shapes_compiles_nothing(image, monkeypatch):
    monkeypatch.setattr(train, "_COMPILED", {})  # compile afresh, whatever shapes earlier tests compiled
    config = TINY.replace(mappings=("none", "gauss:1.5", "posenc:2"), iters=10, every=5, seed=3)
    first = train.train(image, config)
    again = train.train(image, config)
    other = train.train(image, config.replace(seed=4, mappings=("none", "gauss:2.5", "posenc:2"), lr=3e-3))
    assert first.compile_seconds > 0
    assert again.compile_seconds == 0 and other.compile_seconds == 0  # same shapes: same programs
    assert again.test_psnr == first.test_psnr


def test_a_chunk_updates_its_state_in_place(image):
    """The chunk's state is donated: XLA reuses its buffers (and so warns of none it could not use)."""
    config = TINY.replace(mappings=("gauss:2", "gauss:4"), width=40, iters=4, every=4)
    groups, shared = train._setup(image, config)
    group = groups[0]
    args = train._chunk_args(group, shared, train._put(np.int32(4), split=False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        program, _ = train.compiled(train.train_chunk, group.model, True, *args)
        state, _ = program(*args)
    assert not [w for w in caught if "donat" in str(w.message)]
    assert all(x.is_deleted() for x in jax.tree.leaves(group.state))
    assert not any(x.is_deleted() for x in jax.tree.leaves(state))


def test_mappings_of_one_encoding_width_share_one_program(image, monkeypatch):
    """On one device each network runs its width's program in turn: three Gaussian mappings compile one training
    program, and a later run of one other σ of that width compiles nothing (a program for K stacked networks was
    compiled for each K, and cost a fifth to a quarter more to compile)."""
    monkeypatch.setattr(train, "_COMPILED", {})
    config = TINY.replace(mappings=("gauss:1", "gauss:3", "gauss:9@0.003"), iters=6, every=3, seed=5)
    three = train.train(image, config)
    assert three.compile_seconds > 0 and len(train._COMPILED) == 1
    alone = train.train(image, config.replace(mappings=("gauss:3",)))
    assert alone.compile_seconds == 0 and len(train._COMPILED) == 1
    assert alone.test_psnr["gauss:3"] == three.test_psnr["gauss:3"]  # its numbers, whatever trains beside it
    np.testing.assert_array_equal(alone.images["gauss:3"], three.images["gauss:3"])


def test_warm_up_compiles_every_program_of_a_run(image):
    config = TINY.replace(mappings=("basic", "gauss:7"), width=24, iters=7, every=3)
    assert train.warm_up(config) > 0
    assert train.warm_up(config) == 0
    assert train.train(image, config).compile_seconds == 0


def test_persistent_cache_is_written_to_the_folder_given(tmp_path):
    script = ("from ffn.core import train; from ffn.core.config import TINY; from ffn.serve import env; "
              "import numpy as np; print(train.enable_compilation_cache(env.CACHE_DIR)); "
              "train.train(np.zeros((16, 16, 3), np.float32), TINY.replace(iters=5, every=5))")
    env = {**os.environ, "FFN_CACHE_DIR": str(tmp_path / "jax")}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str(tmp_path / "jax")
    assert len(list((tmp_path / "jax").iterdir())) >= 2  # the step-0 evaluation and the chunk programs, at least


def test_the_cpu_compiler_options_change_no_number_and_are_dropped_where_jax_lacks_them(image, monkeypatch):
    """XLA's older fusion emitters compile the trainer's programs faster (docs/performance.md) to the same numbers up
    to float rounding (bit for bit on the AVX-512 machine measured; in the 7th digit under AVX2 code); a JAX without
    the option compiles without it, to exactly XLA's default numbers, rather than failing."""
    config = TINY.replace(mappings=("none", "gauss:3"), width=36, iters=6, every=3, seed=5)
    runs = {}
    for name, options in (("xla default", {}), ("ours", train.CPU_COMPILER_OPTIONS),
                          ("unknown", {"xla_cpu_no_such_option": True})):
        monkeypatch.setattr(train, "_COMPILED", {})
        monkeypatch.setattr(train, "CPU_COMPILER_OPTIONS", options)
        runs[name] = train.train(image, config)
        assert runs[name].compile_seconds > 0, name
    default, ours, unknown = runs["xla default"], runs["ours"], runs["unknown"]
    assert unknown.test_psnr == default.test_psnr and unknown.train_psnr == default.train_psnr
    for spec in config.mappings:
        np.testing.assert_array_equal(unknown.images[spec], default.images[spec])
        assert ours.test_psnr[spec] == pytest.approx(default.test_psnr[spec], abs=1e-4)
        assert ours.train_psnr[spec] == pytest.approx(default.train_psnr[spec], abs=1e-4)
        assert np.abs(ours.images[spec].astype(int) - default.images[spec]).max() <= 1
