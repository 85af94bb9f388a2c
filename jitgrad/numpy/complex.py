"""Rules of the complex-specific functions that are not elementwise math: angle and
real_if_close (real, imag, conj and abs live with the elementwise rules).

autograd's convention, which jitgrad follows everywhere: a complex number z = x + iy
is a pair of reals, and the gradient of a real function f(z) is df/dx - i df/dy, so
a first-order change is df = Re(grad * dz). A holomorphic function's VJP is
g * f'(z), with no conjugate; holomorphic_grad returns f'(z) itself.
"""
import numpy as _np

from ..trace import defjvp, defvjp
from . import numpy_wrapper as anp
from .numpy_vjps import match_complex


def _angle_gradient(z, deg):
    """d angle = Im(conj(z) dz) / |z|^2, so its gradient is -i conj(z) / |z|^2 (0 at 0)."""
    abs2 = anp.real(z * anp.conj(z))
    scale = 180.0 / _np.pi if deg else 1.0
    return -1j * scale * anp.conj(z) / anp.where(abs2 == 0, 1, abs2)


def _angle_vjp(ans, z, deg=False):
    if not anp.iscomplexobj(z):
        return lambda g: anp.zeros_like(g)  # 0 or pi: piecewise constant
    gradient = _angle_gradient(z, deg)
    return lambda g: g * gradient


def _angle_jvp(g, ans, z, deg=False):
    if not anp.iscomplexobj(z):
        return anp.zeros_like(ans)
    return anp.real(_angle_gradient(z, deg) * g)


defvjp(anp.angle, _angle_vjp)
defjvp(anp.angle, _angle_jvp)


# real_if_close returns a.real when every imaginary part is negligible, a otherwise:
# the derivative of whichever it returned.
defvjp(anp.real_if_close, lambda ans, a, tol=100: lambda g: match_complex(a, g))
defjvp(anp.real_if_close, lambda g, ans, a, tol=100: match_complex(ans, g))
