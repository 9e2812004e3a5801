"""The pages' longer words: the introduction, what a mapping is, and a note per view.

Text only (Markdown); the page modules lay it out. Kept apart so a teacher can reword it without reading code.
"""

PAPER_URL = "https://arxiv.org/abs/2006.10739"

TITLE = (f"## Fourier Features Explorer · [Tancik et al., NeurIPS 2020]({PAPER_URL})\n"
         "A network maps each pixel's (x, y) to its colour, with and without Fourier features: pick an image and "
         "mappings, press **Train**.")

INTRO = f"""
# Fourier Features Explorer
A small network that maps a pixel's coordinates (x, y) to its colour learns smooth images easily but
struggles with fine detail: it has a **spectral bias** towards low frequencies. Tancik et al.
([NeurIPS 2020]({PAPER_URL})) show that passing the coordinates through **Fourier features**,
γ(v) = [sin 2πBv, cos 2πBv], lets the same network learn high frequencies. Pick an image and some
mappings, press **Train**, and watch.
"""

EXPLAIN = """
**What a mapping is.** The network sees γ(v) instead of the raw coordinates v ∈ [0, 1)². *No mapping*
gives it v itself; *basic* gives [sin 2πv, cos 2πv]; *positional encoding* uses axis-aligned frequencies
from 0 to 2<sup>S</sup> − 1, log-spaced; *Gaussian* draws the rows of B from N(0, σ²). All Gaussian mappings of a
run share one random draw, so they differ only in σ.

**Why σ matters.** σ sets the frequencies the network can use, in cycles per image side. Too small and
the result is blurry (under-fitting); too large and the network fits every training pixel with noise in
between (over-fitting). The right σ grows with the image's resolution: about 10 suits a 512 px photo,
about 2.5 a 128 px one.

**Train vs test PSNR.** As in the paper, the networks train on every other pixel ([::2, ::2]) and are
tested on the pixels in between ([1::2, 1::2]). High train PSNR with low test PSNR means memorising, not
learning the image. PSNR = −10·log₁₀(MSE) on values in [0, 1]; higher is better.
"""

VIEW_NOTES = {
    "spectra": "The 2D Fourier transform of each reconstruction (log magnitude; low frequencies in the centre) and "
               "its power against frequency (cycles per image side). Where a reconstruction's curve falls below the "
               "ground truth's, it lacks detail at that frequency: spectral bias made visible. What the chart does "
               "**not** show is whether that power is in the right place: power is not phase. A too-large σ can "
               "match the truth's power with noise and still score several dB worse, and a network without a mapping "
               "has some fine-scale power from its own creases and blocks, which is not the image's detail. The "
               "band-error chart above measures what matches: the error in each band, not its power.",
    "row": "One row of pixels (brightness) of every reconstruction and of the ground truth, as in the paper's "
           "figure: the plain network smooths the edges away, a good mapping follows them.",
    "errors": "Where each network is wrong: |reconstruction − ground truth| per pixel, all on one colour scale.",
    "zoom": "The network is a continuous function of (x, y), so it can be rendered at any resolution. Compare it "
            "with a bicubic upscale of the pixels it was trained on: what has it learned between them?",
    "kernels": "A Fourier mapping makes the network behave like a kernel regression whose kernel k(Δv) is the "
               "mean of cos(2π bᵀΔv) over B's rows: a small σ gives a wide kernel (blur), a large σ a narrow one "
               "(noise between training pixels). The positional encoding's kernel levels off at 0.5: its frequencies "
               "are axis-aligned, so for an offset along x the half of B's rows that point along y do not change at "
               "all and keep contributing 1. The neural tangent kernel (NTK) shows the same for the network itself: "
               "how much a step on the centre pixel moves every other pixel.",
    "sweep": "Trains one Gaussian mapping at many σ at once (same image, network and steps as above) and plots the "
             "PSNRs against σ: under-fitting on the left, over-fitting on the right, where train and test part. "
             "The best σ grows with the resolution (σ counts cycles per image side).",
    "paper": "Your final PSNRs beside the paper's Table 1. The last column says whether your run had the paper's "
             "setting for that set (512 px, 2000 steps, 4×256 network, 256 features, the tuned σ, S and lr; the "
             "*Paper setting* preset, hours on a CPU); below the table, once, what differs. To check the table over a "
             "set of images: `python -m ffn.table1 IMAGES --dataset natural` (the *Paper's Table 1* page).",
}

THEORY_NOTE = """
**Why a mapping changes what is learned** (Tancik et al. 2020, §3-5). A wide coordinate network trained by
gradient descent behaves like kernel regression with its *neural tangent kernel* (NTK, §3): each frequency of
its error shrinks at a rate set by the kernel's spectrum at that frequency. A Fourier feature mapping makes the
kernel stationary, a function of v − v′ alone (§4), and σ sets how far its spectrum reaches (§5).

1. The **band-error chart** above: which frequency bands each trained network has learned, step by step.
2. The **kernel's spectrum** here, on the same frequency axis: the bands a network learns late are those where
   its kernel's spectrum is small. Without a mapping it falls steeply; a larger σ keeps it flat further out.
3. The **pictures**, one column per mapping. Top: your trained networks. Middle: what the theory predicts
   after as many steps, for the NTK-parameterised, linear-output network of the same depth and mapping at
   infinite width, trained by plain gradient descent at the step η = N/λ_max (N training pixels, λ_max the
   kernel's largest eigenvalue), so that each frequency's error shrinks by the factor 1 − λ_f/λ_max per step,
   the spectrum's value: spectral bias, in pictures. Bottom: where that gradient descent ends if it runs
   forever, kernel regression f = K(grid, train) K(train, train)⁻¹ y: every kernel then interpolates the
   training pixels and the mappings differ far less. The theory is not our finite, sigmoid-output network
   trained by Adam (which moves faster than plain gradient descent): compare the rows in kind, not dB for dB.
"""
