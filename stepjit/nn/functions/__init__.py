"""The implementations behind `nn.functional`, one file per family; functional.py re-exports.

Every function is written with stepjit tensor ops only (DESIGN §2): convolution is a
window gather plus one matmul, pooling a reduction over the same windows, recurrent
layers a Python loop of cell functions, attention two matmuls around a softmax.
"""
