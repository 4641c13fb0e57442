"""`stepjit.onnx`: importable, as programs import it next to `torch` (pytorch/examples'
word_language_model does); exporting is not something stepjit does, and says so."""


def export(model, args=None, f=None, *a, **kw):
    raise NotImplementedError("stepjit.onnx.export: stepjit does not export ONNX graphs; "
                              "`stepjit dump` prints a compiled step's IR, and "
                              "stepjit.save(model.state_dict(), f) saves its weights")


def is_in_onnx_export() -> bool:
    return False
