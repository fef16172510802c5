"""Compiled training steps for small chains of Dense layers (numba; imported lazily).

:func:`train_steps` runs many optimizer steps in one call, each one the same arithmetic,
in the same order, as the NumPy engine's step: the Dense forward and backward passes, the
loss, the L1/L2 penalties, the divergence guard's loss watch and step bound, the update
rule (with the guard's backup of the weights it changes) and the epoch's running metrics.
Scalars are cast to the network's dtype before they meet its arrays, as NumPy does with
Python floats, so float32 networks round like the NumPy path. Matrix products are plain
loops: for the networks this serves (a few hundred weights) a BLAS call costs more than
the arithmetic.

The two entry points release the GIL while they run (``nogil``): they touch no Python
object, and the designer's training process sends its reports from another thread
meanwhile instead of waiting for the stretch to end.

A step whose guard would raise (a loss or gradient that is not finite, a blown-up loss,
a step that cannot be bounded) is not taken: the kernel returns before changing anything
of it, and the trainer does that step the general way, which raises as it always does.

The codes of activations, losses and optimizers are :func:`core.training.fast_dense.codes`;
the slots of the ``watch``, ``acc`` and ``C`` arrays are listed below.
"""

from __future__ import annotations

import numpy as np
from numba import njit

STATUS_DONE, STATUS_GENERAL = 0, 1  # all steps taken / the next step needs the general path
# watch: n, avg, weight, floor, ceiling, best, saved_loss, saved_step, factor, step limit,
#        smoothing, warmup, checkpoint_every, (unused), (unused), checkpointed
# acc: n, loss_sum, correct, count, abs_sum, rows, classification (1/0)
# C (network dtype): 0, 1, 0.5, leaky slope, elu alpha, huber delta, scratch,
#                    epsilon and 1 - epsilon of the clipped cross-entropy
# opt_f (float64): lr-free settings; see fast_dense.FastDense._opt_settings


@njit(cache=True)
def _cast(C, value):
    """``value`` rounded to the network's dtype (NumPy's treatment of a Python float)."""
    C[6] = value
    return C[6]


@njit(cache=True)
def _act(code, z, C):
    if code == 1:
        e = np.exp(-np.abs(z))
        o = C[1] / (C[1] + e)
        return e * o if z < C[0] else o
    if code == 2:
        return np.tanh(z)
    if code == 3:
        return z if z > C[0] else C[0]
    if code == 4:
        a = z * C[3]
        return z if z >= a else a
    if code == 5:
        if z > C[0]:
            return z
        return np.expm1(z if z < C[0] else C[0]) * C[4]
    if code == 6:
        t = np.log1p(np.exp(-np.abs(z)))
        return (z if z > C[0] else C[0]) + t
    return z


@njit(cache=True)
def _act_grad(code, z, y, dy, C):
    if code == 1:
        return dy * ((C[1] - y) * y)
    if code == 2:
        return dy * (C[1] - y * y)
    if code == 3:
        return dy * (C[1] if z > C[0] else C[0])
    if code == 4:
        return dy * C[3] if z <= C[0] else dy
    if code == 5:
        return dy * (C[1] if z > C[0] else y + C[4])
    if code == 6:
        return dy * _act(1, z, C)
    return dy


@njit(cache=True)
def _forward(meta, params, ys, yo, zs, zo, nb, C):
    """Every layer's pre-activation and output for the ``nb`` rows in ``ys[0]``."""
    for layer in range(meta.shape[0]):
        n_in, n_out, w_off, b_off, act = meta[layer, 0], meta[layer, 1], meta[layer, 2], \
            meta[layer, 3], meta[layer, 4]
        x, z, y = ys[yo[layer]:], zs[zo[layer]:], ys[yo[layer + 1]:]
        for r in range(nb):
            for j in range(n_out):
                s = C[0]
                for i in range(n_in):
                    s += x[r * n_in + i] * params[w_off + i * n_out + j]
                if b_off >= 0:
                    s += params[b_off + j]
                z[r * n_out + j] = s
                y[r * n_out + j] = _act(act, s, C)


@njit(cache=True, inline="always")
def _regression_term(loss_code, d, C):
    """One output's term of mse (0), mae (1) or huber (2) for the difference ``d``, in
    the network's dtype (``C[2]`` is 0.5, ``C[5]`` huber's delta)."""
    if loss_code == 0:
        return d * d
    if loss_code == 1:
        return np.abs(d)
    a = np.abs(d)
    q = a if a < C[5] else C[5]
    return C[2] * q * q + C[5] * (a - q)


@njit(cache=True)
def _loss(loss_code, z, p, t, g, size, C):
    """Batch-mean loss (float64) and its gradient into ``g`` (w.r.t. z when fused)."""
    total = C[0]
    for k in range(size):
        d = p[k] - t[k]
        if loss_code < 3:
            total += _regression_term(loss_code, d, C)
        else:
            zk = z[k]
            total += (zk if zk > C[0] else C[0]) - zk * t[k] + np.log1p(np.exp(-np.abs(zk)))
        g[k] = d
    value = float(total) / size
    scale = _cast(C, (2.0 if loss_code == 0 else 1.0) / size)
    for k in range(size):
        d = g[k]
        if loss_code == 1:
            d = np.sign(d)
        elif loss_code == 2:
            d = -C[5] if d < -C[5] else (C[5] if d > C[5] else d)
        g[k] = d * scale
    return value


@njit(cache=True)
def _backward(meta, params, grads, ys, yo, zs, zo, dy, dz, nb, fused, C):
    """Gradients of every layer from ``dy`` (the output's; its z-gradient if fused)."""
    last = meta.shape[0] - 1
    for layer in range(last, -1, -1):
        n_in, n_out, w_off, b_off, act = meta[layer, 0], meta[layer, 1], meta[layer, 2], \
            meta[layer, 3], meta[layer, 4]
        x, z, y = ys[yo[layer]:], zs[zo[layer]:], ys[yo[layer + 1]:]
        m = nb * n_out
        if fused and layer == last:
            for k in range(m):
                dz[k] = dy[k]
        else:
            for k in range(m):
                dz[k] = _act_grad(act, z[k], y[k], dy[k], C)
        for i in range(n_in):
            for j in range(n_out):
                s = C[0]
                for r in range(nb):
                    s += x[r * n_in + i] * dz[r * n_out + j]
                grads[w_off + i * n_out + j] = s
        if b_off >= 0:
            for j in range(n_out):
                s = C[0]
                for r in range(nb):
                    s += dz[r * n_out + j]
                grads[b_off + j] = s
        if layer > 0:
            for r in range(nb):
                for i in range(n_in):
                    s = C[0]
                    for j in range(n_out):
                        s += dz[r * n_out + j] * params[w_off + i * n_out + j]
                    dy[r * n_in + i] = s


@njit(cache=True)
def _penalties(params, grads, decay, l1, l2, C):
    """Add the L1/L2 gradients on the kernels; the penalty (trainer._add_penalties)."""
    penalty = 0.0
    l2c, l1c = _cast(C, 2.0 * l2), _cast(C, l1)
    for s in range(decay.shape[0]):
        lo, hi = decay[s, 0], decay[s, 1]
        if l2:
            dot = C[0]
            for k in range(lo, hi):
                dot += params[k] * params[k]
            penalty += l2 * float(dot)
            for k in range(lo, hi):
                grads[k] += params[k] * l2c
        if l1:
            total = C[0]
            for k in range(lo, hi):
                total += np.abs(params[k])
            penalty += l1 * float(total)
            for k in range(lo, hi):
                grads[k] += np.sign(params[k]) * l1c
    return penalty


@njit(cache=True)
def _observe(w, loss):
    """LossWatch.observe after a run's first batch (which sets the floor and ceiling,
    and which the general path takes), on the array ``w``: 0 fine, 1 checkpoint due,
    2 blown up (then ``w`` is left as it was)."""
    n = w[0] + 1.0
    avg = w[10] * w[1] + (1.0 - w[10]) * loss
    weight = w[10] * w[2] + (1.0 - w[10])
    smooth = avg / weight
    best, due = w[5], False
    if smooth < best:
        best = smooth
        due = smooth < 0.5 * w[6] or n - w[7] >= w[12]
    checked = not np.isnan(w[8]) and n >= w[11]
    if checked and (smooth > w[8] * max(best, w[3]) or smooth > w[4]):
        return 2
    w[0], w[1], w[2], w[5] = n, avg, weight, best
    if due:
        w[6], w[7] = best, n
        return 1
    return 0


@njit(cache=True)
def _bound(opt_code, opt_f, peak, lr, norm, t):
    """StepBound for this step and the peak it would keep (core.training.guard)."""
    if opt_code == 0:
        p = max(peak, lr * norm)
        return 2.0 * p / (1.0 - opt_f[0]), p
    if opt_code == 1:
        p = max(peak, norm)
        alpha = lr * np.sqrt(1.0 - opt_f[1] ** float(t)) / (1.0 - opt_f[0] ** float(t))
        return alpha * p / opt_f[2], p
    if opt_code == 2:
        p = max(peak, lr * norm / np.sqrt(opt_f[1]))
        return p / (1.0 - opt_f[2]), p
    return lr, peak


@njit(cache=True)
def _flush_tiny(state1, state2, limit):
    for k in range(state1.shape[0]):
        if not np.abs(state1[k]) >= limit:
            state1[k] = state1[k] * 0
    for k in range(state2.shape[0]):
        if not np.abs(state2[k]) >= limit:
            state2[k] = state2[k] * 0


@njit(cache=True)
def _update(opt_code, opt_f, params, grads, good, state1, state2, lr, t, C):
    """One optimizer step (core.optimizers), copying the weights into ``good`` first."""
    lrc = _cast(C, lr)
    if opt_code == 0:
        mom, nest = _cast(C, opt_f[0]), opt_f[1] != 0.0
        for k in range(params.shape[0]):
            d = grads[k] * lrc
            if opt_f[0] != 0.0:
                v = state1[k] * mom - d
                state1[k] = v
                d = d - v * mom if nest else -v
            good[k] = params[k]
            params[k] = params[k] - d
    elif opt_code == 1:
        b1, b2 = opt_f[0], opt_f[1]
        alpha = lr * np.sqrt(1.0 - b2 ** float(t)) / (1.0 - b1 ** float(t)) * (1.0 - b1) \
            / opt_f[3]
        b1c, b2c, epsc, ac = _cast(C, b1), _cast(C, b2), _cast(C, opt_f[4]), _cast(C, alpha)
        for k in range(params.shape[0]):
            g = grads[k]
            m = state1[k] * b1c + g
            v = state2[k] * b2c + g * g
            state1[k], state2[k] = m, v
            good[k] = params[k]
            params[k] = params[k] - m / (np.sqrt(v) + epsc) * ac
    elif opt_code == 2:
        rho, one_rho, epsc = _cast(C, opt_f[0]), _cast(C, 1.0 - opt_f[0]), _cast(C, opt_f[1])
        mom = _cast(C, opt_f[2])
        for k in range(params.shape[0]):
            g = grads[k]
            s = state1[k] * rho + g * g * one_rho
            state1[k] = s
            d = g / np.sqrt(s + epsc) * lrc
            if opt_f[2] > 0.0:
                d = state2[k] * mom + d
                state2[k] = d
            good[k] = params[k]
            params[k] = params[k] - d
    else:
        epsc = _cast(C, opt_f[0])
        for k in range(params.shape[0]):
            g = grads[k]
            a = state1[k] + g * g
            state1[k] = a
            good[k] = params[k]
            params[k] = params[k] - g / np.sqrt(a + epsc) * lrc


@njit(cache=True)
def _merge_columns(acc, sq, mean, m2, sq_b, mean_b, m2_b, nb):
    """Merge one batch's per-column sums into the epoch's (Chan et al., as
    MetricAccumulator does); returns the batch's R^2."""
    r2 = 0.0
    for c in range(sq.shape[0]):
        if acc[5] == 0.0:
            sq[c], mean[c], m2[c] = sq_b[c], mean_b[c], m2_b[c]
        else:
            delta, total = mean_b[c] - mean[c], acc[5] + nb
            mean[c] = mean[c] + delta * (nb / total)
            m2[c] = m2[c] + m2_b[c] + delta * delta * (acc[5] * nb / total)
            sq[c] = sq[c] + sq_b[c]
        r2 += 1.0 - sq_b[c] / m2_b[c] if m2_b[c] > 0 else (1.0 if sq_b[c] == 0 else 0.0)
    acc[5] += nb
    return r2 / sq.shape[0]


@njit(cache=True)
def _metrics(acc, sq, mean, m2, p, t, nb, units, loss, bm, cols, C):
    """MetricAccumulator.add for one batch; the batch's own metrics go into ``bm``
    (``cols``: three rows of per-column scratch)."""
    acc[0] += nb
    acc[1] += loss * nb
    size = nb * units
    if acc[6] != 0.0:
        hits = 0
        for k in range(size):
            if (p[k] > C[2]) == (t[k] > C[2]):
                hits += 1
        acc[2] += hits
        acc[3] += size
        bm[0] = hits / max(size, 1)
        return
    abs_sum = 0.0
    sq_b, mean_b, m2_b = cols[0], cols[1], cols[2]
    for c in range(units):
        sq_b[c] = m2_b[c] = 0.0
        tsum = 0.0
        for r in range(nb):
            e = np.float64(p[r * units + c]) - np.float64(t[r * units + c])
            sq_b[c] += e * e
            abs_sum += np.abs(e)
            tsum += np.float64(t[r * units + c])
        mean_b[c] = tsum / nb
        for r in range(nb):
            dev = np.float64(t[r * units + c]) - mean_b[c]
            m2_b[c] += dev * dev
    bm[1] = _merge_columns(acc, sq, mean, m2, sq_b, mean_b, m2_b, nb)
    acc[4] += abs_sum
    acc[3] += size
    bm[0] = abs_sum / max(size, 1)


@njit(cache=True)
def _value_terms(loss_code, p, t, size, C):
    """Sum of the loss terms of ``size`` outputs, as Loss.value computes them (binary
    cross-entropy from the clipped probabilities), in the network's dtype."""
    total = C[0]
    for k in range(size):
        if loss_code < 3:
            total += _regression_term(loss_code, p[k] - t[k], C)
        else:
            q = p[k] if p[k] > C[7] else C[7]
            q = q if q < C[8] else C[8]
            total += t[k] * np.log(q) + (C[1] - t[k]) * np.log1p(-q)
    return total


@njit(cache=True, nogil=True)
def evaluate_rows(X, Y, idx, n, chunk, batch, meta, params, loss_code, ys, yo, zs, zo, tb,
                  C, acc, sq, mean, m2, cols):
    """Trainer._evaluate on rows ``idx[:n]`` (all of X when ``idx`` is empty): one loss
    value and one metrics update per ``chunk`` rows, computed ``batch`` rows at a time
    in the training buffers."""
    n_in, units, last = X.shape[1], Y.shape[1], meta.shape[0]
    sq_b, mean_b, m2_b = cols[0], cols[1], cols[2]
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        total = C[0]
        hits, abs_sum = 0, 0.0
        sq_b[:] = 0.0
        mean_b[:] = 0.0
        m2_b[:] = 0.0
        for pass_no in range(2):  # the targets' mean first, then their squared deviations
            for b0 in range(0, m, batch):
                nb = min(batch, m - b0)
                for r in range(nb):
                    row = idx[s + b0 + r] if idx.shape[0] else s + b0 + r
                    for c in range(units):
                        tb[r * units + c] = Y[row, c]
                    if pass_no == 0:
                        for i in range(n_in):
                            ys[r * n_in + i] = X[row, i]
                if pass_no == 1:
                    for k in range(nb * units):
                        dev = np.float64(tb[k]) - mean_b[k % units]
                        m2_b[k % units] += dev * dev
                    continue
                _forward(meta, params, ys, yo, zs, zo, nb, C)
                out = ys[yo[last]:]
                total += _value_terms(loss_code, out, tb, nb * units, C)
                for k in range(nb * units):
                    if acc[6] != 0.0:
                        hits += (out[k] > C[2]) == (tb[k] > C[2])
                    else:
                        e = np.float64(out[k]) - np.float64(tb[k])
                        sq_b[k % units] += e * e
                        abs_sum += np.abs(e)
                        mean_b[k % units] += np.float64(tb[k])
            if pass_no == 0:
                for c in range(units):
                    mean_b[c] /= m
        value = float(total) / (m * units)
        if loss_code == 3:
            value = -value
        acc[0] += m
        acc[1] += value * m
        acc[3] += m * units
        if acc[6] != 0.0:
            acc[2] += hits
        else:
            _merge_columns(acc, sq, mean, m2, sq_b, mean_b, m2_b, m)
            acc[4] += abs_sum


@njit(cache=True, nogil=True)
def train_steps(X, Y, order, pos, steps, batch, meta, params, grads, loss_code, opt_code,
                opt_f, state1, state2, iterations, lrs, l1, l2, decay, watch, best, good,
                peak, flush_every, flush_limit, acc, sq, mean, m2, ys, yo, zs, zo, dy, dz, tb, C,
                losses, norms, bm, cols):
    """Up to ``steps`` steps from ``order[pos:]``; (steps taken, status, iterations, peak).

    Everything a step changes is written in place: weights, gradients, optimizer state,
    the guard's watch and copies, the metric sums, and per step its loss, gradient norm
    and batch metrics (``losses``, ``norms``, ``bm``).
    """
    n_in, units = X.shape[1], Y.shape[1]
    fused = loss_code == 3
    last = meta.shape[0]
    for k in range(steps):
        if watch[0] == 0.0:  # a run's first batch: the guard's LossWatch sets its scale
            return k, STATUS_GENERAL, iterations, peak
        nb = min(batch, order.shape[0] - pos)
        x0 = ys
        for r in range(nb):
            row = order[pos + r]
            for i in range(n_in):
                x0[r * n_in + i] = X[row, i]
            for c in range(units):
                tb[r * units + c] = Y[row, c]
        _forward(meta, params, ys, yo, zs, zo, nb, C)
        size = nb * units
        out, zout = ys[yo[last]:], zs[zo[last - 1]:]
        loss = _loss(loss_code, zout, out, tb, dy, size, C)
        _backward(meta, params, grads, ys, yo, zs, zo, dy, dz, nb, fused, C)
        if l1 or l2:
            loss += _penalties(params, grads, decay, l1, l2, C)
        if not np.isfinite(loss):
            return k, STATUS_GENERAL, iterations, peak
        n0, avg0, weight0, best0, saved_loss0, saved_step0 = \
            watch[0], watch[1], watch[2], watch[5], watch[6], watch[7]
        verdict = _observe(watch, loss)
        if verdict == 2:
            return k, STATUS_GENERAL, iterations, peak
        sq_norm = C[0]
        for i in range(grads.shape[0]):
            sq_norm += grads[i] * grads[i]
        sq_norm = float(sq_norm)
        lr = lrs[k]
        norm = np.sqrt(sq_norm)
        bound, new_peak = _bound(opt_code, opt_f, peak, lr, norm, iterations + 1)
        if not np.isfinite(sq_norm) or not bound <= watch[9]:
            watch[0], watch[1], watch[2], watch[5], watch[6], watch[7] = \
                n0, avg0, weight0, best0, saved_loss0, saved_step0
            return k, STATUS_GENERAL, iterations, peak
        if verdict == 1:
            best[:] = params
            watch[15] = 1.0
        peak = new_peak
        if flush_every > 0 and iterations % flush_every == 0:
            _flush_tiny(state1, state2, flush_limit)
        iterations += 1
        _update(opt_code, opt_f, params, grads, good, state1, state2, lr, iterations, C)
        _metrics(acc, sq, mean, m2, out, tb, nb, units, loss, bm[k], cols, C)
        losses[k] = loss
        norms[k] = norm
        pos += nb
    return steps, STATUS_DONE, iterations, peak
