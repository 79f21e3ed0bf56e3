"""kernelsweep (Python) gives the executable's numbers: solve, critical, a sweep run in-process and
kernelsweep.open of the file, compared with `kernelsweep solve/critical/run` run as programs, plus
independent facts (q from the kernel's definition, lambda_c of the documented T=4 point, the
NaN padding of kernels of different sizes)."""
import json

import h5py
import numpy as np
import pytest

import kernelsweep as ks

POINT = {"model": {"architecture": "rnn", "activation": "linear", "T": 4},
         "task": {"kind": "endpoint_classification", "P": 4, "D": 4, "lam": 1.5}}


# Timings differ between any two runs; they are not results.
TIMINGS = {"result.wall_time", "result.theory.seconds", "result.sgld.steps_per_second"}


def assert_same(value, expected, where="result"):
    """value (with numpy arrays) equals the CLI's JSON `expected`, number for number."""
    if where in TIMINGS:
        return
    if isinstance(value, np.ndarray):
        np.testing.assert_array_equal(value, np.asarray(expected, dtype=float), err_msg=where)
    elif isinstance(expected, dict):
        assert set(value) == set(expected), where
        for k in expected:
            assert_same(value[k], expected[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert len(value) == len(expected), where
        for k, (v, e) in enumerate(zip(value, expected)):
            assert_same(v, e, f"{where}[{k}]")
    else:
        assert value == expected, where


def write(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_solve_equals_the_cli(tmp_path, cli):
    result = ks.solve(POINT)
    code, expected, _ = cli("solve", write(tmp_path, "p.yaml", POINT), "--json")
    assert code == 0
    theory = result["theory"]
    assert isinstance(theory["H"], np.ndarray) and theory["H"].shape == (16, 16)
    assert_same(result, expected)


def test_q_is_the_last_lag_one_correlation_of_H():
    # docs/theory.md 3.2: q = (1/P) sum_p H[(T-1, p), (T-2, p)], mu = t P + p.
    theory = ks.solve(POINT)["theory"]
    T, P = 4, 4
    H = theory["H"]
    q = np.mean([H[(T - 1) * P + p, (T - 2) * P + p] for p in range(P)])
    assert theory["q"] == pytest.approx(q, rel=1e-12)
    assert abs(theory["q"]) > 0.1  # lam = 1.5 is above lambda_c (0.811 at T = 4): broken branch


def test_yaml_text_and_overrides_are_the_cli_overrides(tmp_path, cli):
    text = "model: {T: 4}\ntask: {lam: 1.5}\n"
    result = ks.solve(text, overrides={"task.lam": 0.5})
    code, expected, _ = cli("solve", write(tmp_path, "p.yaml", {"model": {"T": 4}, "task": {"lam": 1.5}}),
                            "--set", "task.lam=0.5", "--json")
    assert code == 0
    assert result["theory"]["q"] == expected["theory"]["q"]
    assert result["config"]["task"]["lam"] == 0.5


def test_bad_input_raises_with_the_executables_message(cli, tmp_path):
    with pytest.raises(ks.KernelsweepError) as error:
        ks.solve({"model": {"T": -3}})
    assert error.value.code == 2
    assert "model.T" in str(error.value) and "<config>" in str(error.value)
    code, _, stderr = cli("solve", write(tmp_path, "bad.yaml", {"model": {"T": -3}}), "--json")
    assert code == 2 and str(error.value).replace("<config>", "") in stderr.replace(str(tmp_path / "bad.yaml"), "")


def test_critical_equals_the_cli_and_the_documented_value(tmp_path, cli):
    config = {"model": {"T": 4}, "task": {"P": 4, "D": 4}}
    result = ks.critical(config)
    code, expected, _ = cli("critical", write(tmp_path, "c.yaml", config), "--json")
    assert code == 0
    assert result["lambda_c"] == expected["lambda_c"]
    assert result["lambda_c"] == pytest.approx(0.811209, abs=2e-6)  # docs/theory.md 3.2


SWEEP = {"name": "pytest", "seed": 3,
         "base": {"model": {"N": 16}, "task": {"P": 2, "D": 2},
                  "sgld": {"enabled": True, "replicas": 2, "steps": 200, "burn_in": 50, "thin": 5,
                           "max_rhat": 100, "min_ess": 0}},
         "axes": [{"key": "task.lam", "values": [0.5, 1.5]}, {"key": "model.T", "values": [2, 3]}]}


@pytest.fixture(scope="module")
def sweep_files(tmp_path_factory, binary):
    import subprocess
    tmp = tmp_path_factory.mktemp("sweep")
    spec = tmp / "sweep.yaml"
    spec.write_text(json.dumps(SWEEP))
    cli_file, py_file = tmp / "cli.h5", tmp / "py.h5"
    p = subprocess.run([binary, "run", spec, "--out", cli_file], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert ks.run(SWEEP, out=py_file) == 0
    return cli_file, py_file


def test_an_in_process_sweep_equals_the_cli_run(sweep_files):
    cli_file, py_file = sweep_files
    with h5py.File(cli_file, "r") as a, h5py.File(py_file, "r") as b:
        for name in ("status", "theory_q", "theory_free_energy", "sgld_abs_q_mean", "sgld_q_stderr"):
            np.testing.assert_array_equal(a[name][()], b[name][()], err_msg=name)
        for i in a["points"]:
            for name in a["points"][i]:
                np.testing.assert_array_equal(a["points"][i][name][()], b["points"][i][name][()],
                                              err_msg=f"points/{i}/{name}")


def test_open_assembles_kernels_over_the_grid(sweep_files):
    cli_file, _ = sweep_files
    ds = ks.open(cli_file)
    assert ds["status"].dims == ("lam", "T")
    assert "done" in ds["status"].attrs["flag_meanings"]
    assert (ds["status"] == 1).all()
    H = ds["theory_H"]
    assert H.dims == ("lam", "T", "mu", "nu")
    assert H.shape == (2, 2, 6, 6)  # M = T P up to 3 * 2
    with h5py.File(cli_file, "r") as f:
        for i in range(4):
            lam_index, T_index = np.unravel_index(i, (2, 2))
            raw = f["points"][str(i)]["theory_H"][()]
            M = raw.shape[0]
            assert M == 2 * [2, 3][T_index]
            np.testing.assert_array_equal(H.values[lam_index, T_index, :M, :M], raw)
            assert np.isnan(H.values[lam_index, T_index, M:, :]).all()  # padding
            assert ds["theory_q"].values[lam_index, T_index] == f["theory_q"][lam_index, T_index]
    # The point at lam = 1.5, T = 3 equals a solve of that point (theory is deterministic).
    point = ks.solve({**SWEEP["base"], "sgld": {"enabled": False}},
                     overrides={"task.lam": 1.5, "model.T": 3})
    np.testing.assert_allclose(H.sel(lam=1.5, T=3).values, point["theory"]["H"], rtol=0, atol=1e-13)
    assert ds["sgld_H"].dims == ("lam", "T", "mu", "nu")


def test_open_retries_a_read_caught_in_a_commit(sweep_files, monkeypatch, tmp_path):
    """A live file read mid-commit fails transiently: open retries; a file that never reads raises
    its error after the retries; a missing file raises at once."""
    import kernelsweep.dataset as dataset

    cli_file, _ = sweep_files
    read = dataset._read_dataset
    failures = []

    def flaky(path, kernels):
        if len(failures) < 2:
            failures.append(path)
            raise OSError("caught in a commit")
        return read(path, kernels)

    monkeypatch.setattr(dataset, "_read_dataset", flaky)
    ds = ks.open(cli_file, retry_interval=0.0)
    assert len(failures) == 2
    assert (ds["status"] == 1).all()
    monkeypatch.setattr(dataset, "_read_dataset", read)
    not_hdf5 = tmp_path / "not.h5"
    not_hdf5.write_text("not an HDF5 file")
    with pytest.raises(OSError):
        ks.open(not_hdf5, retries=3, retry_interval=0.0)
    with pytest.raises(FileNotFoundError, match="no such results file"):
        ks.open(tmp_path / "missing.h5")


def test_status_and_plan_of_the_sweep(sweep_files):
    cli_file, _ = sweep_files
    assert ks.status(cli_file)["counts"]["done"] == 4
    p = ks.plan(SWEEP, samples=1)
    assert p["points"] == 4 and p["replicas"] == 8
    assert p["estimate"]["core_hours"] > 0
    with pytest.raises(ks.KernelsweepError, match="task.lam"):
        ks.plan({"name": "bad", "axes": [{"key": "task.lam", "values": [-2]}]})
