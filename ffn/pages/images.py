"""The Images page (the landing page): an image, mappings, Train; the live results; the views of the run.

Laid out for a classroom projector (1280×720): the controls a run needs (image, presets, mappings, Train and
Stop) in the left column and the live reconstructions at the top of the right one, the settings and the long
explanations folded. The visitor's current run lives in one `gr.State` (`views.Run`); a new run clears every
view derived from the old one (`prepare`) before it starts, and the cheap views are drawn when it ends.
"""

import functools
import pathlib
import shutil
import tempfile

import gradio as gr

from ffn.core import bands
from ffn.core import config as configs
from ffn.experiments import runs
from ffn.pages import common, lesson, run_views, texts
from ffn.present import outputs, text
from ffn.serve import disk, env, rules, views

QUICK = rules.page_values(configs.CPU)  # the page's defaults: the CPU quick look
DOWNLOADS = ("training.mp4", "comparison.png", "bands.html", "metrics.json", "metrics.csv")  # of write_outputs
SETTINGS = ("selected", "sigma_log10", "extra", "size", "iters", "lr", "paper_lr", "depth", "width", "features",
            "seed", "model", "w0", "crop")
PRESETS = {"Class demo (30 s)": configs.CLASS, "CPU quick look": configs.CPU, "Paper setting (512 px)": configs.PAPER}


def describe_plan(*values) -> str:
    """Markdown: what a run with these settings will do and cost here, or why it cannot run."""
    try:
        return rules.plan(rules.make_config(*values, speed=common.SPEED), common.SPEED)
    except ValueError as e:
        return f"⚠️ {e}"


def trained_preview(image_path, size, crop=False):
    """What a run will train on: the image's centre square at the chosen resolution, or with `crop` its centre
    window at its own resolution (nothing when it cannot be read; the upload check says why)."""
    try:
        picture, size = common.preview(image_path, size, crop)
        label = rules.trained_label(size, crop)
    except ValueError:
        return None, gr.update(label="What will be trained")
    return picture, gr.update(label=label)


def check_run(image_path, *values) -> None:
    """Every value of a run checked as the run will check it (the image is decoded only when it starts); `values`
    are the settings, then the current run (a state, which the API never sends)."""
    rules.make_config(*values[:len(SETTINGS)], speed=common.SPEED)
    common.uploaded_path(image_path)


@common.translated
def prepare(image_path, *values):
    """At a Train click that passed the checks: the views say which run they will show, their pictures of the
    previous run (the replay's too) are cleared, and the replay spans the new run's steps (its value is left alone:
    a change would draw the previous run again). `values` ends with the current run."""
    *settings, current = values
    number = (current.number if current else 0) + 1
    name = pathlib.Path(common.uploaded_path(image_path)).stem
    return (views.cleared_note(number, name), gr.update(maximum=rules.replay_span(settings[4])), [], None,
            f"Run {number} ({name}) is training: drag to any of its steps as they come.", *run_views.cleared())


def train_run(image_path, selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features, seed,
              model="relu", w0=30.0, crop=False, current: views.Run | None = None, request: gr.Request = None):
    """Streams (status, gallery, train plot, test plot, band-error plot, downloads, current run) while every
    mapping trains; the current run (a gr.State, not part of the API) is what the views are derived from."""
    with common.refused(request):
        config = rules.make_config(selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features,
                                   seed, model, w0, crop, speed=common.SPEED)
        path = common.uploaded_path(image_path)
        image = rules.read_image(path, config.size, config.crop)
    history = runs.History(config, image, pathlib.Path(path).stem, source=path)
    run = views.Run((current.number if current else 0) + 1, history)
    with common.running(request) as flag:
        yield (text.starting_line(run.label, len(config.mappings), config.iters),
               *[gr.skip()] * 5, run)
        for update in common.updates(runs.snapshots(history, image), flag):
            status = text.status_line(update.snap, update.rate, (update.note or "Done.") if update.final else "")
            if not update.final:
                yield (status, history.gallery(update.snap), *outputs.run_figures(history),
                       outputs.band_figure(history), None, run)
        if history.steady_rate():
            common.SPEED.observe(config, history.steady_rate())
        out = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=disk.process_dir()))
        try:
            paths = outputs.write_outputs(out, history, charts="cdn")
            said = status + "\n\n" + text.run_summary(config, history.last)  # what this run did, from its numbers
            yield (said, history.gallery(history.last), *outputs.run_figures(history), outputs.band_figure(history),
                   [str(paths[k]) for k in DOWNLOADS], views.Run(run.number, history, done=True))
        finally:
            shutil.rmtree(out, ignore_errors=True)  # Gradio has copied what it serves into its own cache
            disk.cap_outputs(gr.utils.get_upload_folder(), DOWNLOADS, env.MAX_OUTPUT_MB * 1e6)


def replay(current, step):
    """The gallery at any step of this visitor's run (its snapshots are kept), and the test curves marked there;
    before a run has a snapshot, nothing (never the previous run's pictures)."""
    if current is None or not current.history.steps:
        return [], None, "⚠️ Train first: the replay shows the snapshots of your run."
    try:
        _, items, figure, said = views.replay(current, step)
    except ValueError as e:
        return gr.skip(), gr.skip(), f"⚠️ {e}"
    return items, figure, said


def replay_range(current):
    """The replay slider spans the snapshots of the run (a Stop ends it early) and stands at its last one."""
    if current is None or not current.history.steps:
        return gr.skip()
    last = current.history.steps[-1]
    return gr.update(maximum=max(last, 1), step=current.config.every, value=last)


def sigma_info(sigma_log10):
    """The custom-σ slider's note: the σ its log₁₀ value means."""
    try:
        return gr.update(info=f"σ = {rules.custom_sigma(rules.check_sigma_log10(sigma_log10)):g}")
    except ValueError as e:
        return gr.update(info=f"⚠️ {e}")


def preset(config: configs.Config):
    values = rules.page_values(config)
    return [gr.update(value=values[name]) for name in SETTINGS if name != "seed"]


def build(demo: gr.Blocks) -> None:
    """Lays out the Images page and wires its events (inside `demo`, the app's Blocks)."""
    with gr.Row(equal_height=False):
        gr.Markdown(texts.TITLE, elem_id="title")
        presenting = gr.Checkbox(False, label="Presentation mode", scale=0, min_width=190, elem_id="presentation",
                                 container=False, info="large text, results full width")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=360, elem_id="controls"):
            image = common.image_input(label="Image (upload, drop or paste)", sources=["upload", "clipboard"],
                                       height=140, elem_id="image-input", format="png")
            gr.Examples(examples=[[str(p)] for p in common.EXAMPLES], inputs=[image], label="Examples: click one",
                        examples_per_page=len(common.EXAMPLES), elem_id="examples")
            with gr.Row():
                preset_buttons = {label: gr.Button(label, size="sm", elem_id=f"preset-{i}", min_width=80)
                                  for i, label in enumerate(PRESETS)}
            selected = gr.CheckboxGroup(list(rules.CHOICES), value=QUICK["selected"], label="Mappings to compare",
                                        elem_id="mappings")
            with gr.Row():
                start = gr.Button("Train", variant="primary", elem_id="train")
                common.stop_button(elem_id="stop")
            plan = gr.Markdown(elem_id="plan")
            with gr.Accordion("Settings: σ, steps, resolution, network", open=False, elem_id="settings"):
                sigma = gr.Slider(*rules.SIGMA_LOG10, value=QUICK["sigma_log10"], step=0.05,
                                  label="Custom σ (log₁₀ scale)", elem_id="sigma",
                                  info=f"σ = {rules.custom_sigma(QUICK['sigma_log10']):g}")
                iters = gr.Number(value=QUICK["iters"], precision=0, label="Iterations", elem_id="iters",
                                  info=f"1 to {rules.CAPS.iters} on this server")
                size = gr.Dropdown(list(rules.SIZES), value=QUICK["size"], label="Resolution (px)", elem_id="size")
                preview = gr.Image(label="What will be trained", height=120, interactive=False, format="png",
                                   elem_id="trained-preview", buttons=[])
                with gr.Row():
                    lr = gr.Dropdown(list(rules.LEARNING_RATES), value=QUICK["lr"], label="Learning rate",
                                     allow_custom_value=True)
                    paper_lr = gr.Checkbox(value=QUICK["paper_lr"], label="Paper's lr for none/basic (1e-2)")
                extra, depth, width, features, seed = common.network_controls(QUICK)
                model = gr.Radio([("ReLU MLP (the paper's)", "relu"), ("SIREN (sine activations)", "siren")],
                                 value=QUICK["model"], label="Network", elem_id="model",
                                 info="SIREN is the other standard answer to spectral bias; try it with No mapping")
                w0 = gr.Slider(*configs.W0_LIMITS, value=QUICK["w0"], step=1, label="SIREN ω₀",
                               info="its first layer's frequency scale")
                crop = gr.Checkbox(value=QUICK["crop"], label="Crop: a window at the image's own resolution",
                                   elem_id="crop", info="instead of the whole image scaled down: keeps its fine detail "
                                                        "per pixel (small text stays readable)")
            with gr.Accordion("What am I looking at?", open=False):
                gr.Markdown(texts.INTRO + texts.EXPLAIN)
        with gr.Column(scale=5):
            lesson_slot = gr.Column()  # the lesson, filled below once the controls it sets up exist
            status = gr.Markdown("Pick an image and press **Train**.", elem_id="status")
            recon = gr.Gallery(label="Reconstructions (captioned with their test PSNR) and the ground truth",
                               columns=6, height="auto", object_fit="contain", format="png", elem_id="recon",
                               allow_preview=True)
            with gr.Row():
                train_plot = gr.Plot(show_label=False, elem_id="train-plot")
                test_plot = gr.Plot(show_label=False, elem_id="test-plot")
            gr.Markdown(f"**Which frequencies each network has learned, step by step.** {bands.WHAT_TO_NOTICE}")
            band_plot = gr.Plot(show_label=False, elem_id="band-plot")
            with gr.Accordion("Replay the run: any step, without training again", open=False, elem_id="replay"):
                gr.Markdown("Drag to any step of your run (during or after it): its reconstructions as they were "
                            "then, and where that step lies on the test curves. The convergence video (MP4) is "
                            "among the downloads.")
                replay_step = gr.Slider(0, 1, value=0, step=1, label="Step", elem_id="replay-step")
                replay_note = gr.Markdown(elem_id="replay-note")
                replay_gallery = gr.Gallery(show_label=False, columns=6, height="auto", object_fit="contain",
                                            format="png", elem_id="replay-gallery")
                replay_plot = gr.Plot(show_label=False, elem_id="replay-plot")
            files = gr.File(label="Downloads", file_count="multiple", elem_id="downloads")
            current = gr.State(None, time_to_live=3600)  # this visitor's run (views.Run)
            tabs = run_views.build(demo, current, image, size, iters, lr, depth, width, features, seed, model, w0,
                                    crop, selected, sigma)

    settings = [selected, sigma, extra, size, iters, lr, paper_lr, depth, width, features, seed, model, w0, crop]
    preset_outputs = [selected, sigma, extra, size, iters, lr, paper_lr, depth, width, features, model, w0, crop]
    with lesson_slot:
        lesson.build(image, preset_outputs, tabs.tabs)
    presenting.change(None, presenting, None, js="(on) => { document.body.classList.toggle('presentation', on); }")
    # preprocess=False on the plan and the runs: the handlers get the values as sent and check them all themselves
    # (make_config), with a sentence for each mistake; Gradio's own checks fail on some with a bare "error".
    common.redraw([demo.load] + [control.change for control in settings], describe_plan, settings, plan)
    sigma.change(sigma_info, sigma, sigma, queue=False, show_progress="hidden", api_visibility="private",
                 preprocess=False)
    common.redraw([image.change, size.change, crop.change], trained_preview, [image, size, crop], [preview, preview])
    for label, button in preset_buttons.items():
        button.click(functools.partial(preset, PRESETS[label]), None, preset_outputs, queue=False,
                     api_visibility="private")

    # A click first clears the views of the previous run (only once the values pass: a refused Train leaves them),
    # then trains; the views of the new run are drawn when it ends.
    train_event = start.click(
        prepare, [image] + settings + [current],
        [tabs.note, replay_step, replay_gallery, replay_plot, replay_note] + tabs.cleared_outputs,
        validator=common.validator(train_run, check_run, claim=False), concurrency_limit=None, concurrency_id="prepare",
        show_progress="hidden", api_visibility="private", preprocess=False,
    ).success(
        train_run, [image] + settings + [current], [status, recon, train_plot, test_plot, band_plot, files, current],
        api_name="train", api_description=rules.api_description(), concurrency_id="jobs", show_progress="minimal",
        show_progress_on=[status], preprocess=False, validator=common.validator(train_run, check_run),
    )
    train_event.then(tabs.show, [current, tabs.row], tabs.shown_outputs, api_visibility="private", preprocess=False)
    # The replay ends at the new run's last step, drawn here (the slider may already stand there: no change event).
    train_event.then(replay_range, current, replay_step, queue=False, api_visibility="private").then(
        replay, [current, replay_step], [replay_gallery, replay_plot, replay_note], queue=False,
        show_progress="hidden", api_visibility="private", preprocess=False)
    train_event.then(describe_plan, settings, plan, queue=False, show_progress="hidden", api_visibility="private",
                     preprocess=False)
    replay_step.change(replay, [current, replay_step], [replay_gallery, replay_plot, replay_note], queue=False,
                       show_progress="hidden", api_visibility="private", preprocess=False)
