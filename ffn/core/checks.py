"""The checks every value from outside goes through, each failing with one sentence a person understands.

`Config`, the σ sweep, the image loader, the page's limits (`ffn.serve.rules`), the 1D lab and the command lines
all check their numbers here, so one mistake reads the same wherever it is made: "iters must be at least 1
(got 0)." from the page, the API, the command line and `Config` alike. A check returns the value in its
plain Python type (whole floats such as 256.0, which sliders send, become ints) or raises `Invalid`.
"""

import math
import numbers


class Invalid(ValueError):
    """A value that is refused; `param` names the parameter it is about (a page marks that box), or None."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def shown(value) -> str:
    """A short repr of a refused value, for the message."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        return "a huge number"
    return text if len(text) <= 40 else text[:37] + "…"


def _param(name: str, param: str | None) -> str:
    return param or name.split()[0]


def _number(value):
    """value as an int or float if it is a real number (not a bool, not a string), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return value


def _finite(number) -> bool:
    """True for every int (even one too large for a float, which the range check then refuses) and finite floats."""
    return isinstance(number, numbers.Integral) or math.isfinite(number)


def whole(value, name: str, low: int, high: int, param: str | None = None) -> int:
    """A whole number in [low, high]; whole floats (3.0) pass, as sliders send them.

    `name` starts with the parameter's name and may explain it: "features (mapping size m)".
    """
    number = _number(value)
    if number is None or not _finite(number) or number != int(number):
        raise Invalid(f"{name} must be a whole number (got {shown(value)}).", _param(name, param))
    return int(_range(int(number), value, name, low, high, param))


def real(value, name: str, low: float, high: float, param: str | None = None, above: bool = False) -> float:
    """A finite number in [low, high] (or (low, high] with `above`)."""
    number = _number(value)
    if number is None or not _finite(number):
        raise Invalid(f"{name} must be a finite number (got {shown(value)}).", _param(name, param))
    if above and not number > low:
        raise Invalid(f"{name} must be above {_bound(low)} (got {shown(value)}).", _param(name, param))
    return float(_range(number, value, name, low, high, param))


def _bound(x) -> str:
    return str(x) if isinstance(x, numbers.Integral) else f"{x:g}"


def _range(number, value, name, low, high, param):
    if number < low:
        raise Invalid(f"{name} must be at least {_bound(low)} (got {shown(value)}).", _param(name, param))
    if number > high:
        raise Invalid(f"{name} must be at most {_bound(high)} (got {shown(value)}).", _param(name, param))
    return number


def one_of(value, name: str, allowed, unit: str = "", param: str | None = None):
    """One of `allowed`; for numeric choices 64.0 counts as 64 (and is returned as the listed value)."""
    for choice in allowed:
        if type(value) is type(choice) or (_number(value) is not None and _number(choice) is not None):
            if value == choice:
                return choice
    listed = ", ".join(map(str, allowed))
    raise Invalid(f"{name} must be one of {listed}{unit} (got {shown(value)}).", _param(name, param))


def flag(value, name: str, param: str | None = None) -> bool:
    """True or False (None counts as False, as an unticked box sends it)."""
    if value is not None and not isinstance(value, bool):
        raise Invalid(f"{name} must be true or false (got {shown(value)}).", _param(name, param))
    return bool(value)


def text_number(text: str):
    """A command-line word as an int or float when it reads as one, else the word itself, so that the
    checks above (not the argument parser) say what is wrong with it, in the same words as everywhere."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
