"""The 1D lab page: the paper's 1D experiments, trained live, each frequency's residual beside the NTK's prediction."""

import gradio as gr

from ffn.experiments import lab1d
from ffn.pages import common
from ffn.present import outputs, text
from ffn.serve import rules


def check_lab(*values) -> None:
    rules.make_lab_config(*values)


def lab_run(target, freqs, amps, alpha, specs, steps, optimizer, width, request: gr.Request = None):
    """Trains wide networks on a 1D signal and streams (status, fit, loss, residuals, spectrum), each frequency's
    residual measured beside what the network's NTK predicts."""
    with common.refused(request):
        config = rules.make_lab_config(target, freqs, amps, alpha, specs, steps, optimizer, width)
    with common.running(request) as flag:
        for update in common.updates(lab1d.run(config), flag):
            status = text.lab_status(update.snap, update.rate, (update.note or "Done.") if update.final else "")
            yield (status, *outputs.lab_figures(update.snap).values())


def from_address(request: gr.Request):
    """The lab's settings from the page's address (the lesson's link: /lab?freqs=2+8+24&specs=…&steps=…&width=…),
    checked as a run would check them; an address without them, or with a value the lab refuses, changes nothing."""
    asked = dict(getattr(request, "query_params", {}) or {})
    names = ("freqs", "specs", "steps", "width")
    if not any(name in asked for name in names):
        return [gr.skip()] * 4
    try:
        config = rules.make_lab_config(freqs=asked.get("freqs", "2 8 24"), specs=asked.get("specs", "none gauss:10 power:1"),
                                       steps=int(asked.get("steps", 1000)), width=int(asked.get("width", 256)))
    except ValueError:
        return [gr.skip()] * 4
    return [" ".join(map(str, config.target.freqs)), " ".join(config.mappings), config.steps, config.width]


def build(demo: gr.Blocks) -> None:
    """Lays out the 1D lab page and wires its events."""
    gr.Markdown("## The 1D lab: what is learned when, and what the theory predicts")
    with gr.Row(equal_height=False, elem_id="lab"):
        with gr.Column(scale=2, min_width=320):
            target = gr.Radio(list(rules.LAB_TARGETS), value="sines", label=f"Target on [0, 1), {rules.LAB_POINTS} points",
                              elem_id="lab-target")
            with gr.Row():
                freqs = gr.Textbox(value="2 8 24", label="Frequencies (cycles)", elem_id="lab-freqs",
                                   info="the sines, and the components whose residual is followed")
                amps = gr.Textbox(value="", label="Amplitudes", placeholder="1 each", info="one per frequency, or none")
            alpha = gr.Slider(0, 4, value=1.0, step=0.25, label="α of the 1/f^α signal")
            specs = gr.Textbox(value="none gauss:10 power:1", label="Mappings", elem_id="lab-specs",
                               info="none, basic, posenc:S, gauss:σ, power:p (b_j = j, a_j = j^-p)")
            with gr.Row():
                steps = gr.Slider(100, rules.LAB_STEPS, value=1000, step=100, label="Steps")
                width = gr.Dropdown(list(rules.LAB_WIDTHS), value=256, label="Width")
            optimizer = gr.Radio([("Gradient descent (the theory's)", "gd"), ("Adam", "adam")], value="gd",
                                 label="Optimizer")
            with gr.Row():
                start = gr.Button("Run the 1D lab", variant="primary", elem_id="lab-run")
                common.stop_button(elem_id="lab-stop", api_name="stop_lab")
            with gr.Accordion("What to try, and what to notice", open=True):
                gr.Markdown(lab1d.GUIDE)
        with gr.Column(scale=5):
            status = gr.Markdown("Press **Run the 1D lab**.", elem_id="lab-status")
            with gr.Row():
                fit = gr.Plot(show_label=False, elem_id="lab-fit")
                loss = gr.Plot(show_label=False, elem_id="lab-loss")
            residuals = gr.Plot(show_label=False, elem_id="lab-residuals")
            spectrum = gr.Plot(show_label=False, elem_id="lab-spectrum")
    inputs = [target, freqs, amps, alpha, specs, steps, optimizer, width]
    demo.load(from_address, None, [freqs, specs, steps, width], queue=False, api_visibility="private")
    start.click(lab_run, inputs, [status, fit, loss, residuals, spectrum], api_name="lab1d", concurrency_id="jobs",
                show_progress="minimal", show_progress_on=[status], preprocess=False,
                validator=common.validator(lab_run, check_lab, param="specs"))
