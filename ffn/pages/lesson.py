"""A guided lesson on the Images page: six steps for a class, each setting up the page and saying what to look at.

Each step's "Set up" button puts an example, the mappings and a small preset on the page (and opens the view to
look at); the teacher presses Train. Every step's run is the class demo's size (128 px, a 4×64 network) or smaller,
which trains in under half a minute on 2 cores. The last step links to the 1D lab page with that page's settings
in its address (routes share no state, so the link carries them).
"""

import dataclasses
import functools
import urllib.parse

import gradio as gr

from ffn.core import config as configs
from ffn.pages import common
from ffn.serve import rules

CLASS = configs.CLASS  # 128 px, 300 steps, 4×64, 64 features


@dataclasses.dataclass(frozen=True)
class Step:
    title: str
    says: str  # two sentences: what to do, what to look at
    image: str | None  # a bundled example (None: the step sets nothing up)
    config: configs.Config | None  # what the page is set to
    tab: str | None = None  # the view to open (an elem_id of run_views' tabs)


LAB_SETTINGS = {"freqs": "2 8 24", "specs": "none gauss:10 power:1", "steps": "1000", "width": "256"}

STEPS = (
    Step("1. Plain network",
         "Press **Train**: the network sees only each pixel's (x, y), with no mapping. Watch the reconstruction stay "
         "blurry while the band chart's fine bands stay yellow: it learns low frequencies first (spectral bias).",
         "cat.png", CLASS.replace(mappings=("none",))),
    Step("2. Fourier features",
         "Press **Train**: the same network, now also with the basic mapping, positional encoding and a Gaussian "
         "mapping at σ = 2.5. Compare the test PSNRs under the pictures and the bands each mapping darkens.",
         "cat.png", CLASS.replace(mappings=("none", "basic", "posenc:4", "gauss:2.5"))),
    Step("3. Why: the kernel",
         "Press **Train** (64 px, so that the theory takes seconds), then **Compute the theory** in the tab opened "
         "below. Without a mapping the kernel's spectrum falls steeply: a frequency is learned at the speed of its "
         "value, so fine detail waits.",
         "cat.png", CLASS.replace(mappings=("none", "gauss:1.25"), size=64), "tab-theory"),
    Step("4. Too large a σ",
         "Press **Train**: Gaussian mappings at σ = 2.5, 10 and 40 on the same image. The largest fits the training "
         "pixels best (train PSNR) and the held-out ones worst: see the noise in the error maps opened below.",
         "cat.png", CLASS.replace(mappings=("gauss:2.5", "gauss:10", "gauss:40")), "tab-errors"),
    Step("5. Text images",
         "Press **Train** on the text image: sharp glyph edges are exactly the high frequencies a plain network "
         "cannot reach. The gap between none and the Gaussian mapping is larger than on the photograph.",
         "text.png", CLASS.replace(mappings=("none", "posenc:4", "gauss:2.5"))),
    Step("6. The 1D lab",
         "The 1D lab trains on a sum of sines at 2, 8 and 24 cycles and shows each frequency's residual beside "
         "what the kernel predicts. Open it with the lesson's settings: "
         f"[the 1D lab](lab?{urllib.parse.urlencode(LAB_SETTINGS)}), then press **Run the 1D lab**.",
         None, None),
)


def set_up(step: Step) -> list:
    """The page's controls for one step: the image, the settings (`rules.page_values`), the view to open."""
    values = rules.page_values(step.config)
    image = str(common.ASSETS / step.image)
    settings = [gr.update(value=values[name]) for name in ("selected", "sigma_log10", "extra", "size", "iters", "lr",
                                                            "paper_lr", "depth", "width", "features", "model", "w0",
                                                            "crop")]
    tab = gr.Tabs(selected=step.tab) if step.tab else gr.skip()
    count = len(step.config.mappings)
    said = (f"✔ Set up for **{step.title}**: {step.config.size} px, {count} mapping{'s' * (count != 1)}. "
            "Press **Train**.")
    return [image, *settings, tab, said]


def build(image, settings: list, views_tabs: gr.Tabs) -> None:
    """Lays out the lesson (a collapsed accordion) and wires each step to the page's controls.

    settings: the page's selected, sigma, extra, size, iters, lr, paper_lr, depth, width, features, model, w0, crop."""
    with gr.Accordion("A guided lesson for a class: six steps, each under a minute here", open=False,
                      elem_id="lesson"):
        with gr.Walkthrough(selected=0, elem_id="lesson-steps") as walk:
            for i, step in enumerate(STEPS):
                with gr.Step(step.title, id=i):
                    gr.Markdown(step.says, elem_id=f"lesson-text-{i}")
                    with gr.Row():
                        if step.config is not None:
                            setup = gr.Button("Set up this step", variant="primary", size="sm",
                                              elem_id=f"lesson-setup-{i}")
                        if i + 1 < len(STEPS):
                            after = gr.Button("Next step →", size="sm", elem_id=f"lesson-next-{i}")
                            after.click(functools.partial(gr.Walkthrough, selected=i + 1), None, walk, queue=False,
                                        api_visibility="private")
                    if step.config is not None:
                        said = gr.Markdown(elem_id=f"lesson-said-{i}")
                        setup.click(functools.partial(set_up, step), None, [image, *settings, views_tabs, said],
                                    queue=False, api_visibility="private")
