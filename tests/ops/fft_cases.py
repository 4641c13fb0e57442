"""torch.fft (stepjit/fft.py) against PyTorch: values and gradients of every transform, with
`n=`/`s=` padding and truncation, `dim=`, the three `norm=` modes, complex and real inputs,
shifts and frequencies; one table recorded by tests/fixtures/record_fft.py. Outputs are real
(view_as_real), so the gradients recorded are the real inputs'."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(91)
X = RNG.standard_normal((4, 6))
X3 = RNG.standard_normal((3, 4, 5))
Z = RNG.standard_normal((4, 6, 2))      # a complex [4, 6] as a real pair
H = RNG.standard_normal((5, 4, 2))      # a half spectrum: 4 bins
SIGNAL = np.sin(np.linspace(0.0, 12.0, 32)) + 0.3 * RNG.standard_normal(32)


def _real(T, *zs):
    return tuple(T.view_as_real(z.resolve_conj()) if z.is_complex() else z for z in zs)


def _c2c(T, x, z):
    c = T.view_as_complex(z)
    return _real(T, T.fft.fft(x), T.fft.fft(x, n=8, dim=0), T.fft.fft(x, n=4, norm="ortho"),
                 T.fft.fft(c), T.fft.ifft(c), T.fft.ifft(c, norm="forward"),
                 T.fft.ifft(x, n=3, dim=-2, norm="ortho"))


def _c2c_nd(T, x, x3, z):
    c = T.view_as_complex(z)
    return _real(T, T.fft.fft2(x), T.fft.ifft2(c, norm="ortho"), T.fft.fftn(x3),
                 T.fft.fftn(x3, s=(2, 6), dim=(0, 2)), T.fft.ifftn(c, dim=(0,)),
                 T.fft.fftn(c, s=(5, 5), norm="forward"), T.fft.ifftn(x3, dim=(-1, 0)))


def _rfft(T, x, x3):
    return _real(T, T.fft.rfft(x), T.fft.rfft(x, n=7), T.fft.rfft(x, dim=0, norm="forward"),
                 T.fft.rfft(x, n=3, norm="ortho"), T.fft.rfftn(x), T.fft.rfftn(x3, dim=(0, 2)),
                 T.fft.rfftn(x3, s=(3, 4)))


def _irfft(T, h, z):
    c, spectrum = T.view_as_complex(z), T.view_as_complex(h)
    return (T.fft.irfft(spectrum), T.fft.irfft(spectrum, n=7), T.fft.irfft(spectrum, n=4),
            T.fft.irfft(spectrum, n=3, norm="ortho"), T.fft.irfft(spectrum, dim=0),
            T.fft.irfft(c, norm="forward"), T.fft.irfft(spectrum, n=12))


def _irfftn(T, h, z, x3):
    c, spectrum = T.view_as_complex(z), T.view_as_complex(h)
    return (T.fft.irfftn(c), T.fft.irfftn(c, s=(4, 6)), T.fft.irfftn(spectrum, s=(3, 5)),
            T.fft.irfftn(T.fft.rfftn(x3), s=x3.shape), T.fft.irfftn(c, dim=(0,), norm="ortho"))


def _round_trips(T, x, x3):
    return (T.fft.irfft(T.fft.rfft(x), n=x.shape[-1]), T.fft.ifft(T.fft.fft(x)).real,
            T.fft.irfftn(T.fft.rfftn(x3, norm="ortho"), s=x3.shape, norm="ortho"))


def _shifts(T, x, z):
    c = T.view_as_complex(z)
    return _real(T, T.fft.fftshift(x), T.fft.ifftshift(x), T.fft.fftshift(x, dim=1),
                 T.fft.ifftshift(x, dim=(0,)), T.fft.fftshift(T.fft.fft(c)),
                 T.fft.ifftshift(c, dim=-1))


def _frequencies(T):
    """(dtypes given: the recorder runs PyTorch with float64 as its default)"""
    f64, f32 = T.float64, T.float32
    return (T.fft.fftfreq(5, dtype=f64), T.fft.fftfreq(8, 0.1, dtype=f64),
            T.fft.fftfreq(1, dtype=f64), T.fft.rfftfreq(7, 2.0, dtype=f64),
            T.fft.rfftfreq(8, dtype=f64), T.fft.fftfreq(6, d=0.25, dtype=f32),
            T.fft.rfftfreq(5, dtype=f32), T.fft.fftfreq(7, 0.3, dtype=f32))


def _single(T, x, z):
    """float32 and complex64: PyTorch's dtypes."""
    c = T.view_as_complex(z.float())
    x32 = x.float()
    return _real(T, T.fft.fft(x32), T.fft.rfft(x32, norm="ortho"), T.fft.irfft(c),
                 T.fft.fftn(c), T.fft.ifft(x32, n=5, dim=0))


def _low_pass(T, s):
    """Smoothing a signal by cutting its high frequencies, a loss on the result."""
    spectrum = T.fft.rfft(s)
    keep = (T.fft.rfftfreq(s.shape[-1]) < 0.1).to(s.dtype)
    smooth = T.fft.irfft(spectrum * keep, n=s.shape[-1])
    power = spectrum.abs() ** 2
    return smooth, power, ((smooth - s) ** 2).mean()


# float32 outputs: central differences in float32 are noise; its float64 twins are checked
NOT_BY_DIFFERENCES = {"single"}

CASES = [
    Case("c2c", _c2c, X, Z),
    Case("c2c_nd", _c2c_nd, X, X3, Z),
    Case("rfft", _rfft, X, X3),
    Case("irfft", _irfft, H, Z),
    Case("irfftn", _irfftn, H, Z, X3),
    Case("round_trips", _round_trips, X, X3),
    Case("shifts", _shifts, X, Z),
    Case("frequencies", _frequencies),
    Case("single", _single, X, Z, tol=2e-6),
    Case("low_pass", _low_pass, SIGNAL, compiled=True),
]
