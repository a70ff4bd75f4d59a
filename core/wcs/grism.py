"""Read the dispersion models of a grism specwcs reference (NIRCam and NIRISS) into the
numpy form of :mod:`spec2.algorithms.grism`.

A reference file stores, per order, either one astropy model of t (legacy: a
Polynomial1D) or a list of Polynomial2D models of (x0, y0), one per power of t; a list
holding a single 1-input model means the legacy form too. Inverse models (invdispx,
invdispy, invdispl) are optional; an empty list means the file has none.
"""

from __future__ import annotations

from spec2.algorithms.grism import GrismOrder, Poly1D, Poly2D, TracePolynomial


def _poly1d(model) -> Poly1D:
    from astropy.modeling.polynomial import Polynomial1D

    if not isinstance(model, Polynomial1D):
        raise TypeError(f"expected a Polynomial1D, got {type(model).__name__}")
    coeffs = tuple(float(getattr(model, f"c{k}").value) for k in range(model.degree + 1))
    domain = tuple(model.domain) if model.domain is not None else (-1.0, 1.0)
    window = tuple(model.window) if model.window is not None else (-1.0, 1.0)
    return Poly1D(coeffs, tuple(map(float, domain)), tuple(map(float, window)))


def _poly2d(model) -> Poly2D:
    from astropy.modeling.polynomial import Polynomial2D

    if not isinstance(model, Polynomial2D):
        raise TypeError(f"expected a Polynomial2D, got {type(model).__name__}")
    for attr in ("x_domain", "y_domain", "x_window", "y_window"):
        box = getattr(model, attr, None)
        if box is not None and tuple(box) != (-1, 1) and tuple(box) != (-1.0, 1.0):
            raise ValueError("Polynomial2D with a domain/window mapping is not supported in a grism trace")
    terms = []
    for name in model.param_names:
        i, j = (int(p) for p in name[1:].split("_"))
        terms.append((i, j, float(getattr(model, name).value)))
    return Poly2D(tuple(terms), model=model)


def trace_polynomial(model) -> TracePolynomial:
    """One order's dx, dy or lambda model -> TracePolynomial."""
    items = list(model) if isinstance(model, (list, tuple)) or type(model).__name__ == "ListNode" else [model]
    if len(items) == 1 and getattr(items[0], "n_inputs", 0) == 1:
        return TracePolynomial(legacy=_poly1d(items[0]))
    if not items or any(getattr(m, "n_inputs", 0) != 2 for m in items):
        raise ValueError("a trace model is a 1-input polynomial of t or a list of 2-input polynomials")
    return TracePolynomial(coefficients=tuple(_poly2d(m) for m in items))


def _inverse_1d(models, index):
    if not models:
        return None
    model = models[index]
    if isinstance(model, (list, tuple)) or type(model).__name__ == "ListNode":
        if len(model) != 1:
            raise ValueError("an inverse offset model must be a single polynomial of the offset")
        model = model[0]
    return _poly1d(model)


def grism_orders(orders, displ, dispx, dispy, invdispl=None, invdispx=None, invdispy=None):
    """Dict order -> GrismOrder from the lists of a specwcs reference (same index = same
    order)."""
    result = {}
    for index, order in enumerate(orders):
        inverse_l = None
        if invdispl:
            inverse_l = trace_polynomial(invdispl[index])
        result[int(order)] = GrismOrder(
            order=int(order),
            dx=trace_polynomial(dispx[index]),
            dy=trace_polynomial(dispy[index]),
            wavelength=trace_polynomial(displ[index]),
            inverse_dx=_inverse_1d(invdispx, index),
            inverse_dy=_inverse_1d(invdispy, index),
            inverse_wavelength=inverse_l,
        )
    return result


def specwcs_orders(specwcs) -> dict[int, GrismOrder]:
    """GrismOrders of an open grism specwcs model (NIRCAMGrismModel, NIRISSGrismModel): the
    dispersion lists it has; the inverse models a file type lacks count as none."""
    def listed(attr):
        value = getattr(specwcs, attr, None)
        return list(value) if value is not None else None

    return grism_orders(list(specwcs.orders), listed("displ"), listed("dispx"), listed("dispy"),
                        listed("invdispl"), listed("invdispx"), listed("invdispy"))
