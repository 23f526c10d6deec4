"""Distributions over binary variables beyond pairwise couplings, compiled to Boltzmann machines.

A :class:`FactorGraph` is ``p(x) ∝ Π_f φ_f(x_{S_f})`` with strictly positive
factors of any order over named binary variables; a :class:`BayesianNetwork`
is the factor graph of its conditional probability tables.
:func:`compile_to_boltzmann` turns either into a Boltzmann machine with
auxiliary (hidden) units whose marginal over the original variables *equals*
the given distribution — so that a spiking sampler of that machine samples it,
and evidence on the variables answers inference queries (Probst, Petrovici et
al. 2015, Front. Comput. Neurosci. 9:13; Pecevski, Buesing, Maass 2011).

The compilation
---------------
``log p(x)`` is expanded in monomials of the variables (the Möbius transform
of every log-factor): ``log p(x) = const + Σ_B c_B Π_{i∈B} x_i``.  Terms of
order 1 and 2 are the biases and couplings of the machine.  A term of order
``n = |B| ≥ 3`` is produced by auxiliary units ``h`` coupled with one weight
``w`` to every variable of ``B`` and with a bias ``β``: summing ``h`` out
multiplies ``p`` by ``1 + exp(β + w s)``, ``s = Σ_{i∈B} x_i``, whose monomial
expansion over ``B`` has the coefficient ``Δ^k softplus(β + w s)|_{s=0}`` (the
k-th forward difference) on every subset of size ``k``.  ``β`` is solved (to
machine precision) so that the order-``n`` coefficient is ``c_B``; the
coefficients the unit adds to smaller subsets are subtracted from theirs and
compiled in turn, from the highest order down.  Nothing is approximated: the
marginal of the compiled machine equals the target up to floating-point
rounding (tested to 1e-9 by exact enumeration).  Where one unit would need a
weight beyond ``max_weight`` the term is shared among several units, which
keeps the couplings in the range a LIF network expresses well.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import comb, logsumexp

from .evidence import check_evidence, holds
from .targets import MAX_EXACT_UNITS, BoltzmannMachine, all_states

__all__ = ["FactorGraph", "BayesianNetwork", "CompiledModel", "compile_to_boltzmann"]

#: monomial coefficients smaller than this are treated as zero
_TOLERANCE = 1e-13


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


class FactorGraph:
    """A distribution ``p(x) ∝ Π_f φ_f(x_{S_f})`` over named binary variables.

    Parameters
    ----------
    variables : sequence of str
        Names of the variables, in unit order (unit 0 = first = most
        significant bit of the joint-state index).
    factors : sequence of (scope, table)
        ``scope`` is a sequence of variable names, ``table`` an array of shape
        ``(2,) * len(scope)`` with the strictly positive factor value for every
        assignment (axis ``i`` = value of ``scope[i]``).

    Raises
    ------
    ValueError
        For unknown or repeated variables, tables of the wrong shape, and
        values that are not finite and positive.

    Examples
    --------
    >>> xor = FactorGraph(["a", "b", "c"], [(("a", "b", "c"), [[[4, 1], [1, 4]], [[1, 4], [4, 1]]])])
    >>> float(xor.probabilities()[0b000])   # even parity is four times as likely
    0.2
    """

    def __init__(self, variables: Sequence[str], factors: Sequence[tuple[Sequence[str], Any]]) -> None:
        names = [str(v) for v in variables]
        if not names:
            raise ValueError("a factor graph needs at least one variable.")
        dup = {v for v in names if names.count(v) > 1}
        if dup:
            raise ValueError(f"variable names must be unique; repeated: {sorted(dup)}.")
        self.variables: tuple[str, ...] = tuple(names)
        self._index = {v: i for i, v in enumerate(names)}
        checked = []
        for n, factor in enumerate(factors):
            try:
                scope, table = factor
            except (TypeError, ValueError):
                raise ValueError(f"factor {n} must be a pair (scope, table), got {factor!r}.") from None
            scope = tuple(str(v) for v in scope)
            unknown = [v for v in scope if v not in self._index]
            if unknown:
                raise ValueError(
                    f"factor {n} uses unknown variable(s) {unknown}; known: {list(self.variables)}."
                )
            if len(set(scope)) != len(scope):
                raise ValueError(f"factor {n} names a variable twice: {scope}.")
            table = np.asarray(table, dtype=float)
            if table.shape != (2,) * len(scope):
                raise ValueError(
                    f"factor {n} over {scope} needs a table of shape {(2,) * len(scope)}, got {table.shape}."
                )
            if not np.all(np.isfinite(table)) or np.any(table <= 0):
                raise ValueError(
                    f"factor {n} over {scope} must be finite and strictly positive (a Boltzmann machine "
                    "gives every state a positive probability); replace zeros by a small number such as 1e-6."
                )
            checked.append((tuple(self._index[v] for v in scope), table))
        self.factors: tuple[tuple[tuple[int, ...], np.ndarray], ...] = tuple(checked)

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n_variables} variables, {len(self.factors)} factors)"

    def log_potential(self, states: np.ndarray) -> np.ndarray:
        """``Σ_f log φ_f`` of states along the last axis (unnormalised ``log p``)."""
        z = np.asarray(states).astype(int)
        if z.shape[-1] != self.n_variables:
            raise ValueError(f"states must have {self.n_variables} variables along the last axis.")
        out = np.zeros(z.shape[:-1])
        for scope, table in self.factors:
            out += np.log(table)[tuple(z[..., i] for i in scope)]
        return out

    def probabilities(self) -> np.ndarray:
        """Exact ``p(x)`` of all ``2**n`` joint states, indexed by the state index."""
        if self.n_variables > MAX_EXACT_UNITS:
            raise ValueError(f"exact enumeration needs <= {MAX_EXACT_UNITS} variables.")
        lp = self.log_potential(all_states(self.n_variables))
        return np.exp(lp - logsumexp(lp))

    def marginals(self) -> dict[str, float]:
        """Exact ``p(x_i = 1)`` of every variable, by name."""
        m = self.probabilities() @ all_states(self.n_variables).astype(float)
        return dict(zip(self.variables, m.tolist(), strict=True))

    def evidence(self, observed: Mapping[str, Any]) -> dict[int, int]:
        """Evidence by variable name → ``{unit: value}`` for the samplers.

        Raises
        ------
        ValueError
            For unknown variable names or values other than 0/1.
        """
        if not isinstance(observed, Mapping):
            raise TypeError(f"evidence must be a mapping {{name: 0 or 1}}, got {type(observed).__name__}.")
        unknown = [k for k in observed if k not in self._index]
        if unknown:
            raise ValueError(
                f"evidence on unknown variable(s) {unknown}; the variables are {list(self.variables)}."
            )
        by_unit = {self._index[k]: v for k, v in observed.items()}
        try:
            return check_evidence(by_unit, self.n_variables)
        except ValueError as exc:  # name the variable, not the unit
            msg = str(exc)
            for name, i in self._index.items():
                msg = msg.replace(f"unit {i} ", f"variable {name!r} ")
            raise ValueError(msg) from None

    def monomials(self) -> dict[frozenset[int], float]:
        """Coefficients ``c_B`` of ``log p(x) = const + Σ_B c_B Π_{i∈B} x_i`` (|B| ≥ 1)."""
        coef: dict[frozenset[int], float] = {}
        for scope, table in self.factors:
            log_t = np.log(table)
            for r in range(1, len(scope) + 1):
                for sub in itertools.combinations(range(len(scope)), r):
                    # Möbius transform: alternating sum over the assignments inside the subset
                    c = 0.0
                    for q in range(r + 1):
                        for on in itertools.combinations(sub, q):
                            idx = tuple(1 if i in on else 0 for i in range(len(scope)))
                            c += (-1) ** (r - q) * log_t[idx]
                    key = frozenset(scope[i] for i in sub)
                    coef[key] = coef.get(key, 0.0) + c
        return {k: v for k, v in coef.items() if abs(v) > _TOLERANCE}


class BayesianNetwork(FactorGraph):
    """A Bayesian network over binary variables.

    Parameters
    ----------
    parents : mapping name → sequence of parent names
        The graph; variables are in the mapping's order.  Must be acyclic.
    cpts : mapping name → array
        Conditional probability tables, either ``P(x = 1 | parents)`` with shape
        ``(2,) * n_parents`` (axis ``i`` = value of parent ``i``; a scalar for
        a root), or the full table with a last axis of length 2 holding
        ``P(x = 0 | parents), P(x = 1 | parents)``, which must sum to 1.

    Raises
    ------
    ValueError
        For cycles, unknown parents, missing or extra tables, tables of the
        wrong shape, probabilities outside (0, 1) or rows that do not sum to 1.

    Examples
    --------
    Explaining away: rain and a sprinkler both wet the grass.

    >>> bn = BayesianNetwork(
    ...     {"rain": [], "sprinkler": [], "wet": ["rain", "sprinkler"]},
    ...     {"rain": 0.2, "sprinkler": 0.3, "wet": [[0.05, 0.9], [0.9, 0.99]]},
    ... )
    >>> round(bn.posterior_marginals({"wet": 1})["rain"], 3)
    0.432
    >>> round(bn.posterior_marginals({"wet": 1, "sprinkler": 1})["rain"], 3)
    0.216
    """

    def __init__(self, parents: Mapping[str, Sequence[str]], cpts: Mapping[str, Any]) -> None:
        names = [str(v) for v in parents]
        graph = {str(v): tuple(str(p) for p in ps) for v, ps in parents.items()}
        for v, ps in graph.items():
            unknown = [p for p in ps if p not in graph]
            if unknown:
                raise ValueError(f"{v!r} has unknown parent(s) {unknown}; every parent needs its own entry.")
            if v in ps:
                raise ValueError(f"{v!r} is its own parent: a Bayesian network must be acyclic.")
        cycle = _find_cycle(graph)
        if cycle:
            raise ValueError(
                "the graph has a cycle " + " -> ".join(cycle) + "; a Bayesian network must be acyclic."
            )
        missing = [v for v in names if v not in cpts]
        extra = [v for v in cpts if v not in graph]
        if missing or extra:
            raise ValueError(
                f"every variable needs exactly one CPT; missing: {missing}, "
                f"unknown: {[str(e) for e in extra]}."
            )
        factors = []
        for v in names:
            factors.append(((*graph[v], v), _cpt_table(v, graph[v], cpts[v])))
        self.parents: dict[str, tuple[str, ...]] = graph
        super().__init__(names, factors)

    def posterior_marginals(self, observed: Mapping[str, Any] | None = None) -> dict[str, float]:
        """Exact ``p(x_i = 1 | evidence)`` of every variable, by name."""
        p = self.probabilities()
        states = all_states(self.n_variables)
        ev = self.evidence(observed or {})
        post = p * holds(states, ev)
        m = post @ states.astype(float) / post.sum()
        return dict(zip(self.variables, m.tolist(), strict=True))


def _find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle (as a list of names, first repeated at the end) or None; edges parent → child."""
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        colour[v] = 1
        stack.append(v)
        for p in graph[v]:
            if colour.get(p) == 1:
                cyc = stack[stack.index(p) :] + [p]
                return cyc[::-1]  # parent → child order
            if p not in colour:
                found = visit(p)
                if found:
                    return found
        stack.pop()
        colour[v] = 2
        return None

    for v in graph:
        if v not in colour:
            found = visit(v)
            if found:
                return found
    return None


def _cpt_table(name: str, parents: tuple[str, ...], cpt: Any) -> np.ndarray:
    """The factor table of shape (2,)*(n_parents + 1) from either CPT format."""
    t = np.asarray(cpt, dtype=float)
    n = len(parents)
    if t.shape == (2,) * n:
        p1 = t
        if not np.all(np.isfinite(p1)) or np.any((p1 <= 0) | (p1 >= 1)):
            raise ValueError(
                f"CPT of {name!r}: P({name}=1 | {', '.join(parents) or '-'}) must lie strictly between "
                f"0 and 1; got {p1.tolist()}. Use e.g. 1e-6 instead of 0."
            )
        return np.stack([1 - p1, p1], axis=-1)
    if t.shape == (2,) * (n + 1):
        if not np.all(np.isfinite(t)) or np.any(t <= 0):
            raise ValueError(f"CPT of {name!r} must hold positive probabilities; got {t.tolist()}.")
        sums = t.sum(axis=-1)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-9):
            bad = np.argwhere(np.abs(sums - 1.0) > 1e-9)[0]
            where = dict(zip(parents, bad.tolist(), strict=True))
            raise ValueError(
                f"CPT of {name!r}: P({name}=0 | ...) + P({name}=1 | ...) must be 1 for every parent "
                f"assignment; it is {sums[tuple(bad)]:.6g} for parents {where}."
            )
        return t
    raise ValueError(
        f"CPT of {name!r} with parents {list(parents)} must have shape {(2,) * n} (P({name}=1 | parents)) "
        f"or {(2,) * (n + 1)} (full table); got {t.shape}."
    )


@dataclass(frozen=True)
class CompiledModel:
    """A Boltzmann machine whose marginal over its first units is a given distribution.

    Attributes
    ----------
    machine : BoltzmannMachine
        Units ``0 … n-1`` are the variables (in the model's order), the rest
        auxiliary units.
    variables : tuple of str
    model : FactorGraph
        What was compiled.
    max_weight : float
    """

    machine: BoltzmannMachine
    variables: tuple[str, ...]
    model: FactorGraph
    max_weight: float

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    @property
    def n_auxiliary(self) -> int:
        return self.machine.n_units - self.n_variables

    def __repr__(self) -> str:
        return (
            f"CompiledModel({self.n_variables} variables + {self.n_auxiliary} auxiliary units, "
            f"max |W| = {np.abs(self.machine.W).max():.3g})"
        )

    def marginal_probabilities(self) -> np.ndarray:
        """``p(x)`` of the machine over the variables, auxiliary units summed out analytically.

        The auxiliary units couple only to variables, so summing one out gives
        a factor ``1 + exp(b_h + W_h·x)``; exact for any number of them.
        """
        n = self.n_variables
        if n > MAX_EXACT_UNITS:
            raise ValueError(f"exact enumeration needs <= {MAX_EXACT_UNITS} variables.")
        x = all_states(n).astype(float)
        W, b = self.machine.W, self.machine.b
        lp = 0.5 * np.einsum("si,ij,sj->s", x, W[:n, :n], x) + x @ b[:n]
        lp += _softplus(x @ W[:n, n:] + b[n:]).sum(axis=1)
        return np.exp(lp - logsumexp(lp))

    def evidence(self, observed: Mapping[str, Any]) -> dict[int, int]:
        """Evidence by variable name → ``{unit: value}`` for the samplers of :attr:`machine`."""
        return self.model.evidence(observed)

    def posterior_marginals(self, result: Any) -> Any:
        """:func:`lifsampling.posterior_marginals` of a run of :attr:`machine`, for the variables only.

        Returns an :class:`xarray.Dataset` over dim ``variable`` (the names),
        with ``estimate``, ``mcse``, ``exact`` (given the run's evidence) and ``clamped``.
        """
        from .queries import posterior_marginals

        post = posterior_marginals(result, self.machine).isel(unit=slice(0, self.n_variables))
        return post.rename(unit="variable").assign_coords(variable=list(self.variables))

    def map_state(self, result: Any) -> dict:
        """The most probable state of the free *variables* of a run of :attr:`machine`.

        :func:`lifsampling.map_state` of the run itself is over all free units,
        auxiliary ones included, and the most probable joint state of variables
        and auxiliaries is in general not the most probable state of the
        variables.  Here the auxiliary units are summed out: the most frequent
        sampled state of the free variables, its frequency and MCSE, and — for up
        to ``MAX_EXACT_UNITS`` variables — the exact most probable state given the
        run's evidence (from :meth:`marginal_probabilities`).

        Returns
        -------
        dict
            ``variables`` (names of the free variables) and the keys of
            :func:`lifsampling.map_state`.
        """
        from .evidence import evidence_of
        from .queries import map_state

        ev = evidence_of(result)
        on_aux = [k for k in ev if k >= self.n_variables]
        if on_aux:
            raise ValueError(
                f"the run has evidence on auxiliary unit(s) {on_aux}; evidence belongs on variables."
            )
        only = result.drop_vars([v for v in ("target_W", "target_b") if v in result])
        out = map_state(only.isel(unit=slice(0, self.n_variables)))
        out["variables"] = [self.variables[k] for k in out["units"]]
        if self.n_variables <= MAX_EXACT_UNITS:
            states = all_states(self.n_variables)
            p = self.marginal_probabilities()
            p = p * holds(states, ev)
            p = p / p.sum()
            free = out["units"]
            best = int(np.argmax(p))
            sampled = holds(states, {k: int(c) for k, c in zip(free, out["state"], strict=True)})
            out["exact_state"] = "".join(str(states[best, k]) for k in free)
            out["exact_probability"] = float(p[best])
            out["sampled_state_exact_probability"] = float(p[sampled & (p > 0)].sum())
        return out


def compile_to_boltzmann(model: FactorGraph, *, max_weight: float = 1.5) -> CompiledModel:
    """Compile a factor graph or Bayesian network exactly into a Boltzmann machine.

    Parameters
    ----------
    model : FactorGraph or BayesianNetwork
    max_weight : float
        Largest coupling of an auxiliary unit; a higher-order term that needs
        more is shared among several auxiliary units.  Smaller values give more
        auxiliary units with weaker couplings, which a LIF network realises more
        faithfully (the default 1.5 keeps them in the range where the measured
        coupling maps are nearly linear); the compilation is exact either way.

    Returns
    -------
    CompiledModel

    References
    ----------
    Probst, Petrovici et al. (2015), Front. Comput. Neurosci. 9:13.

    Examples
    --------
    >>> bn = BayesianNetwork({"a": [], "b": [], "c": ["a", "b"]},
    ...                      {"a": 0.5, "b": 0.4, "c": [[0.1, 0.7], [0.8, 0.3]]})
    >>> cm = compile_to_boltzmann(bn)
    >>> bool(np.allclose(cm.marginal_probabilities(), bn.probabilities(), atol=1e-12))
    True
    """
    if not isinstance(model, FactorGraph):
        raise TypeError(f"model must be a FactorGraph or BayesianNetwork, got {type(model).__name__}.")
    if not (np.isfinite(max_weight) and max_weight > 0):
        raise ValueError(f"max_weight must be positive, got {max_weight!r}.")
    n = model.n_variables
    coef = model.monomials()
    hidden: list[tuple[tuple[int, ...], float, float]] = []  # (scope, w, beta)
    while True:
        high = [b for b, c in coef.items() if len(b) >= 3 and abs(c) > _TOLERANCE]
        if not high:
            break
        order = max(len(b) for b in high)
        scope = min((b for b in high if len(b) == order), key=sorted)  # deterministic order
        c = coef.pop(scope)
        for w, beta in _units_for(c, order, max_weight):
            hidden.append((tuple(sorted(scope)), w, beta))
            f = _softplus(beta + w * np.arange(order + 1))
            for k in range(1, order):
                d = _forward_difference(f, k)
                for sub in itertools.combinations(sorted(scope), k):
                    key = frozenset(sub)
                    coef[key] = coef.get(key, 0.0) - d
            residual = _forward_difference(f, order)
            c -= residual
        if abs(c) > 1e-9:  # pragma: no cover - guarded by _units_for's root finding
            raise RuntimeError(f"compilation of a term of order {order} left a residual {c:.3g}.")
    K = n + len(hidden)
    W = np.zeros((K, K))
    b = np.zeros(K)
    for key, c in coef.items():
        idx = sorted(key)
        if len(idx) == 1:
            b[idx[0]] += c
        elif len(idx) == 2:
            W[idx[0], idx[1]] += c
            W[idx[1], idx[0]] += c
    for h, (scope, w, beta) in enumerate(hidden, start=n):
        b[h] = beta
        W[h, list(scope)] = w
        W[list(scope), h] = w
    return CompiledModel(BoltzmannMachine(W, b), model.variables, model, float(max_weight))


def _forward_difference(f: np.ndarray, k: int) -> float:
    """``Δ^k f(0) = Σ_j (-1)^(k-j) C(k, j) f(j)``."""
    j = np.arange(k + 1)
    return float(np.sum((-1.0) ** (k - j) * comb(k, j) * f[: k + 1]))


def _top_difference(beta: float, w: float, n: int) -> float:
    return _forward_difference(_softplus(beta + w * np.arange(n + 1)), n)


def _range_at(w: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A grid of biases and the order-n difference of softplus(β + w s) on it."""
    span = abs(w) * n
    betas = np.linspace(-span - 30.0, span + 30.0, 4001)
    s = np.arange(n + 1)
    j = np.arange(n + 1)
    weights = (-1.0) ** (n - j) * comb(n, j)
    return betas, _softplus(betas[:, None] + w * s[None, :]) @ weights


def _units_for(c: float, n: int, max_weight: float) -> list[tuple[float, float]]:
    """(w, β) of the auxiliary units whose order-n coefficients add up to ``c``.

    Among the weights (a grid up to ``max_weight``) and biases that give the
    required coefficient, the one whose side effects (the coefficients it adds
    to smaller subsets, which end up as biases and couplings) are smallest.
    """
    reach = 0.9 * max(
        (v.max() if c > 0 else -v.min()) for v in (_range_at(max_weight, n)[1], _range_at(-max_weight, n)[1])
    )
    m = max(1, int(np.ceil(abs(c) / reach)))
    share = c / m
    best: tuple[float, float, float] | None = None
    grid = np.linspace(max_weight / 8, max_weight, 8)
    for w in np.concatenate([grid, -grid]):
        betas, values = _range_at(w, n)
        diff = values - share
        for i in np.flatnonzero(np.sign(diff[:-1]) != np.sign(diff[1:])):

            def gap(x: float, w: float = w) -> float:
                return _top_difference(x, w, n) - share

            beta = brentq(gap, betas[i], betas[i + 1], xtol=1e-15, rtol=1e-15)
            f = _softplus(beta + w * np.arange(n + 1))
            cost = sum(comb(n, k) * abs(_forward_difference(f, k)) for k in range(1, n))
            if best is None or cost < best[0]:
                best = (cost, float(w), float(beta))
    if best is None:  # pragma: no cover - m is chosen so that max_weight reaches the share
        raise RuntimeError(f"no auxiliary unit reaches a coefficient {share:.3g} of order {n}.")
    return [(best[1], best[2])] * m
