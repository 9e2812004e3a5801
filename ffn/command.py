"""What the package's command lines share (`python -m ffn`, `ffn.table1`, `ffn.lab1d`, `ffn.bench`).

Each command is built the same way: `parse_args(argv)` with a `Parser`, whose numbers are read by
`checks.text_number` and judged by the checks (so a mistake reads as it does on the page), then `main(argv)`,
which returns 0, or `fail`'s 2 with one line on standard error.
"""

import argparse
import sys

from ffn.core.checks import text_number
from ffn.core.config import PAPER


class Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default, except where it is None: there the option's help says what it means."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """argparse with the defaults in --help and a one-line error (argparse's own prints the whole usage first)."""

    def __init__(self, prog: str, description: str):
        super().__init__(prog=prog, description=description, formatter_class=Formatter)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_network(p: argparse.ArgumentParser) -> None:
    """--depth, --width, --features and --seed, the network and its random draw, by default the paper's
    (`config.PAPER`): the same options, meaning and defaults in every command that trains."""
    p.add_argument("--depth", type=text_number, default=PAPER.depth, help="Dense layers")
    p.add_argument("--width", type=text_number, default=PAPER.width, help="hidden units per layer")
    p.add_argument("--features", type=text_number, default=PAPER.features,
                   help="mapping size m (Fourier features give 2m inputs)")
    p.add_argument("--seed", type=text_number, default=PAPER.seed, help="random seed (B and initial weights)")


def fail(prog: str, error: BaseException | str) -> int:
    """Says what is wrong in one line on standard error; the exit code of a refused command, 2."""
    print(f"{prog}: error: {error}", file=sys.stderr)
    return 2
