"""The wheel: it carries the templates, the static files and the catalogue, and it serves pages.

The repository keeps `templates/` at the top level; setup.cfg maps it into the distribution
as `votes.templates`. A wheel is built, installed in a fresh virtual environment with no
source tree on its path, and used the way an operator would: `votes demo --no-serve`, then
gunicorn serving the voter page.
"""

from __future__ import annotations

import configparser
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET = "packaging-test-secret-0123456789"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("VOTES_TEST_DATABASE_URL")), reason="the wheel is the same on both runs"
)


def listed_packages() -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return {line.strip() for line in config["options"]["packages"].splitlines() if line.strip()}


def shipped_folders() -> set[str]:
    """Every folder of votes/, reports/ and templates/ that holds a file to install."""
    found = set()
    for top, name in (("votes", "votes"), ("reports", "reports"), ("templates", "votes.templates")):
        for path in [ROOT / top, *sorted(p for p in (ROOT / top).rglob("*") if p.is_dir())]:
            if "__pycache__" in path.parts:
                continue
            if any(f.is_file() and f.suffix != ".pyc" for f in path.iterdir()):
                relative = path.relative_to(ROOT / top).parts
                found.add(".".join([name, *relative]))
    return found


def test_setup_cfg_lists_every_folder_that_ships() -> None:
    assert listed_packages() == shipped_folders()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(target),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Package would be ignored" not in done.stderr
    (built,) = target.glob("votes-*.whl")
    return built


def test_the_wheel_carries_templates_static_files_and_the_catalogue(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (
        "templates/base.html",
        "templates/ballot/ballot.html",
        "templates/admin/round.html",
        "templates/errors/error.html",
    ):
        assert "votes/" + path in names
    assert "votes/static/style.css" in names
    assert "votes/translations/vi/LC_MESSAGES/messages.po" in names
    assert "votes/profiles/tn-16kh-2012.toml" in names
    assert "votes/migrations/versions/0001_initial_schema.py" in names
    html = {n for n in names if n.startswith("votes/templates/") and n.endswith(".html")}
    assert len(html) == len(list((ROOT / "templates").rglob("*.html")))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
def test_an_installed_wheel_seeds_the_demo_and_serves_the_voter_page(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    # A fresh environment with nothing in it; this pip installs into it (--python) what the
    # wheel asks for, resolved as for an operator. Bootstrapping a pip of its own (ensurepip)
    # would cost 5-8 s more and test nothing of ours.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    work = tmp_path / "elsewhere"  # no source tree here, and none on the path
    work.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VOTES_SECRET_KEY": SECRET,
        "VOTES_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    where = subprocess.run(
        [str(python), "-c", "import votes, votes.templates; print(votes.templates.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert str(venv) in where.stdout
    assert str(ROOT) not in where.stdout
    demo = subprocess.run(
        [str(venv / "bin" / "votes"), "demo", "--no-serve"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    assert "Nguyễn Văn Thắng" in demo.stdout
    port = _free_port()
    server = subprocess.Popen(
        [
            str(venv / "bin" / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "votes:create_app()",
        ],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    page = answer.read().decode("utf-8")
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        assert 'name="code"' in page  # the voter's code form, rendered from the wheel
        assert "<html" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/style.css") as answer:
            assert answer.status == 200
    finally:
        server.terminate()
        server.communicate(timeout=30)
