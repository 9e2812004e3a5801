"""The Paper's Table 1 page: the paper's numbers for every task, the newest set tables this server has, and the
commands that reproduce each column (`python -m ffn.table1`), with what they cost here."""

import gradio as gr

from ffn.experiments import paper, table1
from ffn.present import text
from ffn.serve import env

INTRO = """
## The paper's Table 1
Test PSNR (dB) of the paper's 4×256 ReLU network with each input mapping (Tancik et al. 2020, Table 1): 2D image
regression over sets of natural and text images (mean ± std over each set, 512 px, 2000 steps), and the inverse
problems, where the network never sees the object, only measurements of it.
"""

COMMANDS = """
### Reproduce a column
```bash
python -m ffn.table1 --dataset natural                  # the bundled photographs, the paper's setting (a GPU: minutes)
python -m ffn.table1 --dataset text --size 128 --iters 300 --crop --seeds 0 1 2   # CPU-sized: windows at full resolution
python -m ffn.table1 --dataset natural --sigma 10 --shard 1/4 --out out/s1   # one slice of a cluster's job array
python -m ffn.table1 --merge out/s1 out/s2 out/s3 out/s4 --out out/natural   # then the one table
python -m ffn.table1 --dataset ct --size 64 --iters 300   # 2D CT on random phantoms, σ and S tuned at 64 px
python -m ffn.table1 --dataset mri --size 64 --iters 300  # MRI in 2D (the paper's is 3D)
```
Below 512 px σ and S follow the resolution and the table says it is not the paper's setting (for CT and MRI they
are chosen by the notebooks' grid search at the table's size). On the *Images* page, the *Paper's numbers* tab
puts a single run beside these numbers where its setting is the paper's; the *Inverse problems* page trains one
object through CT or MRI.
"""


def newest_table() -> str:
    """The newest table1.json under runs/ beside the paper's, or how to make one."""
    doc = table1.latest(env.ROOT / "runs")
    if doc is None:
        return ("**No set table on this server yet.** Run one of the commands below; the newest `table1.json` under "
                "`runs/` shows here.")
    return f"### The newest set table on this server ({doc['dataset']})\n" + text.table_markdown(doc)


def build(demo: gr.Blocks) -> None:
    gr.Markdown(INTRO)
    gr.Markdown(text.paper_table1(), elem_id="paper-table1")
    gr.Markdown(f"± is the {paper.STD}; the inverse problems' columns give means only, as the paper does.")
    newest = gr.Markdown(elem_id="newest-table")
    gr.Markdown(COMMANDS)
    demo.load(newest_table, None, newest, queue=False, api_visibility="private")
