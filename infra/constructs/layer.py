"""The shared layer: the ``polycast`` package plus its third-party wheels, built without Docker.

There is no Docker on the machines that synthesize Polycast, so the layer is bundled
locally: ``pip install --platform … --only-binary=:all:`` fetches wheels for the Lambda
architecture and Python version (never the build machine's), then the package is
copied in with symlinks followed (``polycast/schemas_dir`` points at ``schemas/``).

Tests skip bundling with the context flag ``polycast:skipLayerBundling=true`` (the
CDK CLI refuses the standard ``aws:cdk:bundling-stacks`` key from users; in-process
tests may use either); the asset is then the source folder as is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, SymlinkFollowMode
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.options import REPO_ROOT

LAYER_SOURCE = REPO_ROOT / "shared_layer"
REQUIREMENTS = REPO_ROOT / "requirements.txt"
PACKAGE = "polycast"

RUNTIME = lambda_.Runtime.PYTHON_3_12
PYTHON_VERSION = "3.12"
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"
"""Graviton: ~20 % cheaper per GB-second; every dependency ships an aarch64 or pure wheel."""

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".mypy_cache")


def layer_files(package: Path = LAYER_SOURCE / "python" / PACKAGE) -> list[Path]:
    """Every file the layer ships from the package, following ``schemas_dir`` (a symlink)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(package, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".mypy_cache"))
        found.extend(Path(root) / f for f in sorted(files) if not f.endswith(".pyc"))
    return found


def _source_hash() -> str:
    """Content hash of what goes into the layer, including requirements and target platform.

    ``requirements.txt`` sits outside the asset folder and the schemas behind a
    symlink, so the default source hash would notice neither changing.
    """
    digest = hashlib.sha256()
    digest.update(f"{PYTHON_VERSION}|{PIP_PLATFORM}|".encode())
    digest.update(REQUIREMENTS.read_bytes())
    package = LAYER_SOURCE / "python" / PACKAGE
    for path in layer_files(package):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """Builds ``<out>/python/`` with pip for the Lambda platform and copies the package."""

    def __init__(self, requirements: Path = REQUIREMENTS, source: Path = LAYER_SOURCE) -> None:
        self._requirements = requirements
        self._source = source

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        target = Path(output_dir) / "python"
        target.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            "--platform",
            PIP_PLATFORM,
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--python-version",
            PYTHON_VERSION,
            "-r",
            str(self._requirements),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            # Returning False would fall back to Docker, which is not there: say why instead.
            raise RuntimeError(
                f"layer bundling: pip failed ({result.returncode}):\n{result.stderr[-4000:]}"
            )
        shutil.copytree(
            self._source / "python" / PACKAGE,
            target / PACKAGE,
            symlinks=False,
            ignore=_IGNORED,
            dirs_exist_ok=True,
        )
        return True


def shared_layer(scope: Construct, construct_id: str, *, bundle: bool) -> lambda_.LayerVersion:
    """The layer every function imports ``polycast`` (and its dependencies) from."""
    bundling = BundlingOptions(
        image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.12"),
        command=["bash", "-c", "echo 'Polycast bundles its layer locally with pip'; exit 1"],
        local=PipLayerBundling(),
    )
    code = lambda_.Code.from_asset(
        str(LAYER_SOURCE),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=_source_hash(),
        follow_symlinks=SymlinkFollowMode.ALWAYS,
        exclude=["**/__pycache__", "**/*.pyc", "**/*.egg-info", "**/.mypy_cache"],
        bundling=bundling if bundle else None,
    )
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=code,
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="polycast package, schemas and runtime dependencies (requirements.txt)",
    )
