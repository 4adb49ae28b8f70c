"""The public API that the reference documents, and the docstring rules it must meet.

One list serves three readers: ``docs/conf.py`` (numpydoc validates these names while the site
builds, warnings as errors), ``tests/test_docs.py`` (the same check without Sphinx) and
``python docs/api_names.py`` (prints every violation, for whoever is writing docstrings).
"""

from __future__ import annotations

import importlib
import inspect
import sys

# Modules whose ``__all__`` is public API, in the order the reference lists them.
API_MODULES = (
    "lsmkit", "lsmkit.channels", "lsmkit.data", "lsmkit.simulator", "lsmkit.samples", "lsmkit.io",
    "lsmkit.features", "lsmkit.masks", "lsmkit.baselines", "lsmkit.evaluation", "lsmkit.metrics",
    "lsmkit.pretrained", "lsmkit.correction", "lsmkit.model", "lsmkit.train", "lsmkit.adaptation", "lsmkit.sweep",
    "lsmkit.scaling", "lsmkit.downstream", "lsmkit.probe", "lsmkit.labels", "lsmkit.physiology",
    "lsmkit.plots", "lsmkit.scaling_plots", "lsmkit.probe_plots", "lsmkit.widgets",
)

# numpydoc's codes: GL08 no docstring; PR01 a parameter undocumented; PR02 a documented parameter
# that does not exist; SS01 no summary line; RT01 no Returns section on a function that returns.
CHECKS = ("GL08", "PR01", "PR02", "SS01")


def public_objects():
    """Yield ``(qualified_name, object)`` for every public function, class and public method.

    A name re-exported by several modules is yielded once, under the module that defines it.
    Methods count when the class itself defines them (not inherited from ipywidgets or torch).
    """
    seen = set()
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            qualified = f"{obj.__module__}.{obj.__qualname__}"
            yield qualified, obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if isinstance(member, (staticmethod, classmethod)):
                        member = member.__func__
                    if attr.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                        continue
                    yield f"{qualified}.{attr}", member


def violations(checks=CHECKS):
    """Return ``[(qualified_name, code, message)]`` for every public name that breaks a rule."""
    from numpydoc.validate import validate

    found = []
    for qualified, obj in public_objects():
        if isinstance(obj, property):
            if not inspect.getdoc(obj):
                found.append((qualified, "GL08", "The object does not have a docstring"))
            continue
        for code, message in validate(qualified)["errors"]:
            if code in checks:
                found.append((qualified, code, message))
    return found


if __name__ == "__main__":
    bad = violations()
    for qualified, code, message in bad:
        print(f"{qualified}: {code} {message}")
    print(f"{len(bad)} violations in {sum(1 for _ in public_objects())} public names", file=sys.stderr)
    sys.exit(1 if bad else 0)
