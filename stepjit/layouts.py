"""`torch.memory_format` and `torch.layout` values programs pass along (`x.contiguous(
memory_format=torch.channels_last)`, `clone(memory_format=torch.preserve_format)`,
`layout=torch.strided`). stepjit keeps every tensor in C order: a memory format changes no
value, so these are accepted names and the result is the C-ordered tensor."""


class memory_format:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"stepjit.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


class layout:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"stepjit.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
strided = layout("strided")
sparse_coo = layout("sparse_coo")
_ALL = {v.name: v for v in (contiguous_format, preserve_format, channels_last, channels_last_3d,
                            strided, sparse_coo)}


def _by_name(name):
    return _ALL[name]
