"""Smoke in a box: fit the initial velocity of a 2-D fluid so its smoke draws a heart.

The simulation is plain NumPy, in the spirit of Jos Stam's "stable fluids", on a
periodic grid. Each time step

- carries the velocity and the smoke density along the flow by semi-Lagrangian
  advection: every cell looks back along the velocity to where its fluid came from and
  interpolates bilinearly between the four cells around that point (integer gathers);
- keeps the flow incompressible by a pressure projection: a few Jacobi sweeps of the
  pressure's Poisson equation, neighbours taken with ``np.roll``.

jitgrad differentiates through all of it, so the gradient of a loss on the final density
with respect to the initial velocity field comes out exactly, and L-BFGS fits that field.

    python examples/fluidsim.py [--quick] [--jit] [--out DIR] [--size 48] [--steps 40]
                                [--iterations 100]

writes fluidsim.png (the smoke at a few time steps under the fitted flow, the target,
and the loss against iteration), fluidsim.gif (the whole flow, animated with Pillow) and
its frames in fluidsim_frames/. benchmarks/workloads.py times this same program (64x64
grid, 50 steps, the ring target) with jitgrad, autograd and JAX.
"""
import os

import numpy
import scipy.ndimage
import scipy.optimize

import jitgrad.numpy as np
from jitgrad import value_and_grad

try:
    import harness
except ImportError:  # benchmarks/workloads.py loads this file alone, for its simulation only
    harness = None

JACOBI_ITERATIONS = 10


def central_difference(f, axis):
    return 0.5 * (np.roll(f, -1, axis=axis) - np.roll(f, 1, axis=axis))


def project(u, v):
    """The divergence-free part of the velocity (u along columns, v along rows)."""
    divergence = central_difference(u, 1) + central_difference(v, 0)
    pressure = np.zeros(u.shape)
    for _ in range(JACOBI_ITERATIONS):
        neighbours = (np.roll(pressure, 1, axis=0) + np.roll(pressure, -1, axis=0)
                      + np.roll(pressure, 1, axis=1) + np.roll(pressure, -1, axis=1))
        pressure = (neighbours - divergence) / 4
    return u - central_difference(pressure, 1), v - central_difference(pressure, 0)


def advect(f, u, v):
    """Field ``f`` one time step later, carried along the velocity (u, v)."""
    rows, cols = f.shape
    # where the fluid now in each cell was one step ago, in cell units
    y = np.arange(rows)[:, None] - v
    x = np.arange(cols)[None, :] - u
    y0, x0 = np.floor(y), np.floor(x)
    wy, wx = y - y0, x - x0  # bilinear weights, in [0, 1)
    # the four cells around that point; the grid wraps around at its edges
    i0 = y0.astype(int) % rows
    j0 = x0.astype(int) % cols
    i1, j1 = (i0 + 1) % rows, (j0 + 1) % cols
    return ((1 - wy) * ((1 - wx) * f[i0, j0] + wx * f[i0, j1])
            + wy * ((1 - wx) * f[i1, j0] + wx * f[i1, j1]))


def step(density, u, v):
    """One time step: the flow carries itself and the smoke along."""
    u, v = project(advect(u, u, v), advect(v, u, v))
    return advect(density, u, v), u, v


def simulate(velocity, density, steps):
    """The smoke density after each of ``steps`` steps, starting from ``velocity``
    (shape (2, rows, cols): u then v) made divergence-free."""
    u, v = project(velocity[0], velocity[1])
    densities = [density]
    for _ in range(steps):
        density, u, v = step(density, u, v)
        densities.append(density)
    return densities


def loss(velocity, density, target, steps):
    """Mean squared distance of the final smoke density from ``target``."""
    final = simulate(velocity, density, steps)[-1]
    return np.mean((final - target) ** 2)


def blob(size, row, col, radius):
    """A smooth disc of smoke centred at (row, col), in fractions of the grid."""
    r, c = numpy.mgrid[0:size, 0:size] / size
    return numpy.exp(-((r - row) ** 2 + (c - col) ** 2) / (2 * radius ** 2))


def ring(size, radius, width):
    r, c = numpy.mgrid[0:size, 0:size] / size
    distance = numpy.hypot(r - 0.5, c - 0.5)
    return numpy.exp(-((distance - radius) ** 2) / (2 * width ** 2))


def heart(size, scale=0.27):
    """A heart, (x**2 + y**2 - 1)**3 <= x**2 y**3, its edge blurred, centred on the grid."""
    r, c = numpy.mgrid[0:size, 0:size] / size
    x, y = (c - 0.5) / scale, (0.47 - r) / scale
    inside = (x ** 2 + y ** 2 - 1) ** 3 <= x ** 2 * y ** 3
    return scipy.ndimage.gaussian_filter(inside.astype(float), sigma=size / 48)


def fit(size, steps, iterations, jit):
    """Fit the initial velocity by L-BFGS; returns it, the problem and the loss history."""
    density = blob(size, 0.5, 0.5, 0.15)
    target = heart(size)
    objective = value_and_grad(loss, jit=jit)
    history = []

    def fun(flat_velocity):
        value, gradient = objective(flat_velocity.reshape(2, size, size), density, target, steps)
        return float(value), gradient.ravel()

    def record(intermediate_result):
        history.append(intermediate_result.fun)
        if (len(history) - 1) % 10 == 0:
            print(f"iteration {len(history) - 1:3d}: loss {intermediate_result.fun:.3e}",
                  flush=True)

    start = numpy.zeros(2 * size * size)
    history.append(fun(start)[0])
    result = scipy.optimize.minimize(fun, start, jac=True, method="L-BFGS-B", callback=record,
                                     options={"maxiter": iterations})
    return result.x.reshape(2, size, size), density, target, history


def experiment(args, jit):
    if args.quick:
        args.size, args.steps, args.iterations = 24, 12, 8
    velocity, density, target, history = fit(args.size, args.steps, args.iterations, jit)
    print(f"{args.size}x{args.size} grid, {args.steps} steps: loss {history[0]:.3e} -> "
          f"{history[-1]:.3e} in {len(history) - 1} L-BFGS iterations")
    numbers = {"initial_loss": history[0], "final_loss": history[-1],
               "iterations": len(history) - 1, "velocity_norm": numpy.linalg.norm(velocity)}
    return numbers, (velocity, density, target, history)


def colours(frame):
    """An RGB picture (uint8) of a density frame, in matplotlib's magma colours."""
    import matplotlib
    rgba = matplotlib.colormaps["magma"](numpy.clip(frame, 0, 1))
    return (255 * rgba[..., :3]).astype(numpy.uint8)


def save_animation(args, frames):
    try:
        from PIL import Image
    except ImportError:
        print('Pillow is not installed: no animation (pip install -e ".[examples]")')
        return
    folder = os.path.join(args.out, "fluidsim_frames")
    os.makedirs(folder, exist_ok=True)
    pictures = []
    for n, frame in enumerate(frames):
        picture = Image.fromarray(colours(frame)).resize((192, 192), Image.BILINEAR)
        picture.save(os.path.join(folder, f"frame_{n:03d}.png"))
        pictures.append(picture)
    print(f"wrote {len(pictures)} frames in {folder}")
    path = os.path.join(args.out, "fluidsim.gif")
    # Hold the last frame, the picture the flow was fitted to draw.
    pictures += [pictures[-1]] * 10
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=80, loop=0)
    print(f"wrote {path}")


def plot(args, velocity, density, target, history):
    plt = harness.pyplot()
    if plt is None:
        return
    frames = [numpy.asarray(d) for d in simulate(velocity, density, args.steps)]
    shown = [0, args.steps // 3, 2 * args.steps // 3, args.steps]
    fig, axes = plt.subplots(1, len(shown) + 2, figsize=(3 * (len(shown) + 2), 3.2))
    for ax, step in zip(axes, shown):
        ax.imshow(frames[step], cmap="magma", vmin=0, vmax=1)
        ax.set_title(f"step {step}")
    axes[len(shown)].imshow(target, cmap="magma", vmin=0, vmax=1)
    axes[len(shown)].set_title("target")
    for ax in axes[:len(shown) + 1]:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[-1].semilogy(history, marker=".")
    axes[-1].set_xlabel("L-BFGS iteration")
    axes[-1].set_title("loss")
    fig.tight_layout()
    harness.save(fig, args, "fluidsim.png")
    save_animation(args, frames)


def main(argv=None):
    def add_arguments(parser):
        parser.add_argument("--size", type=int, default=48, help="grid cells per side")
        parser.add_argument("--steps", type=int, default=40, help="time steps simulated")
        parser.add_argument("--iterations", type=int, default=100, help="L-BFGS iterations")

    args = harness.parse_args(argv, __doc__, add_arguments)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
