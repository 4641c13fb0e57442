"""`torch.version`: what programs print or branch on (`torch.version.cuda` is None without CUDA)."""
__version__ = "0.1.0"
cuda = None
hip = None
git_version = "unknown"
debug = False
