"""The errors for traced values that would silently turn into plain numbers."""


class DerivativeDropped(TypeError, ValueError):
    """A value being differentiated was made a plain number. A TypeError, as float() of
    a non-number raises; also a ValueError, which autograd's boxes raise where NumPy
    assigns one into a plain array (``y = numpy.zeros(3); y[0] = x``), so that code
    catching either sees it."""


def number_error(kind):
    return DerivativeDropped(
        f"{kind}() of a value being differentiated would drop its derivative. This "
        "happens with Python's float()/complex()/.item()/.tolist(), with %-formatting "
        "('%.3f' % x: an f-string, f'{x:.3f}', prints it), with the math module "
        "(math.exp(x): use np.exp(x) with `import jitgrad.numpy as np`), and when the value "
        "is assigned into an array made by plain NumPy (y = numpy.zeros(3); y[0] = x): "
        "create that array with jitgrad.numpy inside the differentiated function (np.zeros, "
        "np.empty, np.array, np.copy, ...), so that the assignment is traced, or build the "
        "result with np.stack/np.concatenate/np.where. To use the number without its derivative "
        "on purpose, take jitgrad.tracer.getval(x) first.")


def conversion_error():
    return DerivativeDropped(
        "A value being differentiated cannot become a plain float NumPy array: that would "
        "drop its derivative. This happens when a function outside jitgrad.numpy / "
        "jitgrad.scipy (plain numpy.asarray(x, float), a compiled library, assignment into "
        "an array made by plain NumPy) receives it. Call the jitgrad.numpy function instead "
        "(`import jitgrad.numpy as np`; create arrays you assign into with np.zeros, "
        "np.array, np.copy inside the differentiated function), or wrap the outside function "
        "as a primitive with a gradient rule (jitgrad.extend.primitive and defvjp).")
