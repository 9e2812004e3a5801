"""The inverse problems page: CT and MRI, where the networks never see the object, only measurements of it.

The visitor picks a task (CT projections or a share of MRI k-space), an object (a random Shepp-Logan phantom, a
bundled example or an upload, taken as grey), mappings and a preset; the measurements are shown beside the object,
the reconstructions stream every 25 steps with their PSNR curves and the band-error chart, and what to notice is
said from the run's own results. The NTK's reconstruction from the same measurements is computed on request.
Every rule lives in `ffn.serve.rules`, every view in `ffn.serve.views`.
"""

import functools
import pathlib
import shutil
import tempfile

import gradio as gr

from ffn.core import bands
from ffn.experiments import runs
from ffn.pages import common
from ffn.present import measurements, outputs, text
from ffn.serve import disk, env, rules, views

PRESETS = rules.inverse_presets()
QUICK = rules.inverse_page_values(*PRESETS["Quick look (64 px, 300 steps)"]("ct"))  # the page's defaults
DOWNLOADS = ("training.mp4", "comparison.png", "bands.html", "metrics.json", "metrics.csv")  # and the measurements
MEASUREMENT_FILES = {"sinogram.png", "kspace_mask.png", "kspace.png"}  # `measurements.write`
SETTINGS = ("task", "angles", "kspace", "selected", "sigma_log10", "extra", "size", "iters", "lr", "notebook_lr",
            "depth", "width", "features", "seed")
INTRO = """
## Inverse problems: CT and MRI
The networks never see the object. They render an image, a fixed operator turns it into **measurements** (CT: the
object's projections at a few angles; MRI: a share of its 2D Fourier transform, k-space), and only the difference
from the object's own measurements trains them (Tancik et al. 2020, §6, Table 1's last two columns). There are
fewer measured numbers than pixels, so many images fit them equally well: what each network fills in between
is its prior, and the mapping sets it. The test PSNR here is the reconstruction's against the object, over every
pixel; the train PSNR is the fit to the measurements.
"""
THEORY = """
**The theory beside it.** The infinite-width network (its NTK K, as in the Images page's *Why: the NTK* tab)
trained by gradient descent through the operator A moves as f ← f − η K Aᵀ (A f − y): after t steps
f = K Aᵀ c_t, and in the limit f = K Aᵀ (A K Aᵀ)⁻¹ y, kernel regression on the measurements. It fits y exactly
and fills the operator's null space with the kernel's smoothest completion. Up to 64 px (its kernel holds every
pixel against every pixel). Compare the rows in kind, not dB for dB: the theory is not our finite, sigmoid-output
network trained by Adam.
"""


def _problem_config(values):
    """(problem, config) from the settings as sent, within this server's caps."""
    return rules.make_inverse_config(*values, speed=common.SPEED)


def describe_plan(*values) -> str:
    """Markdown: what an inverse run with these settings will train on and cost here, or why it cannot run."""
    try:
        return rules.inverse_plan(*_problem_config(values), common.SPEED)
    except ValueError as e:
        return f"⚠️ {e}"


def preview(image_path, phantom_seed, task, angles, kspace, size):
    """The object and its measurements as the run will see them (nothing when a value is refused; the plan
    and the image box's note say why)."""
    try:
        obj, name = common.read_object(image_path, phantom_seed, size)
        return views.measurement_gallery(rules.make_problem(task, angles, kspace).task(obj), name)
    except ValueError:
        return None


def check_run(image_path, phantom_seed, *values) -> None:
    """Every value of a run checked as the run will check it; `values` are the settings, then the current run."""
    _problem_config(values[:len(SETTINGS)])
    common.check_object(image_path, phantom_seed)


def inverse_run(image_path, phantom_seed, task, angles, kspace, selected, sigma_log10, extra, size, iters, lr,
                notebook_lr, depth, width, features, seed, current: views.Run | None = None,
                request: gr.Request = None):
    """Streams (status, measurements, reconstructions, fit plot, reconstruction plot, band-error plot, what to
    notice, downloads, current run) while every mapping trains through the task's operator."""
    with common.refused(request):
        problem, config = _problem_config((task, angles, kspace, selected, sigma_log10, extra, size, iters, lr,
                                           notebook_lr, depth, width, features, seed))
        obj, name = common.read_object(image_path, phantom_seed, config.size)
        task_ = problem.task(obj)
    history = runs.History(config, obj, name, problem=problem)
    run = views.Run((current.number if current else 0) + 1, history)
    with common.running(request) as flag:
        yield (text.starting_line(f"{run.label} through {problem.label()}", len(config.mappings), config.iters),
               views.measurement_gallery(task_, name), None, None, None, None, "", None, run)
        for update in common.updates(runs.task_snapshots(history, task_), flag):
            status = text.status_line(update.snap, update.rate, (update.note or "Done.") if update.final else "")
            if not update.final:
                yield (status, gr.skip(), history.gallery(update.snap), *outputs.run_figures(history),
                       outputs.band_figure(history), gr.skip(), None, run)
        if history.steady_rate():
            common.SPEED.observe(config, history.steady_rate(), task=True)
        out = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=disk.process_dir()))
        try:
            paths = outputs.write_outputs(out, history, charts="cdn")
            paths.update(measurements.write(out, task_))
            files = [str(paths[k]) for k in DOWNLOADS] + [str(p) for k, p in paths.items() if k not in DOWNLOADS
                                                          and k.startswith(("sinogram", "kspace"))]
            yield (status, gr.skip(), history.gallery(history.last), *outputs.run_figures(history),
                   outputs.band_figure(history), text.inverse_notice(history.last, problem, config.size), files,
                   views.Run(run.number, history, done=True))
        finally:
            shutil.rmtree(out, ignore_errors=True)  # Gradio has copied what it serves into its own cache
            disk.cap_outputs(gr.utils.get_upload_folder(), set(DOWNLOADS) | MEASUREMENT_FILES,
                             env.MAX_OUTPUT_MB * 1e6)


def theory_plan(current) -> str:
    return views.inverse_theory_cost(current)


def theory_view(current, request: gr.Request = None):
    """Streams (status, pictures) of the NTK's reconstructions, as a job of this visitor: Stop or the time limit
    end it between mappings."""
    with common.refused(request), common.job(request, "current") as flag:
        views.require(current)
        for status, picture in views.inverse_theory(current, flag, rules.CAPS.seconds):
            yield status, picture if picture is not None else gr.skip()


def preset(label: str, task):
    """The controls a preset sets, for the task chosen now."""
    values = rules.inverse_page_values(*PRESETS[label](task))
    return [gr.update(value=values[name]) for name in SETTINGS if name not in ("task", "seed")]


def task_controls(task):
    """The angles slider for CT, the k-space slider for MRI, and the task's notebook learning rates."""
    values = rules.inverse_page_values(*PRESETS["Quick look (64 px, 300 steps)"](task))
    return (gr.update(visible=task == "ct"), gr.update(visible=task == "mri"), gr.update(value=values["lr"]),
            gr.update(value=values["notebook_lr"]))


def object_controls(source):
    """The phantom's seed, or the image box and its examples; choosing the phantom lets the image go."""
    phantom = source == "phantom"
    return (gr.update(visible=phantom), gr.update(visible=not phantom, value=None) if phantom else
            gr.update(visible=True), gr.update(visible=not phantom))


def build(demo: gr.Blocks) -> None:
    """Lays out the inverse page and wires its events (inside `demo`, the app's Blocks)."""
    gr.Markdown(INTRO, elem_id="inverse-intro")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=360):
            task = gr.Radio(list(rules.INVERSE_TASKS), value=QUICK["task"], label="Task", elem_id="inverse-task")
            angles = gr.Slider(*rules.ANGLE_RANGE, value=QUICK["angles"], step=1, label="CT: projection angles",
                               elem_id="inverse-angles", info="equally spaced in [0°, 180°); the paper uses 20")
            kspace = gr.Slider(*rules.KSPACE_RANGE, value=QUICK["kspace"], step=0.005, visible=False,
                               label="MRI: share of k-space sampled", elem_id="inverse-kspace",
                               info="drawn around the centre of k-space as in the authors' notebook (12.5%)")
            source = gr.Radio([("Shepp-Logan phantom", "phantom"), ("An image, taken as grey", "image")],
                              value="phantom", label="Object", elem_id="inverse-source")
            phantom_seed = gr.Number(value=0, precision=0, minimum=rules.PHANTOM_SEEDS[0],
                                     maximum=rules.PHANTOM_SEEDS[1], label="Phantom seed (the paper's random "
                                     "modified Shepp-Logan phantoms)", elem_id="inverse-phantom-seed")
            image = common.image_input(label="Image (upload, drop or paste)", sources=["upload", "clipboard"],
                                       height=140, elem_id="inverse-image", format="png", visible=False)
            with gr.Group(visible=False) as example_group:
                gr.Examples(examples=[[str(p)] for p in common.EXAMPLES], inputs=[image], label="Examples: click one",
                            examples_per_page=len(common.EXAMPLES), elem_id="inverse-examples")
            with gr.Row():
                preset_buttons = {label: gr.Button(label, size="sm", elem_id=f"inverse-preset-{i}", min_width=80)
                                  for i, label in enumerate(PRESETS)}
            selected = gr.CheckboxGroup(list(rules.INVERSE_CHOICES), value=QUICK["selected"],
                                        label="Mappings to compare", elem_id="inverse-mappings")
            with gr.Row():
                start = gr.Button("Reconstruct", variant="primary", elem_id="inverse-train")
                common.stop_button(elem_id="inverse-stop", api_name="stop_inverse")
            plan = gr.Markdown(elem_id="inverse-plan")
            with gr.Accordion("Settings: σ, steps, resolution, network", open=False, elem_id="inverse-settings"):
                sigma = gr.Slider(*rules.SIGMA_LOG10, value=QUICK["sigma_log10"], step=0.05,
                                  label="Custom σ (log₁₀ scale)", elem_id="inverse-sigma",
                                  info=f"σ = {rules.custom_sigma(QUICK['sigma_log10']):g}")
                iters = gr.Slider(25, rules.CAPS.iters, value=QUICK["iters"], step=25, label="Iterations",
                                  elem_id="inverse-iters")
                size = gr.Dropdown(list(rules.INVERSE_SIZES), value=QUICK["size"], label="Resolution (px)",
                                   elem_id="inverse-size")
                with gr.Row():
                    lr = gr.Dropdown(list(rules.INVERSE_LEARNING_RATES), value=QUICK["lr"], label="Learning rate",
                                     allow_custom_value=True, elem_id="inverse-lr")
                    notebook_lr = gr.Checkbox(value=QUICK["notebook_lr"], label="lr 1e-2 for none/basic (CT notebook)")
                extra, depth, width, features, seed = common.network_controls(QUICK, "Seed (B and the initial weights)")
        with gr.Column(scale=5):
            status = gr.Markdown("Choose a task and an object, then press **Reconstruct**.", elem_id="inverse-status")
            measured = gr.Gallery(label="The object and what the networks are trained on instead", columns=3,
                                  height="auto", object_fit="contain", format="png", elem_id="inverse-measurements")
            recon = gr.Gallery(label="Reconstructions (captioned with their PSNR against the object) and the object",
                               columns=6, height=250, object_fit="contain", format="png", elem_id="inverse-recon")
            with gr.Row():
                train_plot = gr.Plot(show_label=False, elem_id="inverse-fit-plot")
                test_plot = gr.Plot(show_label=False, elem_id="inverse-test-plot")
            gr.Markdown(f"**Which frequencies of the object each network has recovered, step by step.** "
                        f"{bands.WHAT_TO_NOTICE}")
            band_plot = gr.Plot(show_label=False, elem_id="inverse-band-plot")
            notice = gr.Markdown(elem_id="inverse-notice")
            files = gr.File(label="Downloads", file_count="multiple", elem_id="inverse-downloads")
            with gr.Accordion("Why: the infinite-width network through the operator", open=False,
                              elem_id="inverse-theory"):
                gr.Markdown(THEORY)
                theory_cost = gr.Markdown(elem_id="inverse-theory-cost")
                with gr.Row():
                    theory_button = gr.Button("Compute the theory for this run", variant="primary",
                                              elem_id="inverse-theory-run")
                    common.stop_button("Stop the theory", elem_id="inverse-theory-stop", api_name="stop_inverse_theory")
                theory_status = gr.Markdown(elem_id="inverse-theory-status")
                theory_img = gr.Image(show_label=False, format="png", interactive=False, elem_id="inverse-theory-img")
            current = gr.State(None, time_to_live=3600)  # this visitor's inverse run (views.Run)

    settings = [task, angles, kspace, selected, sigma, extra, size, iters, lr, notebook_lr, depth, width, features,
                seed]
    quiet = dict(queue=False, show_progress="hidden", api_visibility="private")
    common.redraw([demo.load] + [control.change for control in settings], describe_plan, settings, plan)
    previewed = [image, phantom_seed, task, angles, kspace, size]
    common.redraw([demo.load] + [control.change for control in previewed], preview, previewed, measured)
    task.change(task_controls, task, [angles, kspace, lr, notebook_lr], **quiet)
    source.change(object_controls, source, [phantom_seed, image, example_group], **quiet)
    image.change(lambda path: gr.update(value="image") if path is not None else gr.skip(), image, source,
                 preprocess=False, **quiet)
    sigma.change(lambda s: gr.update(info=f"σ = {rules.custom_sigma(s):g}"), sigma, sigma, **quiet)
    preset_outputs = [angles, kspace, selected, sigma, extra, size, iters, lr, notebook_lr, depth, width, features]
    for label, button in preset_buttons.items():
        button.click(functools.partial(preset, label), task, preset_outputs, **quiet)

    event = start.click(
        inverse_run, [image, phantom_seed] + settings + [current],
        [status, measured, recon, train_plot, test_plot, band_plot, notice, files, current],
        api_name="inverse", api_description=rules.inverse_api_description(), concurrency_id="jobs",
        show_progress="minimal", show_progress_on=[status], preprocess=False,
        validator=common.validator(inverse_run, check_run),
    )
    event.then(theory_plan, current, theory_cost, **quiet)
    event.then(lambda: None, None, theory_img, **quiet)
    demo.load(theory_plan, current, theory_cost, **quiet)
    theory_button.click(theory_view, current, [theory_status, theory_img], concurrency_id="jobs",
                        api_visibility="private", show_progress_on=[theory_status])
