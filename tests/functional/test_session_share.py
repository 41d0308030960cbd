"""``polycast session share``: the links printed, one QR PNG per link and a printable
page, decoded by a real QR reader (``zbarimg``, Debian's zbar-tools; the PDF rendered
to PNG by ``pdftoppm``, poppler-utils). Against a real embedded moto server holding
the wiring's tables; the CLI as a user runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from polycast_kit.local.aws import EmbeddedAws
from polycast_kit.local.resources import create_resources, local_settings

PAGE = "http://127.0.0.1:8080/"


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (Debian package {package}; `make setup`)")
    return path


def decode(image: Path) -> list[str]:
    """Every QR code zbarimg finds in the image, as text."""
    done = subprocess.run(  # noqa: S603 - a fixed system tool
        [tool("zbarimg", "zbar-tools"), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", image],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 4), done.stderr  # 4: no code found
    return [line for line in done.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An embedded moto with the wiring's resources, and a local.json naming it."""
    aws = EmbeddedAws("127.0.0.1", 0)
    aws.start()
    try:
        env = pytest.MonkeyPatch()
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.setenv(name, "polycast-local")
        settings = local_settings(aws_endpoint_url=aws.endpoint_url)
        create_resources(settings, endpoint_url=aws.endpoint_url, region="us-east-1")
        directory = tmp_path_factory.mktemp("share") / "state"
        directory.mkdir()
        (directory / "local.json").write_text(
            json.dumps(
                {
                    "awsEndpoint": aws.endpoint_url,
                    "region": "us-east-1",
                    "transcriptStream": settings.transcript_stream,
                    "websocketUrl": "ws://127.0.0.1:8080",
                    "listenerPage": PAGE,
                    "languages": ["es", "fr", "ca"],
                }
            )
        )
        yield directory
    finally:
        env.undo()
        aws.stop()


def cli(*argv: str) -> tuple[int, str, str]:
    """The CLI in its own process, as a user runs it: exit code, stdout, stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "polycast_kit.cli.main", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def create(state: Path, session: str, *extra: str) -> dict:
    code, out, _ = cli(
        "session", "create", "--session", session, "--languages", "es,fr",
        "--json", "--state-dir", str(state), *extra,
    )  # fmt: skip
    assert code == 0
    return dict(json.loads(out))


def test_pngs_hold_exactly_the_links(state: Path, tmp_path: Path) -> None:
    create(state, "brave-otter-101")
    code, out, _ = cli(
        "session", "share", "brave-otter-101", "--png", str(tmp_path / "qr"),
        "--state-dir", str(state),
    )  # fmt: skip
    assert code == 0, out
    expected = {
        "join": "http://127.0.0.1:8080/join?sessionId=brave-otter-101",
        "es": "http://127.0.0.1:8080/?sessionId=brave-otter-101&targetLanguage=es",
        "fr": "http://127.0.0.1:8080/?sessionId=brave-otter-101&targetLanguage=fr",
    }
    for name, url in expected.items():
        assert url in out
        assert decode(tmp_path / "qr" / f"brave-otter-101-{name}.png") == [url]
    assert sorted(p.name for p in (tmp_path / "qr").iterdir()) == sorted(
        f"brave-otter-101-{name}.png" for name in expected
    )


def test_the_printable_page_carries_every_code_and_the_title(state: Path, tmp_path: Path) -> None:
    create(state, "quiet-lynx-202")
    pdf = tmp_path / "poster.pdf"
    code, _, _ = cli(
        "session", "share", "quiet-lynx-202", "--pdf", str(pdf),
        "--title", "Town hall, 3 December", "--state-dir", str(state),
    )  # fmt: skip
    assert code == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(  # noqa: S603 - a fixed system tool
        [tool("pdftoppm", "poppler-utils"), "-r", "150", "-png", pdf, tmp_path / "page"],
        check=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    found = decode(pages[0])
    assert sorted(found) == sorted(
        [
            "http://127.0.0.1:8080/join?sessionId=quiet-lynx-202",
            "http://127.0.0.1:8080/?sessionId=quiet-lynx-202&targetLanguage=es",
            "http://127.0.0.1:8080/?sessionId=quiet-lynx-202&targetLanguage=fr",
        ]
    )
    text = subprocess.run(  # noqa: S603 - a fixed system tool
        [tool("pdftotext", "poppler-utils"), pdf, "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "Town hall, 3 December" in text


def test_a_join_code_is_in_no_link_and_no_code(state: Path, tmp_path: Path) -> None:
    links = create(state, "amber-finch-303", "--join-code", "424242")
    assert links["joinCode"] == "424242"
    assert "424242" not in json.dumps({k: v for k, v in links.items() if k != "joinCode"})
    code, out, _ = cli(
        "session", "share", "amber-finch-303", "--png", str(tmp_path / "qr"),
        "--state-dir", str(state),
    )  # fmt: skip
    assert code == 0
    assert "424242" not in out
    assert "asked for the join code" in out
    for png in (tmp_path / "qr").iterdir():
        assert all("424242" not in text and "joinCode" not in text for text in decode(png))


def test_a_lan_runtime_gives_sessions_a_join_code_unless_told_not_to(
    state: Path, tmp_path: Path
) -> None:
    lan = tmp_path / "lan"
    lan.mkdir()
    data = json.loads((state / "local.json").read_text())
    (lan / "local.json").write_text(json.dumps({**data, "lan": True}))
    links = create(lan, "tidy-crane-404")
    assert links["joinCode"].isdigit()
    assert len(links["joinCode"]) == 6
    assert "joinCode" not in create(lan, "tidy-crane-405", "--no-join-code")
    assert "joinCode" not in create(state, "tidy-crane-406")


def test_an_unknown_session_is_one_line(state: Path) -> None:
    code, _, err = cli("session", "share", "no-such-999", "--state-dir", str(state))
    assert code == 1
    assert "no session no-such-999" in err
