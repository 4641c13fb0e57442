"""stepjit: PyTorch-style training steps, run eagerly or compiled into fused kernels.

`import stepjit as torch` gives a PyTorch-shaped API. The API is stepjit/api.py; it loads on
the first attribute read from this package and is then copied here, so that
`import stepjit.ir` (or any layer) loads that layer alone (tests/test_layers.py). Once
loaded, this package is a plain module holding the API's names: `torch.randn` reads one
dictionary entry, as before.

Until then the package's class is `_Package` (a module subclass; PEP 562's module
`__getattr__` alone would not do): importing a submodule sets its name on the package, and
`tensor` is both a submodule (stepjit/tensor.py) and the API's `torch.tensor`, so such a
module is not set here before the API loads, and reading the name loads it.
"""
import _thread
import importlib as _importlib
import sys as _sys
import types as _types

_SHADOWED = frozenset({"tensor"})   # API names that are also names of submodules
_LAZY_DUNDERS = frozenset({"__version__", "__all__"})   # (other dunders are never the API's)
_loader = None   # the thread loading the API, while it does


def _load_api():
    """Import stepjit/api.py, copy its names here, and make this package a plain module."""
    global _loader
    _loader = _thread.get_ident()
    try:
        api = _importlib.import_module(__name__ + ".api")
    finally:
        _loader = None
    package = _sys.modules[__name__]
    package.__dict__.update((k, v) for k, v in api.__dict__.items()
                            if not k.startswith("__") or k in _LAZY_DUNDERS)
    package.__class__ = _types.ModuleType


def _imported_from_inside():
    """Whether stepjit's own `from . import name` asks (importlib's _handle_fromlist calls
    hasattr on the package before it imports the submodule): a user's `from stepjit import nn`
    loads the API, as reading `stepjit.nn` does; stepjit's own modules never need it."""
    frame = _sys._getframe(2)
    if frame.f_code.co_name != "_handle_fromlist":
        return False
    # the importing module's package, not its name: a module run as `python -m stepjit.x.y`
    # (the compile helper) is named __main__, and would load the API for nothing (~0.2 s)
    package = frame.f_back.f_globals.get("__package__") or ""
    return package == __name__ or package.startswith(__name__ + ".")


class _Package(_types.ModuleType):
    """This package until its API is loaded."""

    def __getattr__(self, name):   # (only for a name not in the package's dict)
        if name.startswith("__") and name not in _LAZY_DUNDERS:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        if name not in _SHADOWED:
            module = _sys.modules.get(f"{__name__}.{name}")
            if module is not None:   # a submodule still being imported (a cycle in the package)
                return module
        if _loader == _thread.get_ident() or _imported_from_inside():
            # as a plain package: a name the API has not bound yet is missing while it loads,
            # and `from . import name` inside stepjit makes the import machinery import it
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        _load_api()
        return getattr(self, name)

    def __setattr__(self, name, value):
        if name in _SHADOWED and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)

    def __dir__(self):
        _load_api()
        return dir(self)


_sys.modules[__name__].__class__ = _Package
