"""Every results file says where it came from: code, libraries, machine, input (checksum), setting, command, date."""

import datetime
import hashlib
import json
import re

import jax
import numpy as np
import pytest
from PIL import Image

from ffn.core import config as configs
from ffn.core import data, provenance
from ffn.experiments import lab1d, runs
from ffn.present import outputs


@pytest.fixture(scope="module")
def picture(tmp_path_factory, image):
    path = tmp_path_factory.mktemp("prov") / "smooth picture.png"
    Image.fromarray((image * 255).round().astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def history(picture):
    config = configs.TINY.replace(mappings=("none",), iters=2, every=2)  # one network, one compiled chunk
    record = None
    for record, _ in runs.record(data.load_image(picture, config.size), config, "smooth", picture):
        pass
    return record


def test_record_names_libraries_machine_input_setting_command_and_date(picture):
    block = provenance.record({"size": 16}, [picture], provenance.command_line("python -m ffn", [str(picture), "-x"]))
    assert block["inputs"] == [{"path": str(picture), "sha256": hashlib.sha256(picture.read_bytes()).hexdigest(),
                                "bytes": picture.stat().st_size, "width": 16, "height": 16}]
    assert block["packages"]["jax"] == jax.__version__ and block["packages"]["numpy"] == np.__version__
    assert block["packages"]["pillow"] == Image.__version__ and set(block["packages"]) == set(provenance.PACKAGES)
    assert block["backend"] == jax.default_backend() and block["devices"].startswith(f"{len(jax.devices())} × ")
    assert block["machine"]["isa"] in ("AVX-512", "AVX2", "AVX") or not block["machine"]["isa"].startswith("AVX")
    assert block["machine"]["cores"] >= 1 and block["python"] and block["platform"]
    checkout = block["checkout"]  # None where ffn is not run from a git checkout of its repository
    assert checkout is None or (re.fullmatch(r"[0-9a-f]{40}", checkout["commit"]) and isinstance(checkout["dirty"], bool))
    assert block["config"] == {"size": 16}
    assert block["command"] == f"python -m ffn '{picture}' -x"  # quoted as a shell needs it, to paste again
    date = datetime.datetime.fromisoformat(block["date"])
    assert date.utcoffset() == datetime.timedelta(0)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - date).total_seconds()) < 60


def test_file_facts_give_the_upright_size_and_refuse_nothing(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 48 wide, shown 32 wide
    path = tmp_path / "turned.jpg"
    Image.new("RGB", (48, 32)).save(path, exif=exif.tobytes())
    facts = provenance.file_facts(path, "turned.jpg")
    assert (facts["width"], facts["height"], facts["path"]) == (32, 48, "turned.jpg")
    assert data.decode_image(path).size == (32, 48)  # as ffn.core.data shows it
    other = tmp_path / "notes.txt"
    other.write_text("not an image")
    assert provenance.file_facts(other)["width"] is None


def test_bench_reuses_the_cpu_detection():
    from ffn import bench

    assert bench.machine().items() >= provenance.cpu().items()


def test_metrics_and_sweep_files_carry_the_input_checksum(history, picture, tmp_path):
    digest = hashlib.sha256(picture.read_bytes()).hexdigest()
    outputs.write_outputs(tmp_path / "cli", history, video_file=False, command="python -m ffn x")
    block = json.loads((tmp_path / "cli" / "metrics.json").read_text())["provenance"]
    assert block["inputs"][0]["sha256"] == digest and block["inputs"][0]["path"] == str(picture)
    assert block["config"] == history.config.to_dict() and block["command"] == "python -m ffn x"
    outputs.write_outputs(tmp_path / "app", history, video_file=False)  # the app: no command, no server folder
    block = json.loads((tmp_path / "app" / "metrics.json").read_text())["provenance"]
    assert block["command"] is None and block["inputs"][0]["path"] == "smooth picture.png"
    assert block["inputs"][0]["sha256"] == digest
    gauss = {"step": 4, "iters": 4, "sigmas": [1.0, 2.0], "final_train_psnr": [20.0, None],
             "final_test_psnr": [19.5, None], "best_sigma": 1.0}
    paths = outputs.write_sweep_table(tmp_path / "sweep", gauss, history.config, picture)
    document = json.loads(paths["sweep.json"].read_text())
    assert document.pop("provenance")["inputs"][0]["sha256"] == digest and document == gauss
    assert paths["sweep.csv"].read_text().splitlines() == [
        "sigma,final_train_psnr,final_test_psnr,best", "1,20.0000,19.5000,1", "2,,,0"]


def test_a_cropped_run_records_its_window(tmp_path):
    path = tmp_path / "wide.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(path)
    config = configs.TINY.replace(crop=True)
    (facts,) = outputs.run_inputs(config, path, "python -m ffn wide.png --crop")
    assert facts["window"] == [7, 2, 23, 18] == list(data.windows(path, 16)[0].box)
    assert "window" not in outputs.run_inputs(config.replace(crop=False), path, "cmd")[0]


def test_lab1d_json_carries_the_lab_setting(tmp_path):
    config = lab1d.LabConfig(mappings=("none",), target=lab1d.Target(freqs=(2, 8)), points=64, steps=2, every=1,
                             width=16)
    last = None
    for last in lab1d.run(config):
        pass
    outputs.write_lab(tmp_path, last, config=config, command="python -m ffn.lab1d --steps 2")
    block = json.loads((tmp_path / "lab1d.json").read_text())["provenance"]
    assert block["config"]["steps"] == 2 and block["config"]["target"]["kind"] == config.target.kind
    assert block["command"] == "python -m ffn.lab1d --steps 2" and block["inputs"] == []


def test_provenance_is_cheap_after_the_first_call():
    provenance.environment()
    started = datetime.datetime.now()
    for _ in range(100):
        provenance.record()
    assert (datetime.datetime.now() - started).total_seconds() < 1.0  # no git, no import: cached

