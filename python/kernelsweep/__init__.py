"""kernelsweep from Python: the same computations as the `kernelsweep` executable, in-process.

    import kernelsweep as ks
    r = ks.solve({"model": {"T": 4}, "task": {"lam": 1.5}})     # or YAML text, or a file path
    r["theory"]["q"], r["theory"]["H"]                          # numbers; kernels as numpy arrays
    ks.critical({"model": {"T": 4}})["lambda_c"]
    ks.run(sweep, out="diagram.h5")                             # a sweep, in this process
    ds = ks.open("diagram.h5")                                  # xarray.Dataset
    ds["theory_q"].sel(lam=1.0); ds["theory_H"]                 # kernels over (grid..., mu, nu)

Every function runs the executable's own subcommand (solve, critical, run, status, plan) through
the extension module kernelsweep._core with `--json`, so results are the CLI's, number for
number. Configs are dicts (written as JSON, which is YAML), YAML text, or paths of YAML files.
Bad input raises KernelsweepError with the executable's one-line message. The mathematics:
docs/theory.md; the point config keys and the file layout: README.md.
"""
import json
import os
import tempfile

import numpy as np

from . import _core
from .dataset import open_dataset as open  # noqa: A001  (ks.open(path) -> xarray.Dataset)

__all__ = ["solve", "critical", "run", "status", "plan", "open", "KernelsweepError", "kernel_isa"]

# Exit codes of the executable (README, "Commands").
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 75


class KernelsweepError(Exception):
    """Bad input (exit code 2) or an internal error (3); `code` is the exit code."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def kernel_isa():
    """The instruction-set variant of the SGLD kernels in use: baseline, avx2, avx512 or native."""
    return _core.kernel_isa()


class _DocumentFile:
    """A config given as dict, YAML text or path, as a file path the executable can read."""

    def __init__(self, document):
        self.document = document
        self.path = None
        self._temporary = None

    def __enter__(self):
        d = self.document
        if isinstance(d, (str, os.PathLike)) and "\n" not in str(d) and os.path.isfile(d):
            self.path = os.fspath(d)
            return self
        if isinstance(d, dict):
            text = json.dumps(d)  # JSON is YAML
        elif isinstance(d, str):
            text = d
        else:
            raise TypeError(f"a config is a dict, YAML text or a file path, not {type(d).__name__}")
        self._temporary = tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="kernelsweep-", delete=False)
        with self._temporary as f:
            f.write(text)
        self.path = self._temporary.name
        return self

    def __exit__(self, *exc):
        if self._temporary is not None:
            os.unlink(self._temporary.name)

    def clean(self, message):
        """The message without the temporary file's name."""
        if self._temporary is not None:
            message = message.replace(self.path, "<config>")
        return message


def _overrides(overrides):
    """{'model.T': 8} or ['model.T=8'] -> ['--set', 'model.T=8', ...]; values as YAML (JSON)."""
    if not overrides:
        return []
    if isinstance(overrides, dict):
        overrides = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in overrides.items()]
    args = []
    for o in overrides:
        args += ["--set", o]
    return args


def _command(name, args, document=None):
    """Runs a subcommand; returns (exit code, parsed JSON stdout or None)."""
    code, output, error = _core.run_command(name, args)
    if code in (EXIT_BAD_INPUT, EXIT_INTERNAL):
        if document is not None:
            error = document.clean(error)
        raise KernelsweepError(error or f"kernelsweep {name} exited with {code}", code)
    return code, (json.loads(output) if output.strip() else None)


def _is_matrix(value):
    return (isinstance(value, list) and value and all(isinstance(r, list) for r in value)
            and all(isinstance(x, (int, float)) or x is None for r in value for x in r))


def _is_vector(value):
    return isinstance(value, list) and value and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)


def _arrays(value, key=None):
    """JSON -> Python with numpy arrays for numeric lists (matrices and vectors); the config stays."""
    if key == "config":
        return value
    if isinstance(value, dict):
        return {k: _arrays(v, k) for k, v in value.items()}
    if _is_matrix(value):
        return np.array([[np.nan if x is None else x for x in r] for r in value], dtype=float)
    if _is_vector(value):
        return np.array(value, dtype=float)
    if isinstance(value, list):
        return [_arrays(v) for v in value]
    return value


def solve(config=None, overrides=None):
    """Theory (and SGLD, if enabled) of one point: `kernelsweep solve CONFIG --json` as a dict.

    config: dict, YAML text or path (None: every default). overrides: {'task.lam': 0.5} or
    ['task.lam=0.5']. Kernels (theory H, C; sgld H, C, H_stderr) are M x M numpy arrays,
    M = T P, mu = t P + p. A point whose computation failed has status 'failed' (no exception).
    """
    with _DocumentFile(config if config is not None else {}) as doc:
        _, result = _command("solve", [doc.path, "--json"] + _overrides(overrides), doc)
    return _arrays(result)


def critical(config=None, lo=None, hi=None, rtol=None, overrides=None):
    """lambda_c of a point's network and task (linear RNN): `kernelsweep critical --json`."""
    args = []
    for name, value in (("--lo", lo), ("--hi", hi), ("--rtol", rtol)):
        if value is not None:
            args += [name, repr(float(value))]
    with _DocumentFile(config if config is not None else {}) as doc:
        _, result = _command("critical", [doc.path, "--json"] + args + _overrides(overrides), doc)
    return _arrays(result)


def plan(sweep, overrides=None, samples=3, ranks=1, cpus_per_task=1):
    """Checks a sweep, counts its points and replicas and estimates its cost: `kernelsweep plan`."""
    with _DocumentFile(sweep) as doc:
        _, result = _command("plan", [doc.path, "--json", "--samples", str(samples), "--ranks", str(ranks),
                                      "--cpus-per-task", str(cpus_per_task)] + _overrides(overrides), doc)
    return result


def run(sweep, out, overrides=None, resume=False, force=False, retry_failed=False):
    """Runs a sweep in this process into the HDF5 file `out` (`kernelsweep run` without mpirun).

    Returns the exit code: 0 complete, 1 complete with failed points, 75 interrupted (resumable).
    Open the result with kernelsweep.open(out).
    """
    args = ["--out", os.fspath(out)] + _overrides(overrides)
    args += [flag for flag, on in (("--resume", resume), ("--force", force), ("--retry-failed", retry_failed)) if on]
    import signal
    # `run` installs its own SIGINT/SIGTERM/SIGUSR1 handlers (stop cleanly, exit 75); give Python
    # its handlers back afterwards.
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)}
    try:
        with _DocumentFile(sweep) as doc:
            code, _ = _command("run", [doc.path] + args, doc)
    finally:
        for s, handler in saved.items():
            if handler is not None:
                signal.signal(s, handler)
    return code


def status(path):
    """Progress, failures and contributing runs of a results file: `kernelsweep status --json`."""
    _, result = _command("status", [os.fspath(path), "--json"])
    return result
