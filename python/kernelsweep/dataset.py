"""A kernelsweep results file (HDF5) as one xarray.Dataset.

The grid variables (theory_q, sgld_abs_q_mean, status, ...) come from xarray's h5netcdf engine,
with the sweep's dimensions as coordinates. The per-point arrays under /points/<flat index>/
(theory_H, theory_C, theory_f, sgld_H, ...) are assembled into DataArrays over
(grid dimensions..., mu, nu) for kernels and (grid dimensions..., mu) for outputs, padded with NaN
to the largest M = T P of the grid where T or P vary, and NaN at points not (yet) computed. A
per-point array whose name is also a grid variable (sgld_outlier_eigenvalue: per layer) gets the
suffix `_per_point`. `status` keeps its integer codes with `flag_values` / `flag_meanings`
(0 pending, 1 done, 2 failed, 3 not_converged) and each point's message is in `message`.
"""
import numpy as np

STATUS_MEANINGS = ("pending", "done", "failed", "not_converged")


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO":
        return [_text(v) for v in value.tolist()]
    return value


def _per_point_dims(name, ndim, grid_dims, index):
    if ndim == 2:
        return ("mu", "nu")
    if ndim == 1:
        return ("mu",) if name.endswith("_f") else (f"{name}_index",)
    return tuple(f"{name}_dim{k}" for k in range(ndim))


def open_dataset(path, kernels=True, retries=20, retry_interval=0.1):
    """The results file at `path` as an xarray.Dataset (loaded into memory; the file is closed).

    kernels=False skips the per-point arrays (fast for large grids). A file that a run is writing
    can be caught in the middle of a commit (a few ms; the writer does not use HDF5's SWMR): a
    failed read is retried up to `retries` times, `retry_interval` seconds apart, before its error
    is raised. A missing file raises at once.
    """
    import os
    import time

    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such results file")
    retries = max(1, int(retries))
    for attempt in range(retries):
        try:
            return _read_dataset(path, kernels)
        except (OSError, KeyError, ValueError, RuntimeError):
            if attempt + 1 >= retries:
                raise
            time.sleep(retry_interval)


def _read_dataset(path, kernels):
    import h5py
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as lazy:
        ds = lazy.load()
    ds.attrs = {k: _text(v) for k, v in ds.attrs.items()}
    for name in ds.variables:
        ds[name].attrs = {k: _text(v) for k, v in ds[name].attrs.items()}
    status = ds["status"]
    if "flag_meanings" not in status.attrs:
        status.attrs["flag_values"] = np.arange(len(STATUS_MEANINGS), dtype=np.int8)
        status.attrs["flag_meanings"] = " ".join(STATUS_MEANINGS)
    grid_dims, shape = status.dims, status.shape

    with h5py.File(path, "r", locking=False) as f:
        points = f.get("points")
        if points is None:
            return ds
        messages = np.full(shape, "", dtype=object)
        described = {}
        arrays = {}  # name -> list of (grid index, array)
        for key in points:
            if not key.isdigit() or int(key) >= int(np.prod(shape, dtype=np.int64)):
                continue
            index = np.unravel_index(int(key), shape)
            group = points[key]
            messages[index] = _text(group.attrs.get("message", ""))
            if not kernels:
                continue
            for name, item in group.items():
                if isinstance(item, h5py.Dataset):
                    arrays.setdefault(name, []).append((index, np.asarray(item[()], dtype=float)))
        described = {k: _text(v) for k, v in points.attrs.items()}
    if "message" not in ds.variables:  # files of format 2 have message as a grid variable
        ds["message"] = (grid_dims, messages)
    for name, entries in sorted(arrays.items()):
        ndim = entries[0][1].ndim
        entries = [(i, a) for i, a in entries if a.ndim == ndim]
        size = tuple(max(a.shape[k] for _, a in entries) for k in range(ndim))
        data = np.full(shape + size, np.nan)
        for index, a in entries:
            data[index + tuple(slice(0, n) for n in a.shape)] = a
        # The file names each array's dimensions (mu, nu, state, replica, ...) in /points.
        named = described.get(f"{name}_dims", "").split()
        dims = grid_dims + (tuple(named) if len(named) == ndim else _per_point_dims(name, ndim, grid_dims, index))
        target = name if name not in ds.variables else name + "_per_point"
        ds[target] = (dims, data)
        ds[target].attrs["long_name"] = described.get(f"{name}_long_name") or _long_name(name)
        if described.get(f"{name}_units"):
            ds[target].attrs["units"] = described[f"{name}_units"]
    return ds


def _long_name(name):
    """A readable label for a per-point array (the file may carry its own long_name later)."""
    part, _, key = name.partition("_")
    what = {"H": "pre-activation kernel H", "C": "feature kernel C", "f": "posterior-mean output f",
            "H_stderr": "standard error of H", "outlier_eigenvalue": "outlier eigenvalue of W"}.get(key, key)
    return f"{part} {what}" if part in ("theory", "sgld") else name
