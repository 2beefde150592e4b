"""Winograd minimal filtering for dense 3x3 stride-1 convolutions, F(m x m, 3 x 3).

A 3x3 conv that produces an ``m x m`` output tile from an ``a x a`` input tile
(``a = m + 2``) is, per tile and channel pair, ``Y = A^T [(G g G^T) * (B^T d B)] A``
(Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2015). Summed over the
input channels, the elementwise product becomes ``a*a`` independent GEMMs: for each
transform-domain position ``(xi, nu)``, ``M[xi, nu] = U[xi, nu] @ V[xi, nu]`` with ``U``
(C_out, C_in) the transformed weights and ``V`` (C_in, tiles) the transformed input. F(4x4)
needs 36 multiplications per 16 outputs where the direct conv needs 144 (4x fewer); F(2x2)
needs 16 per 4 (2.25x fewer). The 2-D transforms are GEMMs too, on flattened tiles
(``B^T kron B^T``, ``A^T kron A^T``, integer entries): faster than a dozen ufunc passes, and
BLAS runs them on every core where numpy's ufuncs use one.

The weight gradient runs in the same domain: ``dU[xi, nu] = dM[xi, nu] @ V[xi, nu]^T`` summed
over tiles, with ``dM`` the output gradient's tiles taken back through the output transform,
then ``dW = G^T dU G`` (``winograd_grad_weight``).

Work runs in chunks of tile rows so that the tiles of a chunk stay in the CPU cache between
the gather, the input transform, the GEMMs and the output transform.

F(4x4) rounds more than the direct conv (its transforms have entries up to 8 and 1/24):
float32 results differ from the direct conv by a few 1e-6 relative to the output's scale,
the same order as summation-order noise; float64 stays near 1e-14.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lucid.ops._util import xp_of

Pads = tuple[int, int, int, int]  # (top, bottom, left, right)

# weight transforms G (a x 3) for F(2, 3) and F(4, 3)
_G = {
    2: ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0)),
    4: ((1 / 4, 0.0, 0.0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
        (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0.0, 0.0, 1.0)),
}

# input transforms B^T (a x a) and output transforms A^T (m x a)
_BT = {
    2: ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1)),
    4: ((4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0),
        (0, -2, -1, 2, 1, 0), (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1)),
}
_AT = {
    2: ((1, 1, 1, 0), (0, 1, -1, -1)),
    4: ((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1)),
}

CHUNK_BYTES = 1 << 20  # transformed input (V) per chunk: stays in cache between the GEMMs


MIN_TILES = 256  # tiles per chunk at least: GEMMs narrower than that run inefficiently


def weight_transform(weight: Any, m: int) -> Any:
    """``U[xi*a + nu] = (G w G^T)[xi, nu]``: (a*a, C_out, C_in) from (C_out, C_in, 3, 3).

    Two small matmuls in the weight's dtype (G's entries round once, like any constant).
    """
    xp = xp_of(weight)
    co, c = weight.shape[:2]
    a = m + 2
    g = xp.asarray(_G[m], dtype=weight.dtype)
    # (3, 3, C_out*C_in): the kernel offsets lead, so both products are plain GEMMs
    w9 = weight.reshape(co * c, 9).T.reshape(3, 3 * co * c)
    rows = (g @ w9).reshape(a, 3, co * c)  # G w, for every (o, c)
    u = xp.matmul(g, rows)  # (a, a, co*c): (G w) G^T, batched over the first axis
    return u.reshape(a * a, co, c)


def _matmul(xp: Any, a: Any, b: Any, out: Any) -> None:
    """``out[...] = a @ b``, straight into ``out`` on numpy."""
    if xp.__name__ == "numpy":
        xp.matmul(a, b, out=out)
    else:
        out[...] = xp.matmul(a, b)


def _kron_transforms(m: int) -> tuple[Any, Any]:
    """The 2-D transforms as matrices on flattened tiles: ``B^T kron B^T`` and
    ``A^T kron A^T`` (integer entries, exact in any float type), as numpy float64."""
    import numpy  # noqa: PLC0415 - host constants, converted to the backend by the caller

    bt, at = (numpy.asarray(t, dtype=numpy.float64) for t in (_BT[m], _AT[m]))
    return numpy.kron(bt, bt), numpy.kron(at, at)


def _tiled_rows(x: Any, pads: Pads, m: int, rows: tuple[int, int], out: Any,
                reflect: bool = False) -> Any:
    """Rows ``y0 <= y < y1`` of the padded input, columns de-interleaved, into ``out``.

    ``out`` is (N, C, y1 - y0, m, tw + 1); ``out[..., y, k, j] = xpad[..., y0 + y, j*m + k]``
    (zero beyond the padded input), so that column ``k`` of every tile of a row is a
    contiguous run: column ``k < m`` of tile ``j`` is ``out[..., k, j]``, column ``m + k`` is
    ``out[..., k, j + 1]``. Done per chunk of tile rows, the strided reads stay in cache.
    ``xpad`` is ``x`` zero-padded by ``pads``, or reflection-padded with ``reflect`` (each
    pad smaller than the side it pads, as ``pad(mode="reflect")`` requires).
    """
    h = x.shape[2]
    top, bottom, _, _ = pads
    y0, y1 = rows
    # input rows that land in this band, and where
    s0, s1 = max(0, y0 - top), min(h, y1 - top)
    if s1 > s0:
        b0, b1 = s0 + top - y0, s1 + top - y0
        _tiled_columns(x[:, :, s0:s1], out[:, :, b0:b1], pads, m, reflect)
    else:
        b0 = b1 = 0
    for y in (*range(b0), *range(b1, y1 - y0)):  # rows of the padding, or beyond it
        q = y0 + y - top  # the row's place in the input's coordinates
        if reflect and -h < q < h + bottom:
            r = -q if q < 0 else 2 * (h - 1) - q
            _tiled_columns(x[:, :, r : r + 1], out[:, :, y : y + 1], pads, m, reflect)
        else:
            out[:, :, y] = 0
    return out


def _tiled_columns(src: Any, dst: Any, pads: Pads, m: int, reflect: bool) -> None:
    """``dst[..., k, j] = src_padded[..., j*m + k]`` for (N, C, R, W) ``src``: one row band
    of ``_tiled_rows``, padded along its columns by ``pads``' left and right."""
    w = src.shape[-1]
    _, _, left, right = pads
    tw = dst.shape[-1] - 1
    for k in range(m):
        # padded column j*m + k holds input column j*m + k - left, for j in [j0, j1)
        j0 = max(0, -(-(left - k) // m))
        j1 = max(j0, min(tw + 1, (left + w - 1 - k) // m + 1))
        dst[..., k, :j0] = 0
        dst[..., k, j1:] = 0
        if j1 > j0:
            first = j0 * m + k - left
            dst[..., k, j0:j1] = src[..., first : first + (j1 - j0 - 1) * m + 1 : m]
        if reflect:  # the few columns of the padding itself
            for j in (*range(j0), *range(j1, tw + 1)):
                q = j * m + k - left
                if -w < q < w + right:
                    dst[..., k, j] = src[..., -q if q < 0 else 2 * (w - 1) - q]


def winograd_conv3x3(x: Any, weight: Any, pads: Pads = (0, 0, 0, 0), m: int = 4,
                     u: Any = None, reflect: bool = False, finite: bool = True) -> Any | None:
    """3x3 stride-1 cross-correlation of ``x`` (N, C, H, W) by Winograd F(m x m, 3 x 3).

    Same result as the direct conv of the zero-padded input (reflection-padded with
    ``reflect``, each pad smaller than its side; no padded copy is made either way):
    (N, C_out, H_out, W_out) with ``H_out = H + top + bottom - 2``. ``weight`` is
    (C_out, C, 3, 3) (no groups, dilation 1); ``u`` its ``weight_transform`` if already
    computed. ``m`` is 2 or 4; pads >= 0.

    With ``finite`` (the default) None comes back as soon as an output tile holds NaN or
    inf, so that the caller can run the direct conv: one NaN or inf in the input spreads
    through the transforms (inf - inf) over every output of its tiles, where the direct conv
    (and PyTorch) keeps it to the outputs whose windows hold it. The check sums each chunk's
    output tiles while they are in cache; a sum that overflows sends finite values to the
    direct conv too, which is slower, not wrong.
    """
    xp = xp_of(x)
    n, c, h, w = x.shape
    co = weight.shape[0]
    top, bottom, left, right = pads
    oh, ow = h + top + bottom - 2, w + left + right - 2
    a = m + 2
    th, tw = -(-oh // m), -(-ow // m)
    if u is None:
        u = weight_transform(weight, m)
    u = u.reshape(a * a, 1, co, c)
    bt, at = (xp.asarray(k, dtype=x.dtype) for k in _kron_transforms(m))
    out = xp.empty((n, co, th * m, tw * m), dtype=x.dtype)
    # out[n, o, i*m + r, j*m + s] viewed as (r, s, n, o, i, j)
    out_tiles = out.reshape(n, co, th, m, tw, m).transpose(3, 5, 0, 1, 2, 4)
    itemsize = x.dtype.itemsize
    rows = max(CHUNK_BYTES // (a * a * n * max(c, co) * tw * itemsize), -(-MIN_TILES // (n * tw)))
    rows = min(th, rows)

    # per-chunk buffers, sized for a full chunk and sliced for the last one
    x_buf = xp.empty((n, c, rows * m + 2, m, tw + 1), dtype=x.dtype)
    d_buf = xp.empty((a * a, n * c * rows * tw), dtype=x.dtype)
    v_buf = xp.empty((a * a, n * c * rows * tw), dtype=x.dtype)
    m_buf = xp.empty((a * a, n * co * rows * tw), dtype=x.dtype)
    y_buf = xp.empty((m * m, n * co * rows * tw), dtype=x.dtype)
    # NaN or inf in the input: the transforms' inf - inf, whose result is thrown away
    with np.errstate(invalid="ignore", over="ignore"):
        for i0 in range(0, th, rows):
            r = min(rows, th - i0)
            p = n * r * tw  # tiles in this chunk
            xb = _tiled_rows(x, pads, m, (i0 * m, (i0 + r) * m + 2), x_buf[:, :, : r * m + 2],
                             reflect)
            # gather: d[y*a + z, n, c, i, j] = element (y, z) of tile (i, j); contiguous runs
            d = d_buf[:, : c * p].reshape(a, a, n, c, r, tw)
            for yy in range(a):
                rows_y = xb[:, :, yy : yy + (r - 1) * m + 1 : m]
                for zz in range(a):
                    d[yy, zz] = rows_y[:, :, :, zz % m, zz // m : zz // m + tw]
            # input transform as one GEMM: V = (B^T kron B^T) D
            v = v_buf[:, : c * p]
            _matmul(xp, bt, d_buf[:, : c * p], v)
            # a*a GEMMs: (C_out, C) @ (C, tiles), per batch entry
            mm = m_buf[:, : co * p]
            _matmul(xp, u, v.reshape(a * a, n, c, r * tw), mm.reshape(a * a, n, co, r * tw))
            # output transform as one GEMM: Y = (A^T kron A^T) M, then into the output tiles
            y = y_buf[:, : co * p]
            _matmul(xp, at, mm, y)
            if finite and not xp.isfinite(y.sum()):
                return None
            out_tiles[:, :, :, :, i0 : i0 + r] = y.reshape(m, m, n, co, r, tw)

    if (th * m, tw * m) != (oh, ow):
        out = xp.ascontiguousarray(out[:, :, :oh, :ow])
    return out


def winograd_grad_input(gy: Any, weight: Any, pads: Pads, m: int = 4) -> Any:
    """Gradient of a 3x3 stride-1 conv w.r.t. its (unpadded) input, by the same kernel.

    The gradient of the padded input is the "full" conv of ``gy`` (zero padding 2) with the
    flipped, transposed weight; the gradient of the input is its crop by ``pads``. The crop
    is folded into the padding: padding ``2 - pad`` on each side gives the cropped result
    directly (every pad of a 3x3 conv is at most 2 here: larger pads are not routed here).
    """
    wt = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    top, bottom, left, right = pads
    return winograd_conv3x3(gy, xp_of(gy).ascontiguousarray(wt),
                            (2 - top, 2 - bottom, 2 - left, 2 - right), m, finite=False)


def applies(xp: Any, x_shape: tuple[int, ...], weight_shape: tuple[int, ...],
            stride: tuple[int, int], dilation: tuple[int, int], groups: int,
            pads: Pads) -> bool:
    """Whether a conv should run on Winograd F(4x4, 3x3) (forward and both gradients).

    Dense 3x3, stride 1, dilation 1, no groups, pads of at most 2 (so that grad-input is a
    zero-padded conv too), on numpy, with at least ``MIN_CHANNELS`` input and output channels:
    measured against the GEMM kernels on a 2-core x86 CPU, F(4x4) wins from 16 channels on
    (1.2-2x: its GEMMs do 4x fewer flops, its transforms are a dozen memory passes); a
    thin side (RGB in or out) leaves nothing for it to save. CuPy keeps the GEMM kernels
    (its transform launches have not been measured against them).
    """
    co, cg, kh, kw = weight_shape
    c = x_shape[-3]
    return (xp.__name__ == "numpy" and (kh, kw) == (3, 3) and stride == (1, 1)
            and dilation == (1, 1) and groups == 1 and max(pads) <= 2
            and min(c, co) >= MIN_CHANNELS)


MIN_CHANNELS = 16


def winograd_grad_weight(x: Any, gy: Any, pads: Pads, m: int = 4) -> Any:
    """Gradient of a 3x3 stride-1 conv w.r.t. its weight, (C_out, C, 3, 3), in the Winograd
    domain: the adjoint of ``winograd_conv3x3``'s products.

    The forward's ``M_t = U * V_t`` (summed over input channels) per tile ``t`` gives
    ``dU = sum_t dM_t V_t^T`` with ``dM_t = (A^T kron A^T)^T dY_t`` (the output tile's
    gradient, zero beyond the output), and ``dW = G^T dU G``: a*a GEMMs of (C_out, tiles) @
    (tiles, C), 4x fewer multiplications than the direct weight gradient for F(4x4).
    """
    xp = xp_of(x)
    n, c, h, w = x.shape
    co, (oh, ow) = gy.shape[1], gy.shape[2:]
    a = m + 2
    th, tw = -(-oh // m), -(-ow // m)
    if (th * m, tw * m) != (oh, ow):
        padded = xp.zeros((n, co, th * m, tw * m), dtype=gy.dtype)
        padded[:, :, :oh, :ow] = gy
        gy = padded
    bt, at = (xp.asarray(k, dtype=x.dtype) for k in _kron_transforms(m))
    itemsize = x.dtype.itemsize
    rows = max(CHUNK_BYTES // (a * a * n * max(c, co) * tw * itemsize), -(-MIN_TILES // (n * tw)))
    rows = min(th, rows)
    x_buf = xp.empty((n, c, rows * m + 2, m, tw + 1), dtype=x.dtype)
    d_buf = xp.empty((a * a, c * n * rows * tw), dtype=x.dtype)
    v_buf = xp.empty((a * a, c * n * rows * tw), dtype=x.dtype)
    dy_buf = xp.empty((m * m, co * n * rows * tw), dtype=x.dtype)
    dm_buf = xp.empty((a * a, co * n * rows * tw), dtype=x.dtype)
    du = xp.zeros((a * a, co, c), dtype=x.dtype)
    part = xp.empty_like(du)
    for i0 in range(0, th, rows):
        r = min(rows, th - i0)
        p = n * r * tw  # tiles in this chunk
        xb = _tiled_rows(x, pads, m, (i0 * m, (i0 + r) * m + 2), x_buf[:, :, : r * m + 2])
        # input tiles, channels leading: d[y*a + z, c, n, i, j]
        d = d_buf[:, : c * p].reshape(a, a, c, n, r, tw)
        for yy in range(a):
            rows_y = xb[:, :, yy : yy + (r - 1) * m + 1 : m].transpose(1, 0, 2, 3, 4)
            for zz in range(a):
                d[yy, zz] = rows_y[:, :, :, zz % m, zz // m : zz // m + tw]
        v = v_buf[:, : c * p]
        _matmul(xp, bt, d_buf[:, : c * p], v)
        # output-gradient tiles: dy[r*m + s, o, n, i, j] = gy[n, o, (i0 + i)*m + r, j*m + s]
        dy = dy_buf[:, : co * p].reshape(m, m, co, n, r, tw)
        dy[...] = gy[:, :, i0 * m : (i0 + r) * m].reshape(n, co, r, m, tw, m).transpose(
            3, 5, 1, 0, 2, 4)
        dm = dm_buf[:, : co * p]
        _matmul(xp, at.T, dy_buf[:, : co * p], dm)
        _matmul(xp, dm.reshape(a * a, co, p), v.reshape(a * a, c, p).transpose(0, 2, 1), part)
        du += part
    # dW = G^T dU G per (o, c): two small matmuls, as weight_transform in reverse
    g = xp.asarray(_G[m], dtype=x.dtype)
    du = du.reshape(a, a, co * c)
    cols = xp.matmul(g.T, du.reshape(a, a * co * c)).reshape(3, a, co * c)  # G^T dU
    gw = xp.matmul(cols.transpose(0, 2, 1), g).transpose(0, 2, 1)  # (G^T dU) G: (3, 3, co*c)
    return xp.ascontiguousarray(gw.reshape(9, co * c).T).reshape(co, c, 3, 3)
