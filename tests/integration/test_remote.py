"""Remote containers over a counting loopback HTTP server and a moto S3 server (issue 14 section 1).

Budgets are asserted as byte counts measured by the server (spec/remote.md#budgets); findings of a remote copy are
compared with those of the local file, hostile files of the golden corpus included; remote failures are exit 3
with the URL as given.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

import hsi_conform
from hsi_conform.corpus.golden import build_input, load_cases
from hsi_conform.errors import ExitCode, InputUnreadableError, MissingDependencyError
from hsi_conform.fields import DataType, Interleave
from hsi_conform.finding import Report
from hsi_conform.members import DATA_SUFFIX
from hsi_conform.remote import RemoteArray, Retry, open_reader
from hsi_conform.testing.scene import SceneSpec, write_scene
from tests._http import Fault, RangeServer
from tests._support import CliRunner

KIB, MIB = 1 << 10, 1 << 20


def _scene(folder: Path, name: str, **spec: object) -> Path:
    return write_scene(folder / name, SceneSpec(**spec))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """BSQ, BIL and BIP containers: a small and a large BSQ one (the large one's cube ~19 MiB: several CRC requests),
    a small BIL and BIP one (every gap within the byte budget), a tall BIL one (600 lines, 16.6 KiB apart: more
    requests than the cap, each gap dearer than a request) and a BIP one whose band spans 1 MiB (4,096 pixels,
    254 bytes apart: merged down to the cap)."""
    folder = tmp_path_factory.mktemp("remote")
    rng = np.random.default_rng(14)
    return {
        "small": _scene(folder, "small.hsi", lines=32, samples=24, bands=16, interleave=Interleave.BSQ),
        "large": _scene(folder, "large.hsi", lines=384, samples=384, bands=64, interleave=Interleave.BSQ),
        "bil": _scene(folder, "bil.hsi", lines=64, samples=96, bands=40, interleave=Interleave.BIL,
                      data_type=DataType.FLOAT32),
        "bip": _scene(folder, "bip.hsi", lines=48, samples=40, bands=30, interleave=Interleave.BIP),
        "bil-tall": hsi_conform.write_container(folder / "bil-tall.hsi", rng.integers(0, 4096, (600, 260, 32),
                                                dtype="<u2"), interleave="bil", thumbnail=False),
        "bip-wide": hsi_conform.write_container(folder / "bip-wide.hsi", rng.integers(0, 4096, (64, 64, 128),
                                                dtype="<u2"), interleave="bip", thumbnail=False),
    }


def _header_like(path: Path) -> int:
    """The bytes of every member that is not ENVI data: headers, CSV, JPEG, metadata."""
    with hsi_conform.open(path) as c:
        return sum(m.size for m in c.members if not m.name.endswith(DATA_SUFFIX))


def _findings(report: Report) -> list[tuple[str, object]]:
    return [(f.rule, f.location) for f in report.findings]


# -- budgets -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["small", "large"])
def test_validate_content_none_reads_the_tail_and_headers_only(cli: CliRunner, http_server: RangeServer,
                                                               scenes: dict[str, Path], which: str) -> None:
    url = http_server.serve(scenes[which], f"/budget/{which}.hsi")
    result = cli(["validate", url, "--content", "none", "--format", "json"])
    assert result.code == ExitCode.OK, result.err
    stats = http_server.stats(url)
    assert stats.bytes <= MIB + _header_like(scenes[which]), stats
    assert stats.requests <= 8, stats  # the tail, one batch of local headers and small members, a few reads
    assert json.loads(result.out)["files"][0]["path"] == url


_READS = {"band": lambda c: c.read_band(7), "line": lambda c: c.read_line(5),
          "spectrum": lambda c: c.read_spectrum(3, 11), "window": lambda c: c.bsq()[2, 10:20, 5:40]}


def _read_budget(c: hsi_conform.Container, what: str, nbytes: int) -> int:
    """spec/remote.md#budgets: 1.1 x the bytes + 256 KiB; a BIP band whose pixels outnumber the cap: its span."""
    lines, samples, bands = c.layout.lines, c.layout.samples, c.layout.bands
    itemsize = c.layout.dtype.itemsize
    if what == "band" and c.layout.interleave is Interleave.BIP and lines * samples > 512:
        return (lines * samples - 1) * bands * itemsize + itemsize
    return int(1.1 * nbytes) + 256 * KIB


@pytest.mark.parametrize("which", ["large", "bil", "bip", "bil-tall", "bip-wide"])
def test_a_band_a_line_a_spectrum_and_a_window_cost_their_bytes(http_server: RangeServer, scenes: dict[str, Path],
                                                                which: str) -> None:
    url = http_server.serve(scenes[which], f"/slices/{which}.hsi")
    with hsi_conform.open(url) as remote, hsi_conform.open(scenes[which]) as local:
        http_server.reset(url)
        assert isinstance(remote.cube, RemoteArray) and remote.cube.shape == local.cube.shape
        assert http_server.stats(url).bytes == 0  # the cube is lazy: making it reads nothing
        for what, read in _READS.items():
            http_server.reset(url)
            got, want = np.asarray(read(remote)), np.asarray(read(local))
            assert np.array_equal(got, want) and got.dtype == want.dtype, what
            stats = http_server.stats(url)
            assert stats.bytes <= _read_budget(local, what, want.nbytes), (what, stats.bytes, stats.requests)
            assert stats.requests <= max(512, local.layout.lines), (what, stats.requests)


def test_a_tall_bil_band_is_a_request_per_line_in_parallel_and_exactly_its_bytes(http_server: RangeServer,
                                                                                  scenes: dict[str, Path]) -> None:
    url = http_server.serve(scenes["bil-tall"], "/slices/bil-tall-band.hsi")
    with hsi_conform.open(url) as remote:
        http_server.reset(url)
        http_server.rendezvous(url, 2)
        band = remote.read_band(100)
        stats = http_server.stats(url)
    # The byte budget merges 16 gaps of 16,576 bytes; past it no gap is merged, each dearer than a request (the
    # last lines lie in the tail kept since the open: they cost no request).
    assert stats.bytes <= 1.1 * band.nbytes + 256 * KIB and 512 < stats.requests <= 600 - 16
    assert stats.met  # the lines' requests were in flight together


def test_a_wide_bip_band_merges_down_to_the_cap(http_server: RangeServer, scenes: dict[str, Path]) -> None:
    url = http_server.serve(scenes["bip-wide"], "/slices/bip-wide-band.hsi")
    with hsi_conform.open(url) as remote:
        http_server.reset(url)
        remote.read_band(0)
        stats = http_server.stats(url)
    assert stats.requests <= 512 and stats.bytes <= 64 * 64 * 128 * 2


def test_crc_fetches_each_byte_once_in_parallel_ranges(cli: CliRunner, http_server: RangeServer,
                                                       scenes: dict[str, Path]) -> None:
    url = http_server.serve(scenes["large"], "/crc/large.hsi")
    http_server.rendezvous(url, 2)
    result = cli(["validate", url, "--content", "crc"])
    assert result.code == ExitCode.OK, result.err
    stats = http_server.stats(url)
    served = sum(b - a for a, b in stats.ranges)
    union = _union(stats.ranges)
    assert served == union <= scenes["large"].stat().st_size, (served, union)
    assert stats.met  # the cube's ranges were in flight together


def _union(ranges: list[tuple[int, int]]) -> int:
    total, end = 0, 0
    for a, b in sorted(ranges):
        total += max(0, b - max(a, end))
        end = max(end, b)
    return total


# -- same findings as the local copy ------------------------------------------------------------------------------


_CASES = [c for c in load_cases() if c.data.get("as") != "folder"]
_HOSTILE = [c for c in _CASES if c.data.get("input") not in ("sample", "expanded")] + [
    c for c in _CASES if c.id.startswith("data/")]


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.mark.parametrize("case", _HOSTILE, ids=lambda c: c.id)
def test_hostile_and_data_cases_give_the_same_findings_over_http(http_server: RangeServer, corpus_dir: Path,
                                                                 case: object) -> None:
    work = corpus_dir / case.id.replace("/", "_")  # type: ignore[attr-defined]
    work.mkdir()
    local = build_input(case, work)
    url = http_server.serve(local, "/corpus/" + case.id.replace("/", "_") + ".hsi")  # type: ignore[attr-defined]
    want = hsi_conform.check(local, content="full")
    got = hsi_conform.check(url, content="full")
    assert (got.conformant, _findings(got), got.internal_errors) == (want.conformant, _findings(want), ())
    assert got.path == url


@pytest.mark.slow
def test_every_corpus_case_gives_the_same_findings_from_memory(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for case in _CASES:
        work = tmp_path / case.id.replace("/", "_")
        work.mkdir()
        local = build_input(case, work)
        fs.pipe("/corpus/" + case.id, local.read_bytes())
        url = "memory://corpus/" + case.id
        want, got = hsi_conform.check(local, content="full"), hsi_conform.check(url, content="full")
        assert (got.conformant, _findings(got)) == (want.conformant, _findings(want)), case.id
    fs.rm("/corpus", recursive=True)


# -- URLs of other kinds, file objects --------------------------------------------------------------------------


@pytest.fixture
def memory_url(scenes: dict[str, Path]) -> Iterator[str]:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe("/remote-test/small.hsi", scenes["small"].read_bytes())
    yield "memory://remote-test/small.hsi"
    fs.rm("/remote-test", recursive=True)


def test_memory_file_urls_and_file_objects_read_like_the_file(scenes: dict[str, Path], memory_url: str) -> None:
    fsspec = pytest.importorskip("fsspec")
    path = scenes["small"]
    want = hsi_conform.check(path, content="full")
    with open(path, "rb") as plain, fsspec.open(memory_url, "rb") as opened:
        targets: list[object] = [memory_url, path.as_uri(), io.BytesIO(path.read_bytes()), plain, opened]
        for target in targets:
            got = hsi_conform.check(target, content="full")  # type: ignore[arg-type]
            assert (got.conformant, _findings(got)) == (want.conformant, _findings(want)), target
            with hsi_conform.open(target) as c, hsi_conform.open(path) as local:
                assert c.remote and c.names == local.names
                assert np.array_equal(c.read_band(1), local.read_band(1))
    assert hsi_conform.check(path.as_uri()).path == path.as_uri()


def test_a_remote_container_has_no_local_path(memory_url: str) -> None:
    with hsi_conform.open(memory_url) as c:
        assert c.url == c.location == memory_url
        with pytest.raises(hsi_conform.errors.ContainerError):
            c.path  # noqa: B018
        with pytest.raises(hsi_conform.errors.ContainerError):
            c.source()


# -- errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault(status=403), Fault(status=404), Fault(status=410)], ids=str)
def test_refused_requests_are_exit_3_naming_the_url(cli: CliRunner, http_server: RangeServer,
                                                    scenes: dict[str, Path], fault: Fault) -> None:
    url = http_server.serve(scenes["small"], "/errors/refused.hsi")
    http_server.fault(url, fault, fault)  # HEAD, then fsspec's GET fallback
    result = cli(["validate", url, "--format", "json"])
    assert result.code == ExitCode.UNREADABLE
    assert url in result.err
    assert json.loads(result.out)["files"][0]["path"] == url


def test_a_missing_url_is_exit_3_and_the_others_are_still_validated(cli: CliRunner, http_server: RangeServer,
                                                                    scenes: dict[str, Path]) -> None:
    good = http_server.serve(scenes["small"], "/errors/good.hsi")
    missing = http_server.base + "/errors//nothing-here.hsi"
    result = cli(["validate", missing, good, "--format", "json"])
    assert result.code == ExitCode.UNREADABLE
    reports = json.loads(result.out)["files"]
    assert [r["path"] for r in reports] == [missing, good]
    assert reports[1]["conformant"] is True and missing in result.err


def test_a_transient_503_is_retried(cli: CliRunner, http_server: RangeServer, scenes: dict[str, Path]) -> None:
    url = http_server.serve(scenes["small"], "/errors/flaky.hsi")
    http_server.fault(url, Fault(status=503), Fault(status=503))  # the first try fails whole (HEAD and GET)
    assert cli(["validate", url]).code == ExitCode.OK
    url = http_server.serve(scenes["large"], "/errors/flaky-large.hsi")  # a band lies outside the tail read
    with hsi_conform.open(url) as c, hsi_conform.open(scenes["large"]) as local:
        http_server.fault(url, Fault(status=503))  # now a range request fails once
        before = http_server.stats(url).requests
        assert np.array_equal(c.read_band(2), local.read_band(2))
        assert http_server.stats(url).requests - before == 1  # the 503 carries no body: not counted


def test_a_short_read_that_persists_is_an_input_error(http_server: RangeServer, scenes: dict[str, Path]) -> None:
    url = http_server.serve(scenes["large"], "/errors/short.hsi")
    with hsi_conform.open(url) as c:
        http_server.fault(url, *[Fault(short=10)] * 4)
        with pytest.raises(InputUnreadableError) as info:
            c.read_band(3)
        assert info.value.path == url and info.value.exit_code == ExitCode.UNREADABLE


def test_a_short_read_during_a_check_is_exit_3_not_an_internal_error(cli: CliRunner, http_server: RangeServer,
                                                                     scenes: dict[str, Path]) -> None:
    url = http_server.serve(scenes["large"], "/errors/cut.hsi")
    # HEAD, the tail, the local headers: then every data request of the CRC pass is cut short
    http_server.fault(url, Fault(), Fault(), Fault(), *[Fault(short=100)] * 40)
    result = cli(["validate", url, "--content", "crc"])
    assert result.code == ExitCode.UNREADABLE, result.err
    assert url in result.err


@pytest.mark.slow
def test_a_timeout_is_an_input_error_after_the_retries(http_server: RangeServer, scenes: dict[str, Path]) -> None:
    aiohttp = pytest.importorskip("aiohttp")
    url = http_server.serve(scenes["small"], "/errors/slow.hsi")
    http_server.fault(url, *[Fault(delay=1.0)] * 8)
    options = {"client_kwargs": {"timeout": aiohttp.ClientTimeout(total=0.3)}}
    with pytest.raises(InputUnreadableError) as info:
        open_reader(url, options, retry=Retry(attempts=2, backoff=0.05))
    assert info.value.path == url


# -- S3 (moto) --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_objects(s3_server: str, scenes: dict[str, Path]) -> str:
    """A bucket holding the small and large scenes (uploaded once per module)."""
    s3fs = pytest.importorskip("s3fs")
    fs = s3fs.S3FileSystem(endpoint_url=s3_server, key="testing", secret="testing", skip_instance_cache=True)
    if not fs.exists("hsi-test"):
        fs.mkdir("hsi-test")
    for name in ("small", "large", "bil-tall"):
        fs.pipe(f"hsi-test/{name}.hsi", scenes[name].read_bytes())
    return "s3://hsi-test"


@pytest.fixture
def s3_bucket(s3_objects: str, s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The bucket, reached through ``AWS_ENDPOINT_URL`` with fake credentials."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3_server,
                       "AWS_EC2_METADATA_DISABLED": "true"}.items():  # never ask a metadata service
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    return s3_objects


def test_s3_urls_validate_within_the_budget(cli: CliRunner, s3_bucket: str, scenes: dict[str, Path]) -> None:
    url = f"{s3_bucket}/large.hsi"
    result = cli(["validate", url, "--content", "crc", "--format", "json"])
    assert result.code == ExitCode.OK, result.err
    assert json.loads(result.out)["files"][0]["path"] == url
    reader = open_reader(url)
    report = hsi_conform.check(reader, content="none")
    assert report.conformant and reader.bytes_read <= MIB + _header_like(scenes["large"])  # type: ignore[attr-defined]
    with hsi_conform.open(url) as c, hsi_conform.open(scenes["large"]) as local:
        before = c.reader().bytes_read  # type: ignore[attr-defined]
        band = c.read_band(9)
        assert np.array_equal(band, local.read_band(9))
        assert c.reader().bytes_read - before <= 1.1 * band.nbytes + 256 * KIB  # type: ignore[attr-defined]


@pytest.mark.slow  # ~580 requests to moto's server, ~12 ms each
def test_s3_a_tall_bil_band_is_a_request_per_line_within_the_budget(s3_bucket: str, scenes: dict[str, Path]) -> None:
    with hsi_conform.open(f"{s3_bucket}/bil-tall.hsi") as c, hsi_conform.open(scenes["bil-tall"]) as local:
        reader = c.reader()
        before, requests = reader.bytes_read, reader.requests  # type: ignore[attr-defined]
        band = c.read_band(100)  # a request per line past the byte budget: no gap is worth merging
        assert np.array_equal(band, local.read_band(100))
        assert reader.bytes_read - before <= 1.1 * band.nbytes + 256 * KIB  # type: ignore[attr-defined]
        assert 512 < reader.requests - requests <= 600 - 16  # type: ignore[attr-defined]


def test_s3_errors_are_exit_3_naming_the_url(cli: CliRunner, s3_bucket: str) -> None:
    url = f"{s3_bucket}/missing//x.hsi"
    result = cli(["validate", url])
    assert result.code == ExitCode.UNREADABLE and url in result.err


def test_s3_endpoint_from_a_storage_option_or_the_configuration(cli: CliRunner, s3_bucket: str, s3_server: str,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    url = f"{s3_bucket}/small.hsi"
    assert cli(["validate", url, "--storage-option", f"endpoint_url={s3_server}"]).code == ExitCode.OK
    (tmp_path / "hsi-conform.toml").write_text(f'[storage-options]\nendpoint_url = "{s3_server}"\n')
    monkeypatch.chdir(tmp_path)
    assert cli(["validate", url]).code == ExitCode.OK
    no_retries = 'config_kwargs={"retries": {"max_attempts": 1}, "connect_timeout": 1}'
    assert cli(["validate", url, "--isolated", "--storage-option", "endpoint_url=http://127.0.0.1:9",
                "--storage-option", no_retries]).code == ExitCode.UNREADABLE


def test_s3_profiles_are_honoured(cli: CliRunner, s3_bucket: str, s3_server: str, monkeypatch: pytest.MonkeyPatch,
                                  tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    config = tmp_path / "aws-config"
    config.write_text(f"[profile hsi]\nregion = us-east-1\nendpoint_url = {s3_server}\n"
                      "aws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    url = f"{s3_bucket}/small.hsi"
    assert cli(["validate", url, "--storage-option", "profile=hsi"]).code == ExitCode.OK
    monkeypatch.setenv("AWS_PROFILE", "hsi")
    assert cli(["validate", url]).code == ExitCode.OK


# -- optional dependencies --------------------------------------------------------------------------------------


def test_without_fsspec_a_url_says_what_to_install(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "fsspec" or m.startswith("fsspec.")]:
        monkeypatch.setitem(sys.modules, name, None)  # what an import finds when fsspec is not installed
    result = cli(["validate", "memory://nowhere/x.hsi"])
    assert result.code == ExitCode.UNREADABLE and "Traceback" not in result.err
    with pytest.raises(MissingDependencyError) as info:
        hsi_conform.open("memory://nowhere/x.hsi")
    assert info.value.install_command == "pip install 'hsi-conform[remote]'" and "fsspec" in info.value.requires


def test_local_reads_never_import_fsspec(scenes: dict[str, Path]) -> None:
    code = ("import sys, hsi_conform\n"
            f"r = hsi_conform.check({str(scenes['small'])!r}, content='full')\n"
            f"c = hsi_conform.open({str(scenes['small'])!r}); c.read_band(0); c.cube[0]\n"
            "assert r.conformant\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fsspec', 'aiohttp', 's3fs')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
