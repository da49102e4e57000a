"""``kAcu.qmz`` natively (LANGUAGE.md §17.6): money as whole paise. The definitions' arithmetic
step for step through ``ops`` (which carries the conversions and the exact decimal rules); the
module's global ``பைசா_ஒரு_ரூபாய்`` stays an ordinary statement of the program."""

from __future__ import annotations

from decimal import Decimal

from .. import ops, values
from ..builtins.numeric import floor
from . import describes, native
from .common import HUNDRED, ONE, TWO, ZERO, count_below, length
from .kaniqam import absolute, total

FILE = "kAcu.qmz"
describes(FILE, "abd0c61cec3c4d6475fff6059e34ad0254ec1e4f4ce34cc0a324298a09a6e888")

_TEN = Decimal(10)
_CHECK_EVERY = 4096  # the definitions' loops can be stopped; so can these, this often


@native(FILE, "ரூபாயும்_பைசாவும்")
def _rupees_and_paise(rt, d, r, p):
    return ops.add(ops.mul(r, HUNDRED), p)


@native(FILE, "ரூபாயாக")
def _rupees(rt, d, r):
    return ops.mul(r, HUNDRED)


@native(FILE, "காசு_உரை")
def _paise_text(rt, d, p):
    sign = "-" if values.less(p, ZERO) else ""
    amount = absolute(p)
    rupees = floor(ops.div(amount, HUNDRED))
    paise = ops.sub(amount, ops.mul(rupees, HUNDRED))
    paise_text = values.display(paise)
    if paise < _TEN:
        paise_text = "0" + paise_text
    return sign + values.display(rupees) + "." + paise_text


@native(FILE, "காசு_கூட்டு")
def _add(rt, d, a, b):
    return ops.add(a, b)


@native(FILE, "காசு_கழி")
def _subtract(rt, d, a, b):
    return ops.sub(a, b)


@native(FILE, "காசு_மடங்கு")
def _multiply(rt, d, p, n):
    return ops.mul(p, n)


@native(FILE, "காசு_கூட்டல்")
def _sum(rt, d, items):
    return total(items)


@native(FILE, "விழுக்காடு_காசு")
def _percent_paise(rt, d, p, num, den):
    if values.equal(den, ZERO):
        return ZERO
    product = ops.mul(p, num)
    amount = absolute(product)
    share = floor(ops.div(ops.add(amount, floor(ops.div(den, TWO))), den))
    if product < 0:
        return ops.sub(ZERO, share)
    return share


@native(FILE, "சமமாகப்_பிரி")
def _split_evenly(rt, d, p, n):
    if values.less_equal(n, ZERO):
        return []
    share = floor(ops.div(p, n))
    left_over = ops.sub(p, ops.mul(n, share))
    bigger = ops.add(share, ONE)
    shares = []
    for counter in range(count_below(n)):
        if not counter % _CHECK_EVERY and rt.stop:  # n may be huge: the definition's loop can be stopped
            rt.stopped()
        shares.append(bigger if counter < left_over else share)
    return shares


@native(FILE, "விகிதத்தில்_பிரி")
def _split_by_weights(rt, d, p, weights):
    weight_total = total(weights)
    if weight_total <= 0:
        return []
    shares = []
    given = ZERO
    for counter in range(int(length(weights)) - 1):
        share = floor(ops.div(ops.mul(p, ops.index(weights, Decimal(counter))), weight_total))
        shares.append(share)
        given = ops.add(given, share)
    shares.append(ops.sub(p, given))
    return shares
