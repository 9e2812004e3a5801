"""The objects of the paper's inverse problems: random modified Shepp-Logan phantoms, in 2D and 3D.

A Shepp-Logan phantom is a sum of constant ellipses (ellipsoids in 3D), each given by a row of a published
table: its grey level, its semi-axes, its centre in [-1, 1] and its angle. The paper's CT and MRI experiments
(the authors' notebooks `2d_CT.ipynb` and `3d_MRI.ipynb`) draw a new phantom for every image by adding
N(0, 1)/20 to *every* entry of the table (grey levels, axes, centres and angles alike) and clipping the
sum of ellipses to [0, 1]. We do the same from a seed, so a phantom is a function of (size, seed).

Conventions. Array axis 0 is the row (y), axis 1 the column (x), axis 2 (3D only) z; pixel (i, j) sits at
its centre, x_j = -1 + (2j + 1)/R and y_i = 1 - (2i + 1)/R, so the picture is upright as printed in the
textbooks (small ellipses at the bottom). The notebooks' phantom package lays y the other way (row 0 at
y = -1) and samples the corners of the square (linspace(-1, 1, R)): their pictures are ours upside down,
which changes no statistic of the experiments. Angles are in radians, as in that package, so an angle's
jitter is N(0, 1)/20 rad (about 3°).
"""

import numpy as np

from ffn.core import data

JITTER = 1.0 / 20.0  # the notebooks' jitter: N(0, 1)/20 added to every entry of the table
MIN_SIZE_3D, MAX_SIZE_3D = 8, 128  # a volume of R³ float32: 128³ is 8 MB; the paper's MRI is 96³

# The modified Shepp-Logan phantom (Toft 1996, "The Radon Transform: Theory and Implementation", appendix B;
# the table MATLAB's `phantom` calls "Modified Shepp-Logan"): Shepp and Logan's 1974 ellipses with grey levels
# changed for contrast. Columns: grey level, semi-axis along x (a), semi-axis along y (b), centre x0, centre y0,
# angle φ (rad) of the a-axis from the x-axis. (The notebooks' package has y0 = -0.605 for the ninth ellipse
# where Toft has -0.606.)
MODIFIED_SHEPP_LOGAN_2D = np.array([
    [1.0, 0.6900, 0.9200, 0.00, 0.0000, 0.0],
    [-0.8, 0.6624, 0.8740, 0.00, -0.0184, 0.0],
    [-0.2, 0.1100, 0.3100, 0.22, 0.0000, np.deg2rad(-18.0)],
    [-0.2, 0.1600, 0.4100, -0.22, 0.0000, np.deg2rad(18.0)],
    [0.1, 0.2100, 0.2500, 0.00, 0.3500, 0.0],
    [0.1, 0.0460, 0.0460, 0.00, 0.1000, 0.0],
    [0.1, 0.0460, 0.0460, 0.00, -0.1000, 0.0],
    [0.1, 0.0460, 0.0230, -0.08, -0.6050, 0.0],
    [0.1, 0.0230, 0.0230, 0.00, -0.6060, 0.0],
    [0.1, 0.0230, 0.0460, 0.06, -0.6050, 0.0],
])

# The 3D Shepp-Logan phantom's ellipsoids (Koay, Sarlls and Özarslan 2007, "Three-dimensional analytical
# magnetic resonance imaging phantom in the Fourier domain", MRM 58(2), their table after Shepp 1980 and Kak
# and Slaney), with the modified 2D table's grey levels taken in order, as the notebooks' phantom package does.
# Columns: grey level, semi-axes a (x), b (y), c (z), centre x0, y0, z0, angle φ (rad) in the xy-plane.
MODIFIED_SHEPP_LOGAN_3D = np.array([
    [1.0, 0.6900, 0.920, 0.900, 0.00, 0.000, 0.000, 0.0],
    [-0.8, 0.6624, 0.874, 0.880, 0.00, 0.000, 0.000, 0.0],
    [-0.2, 0.4100, 0.160, 0.210, -0.22, 0.000, -0.250, 3 * np.pi / 5],
    [-0.2, 0.3100, 0.110, 0.220, 0.22, 0.000, -0.250, 2 * np.pi / 5],
    [0.1, 0.2100, 0.250, 0.500, 0.00, 0.350, -0.250, 0.0],
    [0.1, 0.0460, 0.046, 0.046, 0.00, 0.100, -0.250, 0.0],
    [0.1, 0.0460, 0.023, 0.020, -0.08, -0.650, -0.250, 0.0],
    [0.1, 0.0460, 0.023, 0.020, 0.06, -0.650, -0.250, np.pi / 2],
    [0.1, 0.0560, 0.040, 0.100, 0.06, -0.105, 0.625, np.pi / 2],
    [0.1, 0.0560, 0.056, 0.100, 0.00, 0.100, 0.625, 0.0],
])
Z_LIMITS = (-0.25, 0.25)  # the notebook's zlims: the slab of the head its 3D phantom is drawn on


def jittered(table: np.ndarray, seed: int, jitter: float = JITTER) -> np.ndarray:
    """The table with N(0, 1)·jitter added to every entry, drawn from `seed`: (E, c) -> (E, c) float64."""
    return table + jitter * np.random.default_rng(seed).standard_normal(table.shape)


def _axis(size: int, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """The centres of `size` equal cells tiling [low, high]: (size,) float64."""
    return low + (high - low) * (np.arange(size) + 0.5) / size


def _inside(x, y, x0, y0, a, b, phi):
    """(x, y) relative to an ellipse of centre (x0, y0), semi-axes a, b, angle phi: its squared 'radius' (1 on
    the boundary), as two terms (along a, along b). Broadcasts over x and y."""
    c, s = np.cos(phi), np.sin(phi)
    u = (x - x0) * c + (y - y0) * s  # along the a-axis
    v = -(x - x0) * s + (y - y0) * c  # along the b-axis
    return (u / a) ** 2 + (v / b) ** 2


def shepp_logan(size: int, table: np.ndarray = MODIFIED_SHEPP_LOGAN_2D) -> np.ndarray:
    """The sum of a table's ellipses on a size×size grid, clipped to [0, 1]: (R, R) float32.

    `table` is (E, 6) as `MODIFIED_SHEPP_LOGAN_2D`. A pixel belongs to an ellipse when its centre does.
    """
    size = data.check_size(size)
    x = _axis(size)[None, :]
    y = -_axis(size)[:, None]  # row 0 at the top, y = +1
    image = np.zeros((size, size))
    for grey, a, b, x0, y0, phi in table:
        image += grey * (_inside(x, y, x0, y0, a, b, phi) <= 1.0)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def random_shepp_logan(size: int, seed: int, jitter: float = JITTER) -> np.ndarray:
    """The paper's random CT phantom: the modified Shepp-Logan table jittered by N(0, 1)·`jitter` from
    `seed`, drawn at size×size and clipped to [0, 1]: (R, R) float32. jitter=0 gives the textbook phantom."""
    return shepp_logan(size, jittered(MODIFIED_SHEPP_LOGAN_2D, seed, jitter))


def _check_size_3d(size) -> int:
    """`size` if it is a whole even number of voxels in [MIN_SIZE_3D, MAX_SIZE_3D], else ValueError."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size % 2 or not MIN_SIZE_3D <= size <= MAX_SIZE_3D:
        raise ValueError(f"A 3D phantom's side must be an even number of voxels from {MIN_SIZE_3D} to {MAX_SIZE_3D} "
                         f"(got {size!r}).")
    return int(size)


def shepp_logan_3d(size: int, table: np.ndarray = MODIFIED_SHEPP_LOGAN_3D, z_limits=Z_LIMITS) -> np.ndarray:
    """The sum of a table's ellipsoids on a size³ grid, clipped to [0, 1]: (R, R, R) float32, axes (y, x, z).

    `table` is (E, 8) as `MODIFIED_SHEPP_LOGAN_3D`; x and y span [-1, 1], z spans `z_limits` (the notebook
    draws the slab z in [-0.25, 0.25]), so volume[:, :, k] is an axial slice like the 2D phantom.
    """
    size = _check_size_3d(size)
    x = _axis(size)[None, :, None]
    y = -_axis(size)[:, None, None]
    z = _axis(size, *z_limits)[None, None, :]
    volume = np.zeros((size, size, size))
    for grey, a, b, c, x0, y0, z0, phi in table:
        volume += grey * (_inside(x, y, x0, y0, a, b, phi) + ((z - z0) / c) ** 2 <= 1.0)
    return np.clip(volume, 0.0, 1.0).astype(np.float32)


def random_shepp_logan_3d(size: int, seed: int, jitter: float = JITTER, z_limits=Z_LIMITS) -> np.ndarray:
    """The 3D MRI notebook's random phantom: the 3D table jittered by N(0, 1)·`jitter` from `seed`, drawn on a
    size³ grid over `z_limits` and clipped to [0, 1]: (R, R, R) float32."""
    return shepp_logan_3d(size, jittered(MODIFIED_SHEPP_LOGAN_3D, seed, jitter), z_limits)


# ITU-R BT.601 luma weights, those of PIL's convert("L"): the grey a viewer shows for an RGB picture.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def grey(image: np.ndarray) -> np.ndarray:
    """Any (R, R, 3) image in [0, 1] (e.g. from `data.load_image`) as a grey object for CT or MRI: (R, R)
    float32 in [0, 1], the BT.601 luma (the CT and MRI networks render one channel)."""
    image = np.asarray(image, np.float32)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"Expected an (R, R, 3) RGB image (got shape {image.shape}).")
    return np.clip(image @ LUMA, 0.0, 1.0)
