"""The house in layers: maths (ffn.core) -> experiments -> presentation -> the server's rules -> interfaces.

An arrow never points up: a module imports only from its own layer or the layers below, the core never imports
gradio, and only the page layer (ffn.pages, and app.py) does.
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAYERS = ["core", "experiments", "present", "serve", "interfaces"]  # bottom to top
INTERFACES = {"pages", "cli", "table1", "lab1d", "bench", "inverse_table", "command", "__main__"}  # pages, commands


def layer_of(module: str) -> int | None:
    """The layer index of an ffn module name ('ffn.core.train' -> 0), None for ffn itself."""
    parts = module.split(".")
    if parts[0] != "ffn" or len(parts) == 1:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS[:-1] else LAYERS.index("interfaces")


def imports(path: pathlib.Path) -> set[str]:
    """Every module `path` imports, as dotted names (`from ffn.core import train` gives ffn.core.train)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def modules():
    for path in sorted((ROOT / "ffn").rglob("*.py")):
        yield ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"), path


def test_every_module_has_a_layer():
    for name, _ in modules():
        top = name.split(".")[1] if "." in name else None
        assert top is None or top in LAYERS[:-1] or top in INTERFACES, name


def test_no_import_points_up():
    wrong = []
    for name, path in modules():
        own = layer_of(name)
        for target in imports(path):
            other = layer_of(target)
            if own is not None and other is not None and other > own:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_only_the_page_layer_imports_gradio():
    users = {name for name, path in modules() if any(t == "gradio" or t.startswith("gradio.") for t in imports(path))}
    assert users and all(name.startswith("ffn.pages") for name in users), users


def test_no_experiment_imports_a_figure_module():
    for name, path in modules():
        if name.startswith("ffn.experiments"):
            assert not {t for t in imports(path) if t.startswith("ffn.present") or "plotly" in t}, name
