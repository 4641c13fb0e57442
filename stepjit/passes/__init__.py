"""Graph -> Graph passes: autodiff (autodiff.py), lowering to fusible forms (kernel_forms.py), the
optimization pipeline (pipeline.py: dce, cse, fold, simplify) and fusion (fusion.py)."""
from .autodiff import autodiff  # noqa: F401
