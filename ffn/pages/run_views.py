"""The Images page's views of the current run, as tabs: spectra, row slice, error maps, zoom, kernels, the NTK's
theory, the σ sweep and the run beside the paper's Table 1.

Every view is derived from the visitor's `views.Run` (`ffn.serve.views` computes it and names the run); a new run
clears them all (`cleared`), the cheap ones are drawn when it ends (`show`), the others when asked.
"""

import dataclasses
import pathlib
import shutil
import tempfile

import gradio as gr

from ffn.core import config as configs
from ffn.core import train
from ffn.experiments import sweep as sweeps
from ffn.experiments import table1
from ffn.pages import common, texts
from ffn.present import outputs, plots, text
from ffn.serve import disk, env, rules, views


@dataclasses.dataclass
class Tabs:
    """The components the Images page wires to the views."""

    note: gr.Markdown
    row: gr.Slider
    tabs: gr.Tabs
    cleared_outputs: list  # what `cleared` empties when a new run starts
    shown_outputs: list  # what `show` fills when a run ends

    @staticmethod
    def show(current, row):
        """Every cheap view of a finished run (or the reason there is none)."""
        try:
            v = views.overview(current, row)
        except ValueError as e:
            return (str(e),) + (None,) * 5 + (views.NO_RUN, gr.update(), gr.update(), gr.update(), str(e), "", "")
        menu = lambda: gr.update(choices=v["specs"], value=v["best"])  # noqa: E731 (a fresh update per output)
        return (v["note"], v["spectra"], v["radial"], v["row"], v["errors"], v["kernels"], v["paper"],
                gr.update(maximum=v["row_max"], value=v["row_value"]), menu(), menu(), views.theory_cost(current),
                "Press the button above to compute the theory for this run.",
                "Press **Run σ sweep** to sweep σ on this run's image and settings.")


def cleared() -> tuple:
    """The views' values while a new run trains: the previous run's pictures gone, each saying why."""
    waiting = "The new run is training: this view shows it when it ends."
    return (None, None, None, None, None, waiting,  # spectra, radial, row, errors, kernel slices, paper table
            None, None, None,  # zoom, kernel heatmap, NTK heatmap
            waiting, None, None,  # theory: status, spectrum, pictures
            waiting, None, None, None)  # σ sweep: status, chart, best σ, its table


def set_table_text() -> str:
    """The newest table1.json under runs/ (what `python -m ffn.table1` writes there by default) beside the paper's."""
    doc = table1.latest(env.ROOT / "runs")
    if doc is None:
        return ("No set table on this server yet. `python -m ffn.table1 --dataset natural` runs the paper's protocol "
                "over the bundled natural images (`--size 128` for a CPU-sized version) and writes its mean ± std "
                "beside the paper's; the *Paper's Table 1* page shows it.")
    return text.table_markdown(doc)


def row_view(current, row):
    """The row slice, or (a queue=False event's error would not show) a note saying why it did not change."""
    if current is None or not current.done:
        return gr.skip(), ""
    try:
        return views.row_figure(current, row), ""
    except ValueError as e:
        return gr.skip(), f"⚠️ {e} The chart still shows the last row that was drawn."


def zoom_view(current, spec, factor, request: gr.Request = None):
    """A mapping's network rendered finer than it was trained (a job of this visitor: one at a time)."""
    with common.refused(request), common.job(request, "current"):
        return views.zoom(current, spec, factor)


def kernel_view(current, spec, trained, request: gr.Request = None):
    """The mapping's kernel and the network's empirical NTK around the centre pixel (a job of this visitor)."""
    with common.refused(request), common.job(request, "current"):
        return views.kernels(current, spec, trained)


def theory_view(current, request: gr.Request = None):
    """Streams (status, spectrum, pictures) of the theory view, as a long job of this visitor: refused up front
    when estimated over the limit, ended by Stop or the limit between mappings."""
    with common.refused(request), common.job(request, "current") as flag:
        views.theory_check(current)
        for status, figure, picture in views.theory(current, flag, rules.CAPS.seconds):
            yield status, figure if figure is not None else gr.skip(), picture if picture is not None else gr.skip()


def sweep_run(image_path, sigma_min, sigma_max, n, size, iters, lr, depth, width, features, seed, model="relu",
              w0=30.0, crop=False, request: gr.Request = None):
    """Trains one Gaussian mapping at n log-spaced σ in one batched run; streams (status, chart, best σ, the sweep's
    table as JSON and CSV when it ends)."""
    with common.refused(request):
        config = rules.make_sweep_config(sigma_min, sigma_max, n, size, iters, lr, depth, width, features, seed,
                                         model, w0, crop, speed=common.SPEED)
        path = common.uploaded_path(image_path)
        image = rules.read_image(path, config.size, config.crop)
    name = pathlib.Path(path).stem
    with common.running(request) as flag:
        for update in common.updates(train.run(image, config), flag):
            summary = sweeps.summarise_sweep(update.snap)
            if not update.final:
                yield (f"σ sweep on {name}: " + text.status_line(update.snap, update.rate), plots.sweep_figure(summary),
                       gr.skip(), gr.skip())
        out = pathlib.Path(tempfile.mkdtemp(prefix="sweep-", dir=disk.process_dir()))
        try:
            paths = outputs.write_sweep_table(out, summary, config, path)
            yield (views.sweep_verdict(summary, update.snap.step, name, update.note), plots.sweep_figure(summary),
                   summary["best_sigma"], [str(p) for p in paths.values()])
        finally:
            shutil.rmtree(out, ignore_errors=True)  # Gradio has copied what it serves into its own cache


def check_sweep(image_path, *values) -> None:
    rules.make_sweep_config(*values, speed=common.SPEED)
    common.uploaded_path(image_path)


def describe_sweep(*values) -> str:
    """What a σ sweep with these settings will train and cost here, or why it cannot run."""
    try:
        return rules.sweep_plan(rules.make_sweep_config(*values, speed=common.SPEED), common.SPEED)
    except ValueError as e:
        return f"⚠️ {e}"


def use_sigma(best, selected):
    try:
        sigma_log10, chosen, said = rules.with_sigma(best, selected)
    except ValueError as e:
        raise common.error(e) from None
    return gr.update(value=sigma_log10), gr.update(value=chosen), said


def theory_plan(current) -> str:
    return views.theory_cost(current)


def build(demo, current, image, size, iters, lr, depth, width, features, seed, model, w0, crop, selected,
          sigma) -> Tabs:
    """Lays out the views and wires their events; returns what the page's run wires to them."""
    gr.Markdown("### Look closer at the run")
    note = gr.Markdown(views.NO_RUN, elem_id="views-note")
    notes = texts.VIEW_NOTES
    with gr.Tabs(elem_id="views") as tabs:
        with gr.Tab("Spectra", elem_id="tab-spectra", id="tab-spectra") as spectra_tab:
            gr.Markdown(notes["spectra"])
            spectra_img = gr.Image(show_label=False, format="png", interactive=False, elem_id="spectra")
            radial_plot = gr.Plot(show_label=False, elem_id="radial-plot")
        with gr.Tab("Row slice", elem_id="tab-row", id="tab-row") as row_tab:
            gr.Markdown(notes["row"])
            size0 = configs.CPU.size
            row = gr.Slider(0, size0 - 1, value=size0 // 2, step=1, label="Row", elem_id="row")
            row_note = gr.Markdown(elem_id="row-note")
            row_plot = gr.Plot(show_label=False, elem_id="row-plot")
        with gr.Tab("Error maps", elem_id="tab-errors", id="tab-errors"):
            gr.Markdown(notes["errors"])
            error_img = gr.Image(show_label=False, format="png", interactive=False, elem_id="errors")
        with gr.Tab("Zoom", elem_id="tab-zoom", id="tab-zoom"):
            gr.Markdown(notes["zoom"])
            with gr.Row():
                zoom_spec = gr.Dropdown([], label="Mapping", elem_id="zoom-spec")
                zoom_factor = gr.Radio([2, 4], value=2, label="Zoom", elem_id="zoom-factor")
                zoom_button = gr.Button("Render", elem_id="zoom-render")
            zoom_img = gr.Image(show_label=False, format="png", interactive=False, elem_id="zoom")
        with gr.Tab("Kernels", elem_id="tab-kernels", id="tab-kernels") as kernels_tab:
            gr.Markdown(notes["kernels"])
            kernel_plot = gr.Plot(show_label=False, elem_id="kernel-plot")
            with gr.Row():
                kernel_spec = gr.Dropdown([], label="Mapping", elem_id="kernel-spec")
                trained = gr.Radio([("trained", True), ("untrained", False)], value=True, label="Network")
                kernel_button = gr.Button("Show kernel and NTK", elem_id="kernel-render")
            with gr.Row():
                kernel_map = gr.Plot(show_label=False, elem_id="kernel-map")
                ntk_map = gr.Plot(show_label=False, elem_id="ntk-map")
        with gr.Tab("Why: the NTK", elem_id="tab-theory", id="tab-theory"):
            gr.Markdown(texts.THEORY_NOTE)
            theory_cost = gr.Markdown(elem_id="theory-cost")
            with gr.Row():
                theory_button = gr.Button("Compute the theory for this run", variant="primary", elem_id="theory-run")
                common.stop_button("Stop the theory", elem_id="theory-stop", api_name="stop_theory")
            theory_status = gr.Markdown(elem_id="theory-status")
            theory_plot = gr.Plot(show_label=False, elem_id="theory-spectrum")
            theory_img = gr.Image(show_label=False, format="png", interactive=False, elem_id="theory-img")
        with gr.Tab("σ sweep", elem_id="tab-sweep", id="tab-sweep"):
            gr.Markdown(notes["sweep"])
            with gr.Row():
                sweep_min = gr.Number(value=0.5, label="σ from", minimum=0)
                sweep_max = gr.Number(value=50, label="σ to", minimum=0)
                sweep_n = gr.Slider(2, 24, value=12, step=1, label="How many σ")
            with gr.Row():
                sweep_button = gr.Button("Run σ sweep", variant="primary", elem_id="sweep-run")
                common.stop_button("Stop the sweep", elem_id="sweep-stop", api_name="stop_sweep")
                use_button = gr.Button("Use the best σ", elem_id="use-sigma")
            sweep_plan = gr.Markdown(elem_id="sweep-plan")
            sweep_status = gr.Markdown(elem_id="sweep-status")
            sweep_plot = gr.Plot(show_label=False, elem_id="sweep-plot")
            sweep_files = gr.File(label="The sweep's table (JSON, CSV)", file_count="multiple",
                                  elem_id="sweep-downloads")
        with gr.Tab("Paper's numbers", elem_id="tab-paper", id="tab-paper"):
            gr.Markdown(notes["paper"])
            table = gr.Markdown(views.NO_RUN, elem_id="paper-table")
            gr.Markdown("#### Over a set of images: `python -m ffn.table1`")
            set_table = gr.Markdown(elem_id="set-table")
    best_sigma = gr.State(None)

    demo.load(set_table_text, None, set_table, queue=False, api_visibility="private")
    # The row drawn when typed and when its tab is shown, one event (two let the tab's draw clear a typed row's note);
    # .change, not .release: typing a row or stepping with the arrow keys redraws too.
    common.redraw([row.change, row_tab.select], row_view, [current, row], [row_plot, row_note])
    # A chart drawn while its tab was hidden has no width to fill: drawn again when its tab is shown.
    spectra_tab.select(views.radial, current, radial_plot, queue=False, show_progress="hidden", api_visibility="private")
    kernels_tab.select(views.kernel_slices, current, kernel_plot, queue=False, show_progress="hidden",
                       api_visibility="private")
    # preprocess=False: a value outside a menu's choices reaches `views`, which says which are allowed (Gradio's own
    # check would log a traceback).
    zoom_button.click(zoom_view, [current, zoom_spec, zoom_factor], zoom_img, concurrency_id="jobs",
                      api_visibility="private", preprocess=False)
    kernel_button.click(kernel_view, [current, kernel_spec, trained], [kernel_map, ntk_map], concurrency_id="jobs",
                        api_visibility="private", preprocess=False)
    demo.load(theory_plan, current, theory_cost, queue=False, show_progress="hidden", api_visibility="private")
    theory_button.click(theory_view, current, [theory_status, theory_plot, theory_img], concurrency_id="jobs",
                        api_visibility="private", show_progress_on=[theory_status])
    sweep_settings = [sweep_min, sweep_max, sweep_n, size, iters, lr, depth, width, features, seed, model, w0, crop]
    sweep_button.click(sweep_run, [image] + sweep_settings, [sweep_status, sweep_plot, best_sigma, sweep_files],
                       api_name="sweep",
                       concurrency_id="jobs", show_progress="minimal", show_progress_on=[sweep_status],
                       preprocess=False, validator=common.validator(sweep_run, check_sweep))
    use_button.click(use_sigma, [best_sigma, selected], [sigma, selected, sweep_status], queue=False,
                     api_visibility="private", preprocess=False)
    common.redraw([demo.load] + [c.change for c in sweep_settings], describe_sweep, sweep_settings, sweep_plan)
    return Tabs(note, row, tabs,
                [spectra_img, radial_plot, row_plot, error_img, kernel_plot, table, zoom_img, kernel_map, ntk_map,
                 theory_status, theory_plot, theory_img, sweep_status, sweep_plot, best_sigma, sweep_files],
                [note, spectra_img, radial_plot, row_plot, error_img, kernel_plot, table, row, zoom_spec, kernel_spec,
                 theory_cost, theory_status, sweep_status])
