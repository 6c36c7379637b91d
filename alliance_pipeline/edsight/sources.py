"""Finding and fetching export files: a local folder or an HTTP(S) base URL.

Both lay the files out as EdSight exports are kept in this project: one folder
per family (``sbac-district/``, ``enrollment-district/`` ...). Over HTTP the
folder listings are the index pages a plain web server writes (Python's
``http.server``, nginx and Apache autoindex); downloads are streamed to a
temporary file and renamed into place only when complete, with timeouts and
retries with backoff.
"""

from __future__ import annotations

import os
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from alliance_pipeline.atomic import atomic_path
from alliance_pipeline.edsight.families import FAMILIES, ExportFamily
from alliance_pipeline.edsight.text import looks_like_html, not_text
from alliance_pipeline.school_year import sort_years


class SourceError(RuntimeError):
    """An export that cannot be found or fetched."""


class SourceUnavailable(SourceError):
    """The source could not be reached or answered with a server error: may pass if tried again."""


class SourceTimeout(SourceError):
    """The source accepted the request but did not answer in time, or sent too slowly: not retried (a stalled
    server would hold the run for every retry), reported with the URL and what to do."""


def _family(name: str) -> ExportFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise SourceError(f"unknown export family {name!r}; known: {', '.join(FAMILIES)}") from None


class Found(dict):
    """school year -> the export's path or URL; ``set_aside``: school year -> the other files of that year, in a
    format the family reads too but prefers less (EdSight's full accountability export beside the extract)."""

    def __init__(self, found: dict[str, str], set_aside: dict[str, list[str]] | None = None,
                 unreadable: dict[str, str] | None = None):
        super().__init__(found)
        self.set_aside = set_aside or {}
        # school year -> why an entry named like its export is not a readable file (a folder, a name with spaces
        # around it, a broken link): reported, and the year's partition is left as it is (a mistake on disk must
        # not withdraw data)
        self.unreadable = unreadable or {}


def _by_year(family: ExportFamily, names: list[str], where=lambda name: name) -> Found:
    """The family's files by school year (``where(name)`` is the path or URL kept): of two formats of one year, the
    preferred; two files of one format and year are an error."""
    chosen: dict[str, tuple[int, str]] = {}
    set_aside: dict[str, list[str]] = {}
    for name in sorted(names):
        match = family.match_format(name)
        if not match:
            continue
        year, place = match
        if year in chosen and chosen[year][0] == place:
            raise SourceError(f"two {family.name} exports for {year}: {chosen[year][1]} and {name}")
        if year in chosen and chosen[year][0] < place:
            set_aside.setdefault(year, []).append(where(name))
            continue
        if year in chosen:
            set_aside.setdefault(year, []).append(where(chosen[year][1]))
        chosen[year] = (place, name)
    return Found({year: where(chosen[year][1]) for year in sort_years(chosen)}, set_aside)


def _why_unreadable(entry: Path) -> str:
    shown = repr(entry.name)
    if entry.name != entry.name.strip():
        return (f"{entry.parent / shown} has spaces before or after its name; rename it to "
                f"{entry.name.strip()!r} (the export was not read, and the year's stored data is kept)")
    if entry.is_symlink() and not entry.exists():
        return f"{entry} is a broken link (it points to {os.readlink(entry)}, which does not exist)"
    if entry.is_dir():
        return (f"{entry} is a folder, not an export file: put the CSV itself in {entry.parent} "
                "(the year's stored data is kept)")
    return f"{entry} is not a regular, readable file"


class LocalExports:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def describe(self) -> str:
        return str(self.directory)

    def discover(self, family_name: str) -> dict[str, str]:
        """school year -> file path, for the family's exports in the folder."""
        family = _family(family_name)
        folder = self.directory / family.folder
        if not folder.is_dir():
            return Found({})
        names, unreadable = [], {}
        for entry in folder.iterdir():
            year = family.match(entry.name.strip())
            if entry.is_file() and entry.name == entry.name.strip():
                names.append(entry.name)
            elif year:
                unreadable[year] = _why_unreadable(entry)
        found = _by_year(family, names, lambda name: str(folder / name))
        found.unreadable = {year: why for year, why in unreadable.items() if year not in found}
        return found

    def validator(self, family_name: str, year: str, found: dict[str, str] | None = None) -> str | None:
        """Size and modification time of the file: equal validators, unchanged file (no need to read it)."""
        found = self.discover(family_name) if found is None else found
        if year not in found:
            return None
        stat = os.stat(found[year])
        return f"size={stat.st_size};mtime_ns={stat.st_mtime_ns}"

    def fetch(self, family_name: str, year: str, found: dict[str, str] | None = None) -> Path:
        found = self.discover(family_name) if found is None else found
        if year not in found:
            raise SourceError(
                f"no {family_name} export for {year} in {self.directory / _family(family_name).folder}"
                f" (found: {', '.join(found) or 'none'})"
            )
        path = Path(found[year])
        real, root = path.resolve(), self.directory.resolve()
        if not real.is_relative_to(root):
            raise SourceError(f"refusing {path}: it is a link to {real}, outside the export folder {root}; "
                              "copy the export into the folder instead")
        return path


def _check_download(url: str, partial: str, content_type: str, target: Path) -> None:
    """A download replaces the cached copy only if it can be a CSV export: not a web page, not binary."""
    with open(partial, "rb") as handle:
        head = handle.read(65536)
    kept = f"the cached {target} was left as it was" if target.exists() else "nothing was cached"
    if not head:
        raise SourceError(f"{url} returned an empty body; {kept}")
    if "html" in content_type.lower() or looks_like_html(head):
        raise SourceError(f"{url} returned a web page (Content-Type {content_type or 'not given'}), not a CSV export: "
                          f"a login or error page? {kept}")
    problem = not_text(head)
    if problem:
        raise SourceError(f"{url}: {problem[0]}; {kept}")


def _arriving(response, size: int = 1 << 16):
    """The body as it arrives (``read1``: whatever bytes are there, at least one), so a server that drips bytes is
    seen after every few bytes and the download budget can stop it (a plain read waits for a whole chunk)."""
    import requests
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    raw = response.raw
    while True:
        try:
            chunk = raw.read1(size, decode_content=True)
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.exceptions.ConnectionError(exc) from exc
        if not chunk:
            return
        yield chunk


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


class HttpExports:
    """Exports under an HTTP(S) base URL, cached in ``download_dir``."""

    def __init__(self, base_url: str, download_dir: str | Path, timeout: float = 30.0, retries: int = 3,
                 budget: float = 300.0):
        self.base_url = base_url.rstrip("/") + "/"
        self.download_dir = Path(download_dir)
        self.timeout = timeout  # connect and read timeout of each request (seconds without a byte)
        self.retries = retries  # connection failures and 5xx answers; never a read timeout
        self.budget = budget  # a whole download, however slowly the server sends
        self._session = None

    def describe(self) -> str:
        return self.base_url

    @property
    def session(self):
        if self._session is None:
            import requests
            from requests.adapters import HTTPAdapter
            from urllib3.util.retry import Retry

            retry = Retry(
                total=self.retries,
                read=0,  # a server that accepted the request and went silent is not asked again
                backoff_factor=0.5,
                status_forcelist=(429, 500, 502, 503, 504),
                allowed_methods=("GET", "HEAD"),
            )
            session = requests.Session()
            session.mount("http://", HTTPAdapter(max_retries=retry))
            session.mount("https://", HTTPAdapter(max_retries=retry))
            self._session = session
        return self._session

    def _folder_url(self, family: ExportFamily) -> str:
        return urljoin(self.base_url, family.folder + "/")

    def _timeouts(self) -> tuple[float, float]:
        return (min(10.0, self.timeout), self.timeout)

    def _stalled(self, url: str, exc: Exception) -> SourceTimeout | None:
        """A read timeout as a SourceTimeout naming the URL and what to do (None for other errors)."""
        import requests

        if isinstance(exc, requests.exceptions.ReadTimeout) or "Read timed out" in str(exc):
            return SourceTimeout(f"{url} accepted the request but sent nothing for {self.timeout:.0f}s (timed out): "
                                 "the server is stalled; nothing was changed. Try again later, or raise "
                                 "edsight.timeout_seconds if the server is just slow")
        return None

    def discover(self, family_name: str) -> dict[str, str]:
        import requests

        family = _family(family_name)
        url = self._folder_url(family)
        try:
            response = self.session.get(url, timeout=self._timeouts())
        except requests.RequestException as exc:
            raise self._stalled(url, exc) or SourceUnavailable(f"cannot list {url}: {exc}") from exc
        if response.status_code == 404:
            return Found({})
        if not response.ok:
            raise (SourceUnavailable if response.status_code >= 500 else SourceError)(
                f"cannot list {url}: HTTP {response.status_code}")
        parser = _Links()
        parser.feed(response.text)
        names = [unquote(Path(urlparse(link).path).name) for link in parser.links]
        return _by_year(family, names, lambda name: urljoin(url, name))

    def validator(self, family_name: str, year: str, found: dict[str, str] | None = None) -> str | None:
        """The export's ETag, or its Last-Modified and size, from a HEAD request (no body is downloaded);
        None when the server gives neither (then only the bytes can tell)."""
        import requests

        found = self.discover(family_name) if found is None else found
        if year not in found:
            return None
        try:
            response = self.session.head(found[year], timeout=self._timeouts(), allow_redirects=True)
        except requests.RequestException as exc:
            raise self._stalled(found[year], exc) or SourceUnavailable(f"cannot reach {found[year]}: {exc}") from exc
        if not response.ok:
            return None
        headers = response.headers
        if headers.get("ETag"):
            return f"etag={headers['ETag']}"
        if headers.get("Last-Modified") and headers.get("Content-Length"):
            return f"size={headers['Content-Length']};modified={headers['Last-Modified']}"
        return None

    def fetch(self, family_name: str, year: str, found: dict[str, str] | None = None) -> Path:
        import requests

        family = _family(family_name)
        found = self.discover(family_name) if found is None else found
        if year not in found:
            raise SourceError(f"no {family_name} export for {year} under {self._folder_url(family)}")
        url = found[year]
        target = self.download_dir / family.folder / Path(urlparse(url).path).name
        deadline = time.monotonic() + self.budget
        try:
            with atomic_path(target, suffix=".part") as partial, open(partial, "wb") as out:
                with self.session.get(url, timeout=self._timeouts(), stream=True) as response:
                    if not response.ok:
                        raise (SourceUnavailable if response.status_code >= 500 else SourceError)(
                            f"cannot download {url}: HTTP {response.status_code}")
                    expected = response.headers.get("Content-Length")
                    written = 0
                    for chunk in _arriving(response):
                        out.write(chunk)
                        written += len(chunk)
                        if time.monotonic() > deadline:
                            raise SourceTimeout(
                                f"{url} sent {written:,} bytes in {self.budget:.0f}s and had not finished: the server "
                                "is too slow; the partial download was discarded and the cached copy left as it was. "
                                "Try again later, or raise edsight.download_budget_seconds")
                    if expected is not None and written != int(expected):
                        raise SourceUnavailable(f"download of {url} stopped after {written} of {expected} bytes")
                    content_type = response.headers.get("Content-Type", "")
                out.flush()
                _check_download(url, str(partial), content_type, target)  # a web page or binary never replaces it
        except requests.exceptions.ChunkedEncodingError as exc:
            raise SourceUnavailable(f"cannot download {url}: the download stopped before the end ({exc})") from exc
        except requests.exceptions.RetryError as exc:
            raise SourceUnavailable(f"cannot download {url}: the server kept answering with errors "
                                    f"({self.retries + 1} attempts)") from exc
        except requests.RequestException as exc:
            raise self._stalled(url, exc) or SourceUnavailable(f"cannot download {url}: {exc}") from exc
        return target
